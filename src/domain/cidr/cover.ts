/**
 * The minimal prefix cover of one address range, worked out on 32-bit words: a bigint per step
 * would allocate several times for every prefix, and covers run to thousands of prefixes. Each
 * range is split greedily into the largest aligned block that starts at its first free address;
 * `minimalCover` documents why that is the minimum.
 */
import type { IpFamily } from "./parse";
import type { AddressWords } from "./words";

/** Receives each prefix of a cover: its address words (valid only during the call) and length. */
export type CoverVisitor = (family: IpFamily, words: AddressWords, prefixLength: number) => void;

const TWO_TO_32 = 4_294_967_296;

/** Trailing zero bits of a 32-bit word, 32 for zero. */
function wordTrailingZeros(word: number): number {
  return word === 0 ? 32 : 31 - Math.clz32(word & -word);
}

function coverIpv4(first: number, last: number, visit: CoverVisitor): void {
  let address = first;
  const words: [number, number, number, number] = [0, 0, 0, 0];
  while (address <= last) {
    const size = last - address + 1;
    const fit = size >= TWO_TO_32 ? 32 : 31 - Math.clz32(size);
    const blockBits = Math.min(fit, wordTrailingZeros(address));
    words[3] = address;
    visit(4, words, 32 - blockBits);
    address += 2 ** blockBits;
  }
}

function coverIpv6(first: AddressWords, last: AddressWords, visit: CoverVisitor): void {
  const address: [number, number, number, number] = [first[0], first[1], first[2], first[3]];
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

/**
 * Calls `visit` for each prefix of the minimal cover of the inclusive range `first` .. `last`
 * (same family, `first <= last`), by ascending address.
 */
export function forEachCoverPrefix(
  family: IpFamily,
  first: AddressWords,
  last: AddressWords,
  visit: CoverVisitor,
): void {
  if (family === 4) {
    coverIpv4(first[3], last[3], visit);
  } else {
    coverIpv6(first, last, visit);
  }
}
