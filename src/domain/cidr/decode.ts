/**
 * Reading back networks stored in canonical form (what `canonicalCidr` prints). They were
 * validated by `parseNetwork` when written; reading them needs only their value, which
 * ip-bigint's decoder gives several times faster than ipaddr.js parses (`npm run bench` prints
 * both). That decoder validates nothing, so its value is kept only when printing it gives back
 * the input exactly: canonical text names one value, so the round trip proves the decoding.
 * Anything else is left to the strict parser.
 */
import { parseIp } from "ip-bigint";
import { ParsedNetwork, readPrefixLength } from "./parse";
import {
  type AddressWords,
  formatWords,
  groupsOfWords,
  hasHostBits,
  isCanonicalIpv6,
  wordsOfValue,
} from "./words";

/** `parseIp`'s value, or undefined where it throws (text with neither `.` nor `:`). */
function decodeAddress(text: string): ReturnType<typeof parseIp> | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

/**
 * The network `input` names when it is exactly a canonical CIDR (`10.0.0.0/8`,
 * `fd00:1234::/32`); undefined for any other text, valid or not (`parseNetwork` handles it).
 */
export function decodeCanonicalNetwork(input: string): ParsedNetwork | undefined {
  const slash = input.indexOf("/");
  const addressText = input.slice(0, Math.max(slash, 0));
  const decoded = slash > 0 ? decodeAddress(addressText) : undefined;
  if (decoded === undefined || decoded.scopeid !== undefined || decoded.ipv4mapped) {
    return undefined;
  }
  const family = decoded.version;
  const prefixLength = readPrefixLength(input, slash + 1);
  if (prefixLength < 0 || prefixLength > (family === 4 ? 32 : 128)) {
    return undefined;
  }
  const words: AddressWords =
    family === 4 ? [0, 0, 0, Number(decoded.number)] : wordsOfValue(decoded.number);
  const isCanonical =
    family === 4
      ? formatWords(4, words) === addressText
      : isCanonicalIpv6(addressText, groupsOfWords(words)) &&
        // An IPv4-mapped prefix of /96 or longer is stored as the IPv4 prefix it maps.
        !(prefixLength >= 96 && words[0] === 0 && words[1] === 0 && words[2] === 0xffff);
  if (!isCanonical || hasHostBits(family, words, prefixLength)) {
    return undefined;
  }
  return new ParsedNetwork(family, words, prefixLength, input);
}
