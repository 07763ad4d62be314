/**
 * Assertions are policy tests: "this user can (or cannot) reach this address". They are run
 * against a network view through `explain`; a change is refused when it turns a passing
 * assertion into a failing one, so an assertion written before the network exists does not
 * block the writes that build it.
 */
import type { AssertionSpec } from "../model";
import { type Explanation, explain } from "./explain";
import type { NetworkView } from "./view";

/** A stored assertion. */
export interface AssertionInput {
  /** tunnelplane id. */
  id: string;
  spec: AssertionSpec;
}

/** The outcome of one assertion. */
export interface AssertionResult {
  id: string;
  spec: AssertionSpec;
  /** `expect: allow` passes only on `allowed`; `expect: deny` on any other verdict. */
  passed: boolean;
  explanation: Explanation;
}

/** Runs every assertion over the view (the default device profile's), in input order. */
export function runAssertions(
  view: NetworkView,
  assertions: readonly AssertionInput[],
): AssertionResult[] {
  return assertions.map(({ id, spec }) => {
    const explanation = explain(view, {
      email: spec.email,
      groups: spec.groups,
      passedPostureChecks: [],
      destinationIp: spec.destinationIp,
      port: spec.port,
      protocol: spec.protocol,
    });
    const allowed = explanation.verdict === "allowed";
    return { id, spec, passed: spec.expect === "allow" ? allowed : !allowed, explanation };
  });
}

/**
 * The assertions a change breaks: failing in `after` while passing in `before`. Results are
 * matched by id; order is `after`'s.
 */
export function brokenBy(
  before: readonly AssertionResult[],
  after: readonly AssertionResult[],
): AssertionResult[] {
  const passedBefore = new Map(before.map((r) => [r.id, r.passed]));
  return after.filter((r) => !r.passed && passedBefore.get(r.id) === true);
}
