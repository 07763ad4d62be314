/**
 * First match (Gateway precedence) over every identity class at once: a condition's value at an
 * atom is a bitset over the classes (or all / none), so a list of policies is evaluated a class
 * word at a time, and each class's deciding policy is the first whose value holds for it.
 */
import type { AddressRange } from "../cidr/ranges";
import { type Bits, bitsetOf, fullBits } from "./bits";
import type { ClassTable } from "./classes";
import type { CompiledPolicy, Condition } from "./compile";
import type { Cell } from "./engine";
import { intervalsContain } from "./intervals";

/** A condition's value at one atom over every class: all, none, or some. */
type Value = boolean | Bits;

/** Whether the atom lies in `set` (normalised; an atom is inside or outside as a whole). */
export function addressIn(set: readonly AddressRange[], atom: AddressRange): boolean {
  let low = 0;
  let high = set.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const r = set[middle] as AddressRange;
    if (r.family < atom.family || (r.family === atom.family && r.last < atom.first)) {
      low = middle + 1;
    } else if (r.family > atom.family || r.first > atom.first) {
      high = middle - 1;
    } else {
      return true;
    }
  }
  return false;
}

function combine(kind: "and" | "or" | "xor", a: Value, b: Value, size: number): Value {
  const left = typeof a === "boolean" ? (a ? fullBits(size) : bitsetOf(size)) : a;
  const right = typeof b === "boolean" ? (b ? fullBits(size) : bitsetOf(size)) : b;
  const out = bitsetOf(size);
  for (let i = 0; i < out.length; i++) {
    const x = left[i] as number;
    const y = right[i] as number;
    out[i] = (kind === "and" ? x & y : kind === "or" ? x | y : x ^ y) >>> 0;
  }
  return out;
}

/** The value of a condition at one atom of a cell, for every class of `table`. */
export function valueAt(c: Condition, cell: Cell, atom: AddressRange, table: ClassTable): Value {
  const size = table.classes.length;
  switch (c.kind) {
    case "const":
      return c.value;
    case "protocol":
      return c.set.has(cell.protocol);
    case "port":
      return cell.port !== null && intervalsContain(c.set, cell.port.from);
    case "dst":
      return addressIn(c.set, atom);
    case "identity":
      return table.leafBits[c.leaf] ?? false;
    case "not": {
      const inner = valueAt(c.operand, cell, atom, table);
      return typeof inner === "boolean" ? !inner : combine("xor", inner, true, size);
    }
    case "and":
    case "or": {
      const absorbing = c.kind === "or";
      let acc: Value = !absorbing;
      for (const operand of c.operands) {
        const v = valueAt(operand, cell, atom, table);
        if (v === absorbing) {
          return absorbing;
        }
        if (typeof v !== "boolean") {
          acc = typeof acc === "boolean" ? v : combine(c.kind, acc, v, size);
        }
      }
      return acc;
    }
    case "xor":
      return c.operands.reduce<Value>((acc, operand) => {
        const v = valueAt(operand, cell, atom, table);
        return typeof acc === "boolean" && typeof v === "boolean"
          ? acc !== v
          : combine("xor", acc, v, size);
      }, false);
  }
}

/**
 * First match at every atom of every cell for one list of policies (indices in Gateway order):
 * per cell, `atoms.length × classes` deciding policy indices, -1 where none matches (allowed).
 */
export function firstMatches(
  policies: readonly CompiledPolicy[],
  order: readonly number[],
  cells: readonly Cell[],
  table: ClassTable,
): Int32Array[] {
  const size = table.classes.length;
  return cells.map((cell) => {
    const alive = new Set(cell.alive);
    const list = order.filter((i) => alive.has(i));
    const deciders = new Int32Array(cell.atoms.length * size).fill(-1);
    cell.atoms.forEach((atom, a) => {
      const undecided = fullBits(size);
      let left = size;
      for (const i of list) {
        const v = valueAt((policies[i] as CompiledPolicy).condition, cell, atom, table);
        if (v === false) {
          continue;
        }
        for (let w = 0; w < undecided.length; w++) {
          const hits =
            ((undecided[w] as number) & (v === true ? 0xffff_ffff : (v[w] as number))) >>> 0;
          if (hits === 0) {
            continue;
          }
          undecided[w] = ((undecided[w] as number) & ~hits) >>> 0;
          for (let bit = 0; bit < 32; bit++) {
            if ((hits >>> bit) & 1) {
              deciders[a * size + w * 32 + bit] = i;
              left--;
            }
          }
        }
        if (left === 0) {
          break;
        }
      }
    });
    return deciders;
  });
}
