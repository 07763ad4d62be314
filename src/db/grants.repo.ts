/**
 * Grants and their audit trail. A transition bumps `version` conditionally on the version read
 * and lands in one batch with its grant_events row and its callback delivery, so a grant never
 * changes state without a record of who, when and why.
 */
import { and, asc, eq, gt, isNotNull, notInArray, or } from "drizzle-orm";
import type { GrantPolicySource, GrantRequest, GrantState } from "../domain/grants/grant";
import { FINAL_GRANT_STATES } from "../domain/grants/lifecycle";
import type { GrantPathCheck } from "../domain/grants/path-check";
import type { DesiredState, NetworkProtocol, PortRange } from "../domain/model";
import type { Db } from "./client";
import { loadDesiredState } from "./desired-objects.repo";
import { insertIfLanded } from "./guarded-insert";
import type { CursorPosition } from "./pagination";
import { grantDeliveries, grantEvents, grants } from "./schema";

/** How a grant got its decision: the rule or operator, and the reason in words. */
export interface GrantDecision {
  by: "rule" | "operator" | "requester" | "system";
  /** The approval rule that decided, or null. */
  ruleId: string | null;
  reason: string;
}

/** A path check recorded on a grant. */
export interface StoredGrantCheck extends GrantPathCheck {
  /** `before-approval` when decided, `after-activation` once the policy is in Cloudflare. */
  phase: "before-approval" | "after-activation";
  checkedAtMs: number;
  /**
   * When the shared Gateway rules the check evaluated were read from Cloudflare, epoch ms
   * (an activation check: by the run that activated the grant); absent: never read.
   */
  sharedRulesObservedAtMs?: number;
}

/** Reconciliation status of a grant's policy. `none`: no policy (not active, or removed). */
export type GrantPolicySyncState = "none" | "pending" | "synced" | "drifted" | "error";

/** A stored grant. */
export interface GrantRecord extends GrantRequest {
  accountId: string;
  id: string;
  version: number;
  state: GrantState;
  callbackUrl: string | null;
  extendsGrantId: string | null;
  requestedBy: string;
  decision: GrantDecision | null;
  check: StoredGrantCheck | null;
  activatedAtMs: number | null;
  endedAtMs: number | null;
  policyPrecedence: number | null;
  policyCloudflareId: string | null;
  policySyncState: GrantPolicySyncState;
  policySyncedVersion: number | null;
  policyLastError: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** One entry of a grant's audit trail. */
export interface GrantEventRecord {
  id: string;
  grantId: string;
  event: string;
  fromState: GrantState | null;
  toState: GrantState;
  /** e.g. `key:<name>`, `access:<email>`, `rule:<id>`, `clock`. */
  actor: string;
  reason: string | null;
  atMs: number;
}

/** A callback delivery to create with a transition. */
export interface NewDelivery {
  id: string;
  event: GrantState;
  url: string;
  payloadJson: string;
}

type Row = typeof grants.$inferSelect;

function fromRow(row: Row): GrantRecord {
  return {
    accountId: row.accountId,
    id: row.id,
    version: row.version,
    state: row.state,
    ticket: { system: row.ticketSystem, id: row.ticketId, url: row.ticketUrl },
    subjectEmail: row.subjectEmail,
    destinations: JSON.parse(row.destinationsJson) as string[],
    ports: JSON.parse(row.portsJson) as PortRange[],
    protocols: JSON.parse(row.protocolsJson) as NetworkProtocol[],
    reason: row.reason,
    startsAtMs: row.startsAtMs,
    endsAtMs: row.endsAtMs,
    callbackUrl: row.callbackUrl,
    extendsGrantId: row.extendsGrantId,
    requestedBy: row.requestedBy,
    decision: row.decisionJson === null ? null : (JSON.parse(row.decisionJson) as GrantDecision),
    check: row.checkJson === null ? null : (JSON.parse(row.checkJson) as StoredGrantCheck),
    activatedAtMs: row.activatedAtMs,
    endedAtMs: row.endedAtMs,
    policyPrecedence: row.policyPrecedence,
    policyCloudflareId: row.policyCloudflareId,
    policySyncState: row.policySyncState,
    policySyncedVersion: row.policySyncedVersion,
    policyLastError: row.policyLastError,
    createdAtMs: row.createdAtMs,
    updatedAtMs: row.updatedAtMs,
  };
}

function toRow(g: GrantRecord): Row {
  return {
    accountId: g.accountId,
    id: g.id,
    version: g.version,
    state: g.state,
    ticketSystem: g.ticket.system,
    ticketId: g.ticket.id,
    ticketUrl: g.ticket.url,
    subjectEmail: g.subjectEmail,
    destinationsJson: JSON.stringify(g.destinations),
    portsJson: JSON.stringify(g.ports),
    protocolsJson: JSON.stringify(g.protocols),
    reason: g.reason,
    startsAtMs: g.startsAtMs,
    endsAtMs: g.endsAtMs,
    callbackUrl: g.callbackUrl,
    extendsGrantId: g.extendsGrantId,
    requestedBy: g.requestedBy,
    decisionJson: g.decision === null ? null : JSON.stringify(g.decision),
    checkJson: g.check === null ? null : JSON.stringify(g.check),
    activatedAtMs: g.activatedAtMs,
    endedAtMs: g.endedAtMs,
    policyPrecedence: g.policyPrecedence,
    policyCloudflareId: g.policyCloudflareId,
    policySyncState: g.policySyncState,
    policySyncedVersion: g.policySyncedVersion,
    policyLastError: g.policyLastError,
    createdAtMs: g.createdAtMs,
    updatedAtMs: g.updatedAtMs,
  };
}

const pk = (accountId: string, id: string) =>
  and(eq(grants.accountId, accountId), eq(grants.id, id));

function deliveryRow(accountId: string, grantId: string, delivery: NewDelivery, nowMs: number) {
  return {
    id: delivery.id,
    accountId,
    grantId,
    event: delivery.event,
    url: delivery.url,
    payloadJson: delivery.payloadJson,
    status: "pending" as const,
    attemptsJson: "[]",
    nextAttemptAtMs: nowMs,
    deliveredAtMs: null,
    createdAtMs: nowMs,
  };
}

/** Inserts a new grant with its `create` event (and decision events) and deliveries. */
export async function insertGrant(
  db: Db,
  grant: GrantRecord,
  events: GrantEventRecord[],
  deliveries: NewDelivery[],
): Promise<void> {
  await db.batch([
    db.insert(grants).values(toRow(grant)),
    ...events.map((e) => db.insert(grantEvents).values({ ...e, accountId: grant.accountId })),
    ...deliveries.map((d) =>
      db
        .insert(grantDeliveries)
        .values(deliveryRow(grant.accountId, grant.id, d, grant.createdAtMs)),
    ),
  ]);
}

/** One grant, or undefined (missing or another account's). */
export async function getGrant(
  db: Db,
  accountId: string,
  id: string,
): Promise<GrantRecord | undefined> {
  const rows = await db.select().from(grants).where(pk(accountId, id));
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** Filters of the grant list; each one set must match exactly. */
export interface GrantFilters {
  state?: GrantState;
  subjectEmail?: string;
  ticketSystem?: string;
  ticketId?: string;
}

/** A page of grants in creation order, `limit + 1` rows for paging. */
export async function listGrants(
  db: Db,
  accountId: string,
  filters: GrantFilters,
  after: CursorPosition | undefined,
  limit: number,
): Promise<GrantRecord[]> {
  const rows = await db
    .select()
    .from(grants)
    .where(
      and(
        eq(grants.accountId, accountId),
        filters.state === undefined ? undefined : eq(grants.state, filters.state),
        filters.subjectEmail === undefined
          ? undefined
          : eq(grants.subjectEmail, filters.subjectEmail),
        filters.ticketSystem === undefined
          ? undefined
          : eq(grants.ticketSystem, filters.ticketSystem),
        filters.ticketId === undefined ? undefined : eq(grants.ticketId, filters.ticketId),
        after === undefined
          ? undefined
          : or(
              gt(grants.createdAtMs, after.atMs),
              and(eq(grants.createdAtMs, after.atMs), gt(grants.id, after.id)),
            ),
      ),
    )
    .orderBy(asc(grants.createdAtMs), asc(grants.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}

/** What a transition changes besides the state. */
export interface GrantTransitionWrite {
  state: GrantState;
  decision?: GrantDecision;
  check?: StoredGrantCheck;
  activatedAtMs?: number;
  endedAtMs?: number;
  policySyncState?: GrantPolicySyncState;
}

/**
 * Moves a grant whose version is still `current.version` to a new state, with its audit event
 * and callback delivery in the same batch (both land only if the update did).
 * @returns the updated grant, or undefined when the version moved on (a concurrent change).
 */
export async function writeGrantTransition(
  db: Db,
  current: GrantRecord,
  write: GrantTransitionWrite,
  event: GrantEventRecord,
  delivery: NewDelivery | null,
  nowMs: number,
): Promise<GrantRecord | undefined> {
  const nextVersion = current.version + 1;
  const landed = and(
    pk(current.accountId, current.id),
    eq(grants.version, nextVersion),
    eq(grants.updatedAtMs, nowMs),
  );
  const eventInsert = insertIfLanded(
    db,
    grantEvents,
    { ...event, accountId: current.accountId, grantId: current.id },
    grants,
    landed,
  );
  const update = db
    .update(grants)
    .set({
      state: write.state,
      version: nextVersion,
      updatedAtMs: nowMs,
      ...(write.decision === undefined ? {} : { decisionJson: JSON.stringify(write.decision) }),
      ...(write.check === undefined ? {} : { checkJson: JSON.stringify(write.check) }),
      ...(write.activatedAtMs === undefined ? {} : { activatedAtMs: write.activatedAtMs }),
      ...(write.endedAtMs === undefined ? {} : { endedAtMs: write.endedAtMs }),
      ...(write.policySyncState === undefined ? {} : { policySyncState: write.policySyncState }),
    })
    .where(and(pk(current.accountId, current.id), eq(grants.version, current.version)))
    .returning();
  if (delivery === null) {
    const [rows] = await db.batch([update, eventInsert]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }
  const deliveryInsert = insertIfLanded(
    db,
    grantDeliveries,
    deliveryRow(current.accountId, current.id, delivery, nowMs),
    grants,
    landed,
  );
  const [rows] = await db.batch([update, eventInsert, deliveryInsert]);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** Records a path check on a grant (status information: no version bump). */
export async function recordGrantCheck(
  db: Db,
  accountId: string,
  id: string,
  check: StoredGrantCheck,
): Promise<void> {
  await db
    .update(grants)
    .set({ checkJson: JSON.stringify(check) })
    .where(pk(accountId, id));
}

/** The audit trail of a grant, oldest first. */
export async function listGrantEvents(
  db: Db,
  accountId: string,
  grantId: string,
): Promise<GrantEventRecord[]> {
  const rows = await db
    .select()
    .from(grantEvents)
    .where(and(eq(grantEvents.accountId, accountId), eq(grantEvents.grantId, grantId)))
    .orderBy(asc(grantEvents.atMs), asc(grantEvents.id));
  return rows.map((r) => ({
    id: r.id,
    grantId: r.grantId,
    event: r.event,
    fromState: r.fromState as GrantState | null,
    toState: r.toState as GrantState,
    actor: r.actor,
    reason: r.reason,
    atMs: r.atMs,
  }));
}

/** Grants that are not final (requested, approved, active), for the clock. */
export async function listLiveGrants(db: Db, accountId: string): Promise<GrantRecord[]> {
  const rows = await db
    .select()
    .from(grants)
    .where(and(eq(grants.accountId, accountId), notInArray(grants.state, [...FINAL_GRANT_STATES])))
    .orderBy(asc(grants.createdAtMs), asc(grants.id));
  return rows.map(fromRow);
}

/** Active grants whose end is after `nowMs`, as the planner derives their policies. */
export async function loadActiveGrantSources(
  db: Db,
  accountId: string,
  nowMs: number,
): Promise<GrantPolicySource[]> {
  const rows = await db
    .select()
    .from(grants)
    .where(
      and(eq(grants.accountId, accountId), eq(grants.state, "active"), gt(grants.endsAtMs, nowMs)),
    );
  return rows.map(fromRow).map((g) => ({
    id: g.id,
    version: g.version,
    ticket: g.ticket,
    subjectEmail: g.subjectEmail,
    destinations: g.destinations,
    ports: g.ports,
    protocols: g.protocols,
    activatedAtMs: g.activatedAtMs ?? g.startsAtMs,
    policyPrecedence: g.policyPrecedence,
    policySyncedVersion: g.policySyncedVersion,
  }));
}

/** Grants that have or may have a policy in Cloudflare: active ones and ended ones not cleared. */
export async function listGrantsWithPolicies(db: Db, accountId: string): Promise<GrantRecord[]> {
  const rows = await db
    .select()
    .from(grants)
    .where(
      and(
        eq(grants.accountId, accountId),
        or(eq(grants.state, "active"), isNotNull(grants.policyCloudflareId)),
      ),
    );
  return rows.map(fromRow);
}

/** What a run learned about one grant's policy. */
export interface GrantPolicyUpdate {
  id: string;
  /** The grant version the run planned from; the write is skipped if it moved on. */
  version: number;
  syncState: GrantPolicySyncState;
  cloudflareId: string | null;
  precedence: number | null;
  lastError: string | null;
  /** Set when the policy is now equal in Cloudflare at `version`. */
  isSynced: boolean;
}

/** Writes policy statuses in one batch. */
export async function recordGrantPolicyUpdates(
  db: Db,
  accountId: string,
  updates: GrantPolicyUpdate[],
): Promise<void> {
  const statements = updates.map((u) =>
    db
      .update(grants)
      .set({
        policySyncState: u.syncState,
        policyCloudflareId: u.cloudflareId,
        policyPrecedence: u.precedence,
        policyLastError: u.lastError,
        ...(u.isSynced ? { policySyncedVersion: u.version } : {}),
      })
      .where(and(pk(accountId, u.id), eq(grants.version, u.version))),
  );
  const [first, ...rest] = statements;
  if (first !== undefined) {
    await db.batch([first, ...rest]);
  }
}

/** The account's desired state with its active grants (what the planner plans from). */
export async function loadDesiredWithGrants(
  db: Db,
  accountId: string,
  nowMs: number,
): Promise<DesiredState> {
  const [desired, grants] = await Promise.all([
    loadDesiredState(db, accountId),
    loadActiveGrantSources(db, accountId, nowMs),
  ]);
  return { ...desired, grants };
}
