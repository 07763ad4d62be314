/**
 * Addresses as four unsigned 32-bit words held in numbers. Bigint arithmetic allocates on every
 * step, and the split tunnel computation walks tens of thousands of addresses per call, so its hot
 * paths work on words; the rest of the domain uses the bigint `Prefix` of `parse.ts`.
 */

/** Address family: 4 (IPv4, 32-bit) or 6 (IPv6, 128-bit). */
export type IpFamily = 4 | 6;

/**
 * An address as four unsigned 32-bit words (0 .. 2^32-1), most significant first. An IPv4
 * address sits in the last word with the other three 0, so both families share one layout.
 */
export type AddressWords = readonly [number, number, number, number];

const ALL_ONES = 0xffff_ffff;
const TWO_TO_32 = 4_294_967_296;

/** Negative, zero or positive as `a` is below, equal to or above `b` (same family). */
export function compareWords(a: AddressWords, b: AddressWords): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
}

/** How many of a word's low bits are host bits when `hostBits` (0..128) bits are, counted from word 3. */
function hostBitsInWord(hostBits: number, word: number): number {
  return Math.min(32, Math.max(0, hostBits - 32 * (3 - word)));
}

/** The mask of a word's `bits` low bits (0..32). */
function lowMask(bits: number): number {
  return bits === 32 ? ALL_ONES : 2 ** bits - 1;
}

/**
 * The first (`fill` false: host bits cleared) or last (`fill` true: host bits set) address of
 * the prefix of `prefixLength` bits (0..32 or 0..128) that holds `words`.
 */
export function prefixBound(
  family: IpFamily,
  words: AddressWords,
  prefixLength: number,
  fill: boolean,
): AddressWords {
  const hostBits = (family === 4 ? 32 : 128) - prefixLength;
  const bound = [words[0], words[1], words[2], words[3]] as [number, number, number, number];
  for (let i = 3; i >= 0; i--) {
    const bits = hostBitsInWord(hostBits, i);
    if (bits === 0) {
      break;
    }
    const mask = lowMask(bits);
    // Bitwise operators work on signed 32-bit integers; `>>> 0` reads the result unsigned.
    const word = bound[i] as number;
    bound[i] = (fill ? word | mask : word & ~mask) >>> 0;
  }
  return bound;
}

/** Whether `words` has a bit set below the prefix length (0..32 or 0..128). */
export function hasHostBits(family: IpFamily, words: AddressWords, prefixLength: number): boolean {
  const hostBits = (family === 4 ? 32 : 128) - prefixLength;
  for (let i = 3; i >= 0; i--) {
    const bits = hostBitsInWord(hostBits, i);
    if (bits === 0) {
      return false;
    }
    if (((words[i] as number) & lowMask(bits)) !== 0) {
      return true;
    }
  }
  return false;
}

/** Whether `b` is `a + 1`. */
export function isSuccessor(a: AddressWords, b: AddressWords): boolean {
  for (let i = 3; i >= 0; i--) {
    const word = a[i] as number;
    if (word !== ALL_ONES) {
      if (b[i] !== word + 1) {
        return false;
      }
      for (let j = 0; j < i; j++) {
        if (a[j] !== b[j]) {
          return false;
        }
      }
      return true;
    }
    if (b[i] !== 0) {
      return false;
    }
  }
  return false;
}

/** `words + delta` for `delta` ±1; callers never step past either end of the space. */
export function stepWords(words: AddressWords, delta: 1 | -1): AddressWords {
  const result = [words[0], words[1], words[2], words[3]] as [number, number, number, number];
  for (let i = 3; i >= 0; i--) {
    const word = (result[i] as number) + delta;
    if (word >= 0 && word < TWO_TO_32) {
      result[i] = word;
      break;
    }
    result[i] = delta > 0 ? 0 : ALL_ONES;
  }
  return result;
}

/** The value of address words as a bigint. */
export function valueOfWords(words: AddressWords): bigint {
  if (words[0] === 0 && words[1] === 0 && words[2] === 0) {
    return BigInt(words[3]);
  }
  return (
    (BigInt(words[0]) << 96n) |
    (BigInt(words[1]) << 64n) |
    (BigInt(words[2]) << 32n) |
    BigInt(words[3])
  );
}

/** Scratch space for `wordsOfValue`: a DataView splits a bigint into words with one bigint step. */
const SPLIT_VIEW = new DataView(new ArrayBuffer(16));

/** The words of a bigint address value (0 .. 2^128-1). */
export function wordsOfValue(value: bigint): AddressWords {
  if (value < 4_294_967_296n) {
    return [0, 0, 0, Number(value)];
  }
  // setBigUint64 keeps the low 64 bits of what it is given.
  SPLIT_VIEW.setBigUint64(0, value >> 64n);
  SPLIT_VIEW.setBigUint64(8, value);
  return [
    SPLIT_VIEW.getUint32(0),
    SPLIT_VIEW.getUint32(4),
    SPLIT_VIEW.getUint32(8),
    SPLIT_VIEW.getUint32(12),
  ];
}

/**
 * Prints an address: dotted decimal for IPv4, RFC 5952 text for IPv6 (lower case, no leading
 * zeros, the longest run of two or more zero groups compressed, the first one on a tie; hex
 * groups only, as IPv4-mapped prefixes are stored as IPv4).
 * @see https://www.rfc-editor.org/rfc/rfc5952#section-4
 */
export function formatWords(family: IpFamily, words: AddressWords): string {
  if (family === 4) {
    const value = words[3];
    return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
  }
  const groups = groupsOfWords(words);
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

/** The eight 16-bit groups of IPv6 words, most significant first. */
export function groupsOfWords(words: AddressWords): number[] {
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let word = 0; word < 4; word++) {
    const value = words[word] as number;
    groups[2 * word] = value >>> 16;
    groups[2 * word + 1] = value & 0xffff;
  }
  return groups;
}

/**
 * RFC 5952 §4.2: the longest run of two or more zero groups, the first on a tie, as
 * `start * 16 + end` (end exclusive; -1 with no run): packed, as it is asked for every address
 * printed.
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
 * Whether `text` is exactly what `formatWords` prints for the IPv6 address whose eight 16-bit
 * groups are `groups`, checked character by character so no string is built.
 */
export function isCanonicalIpv6(text: string, groups: readonly number[]): boolean {
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
