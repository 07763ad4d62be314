/** Accounts: the tenants. The sealed API token is read only on the way to the SDK client. */
import { and, asc, eq, lte } from "drizzle-orm";
import type { AccountMode } from "../domain/model";
import type { Db } from "./client";
import { accounts } from "./schema";

/** An account as the API and the scheduler see it (no token). */
export interface AccountRecord {
  id: string;
  name: string;
  mode: AccountMode;
  reconcileIntervalS: number;
  nextReconcileAtMs: number;
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
}

const publicColumns = {
  id: accounts.id,
  name: accounts.name,
  mode: accounts.mode,
  reconcileIntervalS: accounts.reconcileIntervalS,
  nextReconcileAtMs: accounts.nextReconcileAtMs,
  version: accounts.version,
  createdAtMs: accounts.createdAtMs,
  updatedAtMs: accounts.updatedAtMs,
};

/** Inserts an account; throws a UNIQUE violation when the id exists. */
export async function insertAccount(
  db: Db,
  account: Omit<AccountRecord, "version" | "updatedAtMs">,
  apiTokenCiphertext: string,
): Promise<AccountRecord> {
  const row = { ...account, apiTokenCiphertext, version: 1, updatedAtMs: account.createdAtMs };
  await db.insert(accounts).values(row);
  return { ...account, version: 1, updatedAtMs: account.createdAtMs };
}

/** The account, or undefined. */
export async function getAccount(db: Db, accountId: string): Promise<AccountRecord | undefined> {
  const rows = await db.select(publicColumns).from(accounts).where(eq(accounts.id, accountId));
  return rows[0];
}

/** The sealed API token of the account, or undefined. */
export async function getSealedApiToken(db: Db, accountId: string): Promise<string | undefined> {
  const rows = await db
    .select({ sealed: accounts.apiTokenCiphertext })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return rows[0]?.sealed;
}

/** Changes name, mode, interval or token when `version` matches; returns the new record. */
export async function updateAccount(
  db: Db,
  accountId: string,
  version: number,
  changes: Partial<Pick<AccountRecord, "name" | "mode" | "reconcileIntervalS">> & {
    apiTokenCiphertext?: string;
  },
  nowMs: number,
): Promise<AccountRecord | undefined> {
  const rows = await db
    .update(accounts)
    .set({ ...changes, version: version + 1, updatedAtMs: nowMs })
    .where(and(eq(accounts.id, accountId), eq(accounts.version, version)))
    .returning(publicColumns);
  return rows[0];
}

/** Accounts whose next reconcile is due at `nowMs`, oldest first, at most `limit`. */
export function listDueAccounts(db: Db, nowMs: number, limit: number): Promise<AccountRecord[]> {
  return db
    .select(publicColumns)
    .from(accounts)
    .where(lte(accounts.nextReconcileAtMs, nowMs))
    .orderBy(asc(accounts.nextReconcileAtMs), asc(accounts.id))
    .limit(limit);
}

/** Sets when the account is next due. */
export async function scheduleAccount(db: Db, accountId: string, atMs: number): Promise<void> {
  await db.update(accounts).set({ nextReconcileAtMs: atMs }).where(eq(accounts.id, accountId));
}
