/**
 * Parsing and canonical form of IPv4/IPv6 addresses and prefixes. ipaddr.js reads the text; this
 * module decides what tunnelplane accepts. Invariant: every `Prefix` it returns has its host bits
 * clear, and `formatPrefix` prints each network in exactly one way (RFC 4632, RFC 5952).
 * Stored networks, known to be valid, are read through `known.ts`, which remembers them.
 */
import ipaddr from "ipaddr.js";
import { err, ok, type Result } from "../result";
import {
  type AddressWords,
  formatWords,
  hasHostBits,
  type IpFamily,
  isCanonicalIpv6,
  prefixBound,
  valueOfWords,
  wordsOfValue,
} from "./words";

export type { IpFamily };

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

const EMBEDDED_IPV4 = /^(.*:)([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/;
const FOUR_PART_DECIMAL = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/;

function invalid(input: string, reason: string): Result<never, CidrError> {
  return err({ code: "invalid-cidr", input, reason });
}

/**
 * An address as read: `isCanonical` tells whether the text is exactly what `formatWords`
 * prints for it.
 */
interface ParsedAddress {
  family: IpFamily;
  words: AddressWords;
  isCanonical: boolean;
}

/**
 * Reads an address without a prefix length, or says why it is not one. IPv4 must be four
 * decimal octets without leading zeros: `010.0.0.1` is octal to some parsers and decimal to
 * others, so it is refused rather than guessed. An IPv6 address may end in a dotted quad
 * (RFC 4291 §2.2 form 3); that tail is converted here because ipaddr.js reads `::1.2.3.4` as
 * `::ffff:1.2.3.4`. ipaddr.js signals bad text by throwing.
 */
function parseAddressText(text: string): ParsedAddress | string {
  if (text.includes(":")) {
    if (text.includes("%")) {
      return "IPv6 zone identifiers (%...) are not allowed in a network";
    }
    let hexText = text;
    const embedded = text.includes(".") ? EMBEDDED_IPV4.exec(text) : null;
    if (embedded) {
      const [, head, quad] = embedded;
      if (head === undefined || quad === undefined || !ipaddr.IPv4.isValidFourPartDecimal(quad)) {
        return "the embedded IPv4 address must be four decimal octets";
      }
      const octets = ipaddr.IPv4.parse(quad).octets;
      const high = ((octets[0] ?? 0) << 8) | (octets[1] ?? 0);
      const low = ((octets[2] ?? 0) << 8) | (octets[3] ?? 0);
      hexText = `${head}${high.toString(16)}:${low.toString(16)}`;
    }
    let parts: number[];
    try {
      parts = ipaddr.IPv6.parse(hexText).parts;
    } catch {
      return "not a valid IPv6 address";
    }
    const word = (i: number) => (parts[2 * i] ?? 0) * 65_536 + (parts[2 * i + 1] ?? 0);
    const words: AddressWords = [word(0), word(1), word(2), word(3)];
    return { family: 6, words, isCanonical: !embedded && isCanonicalIpv6(text, parts) };
  }
  // The same shape ipaddr.IPv4.isValidFourPartDecimal checks, tested first so ipaddr.js reads
  // the text once instead of twice.
  let octets: number[] | undefined;
  try {
    octets = FOUR_PART_DECIMAL.test(text) ? ipaddr.IPv4.parse(text).octets : undefined;
  } catch {
    octets = undefined;
  }
  if (octets === undefined) {
    return "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)";
  }
  const value =
    (octets[0] ?? 0) * 16_777_216 +
    (octets[1] ?? 0) * 65_536 +
    (octets[2] ?? 0) * 256 +
    (octets[3] ?? 0);
  return { family: 4, words: [0, 0, 0, value], isCanonical: true };
}

/**
 * The prefix length written in `text` from `start` to its end: decimal, no leading zeros, no
 * sign, at most three digits; -1 for anything else. The caller checks the family's maximum.
 */
export function readPrefixLength(text: string, start: number): number {
  const digits = text.length - start;
  if (digits < 1 || digits > 3 || (digits > 1 && text.charCodeAt(start) === 48)) {
    return -1;
  }
  let value = 0;
  for (let i = start; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) {
      return -1;
    }
    value = value * 10 + digit;
  }
  return value;
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
 * A valid network in every form the domain reads it in: address words with host bits clear,
 * canonical text and, built on first use, the bigint `Prefix`. Immutable; shared between callers.
 */
export class ParsedNetwork {
  private bigintForm: Prefix | undefined;

  constructor(
    /** 4 or 6. */
    readonly family: IpFamily,
    /** The network address (see `AddressWords`). */
    readonly words: AddressWords,
    /** 0..32 or 0..128. */
    readonly prefixLength: number,
    /** Canonical CIDR text (see `canonicalCidr`). */
    readonly network: string,
  ) {}

  /** The network as a frozen `Prefix`. */
  get prefix(): Prefix {
    if (this.bigintForm === undefined) {
      this.bigintForm = Object.freeze({
        family: this.family,
        address: valueOfWords(this.words),
        prefixLength: this.prefixLength,
      });
    }
    return this.bigintForm;
  }
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
  const parsed = parseNetwork(input);
  return parsed.ok ? ok(parsed.value.prefix) : parsed;
}

/** `parseCidr` as a `ParsedNetwork`, which carries the canonical text too. Errors as `parseCidr`. */
export function parseNetwork(input: string): Result<ParsedNetwork, CidrError> {
  const text = input.trim();
  if (text === "") {
    return invalid(input, "empty");
  }
  const slash = text.indexOf("/");
  if (slash >= 0 && text.indexOf("/", slash + 1) >= 0) {
    return invalid(input, "more than one '/'");
  }
  const address = parseAddressText(slash < 0 ? text : text.slice(0, slash));
  if (typeof address === "string") {
    return invalid(input, address);
  }
  let { family, words } = address;
  let prefixLength = ADDRESS_BITS[family];
  if (slash >= 0) {
    prefixLength = readPrefixLength(text, slash + 1);
    if (prefixLength < 0) {
      return invalid(input, "the prefix length must be a decimal number without leading zeros");
    }
    if (prefixLength > ADDRESS_BITS[family]) {
      return invalid(
        input,
        `the prefix length ${prefixLength} exceeds ${ADDRESS_BITS[family]} for IPv${family}`,
      );
    }
  }
  const isMapped =
    family === 6 && prefixLength >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
  if (isMapped) {
    family = 4;
    words = [0, 0, 0, words[3]];
    prefixLength -= 96;
  }
  if (hasHostBits(family, words, prefixLength)) {
    const network = prefixBound(family, words, prefixLength, false);
    return err({
      code: "host-bits-set",
      input,
      canonical: formatNetwork(family, network, prefixLength),
    });
  }
  // Stored networks are canonical: recognising that spares printing them again.
  const isCanonical =
    slash >= 0 && text.length === input.length && address.isCanonical && !isMapped;
  return ok(
    new ParsedNetwork(
      family,
      words,
      prefixLength,
      isCanonical ? input : formatNetwork(family, words, prefixLength),
    ),
  );
}

/**
 * The canonical text of an address or CIDR: always with a prefix length, IPv4 dotted decimal,
 * IPv6 in RFC 5952 form (lower case, no leading zeros, the longest run of two or more zero
 * groups compressed, the first one on a tie). Errors as `parseCidr`.
 * @example canonicalCidr("2001:DB8:0:0:1:0:0:1") // ok("2001:db8::1:0:0:1/128")
 * @see https://www.rfc-editor.org/rfc/rfc5952#section-4
 */
export function canonicalCidr(input: string): Result<string, CidrError> {
  const parsed = parseNetwork(input);
  return parsed.ok ? ok(parsed.value.network) : parsed;
}

/**
 * Prints an address value of the family: dotted decimal, or RFC 5952 text for IPv6 (see
 * `formatWords`).
 */
export function formatAddress(family: IpFamily, address: bigint): string {
  return formatWords(family, wordsOfValue(address));
}

/** Prints a prefix as `address/prefixLength` in canonical form (see `canonicalCidr`). */
export function formatPrefix(prefix: Prefix): string {
  return formatNetwork(prefix.family, wordsOfValue(prefix.address), prefix.prefixLength);
}

/** The canonical text (`address/length`) of a network given as address words. */
export function formatNetwork(family: IpFamily, words: AddressWords, prefixLength: number): string {
  return `${formatWords(family, words)}/${prefixLength}`;
}
