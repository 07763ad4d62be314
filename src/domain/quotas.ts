/**
 * Per-account quotas: how many objects of each kind an account may hold (Cloudflare's own account
 * limits by default, raisable per account), how large its policies' selectors may grow in all,
 * and how much evaluation work one request may cost. Checked before anything is stored or run,
 * so no combination of accepted inputs makes a request run for minutes.
 * @see https://developers.cloudflare.com/cloudflare-one/account-limits/
 */
import type {
  DesiredState,
  Kind,
  NetworkPolicySpec,
  PrivateAppSpec,
  SplitTunnelProfileSpec,
} from "./model";
import { err, ok, type Result } from "./result";
import { DEFAULT_MAX_ENTRIES } from "./split-tunnels/budget";

/** Every quota an account has, by its wire name. */
export const QUOTA_NAMES = [
  "routes",
  "network_policies",
  "private_apps",
  "tunnels",
  "virtual_networks",
  "split_tunnel_entries",
  "selector_units",
  "work_units",
  "event_subscriptions",
] as const;

/** One quota's name. */
export type QuotaName = (typeof QUOTA_NAMES)[number];

/** Quota values by name; a count of objects, of selector units, or of work units per request. */
export type Quotas = Record<QuotaName, number>;

/** An account's raised (or lowered) quotas; names left out keep their default. */
export type QuotaOverrides = Partial<Quotas>;

/**
 * Defaults: Cloudflare's account limits (1,000 routes, 500 Gateway network policies, 500 Access
 * applications, 1,000 tunnels and virtual networks, 1,000 split tunnel entries per profile), and
 * tunnelplane's own budgets: 25,000 selector units per account (see `selectorUnits`), 4,000,000
 * work units per request (see `requestWork`), which `bench/hostile.bench.ts` measures at about a
 * second of CPU, and 20 event subscriptions (every event is stored and queued once per matching
 * subscription, so their number multiplies every run's and every write's deliveries; GitHub
 * allows 20 webhooks per repository too).
 */
export const DEFAULT_QUOTAS: Quotas = {
  routes: 1000,
  network_policies: 500,
  private_apps: 500,
  tunnels: 1000,
  virtual_networks: 1000,
  split_tunnel_entries: 1000,
  selector_units: 25_000,
  work_units: 4_000_000,
  event_subscriptions: 20,
};

/** The quota that counts the objects of a kind, for the kinds that have one. */
export const QUOTA_OF_KIND: Partial<Record<Kind, QuotaName>> = {
  tunnel_route: "routes",
  hostname_route: "routes",
  network_policy: "network_policies",
  private_app: "private_apps",
  tunnel: "tunnels",
  virtual_network: "virtual_networks",
};

/** The account's quotas: the defaults with its overrides applied. */
export function effectiveQuotas(overrides: QuotaOverrides | null): Quotas {
  return { ...DEFAULT_QUOTAS, ...overrides };
}

/**
 * A quota a write or a request would pass: `current` is what the account holds (or the work the
 * request would cost) before it, `requested` what it would hold after, `maximum` the quota.
 */
export interface QuotaExceeded {
  code: "limit-exceeded";
  quota: QuotaName;
  maximum: number;
  current: number;
  requested: number;
}

/** `ok` while `requested` stays within the quota (inclusive), else `limit-exceeded`. */
export function checkQuota(
  quotas: Quotas,
  quota: QuotaName,
  current: number,
  requested: number,
): Result<void, QuotaExceeded> {
  const maximum = quotas[quota];
  return requested <= maximum
    ? ok(undefined)
    : err({ code: "limit-exceeded", quota, maximum, current, requested });
}

/**
 * The most entries a profile's split tunnel list can hold, what `split_tunnel_entries` bounds:
 * the user's entries for a hand-written list; for an `auto` list its `max_entries` (the computed
 * list is cut to fit it, so no route write can grow it past that), or the user's entries when
 * they alone are more.
 */
export function splitTunnelEntries(spec: SplitTunnelProfileSpec): number {
  return spec.auto
    ? Math.max(spec.maxEntries ?? DEFAULT_MAX_ENTRIES, spec.entries.length)
    : spec.entries.length;
}

/** The selectors of a network policy or private app, as far as their size goes. */
export interface SelectorCounts {
  destinations: number;
  ports: number;
  emails: number;
  groups: number;
  hasRegex: boolean;
}

/**
 * A policy's selector units: 1 for the policy, plus 1 per destination, port, email, group and
 * regex. Evaluating a connection against a policy costs about this many comparisons.
 */
export function selectorUnits(counts: SelectorCounts): number {
  return (
    1 +
    counts.destinations +
    counts.ports +
    counts.emails +
    counts.groups +
    (counts.hasRegex ? 1 : 0)
  );
}

/** A network policy's selector units. */
export function policySelectorUnits(spec: NetworkPolicySpec): number {
  return selectorUnits({
    destinations: spec.destinations.length,
    ports: spec.ports.length,
    emails: spec.emails.length,
    groups: spec.groups?.length ?? 0,
    hasRegex: spec.emailRegex !== null,
  });
}

/**
 * A private app's selector units: it becomes two Gateway policies (an allow, then a block) over
 * the same destinations, so twice its selectors.
 */
export function appSelectorUnits(spec: PrivateAppSpec): number {
  const destinations = spec.destinations.length;
  const ports = spec.destinations.reduce((sum, d) => sum + d.ports.length, 0);
  const allow = selectorUnits({
    destinations,
    ports,
    emails: spec.emails.length + spec.emailDomains.length,
    groups: spec.groups.length,
    hasRegex: spec.emailRegex !== null,
  });
  return allow + selectorUnits({ destinations, ports, emails: 0, groups: 0, hasRegex: false });
}

/**
 * The selector units of every network policy a desired state makes: its live network policies and
 * private apps, and each active grant's allow policy (one subject email).
 */
export function desiredSelectorUnits(state: DesiredState): number {
  let units = 0;
  for (const object of state.objects) {
    if (object.deletedAtMs !== null) {
      continue;
    }
    if (object.kind === "network_policy") {
      units += policySelectorUnits(object.spec as NetworkPolicySpec);
    } else if (object.kind === "private_app") {
      units += appSelectorUnits(object.spec as PrivateAppSpec);
    }
  }
  for (const grant of state.grants ?? []) {
    units += selectorUnits({
      destinations: grant.destinations.length,
      ports: grant.ports.length,
      emails: 1,
      groups: 0,
      hasRegex: false,
    });
  }
  return units;
}

/**
 * Work units per selector unit for the requests that walk every policy with a full trace:
 * `explain` and each assertion build a trace of every policy, and `plan` renders and diffs every
 * policy; both cost about 40 times a bare evaluation (`bench/hostile.bench.ts`: 150 policies at
 * the selector limits, 180,150 units, take 1.5 s to explain and 2.2 s to plan).
 */
export const TRACED_WORK_PER_UNIT = 40;

/**
 * The work units a request costs, for `units` selector units (`_policies`, the policy count,
 * does not change the cost of these requests):
 * - `plan`, `explain`: `TRACED_WORK_PER_UNIT × units`;
 * - `assertions`: that once per assertion run (`evaluations`; the write guard runs each
 *   assertion it re-runs twice, before and after the write).
 *
 * The exact access engine (the plan's access delta, `who-can-reach`, `reachable-by`, policy
 * analysis) counts its own work (atoms × identity classes + atoms × the policies evaluated at them) against the same `work_units`.
 */
export function requestWork(
  request: "plan" | "explain" | "assertions",
  units: number,
  _policies: number,
  evaluations = 1,
): number {
  switch (request) {
    case "assertions":
      return TRACED_WORK_PER_UNIT * units * evaluations;
    case "plan":
    case "explain":
      return TRACED_WORK_PER_UNIT * units;
  }
}
