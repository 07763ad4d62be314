/** Grant approval rules of an account, with optimistic concurrency on `version`. */
import { and, asc, eq, gt, or } from "drizzle-orm";
import type { GrantApprovalRule } from "../domain/grants/approval";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { grantApprovalRules } from "./schema";

/** A stored rule. */
export interface ApprovalRuleRecord extends GrantApprovalRule {
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
}

type Row = typeof grantApprovalRules.$inferSelect;

function fromRow(row: Row): ApprovalRuleRecord {
  return {
    id: row.id,
    name: row.name,
    effect: row.effect,
    maxDurationS: row.maxDurationS,
    allowedDestinations: JSON.parse(row.allowedDestinationsJson) as string[],
    allowedSystems: JSON.parse(row.allowedSystemsJson) as string[],
    subjectEmailPattern: row.subjectEmailPattern,
    version: row.version,
    createdAtMs: row.createdAtMs,
    updatedAtMs: row.updatedAtMs,
  };
}

function ruleColumns(rule: GrantApprovalRule) {
  return {
    name: rule.name,
    effect: rule.effect,
    maxDurationS: rule.maxDurationS,
    allowedDestinationsJson: JSON.stringify(rule.allowedDestinations),
    allowedSystemsJson: JSON.stringify(rule.allowedSystems),
    subjectEmailPattern: rule.subjectEmailPattern,
  };
}

const pk = (accountId: string, id: string) =>
  and(eq(grantApprovalRules.accountId, accountId), eq(grantApprovalRules.id, id));

/** Every rule of the account, oldest first (the order auto-approve rules are tried in). */
export async function listAllApprovalRules(
  db: Db,
  accountId: string,
): Promise<ApprovalRuleRecord[]> {
  const rows = await db
    .select()
    .from(grantApprovalRules)
    .where(eq(grantApprovalRules.accountId, accountId))
    .orderBy(asc(grantApprovalRules.createdAtMs), asc(grantApprovalRules.id));
  return rows.map(fromRow);
}

/** A page of rules, `limit + 1` rows for paging. */
export async function listApprovalRules(
  db: Db,
  accountId: string,
  after: CursorPosition | undefined,
  limit: number,
): Promise<ApprovalRuleRecord[]> {
  const rows = await db
    .select()
    .from(grantApprovalRules)
    .where(
      and(
        eq(grantApprovalRules.accountId, accountId),
        after === undefined
          ? undefined
          : or(
              gt(grantApprovalRules.createdAtMs, after.atMs),
              and(
                eq(grantApprovalRules.createdAtMs, after.atMs),
                gt(grantApprovalRules.id, after.id),
              ),
            ),
      ),
    )
    .orderBy(asc(grantApprovalRules.createdAtMs), asc(grantApprovalRules.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}

/** One rule, or undefined. */
export async function getApprovalRule(
  db: Db,
  accountId: string,
  id: string,
): Promise<ApprovalRuleRecord | undefined> {
  const rows = await db.select().from(grantApprovalRules).where(pk(accountId, id));
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** Inserts a rule at version 1. */
export async function insertApprovalRule(
  db: Db,
  accountId: string,
  rule: GrantApprovalRule,
  nowMs: number,
): Promise<ApprovalRuleRecord> {
  await db.insert(grantApprovalRules).values({
    accountId,
    id: rule.id,
    version: 1,
    ...ruleColumns(rule),
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  });
  return { ...rule, version: 1, createdAtMs: nowMs, updatedAtMs: nowMs };
}

/** Replaces a rule whose version is `version`; undefined when it moved on or is gone. */
export async function updateApprovalRule(
  db: Db,
  accountId: string,
  rule: GrantApprovalRule,
  version: number,
  nowMs: number,
): Promise<ApprovalRuleRecord | undefined> {
  const rows = await db
    .update(grantApprovalRules)
    .set({ ...ruleColumns(rule), version: version + 1, updatedAtMs: nowMs })
    .where(and(pk(accountId, rule.id), eq(grantApprovalRules.version, version)))
    .returning();
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** Deletes a rule whose version is `version`; false when it moved on or is gone. */
export async function deleteApprovalRule(
  db: Db,
  accountId: string,
  id: string,
  version: number,
): Promise<boolean> {
  const rows = await db
    .delete(grantApprovalRules)
    .where(and(pk(accountId, id), eq(grantApprovalRules.version, version)))
    .returning({ id: grantApprovalRules.id });
  return rows.length > 0;
}
