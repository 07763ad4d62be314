/**
 * Inserts that land only if a guarded write placed before them in the same D1 batch did. D1
 * batches cannot branch, so a write and its companions (audit entry, grant event, callback
 * delivery) are kept together this way: the insert selects its row from the written table where
 * the row is at the version and instant the write produced.
 */
import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";

/**
 * `INSERT INTO table SELECT <row values> FROM guard WHERE landed`: inserts `row` once if `landed`
 * matches a row of `guard`, else nothing. Columns absent from `row` are inserted as NULL.
 */
export function insertIfLanded<T extends SQLiteTable>(
  db: Db,
  table: T,
  row: T["$inferInsert"],
  guard: SQLiteTable,
  landed: SQL | undefined,
) {
  const values = row as Record<string, unknown>;
  const fields = Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([key, column]) => [
      key,
      sql`${values[key] ?? null}`.as(column.name),
    ]),
  );
  // The select's fields are built from the table's own columns, in its order, which is what
  // drizzle's insert-select needs; the generic table type cannot show that to the checker.
  return db.insert(table).select(db.select(fields).from(guard).where(landed) as never);
}
