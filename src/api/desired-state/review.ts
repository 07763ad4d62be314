/**
 * Everything that decides whether a resolved document may be applied, computed on the state it
 * would leave with the same code single writes use: the account conflicts (findAccountConflicts),
 * the assertions (the assertion guard's run), and the quotas. An apply is refused for a problem in
 * the document, an error conflict the change introduces, an assertion that would fail (unless it
 * already fails), or a quota the change would pass.
 */
import type { AccountRecord } from "../../db/accounts.repo";
import {
  type AccountConflict,
  findAccountConflicts,
  type ProfileSplitTunnelRef,
} from "../../domain/conflicts/account";
import type { AssertionResult } from "../../domain/explain/assertions";
import type {
  DesiredObject,
  DesiredState,
  SpecByKind,
  SplitTunnelProfileSpec,
} from "../../domain/model";
import {
  appSelectorUnits,
  checkQuota,
  effectiveQuotas,
  policySelectorUnits,
  QUOTA_OF_KIND,
  type QuotaName,
  splitTunnelEntries,
} from "../../domain/quotas";
import { assertionResultsOn } from "../assertions/guard";
import { toConflictResource } from "../conflicts/conflicts.schemas";
import type { InvalidField } from "../problem";
import { quotaProblem, splitTunnelQuotaProblem } from "../quotas";
import { canonicalJson } from "./compare";
import type { Resolution } from "./resolve";

/** The verdict on a resolved document. */
export interface Review {
  /** Everything that refuses the apply, each with its pointer into the document. */
  problems: InvalidField[];
  /** The conflicts and warnings of the resulting state. */
  conflicts: AccountConflict[];
  /** Every assertion's outcome on the resulting state. */
  assertions: AssertionResult[];
  /** The resulting desired state (deleted objects as tombstones, grants kept), for the planner. */
  after: DesiredState;
}

function conflictsOf(objects: readonly DesiredObject[], teamDomain: string | null) {
  const live = objects.filter((o) => o.deletedAtMs === null);
  const of = <K extends "tunnel_route" | "virtual_network" | "device_profile">(kind: K) =>
    live.filter((o): o is DesiredObject<K> => o.kind === kind);
  const split = live.find((o): o is DesiredObject<"split_tunnel"> => o.kind === "split_tunnel");
  const profiles: ProfileSplitTunnelRef[] = [
    ...(split === undefined
      ? []
      : [
          {
            kind: "split_tunnel" as const,
            id: split.id,
            spec: split.spec,
            virtualNetworkIds: null,
          },
        ]),
    ...of("device_profile")
      .sort((a, b) => a.spec.precedence - b.spec.precedence)
      .map((p) => ({
        kind: "device_profile" as const,
        id: p.id,
        spec: p.spec.splitTunnel,
        virtualNetworkIds: p.spec.virtualNetworkIds,
      })),
  ];
  return findAccountConflicts(
    of("tunnel_route").map((r) => ({ id: r.id, ...r.spec })),
    profiles,
    of("virtual_network").find((v) => v.spec.isDefault)?.id ?? null,
    { teamDomain },
  );
}

/** The document entry a conflict is about: its first route there, else its profile. */
function conflictPointer(conflict: AccountConflict, pointers: ReadonlyMap<string, string>) {
  const keys =
    "profile" in conflict
      ? [
          ...conflict.routeIds.map((id) => `tunnel_route/${id}`),
          `${conflict.profile.kind}/${conflict.profile.id}`,
        ]
      : toConflictResource(conflict).objects.map((o) => `${o.kind}/${o.id}`);
  return keys.map((key) => pointers.get(key)).find((p) => p !== undefined) ?? "#";
}

const QUOTA_FIELD: Record<QuotaName, string> = {
  routes: "#/routes",
  network_policies: "#/policies",
  private_apps: "#/private_apps",
  tunnels: "#/tunnels",
  virtual_networks: "#/virtual_networks",
  split_tunnel_entries: "#/split_tunnel",
  selector_units: "#/policies",
  work_units: "#",
  event_subscriptions: "#",
};

/** What the live objects among `objects` count against each quota they touch. */
export function quotaUsage(objects: readonly DesiredObject[]): Map<QuotaName, number> {
  const used = new Map<QuotaName, number>();
  const add = (quota: QuotaName, n: number) => used.set(quota, (used.get(quota) ?? 0) + n);
  for (const o of objects) {
    if (o.deletedAtMs !== null) {
      continue;
    }
    const quota = QUOTA_OF_KIND[o.kind];
    if (quota !== undefined) {
      add(quota, 1);
    }
    if (o.kind === "network_policy") {
      add("selector_units", policySelectorUnits(o.spec as SpecByKind["network_policy"]));
    } else if (o.kind === "private_app") {
      add("selector_units", appSelectorUnits(o.spec as SpecByKind["private_app"]));
    }
  }
  return used;
}

function quotaProblems(
  account: AccountRecord,
  before: readonly DesiredObject[],
  after: readonly DesiredObject[],
): InvalidField[] {
  const quotas = effectiveQuotas(account.limits);
  const [was, will] = [quotaUsage(before), quotaUsage(after)];
  return [...will].flatMap(([quota, requested]) => {
    const current = was.get(quota) ?? 0;
    const checked = checkQuota(quotas, quota, current, requested);
    // An account already past a lowered quota may keep what it has, not grow.
    if (checked.ok || requested <= current) {
      return [];
    }
    const detail = quotaProblem(account.id, checked.error).detail;
    return [{ pointer: QUOTA_FIELD[quota], detail, code: "limit-exceeded" }];
  });
}

/** The split tunnel list of a live profile object, or undefined for other kinds. */
function splitTunnelOf(object: DesiredObject): SplitTunnelProfileSpec | undefined {
  if (object.deletedAtMs !== null) {
    return undefined;
  }
  if (object.kind === "split_tunnel") {
    return object.spec as SpecByKind["split_tunnel"];
  }
  return object.kind === "device_profile"
    ? (object.spec as SpecByKind["device_profile"]).splitTunnel
    : undefined;
}

/**
 * The lists among `after` past the account's `split_tunnel_entries`, as single writes refuse
 * them (`splitTunnelQuotaProblem`), at the document's list (`#/split_tunnel`, or a device
 * profile's `split_tunnel`). A list already past a lowered quota may stay, not grow.
 */
function splitTunnelQuotaProblems(
  account: AccountRecord,
  before: readonly DesiredObject[],
  after: readonly DesiredObject[],
  pointers: ReadonlyMap<string, string>,
): InvalidField[] {
  const was = new Map(
    before.flatMap((o) => {
      const list = splitTunnelOf(o);
      return list === undefined ? [] : [[`${o.kind}/${o.id}`, splitTunnelEntries(list)]];
    }),
  );
  return after.flatMap((o) => {
    const list = splitTunnelOf(o);
    const problem = list === undefined ? undefined : splitTunnelQuotaProblem(account, list);
    const key = `${o.kind}/${o.id}`;
    if (
      list === undefined ||
      problem === undefined ||
      splitTunnelEntries(list) <= (was.get(key) ?? 0)
    ) {
      return [];
    }
    const pointer =
      o.kind === "split_tunnel"
        ? (pointers.get(key) ?? "#/split_tunnel")
        : `${pointers.get(key) ?? "#/device_profiles"}/split_tunnel`;
    return [{ pointer, detail: problem.detail, code: "limit-exceeded" }];
  });
}

/**
 * Reviews `resolution` against the account's current desired state `desired` (tombstones and
 * active grants included, as `loadDesiredNetwork` reads it).
 */
export function reviewResolution(
  resolution: Resolution,
  desired: DesiredState,
  tunnelHealth: ReadonlyMap<string, string>,
  account: AccountRecord,
  nowMs: number,
): Review {
  const byId = new Map(
    desired.objects.filter((o) => o.deletedAtMs === null).map((o) => [`${o.kind}/${o.id}`, o]),
  );
  const deleted = resolution.changes.flatMap((c) => {
    const was = c.op === "delete" ? byId.get(`${c.kind}/${c.id}`) : undefined;
    return was === undefined ? [] : [{ ...was, deletedAtMs: nowMs }];
  });
  const tombstones = desired.objects.filter((o) => o.deletedAtMs !== null);
  const after: DesiredState = {
    ...desired,
    objects: [...tombstones, ...deleted, ...resolution.after],
  };
  const teamDomain = desired.teamDomain ?? null;
  const known = new Set(
    conflictsOf(desired.objects, teamDomain).map((c) => canonicalJson(toConflictResource(c))),
  );
  const conflicts = conflictsOf(after.objects, teamDomain);
  const conflictProblems = conflicts
    .filter((c) => c.severity === "error" && !known.has(canonicalJson(toConflictResource(c))))
    .map((c) => ({
      pointer: conflictPointer(c, resolution.pointers),
      detail: toConflictResource(c).message,
      code: c.code,
    }));
  const passedBefore = new Map(
    assertionResultsOn(desired, tunnelHealth).map((r) => [r.id, r.passed]),
  );
  const assertions = assertionResultsOn(after, tunnelHealth);
  const failing = assertions
    .filter((r) => !r.passed && passedBefore.get(r.id) !== false)
    .map((r) => ({
      pointer: resolution.pointers.get(`assertion/${r.id}`) ?? "#/assertions",
      detail: `assertion "${r.spec.name}" would fail: ${r.explanation.summary}`,
      code: "assertion-failed",
    }));
  return {
    problems: [
      ...resolution.problems,
      ...quotaProblems(account, desired.objects, after.objects),
      ...splitTunnelQuotaProblems(account, desired.objects, after.objects, resolution.pointers),
      ...conflictProblems,
      ...failing,
    ],
    conflicts,
    assertions,
    after,
  };
}
