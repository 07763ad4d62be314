/**
 * The assertion guard every desired-state write passes: the account's assertions that the write
 * can affect (its reach meets their destination, see domain/explain/assertion-reach.ts) are run
 * on the state as it is and on the state as the write would leave it; a write that turns a
 * passing assertion into a failing one is refused with 422 naming each assertion and its explain
 * trace, before anything is stored. The re-run has a work budget (`work_units`, 422 past it), a
 * write no assertion can notice loads nothing but the assertions, and one that reaches a few
 * assertions reads only the routes containing their destinations.
 */
import { getAccount } from "../../db/accounts.repo";
import type { Db } from "../../db/client";
import { getObject, listAllObjects } from "../../db/desired-objects.repo";
import { loadActiveGrantSources } from "../../db/grants.repo";
import { assertionsReached, reachOfObject } from "../../domain/explain/assertion-reach";
import {
  type AssertionInput,
  type AssertionResult,
  brokenBy,
  runAssertions,
} from "../../domain/explain/assertions";
import { DEFAULT_PROFILE, desiredView } from "../../domain/explain/view";
import type { GrantPolicySource } from "../../domain/grants/grant";
import type { DesiredObject, DesiredState, Kind } from "../../domain/model";
import { desiredSelectorUnits, requestWork } from "../../domain/quotas";
import { toExplanationResource } from "../explain/explain.schemas";
import {
  type DesiredNetwork,
  loadDesiredNetwork,
  loadDesiredNetworkAround,
} from "../explain/network";
import { ProblemError } from "../problem";
import { enforceWorkBudget } from "../quotas";

/** One change a write makes to the desired state. */
export type DesiredChange =
  /** Insert `object`, or replace the live object of the same kind and id. */
  | { op: "put"; object: DesiredObject }
  /** Delete the live object of `kind` and `id`. */
  | { op: "delete"; kind: Kind; id: string };

/** The desired state after `changes`, in order. */
export function applyChanges(state: DesiredState, changes: readonly DesiredChange[]): DesiredState {
  let objects = state.objects;
  for (const change of changes) {
    const kind = change.op === "put" ? change.object.kind : change.kind;
    const id = change.op === "put" ? change.object.id : change.id;
    const others = objects.filter(
      (o) => !(o.kind === kind && o.id === id && o.deletedAtMs === null),
    );
    objects = change.op === "put" ? [...others, change.object] : others;
  }
  return { ...state, objects };
}

function live(state: DesiredState) {
  return state.objects.filter(
    (o): o is DesiredObject<"assertion"> => o.kind === "assertion" && o.deletedAtMs === null,
  );
}

function run(
  state: DesiredState,
  ids: ReadonlySet<string>,
  tunnelHealth: ReadonlyMap<string, string>,
): AssertionResult[] {
  const assertions = live(state).filter((a) => ids.has(a.id));
  if (assertions.length === 0) {
    return [];
  }
  const view = desiredView(state, DEFAULT_PROFILE, tunnelHealth);
  // The default profile always exists, so the view cannot fail.
  return view.ok ? runAssertions(view.value, assertions) : [];
}

/** The wire form of an assertion result. */
export function toAssertionResultResource(result: AssertionResult) {
  const { spec } = result;
  return {
    id: result.id,
    name: spec.name,
    email: spec.email,
    destination_ip: spec.destinationIp,
    port: spec.port,
    protocol: spec.protocol,
    expect: spec.expect,
    passed: result.passed,
    verdict: result.explanation.verdict,
    explanation: toExplanationResource(result.explanation),
  };
}

function describe(result: AssertionResult): string {
  const { spec } = result;
  const target = `${spec.destinationIp}${spec.port === null ? "" : `:${spec.port}`}/${spec.protocol ?? "tcp"}`;
  return `assertion ${result.id} "${spec.name}" (${spec.email} -> ${target}, expect ${spec.expect}) would fail: ${result.explanation.summary}`;
}

function keyOf(change: DesiredChange): { kind: Kind; id: string } {
  return change.op === "put" ? change.object : change;
}

/**
 * Runs the account's assertions that `changes` can affect before and after them.
 * @throws ProblemError assertion-failed (422) with one `errors[]` entry per broken assertion and
 *   the extension `broken_assertions` holding each one's explanation; limit-exceeded (422) when
 *   re-running them is past the account's `work_units`. Nothing is written.
 */
export async function guardAssertions(
  db: Db,
  accountId: string,
  changes: readonly DesiredChange[],
): Promise<void> {
  const assertions = await listAllObjects(db, accountId, "assertion");
  if (assertions.length === 0) {
    return;
  }
  const stored: (DesiredObject | undefined)[] = await Promise.all(
    changes.map((change) => getObject(db, accountId, keyOf(change).kind, keyOf(change).id)),
  );
  const writesPolicies = changes.some((change) =>
    ["network_policy", "private_app"].includes(keyOf(change).kind),
  );
  const hasActiveGrants =
    writesPolicies && (await loadActiveGrantSources(db, accountId, Date.now())).length > 0;
  const reaches = changes.flatMap((change, i) => [
    reachOfObject(stored[i], hasActiveGrants),
    ...(change.op === "put" ? [reachOfObject(change.object, hasActiveGrants)] : []),
  ]);
  await guardReached(db, accountId, assertionsReached(assertions, reaches), (state) =>
    applyChanges(state, changes),
  );
}

/**
 * The desired state with `grant` active: its allow policy is derived like any active grant's.
 * Grant writes are guarded with it, so a grant cannot open what an assertion says stays shut.
 */
export function withActiveGrant(grant: GrantPolicySource): (state: DesiredState) => DesiredState {
  return (state) => ({
    ...state,
    grants: [...(state.grants ?? []).filter((g) => g.id !== grant.id), grant],
  });
}

/**
 * Runs every assertion of the account on the desired state as it is and as `wouldBe` leaves it.
 * @throws ProblemError assertion-failed or limit-exceeded (422), as `guardAssertions`.
 */
export async function guardAssertionsOn(
  db: Db,
  accountId: string,
  wouldBe: (state: DesiredState) => DesiredState,
): Promise<void> {
  await guardReached(db, accountId, await listAllObjects(db, accountId, "assertion"), wouldBe);
}

/**
 * Most distinct destinations whose routes the guard reads by range; a write reaching more
 * assertions (a policy without destinations, a tunnel) reads the whole state once instead.
 */
const MAX_FOCUSED_DESTINATIONS = 16;

function brokenOn(
  { desired, tunnelHealth }: DesiredNetwork,
  ids: ReadonlySet<string>,
  wouldBe: (state: DesiredState) => DesiredState,
): AssertionResult[] {
  return brokenBy(run(desired, ids, tunnelHealth), run(wouldBe(desired), ids, tunnelHealth));
}

async function guardReached(
  db: Db,
  accountId: string,
  reached: readonly AssertionInput[],
  wouldBe: (state: DesiredState) => DesiredState,
): Promise<void> {
  if (reached.length === 0) {
    return;
  }
  const destinations = [...new Set(reached.map((a) => a.spec.destinationIp))];
  const isFocused = destinations.length <= MAX_FOCUSED_DESTINATIONS;
  const [network, account] = await Promise.all([
    isFocused
      ? loadDesiredNetworkAround(db, accountId, destinations)
      : loadDesiredNetwork(db, accountId),
    getAccount(db, accountId),
  ]);
  if (account !== undefined) {
    // Selector units count policies, apps and grants, which the focused state holds whole.
    const units =
      desiredSelectorUnits(network.desired) + desiredSelectorUnits(wouldBe(network.desired));
    enforceWorkBudget(
      account,
      requestWork("assertions", units, 0, reached.length),
      `Re-running the ${reached.length} assertion(s) this write can affect, before and after it,`,
    );
  }
  const ids = new Set(reached.map((a) => a.id));
  let broken = brokenOn(network, ids, wouldBe);
  if (broken.length > 0 && isFocused) {
    // The verdicts agree on both states; the refusal's traces name the split tunnel entries of
    // the whole state, so a refusal reads it.
    broken = brokenOn(await loadDesiredNetwork(db, accountId), ids, wouldBe);
  }
  if (broken.length === 0) {
    return;
  }
  throw new ProblemError(
    "assertion-failed",
    `The change would break ${broken.length} assertion(s); nothing was stored.`,
    {
      errors: broken.map((result) => ({
        pointer: "#",
        detail: describe(result),
        code: "assertion-failed",
      })),
      extensions: { broken_assertions: broken.map(toAssertionResultResource) },
    },
  );
}

/**
 * Every assertion's result on `state` (the default device profile's view), in the order of its
 * objects; empty when it has no live assertion. The desired-state diff reports them all.
 */
export function assertionResultsOn(
  state: DesiredState,
  tunnelHealth: ReadonlyMap<string, string>,
): AssertionResult[] {
  return run(state, new Set(live(state).map((a) => a.id)), tunnelHealth);
}
