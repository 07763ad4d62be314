/**
 * Applying a whole desired-state document in one D1 batch (one transaction): all of it lands or
 * none. Rows travel as JSON arrays bound to a single parameter and unpacked by `json_each`, so
 * 10,000 objects take a handful of statements, within D1's 100 bound parameters per statement.
 * The batch opens with its audit entry, whose NOT NULL `action` is null unless the account's
 * live objects and grant approval rules are still the ones the document was checked against: a
 * concurrent write makes the insert fail, which rolls the batch back.
 */
import type { GrantApprovalRule } from "../domain/grants/approval";
import type { Kind } from "../domain/model";
import type { Actor } from "./audit-log.repo";

/** What identifies a set of rows as they were read: any write to them changes it. */
export interface RowsFingerprint {
  /** Rows. */
  count: number;
  /** Sum of their versions. */
  versionSum: number;
  /** Latest `updated_at_ms` among them, 0 when none. */
  maxUpdatedAtMs: number;
}

/** The account's live desired objects, and its grant approval rules, as they were read. */
export interface LiveFingerprint extends RowsFingerprint {
  approvalRules: RowsFingerprint;
}

/** One object the apply writes. */
export interface DesiredRowWrite {
  kind: Kind;
  id: string;
  /** JSON of the spec (camelCase, canonical form). */
  specJson: string;
  naturalKey: string | null;
  /** A route's range keys (`rangeColumns`), so route writes find it by range; null otherwise. */
  rangeFirst: string | null;
  rangeLast: string | null;
}

/** The writes of one apply. */
export interface DesiredStateWrites {
  creates: DesiredRowWrite[];
  updates: DesiredRowWrite[];
  deletes: { kind: Kind; id: string }[];
  approvalRules: {
    creates: GrantApprovalRule[];
    updates: GrantApprovalRule[];
    /** Ids. */
    deletes: string[];
  };
}

/** The audit entry of the apply. */
export interface ApplyAudit {
  actor: Actor;
  /** SHA-256 hex of the document as applied. */
  documentHash: string;
  summary: Record<string, unknown>;
}

/** Characters of JSON bound to one statement; D1 caps a bound string at 2 MB. */
const MAX_CHUNK_CHARS = 500_000;

/** `rows` as JSON arrays of at most MAX_CHUNK_CHARS characters each. */
export function jsonChunks(rows: readonly unknown[]): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (parts.length > 0 && size + text.length + 1 > MAX_CHUNK_CHARS) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
      size = 2;
    }
    parts.push(text);
    size += text.length + 1;
  }
  if (parts.length > 0) {
    chunks.push(`[${parts.join(",")}]`);
  }
  return chunks;
}

/** The D1 error the guard raises when the live objects moved on. */
export function isFingerprintMismatch(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return text.includes("NOT NULL constraint failed: audit_log.action");
}

/** One statement of the batch: SQL with `?` placeholders and its values. */
type Statement = [sql: string, ...params: unknown[]];

function auditGuard(
  accountId: string,
  fingerprint: LiveFingerprint,
  audit: ApplyAudit,
  nowMs: number,
): Statement {
  const rules = fingerprint.approvalRules;
  return [
    `INSERT INTO audit_log (id, account_id, actor, request_id, action, kind, object_id, after_json, at_ms)
    SELECT ?, ?, ?, ?,
      CASE WHEN count(*) = ? AND coalesce(sum(version), 0) = ? AND coalesce(max(updated_at_ms), 0) = ?
        AND (SELECT count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at_ms), 0)
          FROM grant_approval_rules WHERE account_id = ?) = ?
      THEN 'applyDesiredState' ELSE NULL END,
      'desired_state', ?, ?, ?
    FROM desired_objects WHERE account_id = ? AND deleted_at_ms IS NULL`,
    crypto.randomUUID(),
    accountId,
    audit.actor.name,
    audit.actor.requestId ?? null,
    fingerprint.count,
    fingerprint.versionSum,
    fingerprint.maxUpdatedAtMs,
    accountId,
    `${rules.count}/${rules.versionSum}/${rules.maxUpdatedAtMs}`,
    audit.documentHash,
    JSON.stringify({ document_hash: audit.documentHash, ...audit.summary }),
    nowMs,
    accountId,
  ];
}

/** The columns of an approval rule after its id, as one JSON row. */
const ruleRow = (r: GrantApprovalRule) => [
  r.id,
  r.name,
  r.effect,
  r.maxDurationS,
  JSON.stringify(r.allowedDestinations),
  JSON.stringify(r.allowedSystems),
  r.subjectEmailPattern,
];

const RULE_COLUMNS = `json_extract(value, '$[1]') AS n, json_extract(value, '$[2]') AS e,
  json_extract(value, '$[3]') AS m, json_extract(value, '$[4]') AS d,
  json_extract(value, '$[5]') AS s, json_extract(value, '$[6]') AS p`;

/** The approval rules' deletes, updates (version bumped) and creates (at version 1). */
function approvalRuleStatements(
  accountId: string,
  writes: DesiredStateWrites["approvalRules"],
  nowMs: number,
): Statement[] {
  return [
    ...jsonChunks(writes.deletes).map(
      (chunk): Statement => [
        "DELETE FROM grant_approval_rules WHERE account_id = ? AND id IN (SELECT value FROM json_each(?))",
        accountId,
        chunk,
      ],
    ),
    ...jsonChunks(writes.updates.map(ruleRow)).map(
      (chunk): Statement => [
        `WITH j AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS i, ${RULE_COLUMNS}
          FROM json_each(?))
        UPDATE grant_approval_rules SET name = j.n, effect = j.e, max_duration_s = j.m,
          allowed_destinations_json = j.d, allowed_systems_json = j.s, subject_email_pattern = j.p,
          version = grant_approval_rules.version + 1, updated_at_ms = ?
        FROM j WHERE grant_approval_rules.account_id = ? AND grant_approval_rules.id = j.i`,
        chunk,
        nowMs,
        accountId,
      ],
    ),
    ...jsonChunks(writes.creates.map(ruleRow)).map(
      (chunk): Statement => [
        `INSERT INTO grant_approval_rules (account_id, id, version, name, effect, max_duration_s,
          allowed_destinations_json, allowed_systems_json, subject_email_pattern, created_at_ms,
          updated_at_ms)
        SELECT ?, i, 1, n, e, m, d, s, p, ?, ?
        FROM (SELECT json_extract(value, '$[0]') AS i, ${RULE_COLUMNS} FROM json_each(?))`,
        accountId,
        nowMs,
        nowMs,
        chunk,
      ],
    ),
  ];
}

const KEYS_OF_CHUNK =
  "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)";

/**
 * Writes `writes` and the audit entry in one batch, and makes the account due for a reconcile.
 * Desired-object deletes leave tombstones (the next run removes the Cloudflare objects), updates bump versions,
 * creates start at version 1; every written object is pending. Approval rules are rows of
 * their own table, deleted outright (nothing in Cloudflare to remove). Takes the D1 binding itself:
 * drizzle's batch runs only its own query builders, and these statements are raw SQL.
 * @throws the D1 error of the batch; `isFingerprintMismatch` tells a concurrent write apart.
 */
export async function applyDesiredStateWrites(
  d1: D1Database,
  accountId: string,
  writes: DesiredStateWrites,
  fingerprint: LiveFingerprint,
  audit: ApplyAudit,
  nowMs: number,
): Promise<void> {
  const row = (w: DesiredRowWrite) => [
    w.kind,
    w.id,
    w.naturalKey,
    w.specJson,
    w.rangeFirst,
    w.rangeLast,
  ];
  const deletes = jsonChunks(writes.deletes.map((d) => [d.kind, d.id]));
  const updates = jsonChunks(writes.updates.map(row));
  const creates = jsonChunks(writes.creates.map(row));
  const statements: Statement[] = [
    auditGuard(accountId, fingerprint, audit, nowMs),
    ...deletes.map(
      (chunk): Statement => [
        `UPDATE desired_objects SET deleted_at_ms = ?, natural_key = NULL, version = version + 1,
        sync_state = 'pending', updated_at_ms = ?
      WHERE account_id = ? AND deleted_at_ms IS NULL AND (kind, id) IN (${KEYS_OF_CHUNK})`,
        nowMs,
        nowMs,
        accountId,
        chunk,
      ],
    ),
    // Natural keys are cleared first, so updates that swap them (two policies trading
    // precedences) never meet the unique index half-way.
    ...updates.map(
      (chunk): Statement => [
        `UPDATE desired_objects SET natural_key = NULL
      WHERE account_id = ? AND deleted_at_ms IS NULL AND (kind, id) IN (${KEYS_OF_CHUNK})`,
        accountId,
        chunk,
      ],
    ),
    ...updates.map(
      (chunk): Statement => [
        // MATERIALIZED: the JSON is unpacked once; as a plain subquery SQLite reads it again for
        // every row of the account (10 s instead of 0.15 s for 500 updates among 10,000 rows).
        `WITH j AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS k,
          json_extract(value, '$[1]') AS i, json_extract(value, '$[2]') AS n,
          json_extract(value, '$[3]') AS s, json_extract(value, '$[4]') AS rf,
          json_extract(value, '$[5]') AS rl FROM json_each(?))
        UPDATE desired_objects SET spec_json = j.s, natural_key = j.n, range_first = j.rf,
          range_last = j.rl,
          version = desired_objects.version + 1, sync_state = 'pending', updated_at_ms = ?
        FROM j
        WHERE desired_objects.account_id = ? AND desired_objects.kind = j.k
          AND desired_objects.id = j.i AND desired_objects.deleted_at_ms IS NULL`,
        chunk,
        nowMs,
        accountId,
      ],
    ),
    ...creates.map(
      (chunk): Statement => [
        `INSERT INTO desired_objects (account_id, kind, id, natural_key, spec_json, range_first,
        range_last, version, sync_state, created_at_ms, updated_at_ms)
      SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'),
        json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'),
        json_extract(value, '$[5]'), 1, 'pending', ?, ?
      FROM json_each(?)`,
        accountId,
        nowMs,
        nowMs,
        chunk,
      ],
    ),
    ...approvalRuleStatements(accountId, writes.approvalRules, nowMs),
    // Due at once: the next scheduler tick hands the account to a run.
    ["UPDATE accounts SET next_reconcile_at_ms = ? WHERE id = ?", nowMs, accountId],
  ];
  await d1.batch(statements.map(([text, ...params]) => d1.prepare(text).bind(...params)));
}
