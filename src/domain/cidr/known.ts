/**
 * Networks already known to be valid (stored desired state, fixed tables), parsed once and
 * remembered. Stored networks are parsed again by every plan, API write and conflict check;
 * parsing is a pure function of the text, so results never go stale.
 */
import { LRUCache } from "lru-cache";
import { decodeCanonicalNetwork } from "./decode";
import { type ParsedNetwork, type Prefix, parseNetwork } from "./parse";

/**
 * What the cache may hold, in estimated bytes: 8 MiB, about 30,000 networks, so an account at
 * 10,000 routes is parsed once while the isolate (128 MB on Workers) keeps its room.
 */
export const KNOWN_NETWORKS_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Estimated bytes one remembered network costs: ~250 measured for a parsed IPv4 or IPv6 network
 * (words, text, object; `bench/memory.bench.ts`) plus the key, two bytes a character at most.
 */
function networkBytes(_network: ParsedNetwork, input: string): number {
  return 256 + 2 * input.length;
}

const KNOWN_NETWORKS = new LRUCache<string, ParsedNetwork>({
  maxSize: KNOWN_NETWORKS_MAX_BYTES,
  sizeCalculation: networkBytes,
});

/**
 * Forgets every remembered network. Results never go stale, so only measurements need this: to
 * time the first parse of a text rather than a lookup.
 */
export function clearKnownCidrCache(): void {
  KNOWN_NETWORKS.clear();
}

/** The estimated bytes the remembered networks take now, what the bound counts (for measurements). */
export function knownNetworksBytes(): number {
  return KNOWN_NETWORKS.calculatedSize;
}

/**
 * Parses a CIDR (or bare address) that is already known to be valid; remembered (least recently
 * used dropped first past `KNOWN_NETWORKS_MAX_BYTES`). Canonical text, as stored, is decoded quickly (`decodeCanonicalNetwork`);
 * anything else goes through the strict parser. Any failure is a broken invariant: throws a
 * `RangeError` naming the input and the reason. Validate user input with `parseCidr` instead.
 */
export function parseKnownNetwork(input: string): ParsedNetwork {
  const known = KNOWN_NETWORKS.get(input);
  if (known !== undefined) {
    return known;
  }
  const decoded = decodeCanonicalNetwork(input);
  if (decoded !== undefined) {
    remember(input, decoded);
    return decoded;
  }
  const parsed = parseNetwork(input);
  if (!parsed.ok) {
    const detail =
      parsed.error.code === "invalid-cidr"
        ? parsed.error.reason
        : `host bits set (canonical ${parsed.error.canonical})`;
    throw new RangeError(`not a valid CIDR: ${JSON.stringify(input)}: ${detail}`);
  }
  remember(input, parsed.value);
  return parsed.value;
}

function remember(input: string, network: ParsedNetwork): void {
  KNOWN_NETWORKS.set(input, network);
}

/**
 * `parseKnownNetwork` as a `Prefix` (frozen, shared with other callers). Throws `RangeError` as
 * `parseKnownNetwork`.
 */
export function parseKnownCidr(input: string): Prefix {
  return parseKnownNetwork(input).prefix;
}

/**
 * The canonical text of a CIDR already known to be valid (as `canonicalCidr`); canonical input
 * comes back as is. Throws `RangeError` as `parseKnownNetwork`.
 */
export function canonicalKnownCidr(input: string): string {
  return parseKnownNetwork(input).network;
}
