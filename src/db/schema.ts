/**
 * D1 tables. Desired objects of every kind share one table keyed by (account_id, kind, id): the
 * planner treats kinds uniformly, and a unique `natural_key` per kind (a route's vnet+network, a
 * tunnel's name) lets SQLite reject duplicates without a read-then-write race.
 * This file must not import from `cloudflare:*` (drizzle-kit loads it in Node).
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const accounts = sqliteTable("accounts", {
  /** Cloudflare account id, 32 hex characters. */
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  mode: text("mode", { enum: ["enforce", "observe"] }).notNull(),
  /** AES-GCM ciphertext of the API token, base64url, with its 12-byte IV prepended. */
  apiTokenCiphertext: text("api_token_ciphertext").notNull(),
  reconcileIntervalS: integer("reconcile_interval_s").notNull(),
  nextReconcileAtMs: integer("next_reconcile_at_ms").notNull(),
  version: integer("version").notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
  updatedAtMs: integer("updated_at_ms").notNull(),
});

export const desiredObjects = sqliteTable(
  "desired_objects",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    id: text("id").notNull(),
    /** Kind-specific uniqueness key, or null when the kind has none. */
    naturalKey: text("natural_key"),
    /** The spec as JSON (camelCase, canonical form). */
    specJson: text("spec_json").notNull(),
    version: integer("version").notNull(),
    syncState: text("sync_state", { enum: ["pending", "synced", "drifted", "error"] }).notNull(),
    cloudflareId: text("cloudflare_id"),
    lastError: text("last_error"),
    syncedVersion: integer("synced_version"),
    syncedAtMs: integer("synced_at_ms"),
    createRequestedAtMs: integer("create_requested_at_ms"),
    /** What the last run observed about the object (e.g. tunnel health), JSON or null. */
    observedJson: text("observed_json"),
    /** Tombstone: set when the user deleted the object, until a run deletes it in Cloudflare. */
    deletedAtMs: integer("deleted_at_ms"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("desired_objects_pk").on(t.accountId, t.kind, t.id),
    uniqueIndex("desired_objects_natural_key").on(t.accountId, t.kind, t.naturalKey),
  ],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    trigger: text("trigger", { enum: ["api", "cron", "queue", "alarm"] }).notNull(),
    mode: text("mode", { enum: ["enforce", "observe", "plan"] }).notNull(),
    outcome: text("outcome", { enum: ["running", "succeeded", "failed", "partial"] }).notNull(),
    fencingToken: integer("fencing_token"),
    startedAtMs: integer("started_at_ms").notNull(),
    finishedAtMs: integer("finished_at_ms"),
    /** JSON: { observed, planned, applied, failed, unmanaged, subrequests }. */
    countsJson: text("counts_json").notNull(),
    /** JSON array of applied or planned actions with their outcome. */
    actionsJson: text("actions_json").notNull(),
    /** JSON array of drift found: { kind, key, reason }. */
    driftJson: text("drift_json").notNull(),
    /** JSON array of errors: { kind?, key?, message, retryable }. */
    errorsJson: text("errors_json").notNull(),
    /** Whether work was left for the next run (budget spent). */
    continued: integer("continued", { mode: "boolean" }).notNull(),
  },
  (t) => [index("runs_account_started").on(t.accountId, t.startedAtMs, t.id)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    kind: text("kind").notNull(),
    objectId: text("object_id").notNull(),
    beforeJson: text("before_json"),
    afterJson: text("after_json"),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [index("audit_log_account_at").on(t.accountId, t.atMs, t.id)],
);
