/**
 * The assertion guard every desired-state write passes: the account's assertions are run on the
 * state as it is and on the state as the write would leave it; a write that turns a passing
 * assertion into a failing one is refused with 422 naming each assertion and its explain trace,
 * before anything is stored.
 */
import type { Db } from "../../db/client";
import { type AssertionResult, brokenBy, runAssertions } from "../../domain/explain/assertions";
import { DEFAULT_PROFILE, desiredView } from "../../domain/explain/view";
import type { GrantPolicySource } from "../../domain/grants/grant";
import type { DesiredObject, DesiredState, Kind } from "../../domain/model";
import { toExplanationResource } from "../explain/explain.schemas";
import { loadDesiredNetwork } from "../explain/network";
import { ProblemError } from "../problem";

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

function run(state: DesiredState, tunnelHealth: ReadonlyMap<string, string>): AssertionResult[] {
  const assertions = live(state);
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

/**
 * Runs the account's assertions before and after `changes`.
 * @throws ProblemError assertion-failed (422) with one `errors[]` entry per broken assertion and
 *   the extension `broken_assertions` holding each one's explanation. Nothing is written.
 */
export function guardAssertions(
  db: Db,
  accountId: string,
  changes: readonly DesiredChange[],
): Promise<void> {
  return guardAssertionsOn(db, accountId, (state) => applyChanges(state, changes));
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
 * Runs the account's assertions on the desired state as it is and as `wouldBe` leaves it.
 * @throws ProblemError assertion-failed (422), as `guardAssertions`.
 */
export async function guardAssertionsOn(
  db: Db,
  accountId: string,
  wouldBe: (state: DesiredState) => DesiredState,
): Promise<void> {
  const { desired, tunnelHealth } = await loadDesiredNetwork(db, accountId);
  if (live(desired).length === 0) {
    return;
  }
  const broken = brokenBy(run(desired, tunnelHealth), run(wouldBe(desired), tunnelHealth));
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
  return run(state, tunnelHealth);
}
