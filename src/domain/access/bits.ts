/**
 * Bitsets over identity classes, 32 per word. A condition's value over every class at one atom
 * is one bitset, so first-match runs a word at a time instead of a class at a time.
 */

/** One bit per class; bits past the class count are kept zero. */
export type Bits = Uint32Array;

/** An empty bitset for `size` classes. */
export function bitsetOf(size: number): Bits {
  return new Uint32Array(Math.ceil(size / 32));
}

/** A bitset with the first `size` bits set. */
export function fullBits(size: number): Bits {
  const bits = bitsetOf(size);
  bits.fill(0xffff_ffff);
  const spare = bits.length * 32 - size;
  if (spare > 0 && bits.length > 0) {
    bits[bits.length - 1] = 0xffff_ffff >>> spare;
  }
  return bits;
}

/** Whether any bit is set. */
export function isEmpty(bits: Bits): boolean {
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] !== 0) {
      return false;
    }
  }
  return true;
}

/** Flips bit `index`. */
export function flipBit(bits: Bits, index: number): void {
  bits[index >>> 5] = ((bits[index >>> 5] as number) ^ (1 << (index & 31))) >>> 0;
}
