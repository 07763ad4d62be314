/**
 * Enforces the account's quotas (src/domain/quotas.ts) before a write is stored or a costly
 * request runs: a refusal is a 422 `limit-exceeded` that names the quota, the account's current
 * use, its maximum and how to raise it.
 */
import type { AccountRecord } from "../db/accounts.repo";
import type { Db } from "../db/client";
import { countObjects, listAllObjects } from "../db/desired-objects.repo";
import type { WorkBudgetExceeded } from "../domain/access/engine";
import { KINDS, type Kind, type SpecByKind, type SplitTunnelProfileSpec } from "../domain/model";
import {
  appSelectorUnits,
  checkQuota,
  effectiveQuotas,
  policySelectorUnits,
  QUOTA_OF_KIND,
  type QuotaExceeded,
  splitTunnelEntries,
} from "../domain/quotas";
import type { Result } from "../domain/result";
import { ProblemError } from "./problem";

/** The 422 for a quota a write or request would pass. */
export function quotaProblem(
  accountId: string,
  exceeded: QuotaExceeded,
  purpose?: string,
): ProblemError {
  const raise = `an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"${exceeded.quota}": ${exceeded.requested}}}`;
  // Work units are per request and entries per list: nothing is "in use" before it.
  const inUse =
    exceeded.quota === "work_units" || exceeded.quota === "split_tunnel_entries"
      ? ""
      : ` (${exceeded.current} in use)`;
  return new ProblemError(
    "limit-exceeded",
    `${purpose === undefined ? "This needs" : `${purpose} needs`} ${exceeded.requested} ${exceeded.quota} and the account's limit is ${exceeded.maximum}${inUse}; ${raise}.`,
    {
      extensions: {
        limit: exceeded.quota,
        maximum: exceeded.maximum,
        current: exceeded.current,
        requested: exceeded.requested,
      },
    },
  );
}

/**
 * Refuses creating one more object of `kind` past its count quota (routes, network policies,
 * private apps, tunnels, virtual networks); other kinds pass.
 * @throws ProblemError limit-exceeded
 */
export async function enforceObjectQuota(
  db: Db,
  account: AccountRecord,
  kind: Kind,
): Promise<void> {
  const quota = QUOTA_OF_KIND[kind];
  if (quota === undefined) {
    return;
  }
  // Cloudflare counts CIDR and hostname routes against one limit: every kind of the quota counts.
  const kinds = KINDS.filter((k) => QUOTA_OF_KIND[k] === quota);
  const counts = await Promise.all(kinds.map((k) => countObjects(db, account.id, k)));
  const current = counts.reduce((sum, n) => sum + n, 0);
  const checked = checkQuota(effectiveQuotas(account.limits), quota, current, current + 1);
  if (!checked.ok) {
    throw quotaProblem(account.id, checked.error);
  }
}

/**
 * The selector units of the account's network policies and private apps, leaving out the object
 * `exceptId` (the one being replaced).
 */
export async function accountSelectorUnits(
  db: Db,
  accountId: string,
  exceptId?: string,
): Promise<number> {
  const [policies, apps] = await Promise.all([
    listAllObjects(db, accountId, "network_policy"),
    listAllObjects(db, accountId, "private_app"),
  ]);
  const units = [
    ...policies.filter((p) => p.id !== exceptId).map((p) => policySelectorUnits(p.spec)),
    ...apps.filter((a) => a.id !== exceptId).map((a) => appSelectorUnits(a.spec)),
  ];
  return units.reduce((sum, n) => sum + n, 0);
}

/**
 * Refuses writing a network policy or private app (`id`, new or replaced) whose selectors would
 * take the account past its `selector_units` quota; other kinds pass.
 * @throws ProblemError limit-exceeded
 */
export async function enforceSelectorQuota<K extends Kind>(
  db: Db,
  account: AccountRecord,
  kind: K,
  id: string,
  spec: SpecByKind[K],
): Promise<void> {
  let units: number;
  if (kind === "network_policy") {
    units = policySelectorUnits(spec as SpecByKind["network_policy"]);
  } else if (kind === "private_app") {
    units = appSelectorUnits(spec as SpecByKind["private_app"]);
  } else {
    return;
  }
  const current = await accountSelectorUnits(db, account.id, id);
  const quotas = effectiveQuotas(account.limits);
  const checked = checkQuota(quotas, "selector_units", current, current + units);
  if (!checked.ok) {
    throw quotaProblem(account.id, checked.error);
  }
}

/**
 * The 422 for a split tunnel list (the default profile's, or a device profile's) that could hold
 * more entries than the account's `split_tunnel_entries` (see `splitTunnelEntries`), or undefined
 * when it fits: Cloudflare refuses a longer list, so tunnelplane would fail to apply it.
 */
export function splitTunnelQuotaProblem(
  account: AccountRecord,
  spec: SplitTunnelProfileSpec,
): ProblemError | undefined {
  const entries = splitTunnelEntries(spec);
  const checked = checkQuota(effectiveQuotas(account.limits), "split_tunnel_entries", 0, entries);
  if (checked.ok) {
    return undefined;
  }
  const purpose = spec.auto
    ? `An auto split tunnel list with max_entries ${spec.maxEntries ?? entries}`
    : `A split tunnel list of ${entries} entries`;
  return quotaProblem(account.id, checked.error, purpose);
}

/**
 * Refuses a split tunnel list past the account's `split_tunnel_entries`
 * (see `splitTunnelQuotaProblem`).
 * @throws ProblemError limit-exceeded
 */
export function enforceSplitTunnelQuota(
  account: AccountRecord,
  spec: SplitTunnelProfileSpec,
): void {
  const problem = splitTunnelQuotaProblem(account, spec);
  if (problem !== undefined) {
    throw problem;
  }
}

/**
 * Refuses writing an object whose spec is past a quota of its own: a policy's or app's selector
 * units (`enforceSelectorQuota`), a split tunnel's entries (`enforceSplitTunnelQuota`); other
 * kinds pass.
 * @throws ProblemError limit-exceeded
 */
export async function enforceSpecQuotas<K extends Kind>(
  db: Db,
  account: AccountRecord,
  kind: K,
  id: string,
  spec: SpecByKind[K],
): Promise<void> {
  if (kind === "split_tunnel") {
    enforceSplitTunnelQuota(account, spec as SpecByKind["split_tunnel"]);
  } else if (kind === "device_profile") {
    enforceSplitTunnelQuota(account, (spec as SpecByKind["device_profile"]).splitTunnel);
  } else {
    await enforceSelectorQuota(db, account, kind, id, spec);
  }
}

/**
 * Refuses a request whose estimated work (see `requestWork`) is past the account's `work_units`;
 * `purpose` names the work in the detail ("Re-running 3 assertions"), else "This".
 * @throws ProblemError limit-exceeded
 */
export function enforceWorkBudget(account: AccountRecord, work: number, purpose?: string): void {
  const checked = checkQuota(effectiveQuotas(account.limits), "work_units", 0, work);
  if (!checked.ok) {
    throw quotaProblem(account.id, checked.error, purpose);
  }
}

/**
 * Unwraps an exact-engine answer, or refuses the request whose work (see `classesWithin`) passed
 * the account's `work_units` (the engine stops counting at the first unit past the budget, so
 * `requested` is a lower bound).
 * @throws ProblemError limit-exceeded
 */
export function withinWorkBudget<T>(accountId: string, answer: Result<T, WorkBudgetExceeded>): T {
  if (!answer.ok) {
    throw quotaProblem(accountId, {
      code: "limit-exceeded",
      quota: "work_units",
      maximum: answer.error.budget,
      current: 0,
      requested: answer.error.work,
    });
  }
  return answer.value;
}
