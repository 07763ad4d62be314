/**
 * Identity class tables kept across questions. A table depends only on the identity leaves it
 * is asked about, in order, so asking the same question again (a plan recomputing the access
 * delta of an unchanged document, `who-can-reach` asked twice) skips testing every selector
 * value against every leaf. Kept by the leaves' canonical JSON, bounded in bytes.
 */
import { LRUCache } from "lru-cache";
import { err, ok, type Result } from "../result";
import type { Bits } from "./bits";
import { type ClassBound, type ClassTable, type IdentityClass, identityClasses } from "./classes";
import type { IdentityLeaves } from "./compile";

/** Bytes the kept class tables may take (estimated, see `tableBytes`). */
export const CLASS_TABLES_MAX_BYTES = 4 * 1024 * 1024;

/** A table as kept: its classes, and each asked leaf's bits by position in the question. */
interface KeptTable {
  classes: IdentityClass[];
  bits: Bits[];
  candidates: number;
  steps: number;
}

/**
 * Estimated bytes of one kept table: the key and the labels (two bytes a character at most,
 * plus ~64 per string), ~200 per class and witness, and each leaf's bitset with its header.
 */
function tableBytes(table: KeptTable, key: string): number {
  const labels = table.classes.reduce(
    (n, c) => n + c.labels.reduce((m, l) => m + 2 * l.length + 64, 0),
    0,
  );
  const bits = table.bits.reduce((n, b) => n + 4 * b.length + 96, 0);
  return 256 + 2 * key.length + labels + 200 * table.classes.length + bits;
}

const TABLES = new LRUCache<string, KeptTable>({
  maxSize: CLASS_TABLES_MAX_BYTES,
  sizeCalculation: tableBytes,
});

/** Forgets every kept table: only measurements need it, to time a cold question. */
export function clearClassTables(): void {
  TABLES.clear();
}

/** The estimated bytes the kept class tables take now, what the bound counts (for measurements). */
export function classTablesBytes(): number {
  return TABLES.calculatedSize;
}

/** Answers get their own label arrays, so nothing a caller does reaches the kept table. */
function copyClasses(classes: readonly IdentityClass[]): IdentityClass[] {
  return classes.map((c) => ({ labels: [...c.labels], witness: c.witness }));
}

/**
 * `identityClasses` of the leaves `leafIds` of `leaves`, kept across questions (bitsets are
 * shared with the kept table: the engine only reads them). A kept table is refused past `bound`
 * as its enumeration would have been. Errors: the work units counted past `bound`.
 */
export function classTable(
  leaves: IdentityLeaves,
  leafIds: readonly number[],
  bound: ClassBound,
): Result<ClassTable, number> {
  const key = leafIds.map((leaf) => leaves.texts[leaf]).join("\n");
  const kept = TABLES.get(key);
  if (kept === undefined) {
    const table = identityClasses(leaves.exprs, leafIds, bound);
    if (table.ok) {
      TABLES.set(key, {
        classes: copyClasses(table.value.classes),
        bits: leafIds.map((leaf) => table.value.leafBits[leaf] as Bits),
        candidates: table.value.candidates,
        steps: table.value.steps,
      });
    }
    return table;
  }
  const spent = kept.steps + kept.candidates * bound.perCandidate;
  if (spent > bound.room) {
    return err(spent);
  }
  const leafBits: (Bits | undefined)[] = [];
  leafIds.forEach((leaf, position) => {
    leafBits[leaf] = kept.bits[position];
  });
  return ok({
    classes: copyClasses(kept.classes),
    leafBits,
    candidates: kept.candidates,
    steps: kept.steps,
  });
}
