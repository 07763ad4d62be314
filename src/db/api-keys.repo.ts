/** API keys: looked up by the SHA-256 of the presented secret; the secret itself is never stored. */
import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { apiKeys } from "./schema";

/** An API key as stored, without its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: "admin" | "operator" | "viewer" | "ticketing";
  /** `"*"` or the account ids the key may see. */
  accounts: "*" | string[];
  ticketSystem: string | null;
  prefix: string;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  createdBy: string;
  createdAtMs: number;
}

const columns = {
  id: apiKeys.id,
  name: apiKeys.name,
  role: apiKeys.role,
  accountsJson: apiKeys.accountsJson,
  ticketSystem: apiKeys.ticketSystem,
  prefix: apiKeys.prefix,
  expiresAtMs: apiKeys.expiresAtMs,
  revokedAtMs: apiKeys.revokedAtMs,
  createdBy: apiKeys.createdBy,
  createdAtMs: apiKeys.createdAtMs,
};

function fromRow({
  accountsJson,
  ...row
}: { accountsJson: string } & Omit<ApiKeyRecord, "accounts">) {
  return { ...row, accounts: JSON.parse(accountsJson) as ApiKeyRecord["accounts"] };
}

/** Inserts a key; throws a UNIQUE violation when the name is taken. */
export async function insertApiKey(db: Db, key: ApiKeyRecord, secretHash: string): Promise<void> {
  const { accounts, ...rest } = key;
  await db.insert(apiKeys).values({ ...rest, accountsJson: JSON.stringify(accounts), secretHash });
}

/** The usable key (not revoked, not expired at `nowMs`) whose secret hashes to `secretHash`. */
export async function findUsableApiKey(
  db: Db,
  secretHash: string,
  nowMs: number,
): Promise<ApiKeyRecord | undefined> {
  const [row] = await db
    .select(columns)
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.secretHash, secretHash),
        isNull(apiKeys.revokedAtMs),
        or(isNull(apiKeys.expiresAtMs), gt(apiKeys.expiresAtMs, nowMs)),
      ),
    );
  return row === undefined ? undefined : fromRow(row);
}

/** One key by id, or undefined. */
export async function getApiKey(db: Db, id: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await db.select(columns).from(apiKeys).where(eq(apiKeys.id, id));
  return row === undefined ? undefined : fromRow(row);
}

/** Keys oldest first after `after`, `limit + 1` rows for paging. */
export async function listApiKeys(
  db: Db,
  after: CursorPosition | undefined,
  limit: number,
): Promise<ApiKeyRecord[]> {
  const position =
    after === undefined
      ? undefined
      : or(
          gt(apiKeys.createdAtMs, after.atMs),
          and(eq(apiKeys.createdAtMs, after.atMs), gt(apiKeys.id, after.id)),
        );
  const rows = await db
    .select(columns)
    .from(apiKeys)
    .where(position)
    .orderBy(asc(apiKeys.createdAtMs), asc(apiKeys.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}

/** Revokes a key at `nowMs` (a revoked key stays revoked). @returns whether it was live. */
export async function revokeApiKey(db: Db, id: string, nowMs: number): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAtMs: nowMs })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAtMs)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
