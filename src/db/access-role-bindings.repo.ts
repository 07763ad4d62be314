/** Access role bindings: which role (and accounts) a person logged in through Access gets. */
import { and, asc, eq, gt, or } from "drizzle-orm";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { accessRoleBindings } from "./schema";

/** One binding; `email` is lower case. */
export interface AccessRoleBindingRecord {
  id: string;
  email: string;
  role: "admin" | "operator" | "viewer";
  accounts: "*" | string[];
  createdBy: string;
  createdAtMs: number;
}

type Row = typeof accessRoleBindings.$inferSelect;

function fromRow({ accountsJson, ...row }: Row): AccessRoleBindingRecord {
  return { ...row, accounts: JSON.parse(accountsJson) as AccessRoleBindingRecord["accounts"] };
}

/** Inserts a binding; throws a UNIQUE violation when the email is bound already. */
export async function insertAccessRoleBinding(
  db: Db,
  binding: AccessRoleBindingRecord,
): Promise<void> {
  const { accounts, ...rest } = binding;
  await db.insert(accessRoleBindings).values({ ...rest, accountsJson: JSON.stringify(accounts) });
}

/** The binding of `email` (lower case), or undefined. */
export async function findAccessRoleBinding(
  db: Db,
  email: string,
): Promise<AccessRoleBindingRecord | undefined> {
  const [row] = await db
    .select()
    .from(accessRoleBindings)
    .where(eq(accessRoleBindings.email, email));
  return row === undefined ? undefined : fromRow(row);
}

/** One binding by id, or undefined. */
export async function getAccessRoleBinding(
  db: Db,
  id: string,
): Promise<AccessRoleBindingRecord | undefined> {
  const [row] = await db.select().from(accessRoleBindings).where(eq(accessRoleBindings.id, id));
  return row === undefined ? undefined : fromRow(row);
}

/** Bindings oldest first after `after`, `limit + 1` rows for paging. */
export async function listAccessRoleBindings(
  db: Db,
  after: CursorPosition | undefined,
  limit: number,
): Promise<AccessRoleBindingRecord[]> {
  const position =
    after === undefined
      ? undefined
      : or(
          gt(accessRoleBindings.createdAtMs, after.atMs),
          and(eq(accessRoleBindings.createdAtMs, after.atMs), gt(accessRoleBindings.id, after.id)),
        );
  const rows = await db
    .select()
    .from(accessRoleBindings)
    .where(position)
    .orderBy(asc(accessRoleBindings.createdAtMs), asc(accessRoleBindings.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}

/** Deletes a binding. @returns whether it existed. */
export async function deleteAccessRoleBinding(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .delete(accessRoleBindings)
    .where(eq(accessRoleBindings.id, id))
    .returning({ id: accessRoleBindings.id });
  return rows.length > 0;
}
