/**
 * The minimal prefix cover of one address range, worked out on 32-bit words held as numbers: a
 * bigint per step would allocate several times for every prefix, and covers run to thousands of
 * prefixes. The greedy rule is the one `minimalCover` documents.
 */
import { formatIpv6Words, type IpFamily } from "./parse";
import type { AddressRange } from "./ranges";

/** Receives each prefix of a cover: address words (one for IPv4, four for IPv6) and length. */
export type CoverVisitor = (
  family: IpFamily,
  words: readonly number[],
  prefixLength: number,
) => void;

const TWO_TO_32 = 4_294_967_296;

/** The four 32-bit words of an IPv6 value, most significant first. */
function wordsOf(value: bigint): number[] {
  return [
    Number(value >> 96n),
    Number(BigInt.asUintN(32, value >> 64n)),
    Number(BigInt.asUintN(32, value >> 32n)),
    Number(BigInt.asUintN(32, value)),
  ];
}

/** Trailing zero bits of a 32-bit word, 32 for zero. */
function wordTrailingZeros(word: number): number {
  return word === 0 ? 32 : 31 - Math.clz32(word & -word);
}

function coverIpv4(range: AddressRange, visit: CoverVisitor): void {
  const last = Number(range.last);
  let address = Number(range.first);
  const words = [0];
  while (address <= last) {
    const size = last - address + 1;
    const fit = size >= TWO_TO_32 ? 32 : 31 - Math.clz32(size);
    const blockBits = Math.min(fit, wordTrailingZeros(address));
    words[0] = address;
    visit(4, words, 32 - blockBits);
    address += 2 ** blockBits;
  }
}

function coverIpv6(range: AddressRange, visit: CoverVisitor): void {
  const address = wordsOf(range.first);
  const last = wordsOf(range.last);
  const span = [0, 0, 0, 0];
  for (;;) {
    // span = last - address + 1, with `carry` set when it is 2^128 (the whole space).
    let borrow = 0;
    for (let i = 3; i >= 0; i--) {
      let word = (last[i] as number) - (address[i] as number) - borrow;
      borrow = word < 0 ? 1 : 0;
      if (word < 0) {
        word += TWO_TO_32;
      }
      span[i] = word;
    }
    if (borrow !== 0) {
      return;
    }
    let carry = 1;
    for (let i = 3; i >= 0 && carry !== 0; i--) {
      const word = (span[i] as number) + carry;
      carry = word === TWO_TO_32 ? 1 : 0;
      span[i] = carry === 0 ? word : 0;
    }
    let fit = 128;
    if (carry === 0) {
      let i = 0;
      while (span[i] === 0) {
        i++;
      }
      fit = (3 - i) * 32 + 31 - Math.clz32(span[i] as number);
    }
    let aligned = 0;
    for (let i = 3; i >= 0; i--) {
      const zeros = wordTrailingZeros(address[i] as number);
      aligned += zeros;
      if (zeros < 32) {
        break;
      }
    }
    const blockBits = Math.min(fit, aligned);
    visit(6, address, 128 - blockBits);
    // address += 2^blockBits; a carry out of the top word means the range reached the last address.
    let i = 3 - (blockBits >>> 5);
    let add = 2 ** (blockBits & 31);
    while (i >= 0 && add !== 0) {
      const word = (address[i] as number) + add;
      add = word >= TWO_TO_32 ? 1 : 0;
      address[i] = word - add * TWO_TO_32;
      i--;
    }
    if (add !== 0) {
      return;
    }
  }
}

/** Calls `visit` for each prefix of the minimal cover of `range`, by ascending address. */
export function forEachCoverPrefix(range: AddressRange, visit: CoverVisitor): void {
  if (range.family === 4) {
    coverIpv4(range, visit);
  } else {
    coverIpv6(range, visit);
  }
}

/** The value of address words (one for IPv4, four for IPv6). */
export function valueOfWords(family: IpFamily, words: readonly number[]): bigint {
  if (family === 4) {
    return BigInt(words[0] as number);
  }
  return (
    (BigInt(words[0] as number) << 96n) |
    (BigInt(words[1] as number) << 64n) |
    (BigInt(words[2] as number) << 32n) |
    BigInt(words[3] as number)
  );
}

/** The canonical text (`address/length`) of a prefix given as address words. */
export function formatWords(
  family: IpFamily,
  words: readonly number[],
  prefixLength: number,
): string {
  if (family === 4) {
    const value = words[0] as number;
    return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}/${prefixLength}`;
  }
  return `${formatIpv6Words(words)}/${prefixLength}`;
}
