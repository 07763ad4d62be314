/** Dead-lettered reconcile messages, stored by the dead-letter queue's consumer. */
import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { deadLetters } from "./schema";

/** One reconcile message the queue gave up on. */
export interface DeadLetterRecord {
  /** The queue message id. */
  id: string;
  accountId: string;
  /** Deliveries before it was dead-lettered. */
  attempts: number;
  /** When the message was first sent, epoch ms. */
  sentAtMs: number;
  /** When it was stored here, epoch ms. */
  deadLetteredAtMs: number;
}

/** Rows per insert: 5 columns each, under D1's 100 bound parameters. */
const ROWS_PER_INSERT = 20;

/** Stores `letters`; a letter already stored (a redelivered batch) is kept as it was. */
export async function saveDeadLetters(db: Db, letters: DeadLetterRecord[]): Promise<void> {
  const statements = [];
  for (let i = 0; i < letters.length; i += ROWS_PER_INSERT) {
    statements.push(
      db
        .insert(deadLetters)
        .values(letters.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = statements;
  if (first !== undefined) {
    await db.batch([first, ...rest]);
  }
}

/** Dead letters newest first, after `before`; `limit + 1` rows so the caller can page. */
export async function listDeadLetters(
  db: Db,
  before: CursorPosition | undefined,
  limit: number,
): Promise<DeadLetterRecord[]> {
  const position =
    before === undefined
      ? undefined
      : or(
          lt(deadLetters.deadLetteredAtMs, before.atMs),
          and(eq(deadLetters.deadLetteredAtMs, before.atMs), lt(deadLetters.id, before.id)),
        );
  return db
    .select()
    .from(deadLetters)
    .where(position)
    .orderBy(desc(deadLetters.deadLetteredAtMs), desc(deadLetters.id))
    .limit(limit + 1);
}

/** Deletes the dead letter `id`; returns it, or undefined when there was none. */
export async function takeDeadLetter(db: Db, id: string): Promise<DeadLetterRecord | undefined> {
  const rows = await db.delete(deadLetters).where(eq(deadLetters.id, id)).returning();
  return rows[0];
}
