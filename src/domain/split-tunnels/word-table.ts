/**
 * Addresses of many networks in flat typed arrays, for the split tunnel route index: an object
 * per route would be allocated, traced by the garbage collector and reached through a pointer
 * each time it is read, and the index reads routes many times over.
 */
import type { AddressWords } from "../cidr";

const ALL_ONES = 0xffff_ffff;

/** Addresses stored four words apiece (see `AddressWords`) in one flat array, one row each. */
export class WordTable {
  readonly words: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(4 * size);
  }

  set(row: number, address: AddressWords): void {
    const at = 4 * row;
    this.words[at] = address[0];
    this.words[at + 1] = address[1];
    this.words[at + 2] = address[2];
    this.words[at + 3] = address[3];
  }

  get(row: number): AddressWords {
    const at = 4 * row;
    const w = this.words;
    return [w[at] as number, w[at + 1] as number, w[at + 2] as number, w[at + 3] as number];
  }

  /** Copies `other`'s row `from` into row `row`. */
  copy(row: number, other: WordTable, from: number): void {
    for (let i = 0; i < 4; i++) {
      this.words[4 * row + i] = other.words[4 * from + i] as number;
    }
  }

  /** Sets row `row` to the last address of the prefix in `other`'s row `from`, with `hostBits` (0..128) host bits. */
  setLast(row: number, other: WordTable, from: number, hostBits: number): void {
    for (let i = 3; i >= 0; i--) {
      const bits = Math.min(32, Math.max(0, hostBits - 32 * (3 - i)));
      const word = other.words[4 * from + i] as number;
      // Bitwise operators work on signed 32-bit integers; `>>> 0` reads the result unsigned.
      this.words[4 * row + i] =
        bits === 0 ? word : (word | (bits === 32 ? -1 : 2 ** bits - 1)) >>> 0;
    }
  }

  /** Negative, zero or positive as the address in `row` is below, equal to or above `address`. */
  compareTo(row: number, address: AddressWords): number {
    const at = 4 * row;
    const w = this.words;
    return (
      (w[at] as number) - address[0] ||
      (w[at + 1] as number) - address[1] ||
      (w[at + 2] as number) - address[2] ||
      (w[at + 3] as number) - address[3]
    );
  }

  /** `compareTo` against `other`'s row `from` (which may be this table). */
  compare(row: number, other: WordTable, from: number): number {
    const w = this.words;
    const v = other.words;
    const x = 4 * row;
    const y = 4 * from;
    return (
      (w[x] as number) - (v[y] as number) ||
      (w[x + 1] as number) - (v[y + 1] as number) ||
      (w[x + 2] as number) - (v[y + 2] as number) ||
      (w[x + 3] as number) - (v[y + 3] as number)
    );
  }

  /** Whether `other`'s row `from` holds the address in `row` plus one. */
  isFollowedBy(row: number, other: WordTable, from: number): boolean {
    for (let i = 3; i >= 0; i--) {
      const word = this.words[4 * row + i] as number;
      const next = other.words[4 * from + i] as number;
      if (word !== ALL_ONES) {
        if (next !== word + 1) {
          return false;
        }
        for (let j = 0; j < i; j++) {
          if (other.words[4 * from + j] !== this.words[4 * row + j]) {
            return false;
          }
        }
        return true;
      }
      if (next !== 0) {
        return false;
      }
    }
    return false;
  }
}

/**
 * The rows `0 .. n-1` of `words` (n = `families.length`) ordered by family, then address, then
 * prefix length: a stable least-significant-digit radix sort on bytes, O(n) per byte. A
 * comparison sort calls back into JavaScript n log n times, which costs more than the rest of
 * the index put together at 10,000 routes.
 */
export function sortRows(words: WordTable, families: Uint8Array, lengths: Uint8Array): Int32Array {
  const size = families.length;
  let order = new Int32Array(size);
  for (let row = 0; row < size; row++) {
    order[row] = row;
  }
  let spare = new Int32Array(size);
  const digits = new Uint8Array(size);
  const counts = new Int32Array(257);
  const pass = () => {
    counts.fill(0);
    for (let row = 0; row < size; row++) {
      (counts[(digits[row] as number) + 1] as number)++;
    }
    if (size === 0 || counts[(digits[0] as number) + 1] === size) {
      return; // every row has this digit: the order stands
    }
    for (let digit = 0; digit < 256; digit++) {
      counts[digit + 1] = (counts[digit + 1] as number) + (counts[digit] as number);
    }
    for (let i = 0; i < size; i++) {
      const row = order[i] as number;
      const digit = digits[row] as number;
      spare[counts[digit] as number] = row;
      counts[digit] = (counts[digit] as number) + 1;
    }
    [order, spare] = [spare, order];
  };
  digits.set(lengths);
  pass();
  for (let word = 3; word >= 0; word--) {
    for (let shift = 0; shift < 32; shift += 8) {
      for (let row = 0; row < size; row++) {
        digits[row] = ((words.words[4 * row + word] as number) >>> shift) & 255;
      }
      pass();
    }
  }
  digits.set(families);
  pass();
  return order;
}
