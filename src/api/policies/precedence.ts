/**
 * The account's precedence slots as the policy endpoints see them: every stored network policy,
 * and every precedence a private app holds for its derived pairs (fixed: only the app's own PUT
 * moves them). Placement and moves plan over all of them, so no two policies of any origin ever
 * share a precedence.
 */
import type { Db } from "../../db/client";
import { listAllObjects, type StoredObject } from "../../db/desired-objects.repo";
import { privateAppSpan } from "../../domain/plan/private-app-policies";
import type {
  PrecedenceChange,
  PrecedenceError,
  PrecedenceSlot,
} from "../../domain/policies/precedence";
import type { CompanionWrite } from "../desired/collection";
import { ProblemError, validationProblem } from "../problem";

const APP_SLOT = /^app:([^:]+):\d+$/;

/** The slots, with the stored policies by id. */
export interface PrecedenceState {
  slots: PrecedenceSlot[];
  policies: Map<string, StoredObject<"network_policy">>;
  apps: StoredObject<"private_app">[];
}

/** The slot ids of an app: `app:<id>:<i>` for each precedence it holds. */
export function appSlots(app: StoredObject<"private_app">, exceptAppId?: string): PrecedenceSlot[] {
  if (app.id === exceptAppId) {
    return [];
  }
  return Array.from({ length: privateAppSpan(app.spec) }, (_, i) => ({
    id: `app:${app.id}:${i}`,
    precedence: app.spec.precedence + i,
  }));
}

/** Loads every slot of the account; `except` leaves out the policy or app being rewritten. */
export async function loadPrecedenceState(
  db: Db,
  accountId: string,
  except?: string,
): Promise<PrecedenceState> {
  const [policies, apps] = await Promise.all([
    listAllObjects(db, accountId, "network_policy"),
    listAllObjects(db, accountId, "private_app"),
  ]);
  const kept = policies.filter((p) => p.id !== except);
  return {
    slots: [
      ...kept.map((p) => ({ id: p.id, precedence: p.spec.precedence })),
      ...apps.flatMap((a) => appSlots(a, except)),
    ],
    policies: new Map(kept.map((p) => [p.id, p])),
    apps,
  };
}

/** The slot holding `precedence`, if any. */
export function holderOf(state: PrecedenceState, precedence: number): PrecedenceSlot | undefined {
  return state.slots.find((slot) => slot.precedence === precedence);
}

/** The app a slot id belongs to, or null for a policy's slot. */
export function appOfSlot(id: string): string | null {
  return APP_SLOT.exec(id)?.[1] ?? null;
}

/** The next free block of `span` precedences at the bottom, on a multiple of 1000. */
export function bottomPrecedence(state: PrecedenceState): number {
  const highest = Math.max(0, ...state.slots.map((s) => s.precedence));
  return (Math.floor(highest / 1000) + 1) * 1000;
}

/**
 * Companion writes for renumbering changes, or a 409 when a change would move a private app's
 * policy (an app moves only with its own PUT).
 * @throws ProblemError precedence-taken
 */
export function renumberingWrites(
  state: PrecedenceState,
  changes: readonly PrecedenceChange[],
): CompanionWrite<"network_policy">[] {
  return changes.map((change) => {
    const app = appOfSlot(change.id);
    const policy = state.policies.get(change.id);
    if (app !== null || policy === undefined) {
      throw new ProblemError(
        "precedence-taken",
        `Making room would renumber private app ${app ?? change.id}; move the app (PUT with another precedence) or pick a precedence.`,
      );
    }
    return {
      current: policy,
      spec: { ...policy.spec, precedence: change.to },
      naturalKey: `${change.to}`,
    };
  });
}

/**
 * Maps a precedence planning error to a problem.
 * @throws ProblemError validation-failed (unknown reference, at `pointer`) or precedence-taken.
 */
export function precedenceProblem(error: PrecedenceError, pointer: string): never {
  switch (error.code) {
    case "unknown-policy":
      throw validationProblem("The position names a policy that does not exist.", [
        {
          pointer,
          detail: `no network policy ${error.id} in this account`,
          code: "unknown-reference",
        },
      ]);
    case "duplicate-precedence":
      throw new ProblemError(
        "precedence-taken",
        `${error.ids.join(" and ")} share precedence ${error.precedence}; fix one first.`,
      );
    case "invalid-precedence":
      throw new ProblemError(
        "precedence-taken",
        `${error.id} has precedence ${error.precedence}, outside 1..2147483647.`,
      );
    case "no-room":
      throw new ProblemError("precedence-taken", "Every precedence is taken.");
  }
}
