/**
 * Parsing and canonical form of IPv4/IPv6 addresses and prefixes. ipaddr.js reads the text; this
 * module decides what tunnelplane accepts. Invariant: every `Prefix` it returns has its host bits
 * clear, and `formatPrefix` prints each network in exactly one way (RFC 4632, RFC 5952).
 */
import ipaddr from "ipaddr.js";
import { err, ok, type Result } from "../result";

/** Address family: 4 (IPv4, 32-bit) or 6 (IPv6, 128-bit). */
export type IpFamily = 4 | 6;

/** Address width in bits per family. */
export const ADDRESS_BITS: Readonly<Record<IpFamily, number>> = { 4: 32, 6: 128 };

/**
 * A network prefix with its host bits clear: the addresses `address` ..
 * `address + 2^(bits - prefixLength) - 1`, both bounds inclusive.
 */
export interface Prefix {
  /** 4 or 6. */
  family: IpFamily;
  /** The network address as an unsigned integer (0 .. 2^32-1 or 0 .. 2^128-1). */
  address: bigint;
  /** Prefix length in bits, 0..32 (IPv4) or 0..128 (IPv6). */
  prefixLength: number;
}

/**
 * Why a CIDR was refused.
 * - `invalid-cidr`: not an address or prefix tunnelplane accepts; `reason` says what is wrong.
 * - `host-bits-set`: a valid prefix whose address has bits set below the prefix length
 *   (`10.1.2.3/8`); `canonical` is the network it was probably meant as (`10.0.0.0/8`).
 */
export type CidrError =
  | { code: "invalid-cidr"; input: string; reason: string }
  | { code: "host-bits-set"; input: string; canonical: string };

const PREFIX_LENGTH_TEXT = /^(0|[1-9][0-9]{0,2})$/;
const EMBEDDED_IPV4 = /^(.*:)([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/;
const FOUR_PART_DECIMAL = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/;
const IPV4_MAPPED_HIGH_BITS = 0xffffn;

function invalid(input: string, reason: string): Result<never, CidrError> {
  return err({ code: "invalid-cidr", input, reason });
}

function ipv4Value(octets: readonly number[]): bigint {
  return BigInt(
    (((octets[0] ?? 0) << 24) |
      ((octets[1] ?? 0) << 16) |
      ((octets[2] ?? 0) << 8) |
      (octets[3] ?? 0)) >>>
      0,
  );
}

/** An address as read: `groups` holds the eight 16-bit groups of IPv6 written in hex, else null. */
interface ParsedAddress {
  family: IpFamily;
  value: bigint;
  groups: readonly number[] | null;
}

/**
 * Reads an address without a prefix length. IPv4 must be four decimal octets without leading
 * zeros: `010.0.0.1` is octal to some parsers and decimal to others, so it is refused rather
 * than guessed. An IPv6 address may end in a dotted quad (RFC 4291 §2.2 form 3); that tail is
 * converted here because ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4`.
 */
function parseAddressText(text: string): Result<ParsedAddress, string> {
  if (text.includes(":")) {
    if (text.includes("%")) {
      return err("IPv6 zone identifiers (%...) are not allowed in a network");
    }
    let hexText = text;
    const embedded = text.includes(".") ? EMBEDDED_IPV4.exec(text) : null;
    if (embedded) {
      const [, head, quad] = embedded;
      if (head === undefined || quad === undefined || !ipaddr.IPv4.isValidFourPartDecimal(quad)) {
        return err("the embedded IPv4 address must be four decimal octets");
      }
      const octets = ipaddr.IPv4.parse(quad).octets;
      const high = ((octets[0] ?? 0) << 8) | (octets[1] ?? 0);
      const low = ((octets[2] ?? 0) << 8) | (octets[3] ?? 0);
      hexText = `${head}${high.toString(16)}:${low.toString(16)}`;
    }
    const parts = tryParse(() => ipaddr.IPv6.parse(hexText).parts);
    if (parts === undefined) {
      return err("not a valid IPv6 address");
    }
    // Three chunks of at most 48 bits (exact in a double) keep the bigint work to seven
    // operations per address, each of which allocates.
    const high = ((parts[0] ?? 0) * 65_536 + (parts[1] ?? 0)) * 65_536 + (parts[2] ?? 0);
    const middle = ((parts[3] ?? 0) * 65_536 + (parts[4] ?? 0)) * 65_536 + (parts[5] ?? 0);
    const low = (parts[6] ?? 0) * 65_536 + (parts[7] ?? 0);
    const value = (BigInt(high) << 80n) | (BigInt(middle) << 32n) | BigInt(low);
    return ok({ family: 6, value, groups: embedded ? null : parts });
  }
  // The same shape ipaddr.IPv4.isValidFourPartDecimal checks, tested first so ipaddr.js reads
  // the text once instead of twice.
  const octets = FOUR_PART_DECIMAL.test(text)
    ? tryParse(() => ipaddr.IPv4.parse(text).octets)
    : undefined;
  if (octets === undefined) {
    return err("not a valid IPv4 address (four decimal octets 0-255, no leading zeros)");
  }
  return ok({ family: 4, value: ipv4Value(octets), groups: null });
}

/** The value `read` returns, or undefined when it throws (ipaddr.js signals bad text so). */
function tryParse<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Host masks by family and prefix length, built once: masks are on every hot path. */
const HOST_MASKS: Readonly<Record<IpFamily, readonly bigint[]>> = {
  4: Array.from({ length: 33 }, (_, length) => (1n << BigInt(32 - length)) - 1n),
  6: Array.from({ length: 129 }, (_, length) => (1n << BigInt(128 - length)) - 1n),
};

/** The mask of the host bits of a prefix (all ones below the prefix length, 0..32 or 0..128). */
export function hostMask(family: IpFamily, prefixLength: number): bigint {
  const mask = HOST_MASKS[family][prefixLength];
  if (mask === undefined) {
    throw new RangeError(`prefix length ${prefixLength} out of range for IPv${family}`);
  }
  return mask;
}

/**
 * Parses an address or a CIDR into a `Prefix`. Surrounding whitespace is ignored. A bare address
 * is a host prefix (`/32` or `/128`). An IPv4-mapped IPv6 prefix (`::ffff:0:0/96` or longer,
 * RFC 4291 §2.5.5.2) becomes the IPv4 prefix it maps (`::ffff:10.0.0.0/104` is `10.0.0.0/8`):
 * the traffic it names is IPv4, and one network must not have two spellings.
 *
 * Errors: `invalid-cidr` (unparsable address, zone id, prefix length missing after `/`, not
 * decimal, with leading zeros, or above 32/128), `host-bits-set` with the canonical network.
 * @see https://www.rfc-editor.org/rfc/rfc4632#section-3.1 (prefix notation)
 * @see https://www.rfc-editor.org/rfc/rfc4291#section-2.3 (IPv6 prefix notation)
 */
export function parseCidr(input: string): Result<Prefix, CidrError> {
  const read = readCidr(input);
  return read.ok ? ok(read.value.prefix) : read;
}

/** `parseCidr`, also telling whether `input` is already the canonical text of the prefix. */
function readCidr(input: string): Result<{ prefix: Prefix; isCanonical: boolean }, CidrError> {
  const text = input.trim();
  if (text === "") {
    return invalid(input, "empty");
  }
  const slash = text.indexOf("/");
  if (slash >= 0 && text.indexOf("/", slash + 1) >= 0) {
    return invalid(input, "more than one '/'");
  }
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const lengthText = slash < 0 ? undefined : text.slice(slash + 1);
  const address = parseAddressText(addressText);
  if (!address.ok) {
    return invalid(input, address.error);
  }
  let family = address.value.family;
  let value = address.value.value;
  let prefixLength = ADDRESS_BITS[family];
  if (lengthText !== undefined) {
    if (!PREFIX_LENGTH_TEXT.test(lengthText)) {
      return invalid(input, "the prefix length must be a decimal number without leading zeros");
    }
    prefixLength = Number(lengthText);
    if (prefixLength > ADDRESS_BITS[family]) {
      return invalid(
        input,
        `the prefix length ${prefixLength} exceeds ${ADDRESS_BITS[family]} for IPv${family}`,
      );
    }
  }
  if (family === 6 && prefixLength >= 96 && value >> 32n === IPV4_MAPPED_HIGH_BITS) {
    family = 4;
    value &= 0xffffffffn;
    prefixLength -= 96;
  }
  const mask = hostMask(family, prefixLength);
  if ((value & mask) !== 0n) {
    const canonical = formatPrefix({ family, address: value & ~mask, prefixLength });
    return err({ code: "host-bits-set", input, canonical });
  }
  const prefix = { family, address: value, prefixLength };
  // Stored networks are canonical; recognising that spares printing them again.
  const groups = address.value.groups;
  const isCanonical =
    slash >= 0 &&
    text.length === input.length &&
    (family === 4
      ? groups === null && address.value.family === 4
      : groups !== null && isCanonicalIpv6(addressText, groups));
  return ok({ prefix, isCanonical });
}

/**
 * The canonical text of an address or CIDR: always with a prefix length, IPv4 dotted decimal,
 * IPv6 in RFC 5952 form (lower case, no leading zeros, the longest run of two or more zero
 * groups compressed, the first one on a tie). Errors as `parseCidr`.
 * @example canonicalCidr("2001:DB8:0:0:1:0:0:1") // ok("2001:db8::1:0:0:1/128")
 * @see https://www.rfc-editor.org/rfc/rfc5952#section-4
 */
export function canonicalCidr(input: string): Result<string, CidrError> {
  const parsed = parseCidr(input);
  return parsed.ok ? ok(formatPrefix(parsed.value)) : parsed;
}

/**
 * Prints an address value of the family: dotted decimal, or RFC 5952 text for IPv6 (lower case,
 * no leading zeros, hex groups only: IPv4-mapped prefixes never reach here as IPv6).
 * @see https://www.rfc-editor.org/rfc/rfc5952#section-4
 */
export function formatAddress(family: IpFamily, address: bigint): string {
  if (family === 4) {
    const value = Number(address);
    return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
  }
  return formatIpv6Words([
    Number(address >> 96n),
    Number(BigInt.asUintN(32, address >> 64n)),
    Number(BigInt.asUintN(32, address >> 32n)),
    Number(BigInt.asUintN(32, address)),
  ]);
}

/**
 * Prints an IPv6 address given as four unsigned 32-bit words, most significant first, in
 * RFC 5952 form (as `formatAddress`).
 */
export function formatIpv6Words(words: readonly number[]): string {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let word = 0; word < 4; word++) {
    const value = words[word] as number;
    groups[2 * word] = value >>> 16;
    groups[2 * word + 1] = value & 0xffff;
  }
  const run = longestZeroRun(groups);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestEnd = run < 0 ? -1 : run & 15;
  let text = "";
  let i = 0;
  while (i < 8) {
    if (i === bestStart) {
      text += "::";
      i = bestEnd;
      continue;
    }
    if (i > 0 && i !== bestEnd) {
      text += ":";
    }
    text += (groups[i] as number).toString(16);
    i++;
  }
  return text;
}

/**
 * RFC 5952 §4.2: the longest run of two or more zero groups, the first on a tie, as
 * `start * 16 + end` (end exclusive; start and end are -1 with no run): packed, as it is asked
 * for every address printed.
 */
function longestZeroRun(groups: readonly number[]): number {
  let bestStart = -1;
  let bestEnd = -1;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && groups[i] === 0) {
      if (runStart < 0) {
        runStart = i;
      }
    } else if (runStart >= 0) {
      if (i - runStart > 1 && i - runStart > bestEnd - bestStart) {
        bestStart = runStart;
        bestEnd = i;
      }
      runStart = -1;
    }
  }
  return bestStart < 0 ? -1 : bestStart * 16 + bestEnd;
}

/** The hex digit character codes, lower case, by value. */
const HEX_DIGIT_CODES: readonly number[] = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/**
 * Whether `text` is exactly what `formatIpv6Words` prints for `groups`, checked character by
 * character so no string is built.
 */
function isCanonicalIpv6(text: string, groups: readonly number[]): boolean {
  const run = longestZeroRun(groups);
  const bestStart = run < 0 ? -1 : run >> 4;
  const bestEnd = run < 0 ? -1 : run & 15;
  let position = 0;
  let i = 0;
  while (i < 8) {
    if (i === bestStart) {
      if (text.charCodeAt(position) !== 58 || text.charCodeAt(position + 1) !== 58) {
        return false;
      }
      position += 2;
      i = bestEnd;
      continue;
    }
    if (i > 0 && i !== bestEnd) {
      if (text.charCodeAt(position) !== 58) {
        return false;
      }
      position++;
    }
    const group = groups[i] as number;
    let shift = group >= 0x1000 ? 12 : group >= 0x100 ? 8 : group >= 0x10 ? 4 : 0;
    for (; shift >= 0; shift -= 4) {
      if (text.charCodeAt(position) !== HEX_DIGIT_CODES[(group >> shift) & 15]) {
        return false;
      }
      position++;
    }
    i++;
  }
  return position === text.length;
}

/** Prints a prefix as `address/prefixLength` in canonical form (see `canonicalCidr`). */
export function formatPrefix(prefix: Prefix): string {
  return `${formatAddress(prefix.family, prefix.address)}/${prefix.prefixLength}`;
}

/**
 * Stored networks are parsed again by every plan, API write and conflict check; parsing is a pure
 * function of the text, so results are remembered (frozen, bounded: cleared when full). The
 * canonical text is kept apart and only for input that is not canonical already, which stored
 * networks are: an object per remembered network would be copied by every young-generation
 * garbage collection while it survives, and a cold computation over 10,000 routes pays for that.
 */
const KNOWN_PREFIXES = new Map<string, Readonly<Prefix>>();
const CANONICAL_TEXTS = new Map<string, string>();
const KNOWN_PREFIXES_MAX = 100_000;

/**
 * Forgets every remembered `parseKnownCidr` result. Results never go stale (parsing is pure), so
 * only measurements need this: to time the first parse of a text rather than a lookup.
 */
export function clearKnownCidrCache(): void {
  KNOWN_PREFIXES.clear();
  CANONICAL_TEXTS.clear();
}

/**
 * Parses a CIDR that is already known to be valid (stored desired state, fixed tables): any
 * failure is a broken invariant, so it throws a `RangeError` naming the input and the reason.
 * The returned prefix is frozen and may be shared with other callers.
 */
export function parseKnownCidr(input: string): Prefix {
  const known = KNOWN_PREFIXES.get(input);
  if (known !== undefined) {
    return known;
  }
  const read = readCidr(input);
  if (read.ok) {
    if (KNOWN_PREFIXES.size >= KNOWN_PREFIXES_MAX) {
      clearKnownCidrCache();
    }
    const { prefix, isCanonical } = read.value;
    KNOWN_PREFIXES.set(input, Object.freeze(prefix));
    if (!isCanonical) {
      CANONICAL_TEXTS.set(input, formatPrefix(prefix));
    }
    return prefix;
  }
  const detail =
    read.error.code === "invalid-cidr"
      ? read.error.reason
      : `host bits set (canonical ${read.error.canonical})`;
  throw new RangeError(`not a valid CIDR: ${JSON.stringify(input)}: ${detail}`);
}

/**
 * The canonical text of a CIDR already known to be valid (as `canonicalCidr`), remembered with
 * its parse; canonical input comes back as is. Throws `RangeError` as `parseKnownCidr`.
 */
export function canonicalKnownCidr(input: string): string {
  parseKnownCidr(input);
  return CANONICAL_TEXTS.get(input) ?? input;
}
