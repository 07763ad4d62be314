/**
 * Compiling the policy lists of one question together: a policy that is the same in several
 * lists (same id and conditions) is compiled once, so the lists of a delta share their atoms.
 */
import type { EvaluablePolicy } from "../policies/evaluate";
import {
  byPrecedence,
  type CompiledPolicy,
  compilePolicy,
  type IdentityLeaves,
  newIdentityLeaves,
} from "./compile";

/** Compiled lists: every distinct enabled policy once, and each list as indices in Gateway order. */
export interface PreparedLists {
  policies: CompiledPolicy[];
  leaves: IdentityLeaves;
  /** Per input list, the indices of its enabled policies in evaluation order. */
  orders: number[][];
}

/** What makes two versions of a policy the same: action, state, order and conditions. */
export function policyFingerprint(p: EvaluablePolicy): string {
  // The parsed trees are plain data in one canonical shape, so their JSON is their identity.
  return JSON.stringify([
    p.id,
    p.action,
    p.enabled,
    p.precedence,
    p.traffic,
    p.identity,
    p.devicePosture ?? null,
  ]);
}

/** Compiles `lists` (each in any order); disabled policies are left out, as they never match. */
export function prepareLists(lists: readonly (readonly EvaluablePolicy[])[]): PreparedLists {
  const leaves = newIdentityLeaves();
  const policies: CompiledPolicy[] = [];
  const byFingerprint = new Map<string, number>();
  const byObject = new Map<EvaluablePolicy, number>();
  const orders = lists.map((list) =>
    [...list]
      .filter((p) => p.enabled)
      .sort(byPrecedence)
      .map((p) => {
        const same = byObject.get(p);
        if (same !== undefined) {
          return same;
        }
        const fingerprint = policyFingerprint(p);
        let index = byFingerprint.get(fingerprint);
        if (index === undefined) {
          index = policies.length;
          policies.push(compilePolicy(p, leaves));
          byFingerprint.set(fingerprint, index);
        }
        byObject.set(p, index);
        return index;
      }),
  );
  return { policies, leaves, orders };
}
