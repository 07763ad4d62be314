/**
 * D1 tables. Desired objects of every kind share one table keyed by (account_id, kind, id): the
 * planner treats kinds uniformly, and a unique `natural_key` per kind (a route's vnet+network, a
 * tunnel's name) lets SQLite reject duplicates without a read-then-write race.
 * This file must not import from `cloudflare:*` (drizzle-kit loads it in Node).
 */
import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

export { eventDeliveries, eventSubscriptions } from "./schema/events";
export { accessRoleBindings, apiKeys } from "./schema/identity";

export const accounts = sqliteTable("accounts", {
  /** Cloudflare account id, 32 hex characters. */
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  mode: text("mode", { enum: ["enforce", "observe"] }).notNull(),
  /** The API token, sealed (lib/key-ring: `<key version>:<base64url(iv || ciphertext)>`). */
  apiTokenCiphertext: text("api_token_ciphertext").notNull(),
  reconcileIntervalS: integer("reconcile_interval_s").notNull(),
  nextReconcileAtMs: integer("next_reconcile_at_ms").notNull(),
  /** Zero Trust team domain (`<team>.cloudflareaccess.com`, lower case), or null when unset. */
  teamDomain: text("team_domain"),
  /** Raised or lowered quotas as JSON (`{"routes":5000}`), or null for the defaults. */
  limitsJson: text("limits_json"),
  /**
   * Share of Cloudflare's API rate limit tunnelplane may spend on this account (0 < share <= 1),
   * or null for the deployment's CLOUDFLARE_API_BUDGET_SHARE.
   */
  apiBudgetShare: real("api_budget_share"),
  /**
   * JSON array of the permissions the API token lacked in the last run that observed the
   * account (domain/token-permissions TokenProblem), or null when none; cleared by a new token.
   */
  tokenProblemsJson: text("token_problems_json"),
  /**
   * JSON array of the read-only Gateway rules shared from a parent account, as the last run
   * observed them (ObservedNetworkPolicy), or null before any run read the rules.
   */
  sharedRulesJson: text("shared_rules_json"),
  /** When the shared rules were last read from Cloudflare, epoch ms; null before any read. */
  sharedRulesObservedAtMs: integer("shared_rules_observed_at_ms"),
  /**
   * The account's IPv4 Gateway initial resolved IP range (canonical CIDR); a run that reads
   * Cloudflare's (accounts with hostname routes) adopts it.
   */
  initialResolvedIpv4: text("initial_resolved_ipv4").notNull().default("172.64.128.0/20"),
  /**
   * JSON object: each device profile's Local Domain Fallback suffixes as the last run observed
   * them (`{"default": ["internal", …], "<profile id>": […]}`), or null before any run read them.
   */
  fallbackDomainsJson: text("fallback_domains_json"),
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
    /**
     * A tunnel route's first and last address as sortable keys (domain/routes/range-key.ts), so
     * route writes find the routes nesting with theirs through an index; null for other kinds,
     * and for routes stored before the column existed until the next route write fills them.
     */
    rangeFirst: text("range_first"),
    rangeLast: text("range_last"),
  },
  (t) => [
    uniqueIndex("desired_objects_pk").on(t.accountId, t.kind, t.id),
    uniqueIndex("desired_objects_natural_key").on(t.accountId, t.kind, t.naturalKey),
    index("desired_objects_range").on(t.accountId, t.kind, t.rangeFirst),
    // Covers the conflict list's pass over live routes in range order, without reading rows.
    index("desired_objects_live_ranges")
      .on(t.accountId, t.kind, t.rangeFirst, t.rangeLast, t.id)
      .where(sql`${t.deletedAtMs} is null`),
    // Covers the live-object counts of the quota checks, which run on every create.
    index("desired_objects_live").on(t.accountId, t.kind, t.deletedAtMs),
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
    /** When a continued run's work resumes, epoch ms; null when nothing was left. */
    continueAtMs: integer("continue_at_ms"),
  },
  (t) => [index("runs_account_started").on(t.accountId, t.startedAtMs, t.id)],
);

/**
 * Reconcile messages the queue gave up on (delivered `max_retries` times without success), as
 * the dead-letter queue's consumer stored them, until an operator re-drives them. Keyed by the
 * queue message id; no foreign key, so a deleted account's dead letters stay visible.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    /** The queue message id. */
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    /** Deliveries of the message before it was dead-lettered. */
    attempts: integer("attempts").notNull(),
    /** When the message was first sent, epoch ms. */
    sentAtMs: integer("sent_at_ms").notNull(),
    /** When the dead-letter consumer stored it, epoch ms. */
    deadLetteredAtMs: integer("dead_lettered_at_ms").notNull(),
  },
  (t) => [index("dead_letters_by_time").on(t.deadLetteredAtMs, t.id)],
);

/**
 * Audit entries, hash-chained per scope (`account_id`, or `*` for identity writes): in insertion
 * order each entry stores the previous entry's hash and its own, filled by the sealer right after
 * the write (see audit-log.repo.ts).
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    /** Key name (`key:<name>`), Access email (`access:<email>`) or `bootstrap-admin`. */
    actor: text("actor").notNull(),
    /** The request that made the write, or null for background work. */
    requestId: text("request_id"),
    /** SHA-256 hex of the previous entry of the scope; null until sealed. */
    prevHash: text("prev_hash"),
    /** SHA-256 hex of prev_hash and this entry's fields; null until sealed. */
    hash: text("hash"),
    action: text("action").notNull(),
    kind: text("kind").notNull(),
    objectId: text("object_id").notNull(),
    beforeJson: text("before_json"),
    afterJson: text("after_json"),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [
    index("audit_log_account_at").on(t.accountId, t.atMs, t.id),
    index("audit_log_account_hash").on(t.accountId, t.hash),
  ],
);

/**
 * Time-bound access grants. Not a desired kind: a grant has a lifecycle, and only an `active`
 * grant is reconciled (as a derived allow policy owned by the grant's id).
 */
export const grants = sqliteTable(
  "grants",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    version: integer("version").notNull(),
    state: text("state", {
      enum: ["requested", "approved", "active", "expired", "rejected", "cancelled", "revoked"],
    }).notNull(),
    ticketSystem: text("ticket_system").notNull(),
    ticketId: text("ticket_id").notNull(),
    ticketUrl: text("ticket_url"),
    subjectEmail: text("subject_email").notNull(),
    /** JSON array of canonical CIDRs. */
    destinationsJson: text("destinations_json").notNull(),
    /** JSON array of { from, to } inclusive port ranges. */
    portsJson: text("ports_json").notNull(),
    /** JSON array of tcp/udp/icmp. */
    protocolsJson: text("protocols_json").notNull(),
    reason: text("reason").notNull(),
    startsAtMs: integer("starts_at_ms").notNull(),
    endsAtMs: integer("ends_at_ms").notNull(),
    callbackUrl: text("callback_url"),
    /** The grant this one extends, or null. */
    extendsGrantId: text("extends_grant_id"),
    requestedBy: text("requested_by").notNull(),
    /** Why the grant is in its state (the rule that approved it, the reasons it was rejected). */
    decisionJson: text("decision_json"),
    /** JSON of the latest path check ({ phase, checked_at_ms, ok, problems, destinations }). */
    checkJson: text("check_json"),
    activatedAtMs: integer("activated_at_ms"),
    endedAtMs: integer("ended_at_ms"),
    /** The precedence the grant's policy was last written with. */
    policyPrecedence: integer("policy_precedence"),
    policyCloudflareId: text("policy_cloudflare_id"),
    policySyncState: text("policy_sync_state", {
      enum: ["none", "pending", "synced", "drifted", "error"],
    }).notNull(),
    policySyncedVersion: integer("policy_synced_version"),
    policyLastError: text("policy_last_error"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("grants_pk").on(t.accountId, t.id),
    index("grants_account_created").on(t.accountId, t.createdAtMs, t.id),
    index("grants_account_state_ends").on(t.accountId, t.state, t.endsAtMs),
    index("grants_account_subject").on(t.accountId, t.subjectEmail, t.createdAtMs),
    index("grants_account_ticket").on(t.accountId, t.ticketSystem, t.ticketId),
  ],
);

/** The audit trail of each grant: every transition with who, when and why. */
export const grantEvents = sqliteTable(
  "grant_events",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    grantId: text("grant_id").notNull(),
    /** create, approve, reject, cancel, activate, revoke, expire, check. */
    event: text("event").notNull(),
    fromState: text("from_state"),
    toState: text("to_state").notNull(),
    actor: text("actor").notNull(),
    reason: text("reason"),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [index("grant_events_grant_at").on(t.accountId, t.grantId, t.atMs, t.id)],
);

/** Approval rules for grants, per account. */
export const grantApprovalRules = sqliteTable(
  "grant_approval_rules",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    version: integer("version").notNull(),
    name: text("name").notNull(),
    effect: text("effect", { enum: ["auto_approve", "hard_limit"] }).notNull(),
    maxDurationS: integer("max_duration_s"),
    /** JSON array of canonical CIDRs; empty for any. */
    allowedDestinationsJson: text("allowed_destinations_json").notNull(),
    /** JSON array of requester systems; empty for any. */
    allowedSystemsJson: text("allowed_systems_json").notNull(),
    subjectEmailPattern: text("subject_email_pattern"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("grant_approval_rules_pk").on(t.accountId, t.id),
    index("grant_approval_rules_account_created").on(t.accountId, t.createdAtMs, t.id),
  ],
);

/** Callback deliveries: one per state change of a grant with a callback URL. */
export const grantDeliveries = sqliteTable(
  "grant_deliveries",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    grantId: text("grant_id").notNull(),
    /** The state the grant entered. */
    event: text("event").notNull(),
    url: text("url").notNull(),
    /** The exact JSON body sent on every attempt. */
    payloadJson: text("payload_json").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    /** JSON array of { at_ms, status_code, error }. */
    attemptsJson: text("attempts_json").notNull(),
    nextAttemptAtMs: integer("next_attempt_at_ms"),
    deliveredAtMs: integer("delivered_at_ms"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("grant_deliveries_grant").on(t.accountId, t.grantId, t.createdAtMs),
    index("grant_deliveries_due").on(t.accountId, t.status, t.nextAttemptAtMs),
  ],
);

/** Per-account grant settings; the callback signing secret is sealed and never returned. */
export const grantSettings = sqliteTable("grant_settings", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  /** The current HMAC secret, sealed (lib/key-ring: `<key version>:<base64url>`). */
  callbackSecretCiphertext: text("callback_secret_ciphertext").notNull(),
  /** The secret it replaced, sealed; still signs (beside the current one) until the time below. */
  previousCallbackSecretCiphertext: text("previous_callback_secret_ciphertext"),
  /** When the previous secret stops signing, epoch ms; null when there is none. */
  previousCallbackSecretUntilMs: integer("previous_callback_secret_until_ms"),
  /** JSON array of ports other than 443 that callback URLs of the account may use. */
  callbackAllowedPortsJson: text("callback_allowed_ports_json").notNull().default("[]"),
  updatedAtMs: integer("updated_at_ms").notNull(),
});

/**
 * One callback receiver per ticket system: its own signing secret, so one ticketing system can
 * neither verify nor forge another's callbacks. Grants of a system without a row are signed with
 * the account's secret in grant_settings.
 */
export const callbackReceivers = sqliteTable(
  "callback_receivers",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** The grants' `ticket.system` this receiver takes. */
    ticketSystem: text("ticket_system").notNull(),
    /** The current HMAC secret, sealed (lib/key-ring). */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** The secret it replaced, sealed; still signs until the time below. */
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    /** When the previous secret stops signing, epoch ms; null when there is none. */
    previousSecretUntilMs: integer("previous_secret_until_ms"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.ticketSystem] })],
);

/**
 * Idempotency keys of POST requests, scoped by account and route. A key is reserved before the
 * request runs (`in_progress`), so two concurrent retries cannot both create; the response of a
 * successful request is stored and replayed for the same key and body.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    accountId: text("account_id").notNull(),
    /** `POST /v1/accounts/:account_id/grants`: method and route pattern. */
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** SHA-256 (hex) of the canonical JSON body. */
    requestHash: text("request_hash").notNull(),
    state: text("state", { enum: ["in_progress", "completed"] }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    /** JSON object of the response headers replayed (Location, ETag). */
    responseHeadersJson: text("response_headers_json"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("idempotency_keys_pk").on(t.accountId, t.scope, t.key),
    // Not account-scoped: the scheduler purges expired keys of every account, oldest first, and
    // this index keeps each purge to the rows it deletes instead of a scan of the table.
    index("idempotency_keys_created").on(t.createdAtMs),
  ],
);
