/** One drizzle handle per request or run; there is no module-level database. */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** The database handle repos take as their first argument. */
export type Db = DrizzleD1Database<typeof schema>;

/** Wraps the D1 binding. */
export function createDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/** Whether a D1 error is a UNIQUE constraint violation (a duplicate natural key). */
export function isUniqueViolation(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return text.includes("UNIQUE constraint failed");
}
