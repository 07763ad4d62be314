/** Accounts: the tenants. The sealed API token is read only on the way to the SDK client. */
import { and, asc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { DEFAULT_INITIAL_RESOLVED_IPV4 } from "../domain/cidr/reserved";
import type { AccountMode, ObservedNetworkPolicy } from "../domain/model";
import type { QuotaOverrides } from "../domain/quotas";
import type { TokenProblem } from "../domain/token-permissions";
import { type Actor, newAuditRow } from "./audit-log.repo";
import type { Db } from "./client";
import { insertIfLanded } from "./guarded-insert";
import { accounts, auditLog } from "./schema";

/** An account as the API and the scheduler see it (no token). */
export interface AccountRecord {
  id: string;
  name: string;
  mode: AccountMode;
  reconcileIntervalS: number;
  nextReconcileAtMs: number;
  /** Zero Trust team domain (`<team>.cloudflareaccess.com`, lower case), or null when unset. */
  teamDomain: string | null;
  /** Quotas raised or lowered for this account; null keeps every default. */
  limits: QuotaOverrides | null;
  /**
   * Share of Cloudflare's API rate limit spent on this account (0 < share <= 1), or null for the
   * deployment's CLOUDFLARE_API_BUDGET_SHARE.
   */
  apiBudgetShare: number | null;
  /** Permissions the API token lacked in the last run that observed the account; [] for none. */
  tokenProblems: TokenProblem[];
  /** The account's IPv4 Gateway initial resolved IP range (canonical CIDR, `172.64.128.0/20` by default). */
  initialResolvedIpv4: string;
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
}

const columns = {
  id: accounts.id,
  name: accounts.name,
  mode: accounts.mode,
  reconcileIntervalS: accounts.reconcileIntervalS,
  nextReconcileAtMs: accounts.nextReconcileAtMs,
  teamDomain: accounts.teamDomain,
  limitsJson: accounts.limitsJson,
  apiBudgetShare: accounts.apiBudgetShare,
  tokenProblemsJson: accounts.tokenProblemsJson,
  initialResolvedIpv4: accounts.initialResolvedIpv4,
  version: accounts.version,
  createdAtMs: accounts.createdAtMs,
  updatedAtMs: accounts.updatedAtMs,
};

type AccountRow = Omit<AccountRecord, "limits" | "tokenProblems"> & {
  limitsJson: string | null;
  tokenProblemsJson: string | null;
};

type StoredTokenProblem = Omit<TokenProblem, "metBy"> & Partial<Pick<TokenProblem, "metBy">>;

function fromRow({ limitsJson, tokenProblemsJson, ...row }: AccountRow): AccountRecord {
  return {
    ...row,
    limits: limitsJson === null ? null : (JSON.parse(limitsJson) as QuotaOverrides),
    // Problems stored before `metBy` existed were all met by runs.
    tokenProblems:
      tokenProblemsJson === null
        ? []
        : (JSON.parse(tokenProblemsJson) as StoredTokenProblem[]).map((p) => ({
            ...p,
            metBy: p.metBy ?? "run",
          })),
  };
}

function limitsColumn(limits: QuotaOverrides | null): string | null {
  return limits === null ? null : JSON.stringify(limits);
}

/** Inserts an account; throws a UNIQUE violation when the id exists. */
export async function insertAccount(
  db: Db,
  input: Omit<
    AccountRecord,
    "version" | "updatedAtMs" | "tokenProblems" | "initialResolvedIpv4"
  > & {
    initialResolvedIpv4?: string;
  },
  apiTokenCiphertext: string,
  actor: Actor,
): Promise<AccountRecord> {
  const account = {
    ...input,
    initialResolvedIpv4: input.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4,
  };
  const { limits, ...fields } = account;
  const row = {
    ...fields,
    limitsJson: limitsColumn(limits),
    apiTokenCiphertext,
    version: 1,
    updatedAtMs: account.createdAtMs,
  };
  const created = { ...account, tokenProblems: [], version: 1, updatedAtMs: account.createdAtMs };
  await db.batch([
    db.insert(accounts).values(row),
    db
      .insert(auditLog)
      .values(
        auditEntry(
          account.id,
          actor,
          "create",
          null,
          auditView(created, true),
          account.createdAtMs,
        ),
      ),
  ]);
  return created;
}

/** What the audit log keeps of an account: its public fields, and only whether a token was set. */
function auditView(account: AccountRecord, tokenChanged: boolean) {
  const {
    id: _id,
    version: _version,
    createdAtMs: _c,
    updatedAtMs: _u,
    nextReconcileAtMs: _n,
    tokenProblems: _t,
    ...fields
  } = account;
  return tokenChanged ? { ...fields, apiToken: "(set)" } : fields;
}

function auditEntry(
  accountId: string,
  actor: Actor,
  action: string,
  before: unknown,
  after: unknown,
  atMs: number,
) {
  return newAuditRow({
    scope: accountId,
    actor,
    action,
    kind: "account",
    objectId: accountId,
    before,
    after,
    atMs,
  });
}

/** The account, or undefined. */
export async function getAccount(db: Db, accountId: string): Promise<AccountRecord | undefined> {
  const rows = await db.select(columns).from(accounts).where(eq(accounts.id, accountId));
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** The sealed API token of the account, or undefined. */
export async function getSealedApiToken(db: Db, accountId: string): Promise<string | undefined> {
  const rows = await db
    .select({ sealed: accounts.apiTokenCiphertext })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  return rows[0]?.sealed;
}

/**
 * Changes name, mode, interval, team domain, limits, API budget share, initial resolved range or token when `version` matches; returns the
 * new record.
 */
export async function updateAccount(
  db: Db,
  current: AccountRecord,
  changes: Partial<
    Pick<
      AccountRecord,
      | "name"
      | "mode"
      | "reconcileIntervalS"
      | "nextReconcileAtMs"
      | "teamDomain"
      | "limits"
      | "apiBudgetShare"
      | "initialResolvedIpv4"
    >
  > & {
    apiTokenCiphertext?: string;
  },
  actor: Actor,
  nowMs: number,
): Promise<AccountRecord | undefined> {
  const { apiTokenCiphertext, ...visible } = changes;
  const after = auditView({ ...current, ...visible }, apiTokenCiphertext !== undefined);
  const entry = auditEntry(current.id, actor, "update", auditView(current, false), after, nowMs);
  const { limits, ...others } = changes;
  const withLimits =
    limits === undefined ? others : { ...others, limitsJson: limitsColumn(limits) };
  // A new token may have the permissions the old one lacked: the next run finds out.
  const set =
    apiTokenCiphertext === undefined ? withLimits : { ...withLimits, tokenProblemsJson: null };
  const [rows] = await db.batch([
    db
      .update(accounts)
      .set({ ...set, version: current.version + 1, updatedAtMs: nowMs })
      .where(and(eq(accounts.id, current.id), eq(accounts.version, current.version)))
      .returning(columns),
    insertIfLanded(
      db,
      auditLog,
      entry,
      accounts,
      and(
        eq(accounts.id, current.id),
        eq(accounts.version, current.version + 1),
        eq(accounts.updatedAtMs, nowMs),
      ),
    ),
  ]);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/**
 * Up to `limit` accounts in id order after `afterId` (exclusive; undefined: from the start),
 * only those in `onlyIds` when given (at most 90 ids: D1 binds at most 100 parameters).
 */
export async function listAccountsAfter(
  db: Db,
  onlyIds: readonly string[] | undefined,
  afterId: string | undefined,
  limit: number,
): Promise<AccountRecord[]> {
  const rows = await db
    .select(columns)
    .from(accounts)
    .where(
      and(
        onlyIds === undefined ? undefined : inArray(accounts.id, [...onlyIds]),
        afterId === undefined ? undefined : gt(accounts.id, afterId),
      ),
    )
    .orderBy(asc(accounts.id))
    .limit(limit);
  return rows.map(fromRow);
}

/** Accounts whose next reconcile is due at `nowMs`, oldest first, at most `limit`. */
export async function listDueAccounts(
  db: Db,
  nowMs: number,
  limit: number,
): Promise<AccountRecord[]> {
  const rows = await db
    .select(columns)
    .from(accounts)
    .where(lte(accounts.nextReconcileAtMs, nowMs))
    .orderBy(asc(accounts.nextReconcileAtMs), asc(accounts.id))
    .limit(limit);
  return rows.map(fromRow);
}

/** Sets when the account is next due. */
export async function scheduleAccount(db: Db, accountId: string, atMs: number): Promise<void> {
  await scheduleAccountStatement(db, accountId, atMs);
}

/** Most account ids one scheduling statement binds (D1 binds at most 100 parameters). */
const IDS_PER_STATEMENT = 90;

/** Sets when each of `accountIds` is next due, in as few statements as D1's binding limit allows. */
export async function scheduleAccounts(db: Db, accountIds: string[], atMs: number): Promise<void> {
  const statements = [];
  for (let i = 0; i < accountIds.length; i += IDS_PER_STATEMENT) {
    const ids = accountIds.slice(i, i + IDS_PER_STATEMENT);
    statements.push(
      db.update(accounts).set({ nextReconcileAtMs: atMs }).where(inArray(accounts.id, ids)),
    );
  }
  const [first, ...rest] = statements;
  if (first !== undefined) {
    await db.batch([first, ...rest]);
  }
}

/** The statement scheduleAccount runs, for a batch with other writes. */
export function scheduleAccountStatement(db: Db, accountId: string, atMs: number) {
  return db.update(accounts).set({ nextReconcileAtMs: atMs }).where(eq(accounts.id, accountId));
}

/** Shared Gateway rules as read at one instant. */
export interface SharedRulesSeen {
  rules: ObservedNetworkPolicy[];
  /** When they were read, epoch ms. */
  observedAtMs: number;
}

/** What an observation learnt about the account as a whole; undefined fields were not read. */
export interface ObservationFacts {
  /** Replaces the stored list ([] clears it). */
  tokenProblems: TokenProblem[];
  /** The shared Gateway rules seen and when; undefined when the rules could not be read. */
  sharedRules: SharedRulesSeen | undefined;
  /** Cloudflare's initial resolved range when it differs from the stored one (adopted). */
  adoptedInitialResolvedIpv4?: string | undefined;
  /** Each profile's Local Domain Fallback suffixes (see DesiredState.fallbackDomains). */
  fallbackDomains?: Record<string, string[]> | undefined;
}

/**
 * Records what an observation (a run's, or plan's, observed explain's or import's) learnt about
 * the account, for a batch with the run record or alone: token problems, shared rules (with the
 * time they were read) and fallback domains as read; an adopted initial resolved range replaces
 * the stored one and bumps the account's version (its ETag changes).
 */
export function recordObservationStatement(db: Db, accountId: string, facts: ObservationFacts) {
  const { tokenProblems, sharedRules, adoptedInitialResolvedIpv4, fallbackDomains } = facts;
  return db
    .update(accounts)
    .set({
      tokenProblemsJson: tokenProblems.length === 0 ? null : JSON.stringify(tokenProblems),
      ...(sharedRules === undefined
        ? {}
        : {
            sharedRulesJson: JSON.stringify(sharedRules.rules),
            sharedRulesObservedAtMs: sharedRules.observedAtMs,
          }),
      ...(fallbackDomains === undefined
        ? {}
        : { fallbackDomainsJson: JSON.stringify(fallbackDomains) }),
      ...(adoptedInitialResolvedIpv4 === undefined
        ? {}
        : {
            initialResolvedIpv4: adoptedInitialResolvedIpv4,
            version: sql`${accounts.version} + 1`,
          }),
    })
    .where(eq(accounts.id, accountId));
}
