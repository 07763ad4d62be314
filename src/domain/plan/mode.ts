/**
 * Which planned actions a run sends in the account's mode. `enforce` sends them all. `observe`
 * sends none, with one exception: the allow policy of a grant that was revoked or expired is
 * deleted anyway, because it is tunnelplane's own object and removing it only narrows access.
 */
import type { AccountMode } from "../model";
import type { Action } from "./actions";

/** Why an observe-mode run still wrote; appended to the action's reason in the run record. */
export const OBSERVE_MODE_WRITE_REASON =
  "written in observe mode: removing an ended grant's own allow policy only narrows access";

/**
 * The actions to send, in plan order.
 * @param endedGrantIds ids of grants that ended (revoked, expired) whose policy may still exist:
 *   a delete of a network policy owned by one of them is sent even in observe mode.
 */
export function actionsToSend(
  mode: AccountMode,
  actions: Action[],
  endedGrantIds: ReadonlySet<string>,
): Action[] {
  if (mode === "enforce") {
    return actions;
  }
  return actions.filter(
    (a) => a.op === "delete" && a.kind === "network_policy" && endedGrantIds.has(a.key),
  );
}
