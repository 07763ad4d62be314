/**
 * Gateway refuses a rule whose precedence another rule holds, so the network-policy writes of a
 * plan are put in an order in which every write lands on a free precedence: a write waits for the
 * policy holding its value to move first, a policy being deleted that holds a needed value is
 * deleted first, and a cycle (two policies swapping values) is broken by parking one of them on a
 * free value first, which costs one extra write.
 */
import type { ObservedNetworkPolicy } from "../model";
import type { Action, CreateAction, DeleteAction, UpdateAction } from "./actions";

type PolicyWrite = CreateAction<"network_policy"> | UpdateAction<"network_policy">;

function isPolicyWrite(action: Action): action is PolicyWrite {
  return action.kind === "network_policy" && action.op !== "delete";
}

function isPolicyDelete(action: Action): action is DeleteAction<"network_policy"> {
  return action.kind === "network_policy" && action.op === "delete";
}

/**
 * Reorders the network-policy writes of `actions` (already in plan order) so none collides with a
 * precedence held at that moment by a rule in `observed`. Other actions keep their places; the
 * policy writes stay where the first of them was, with any delete they wait for pulled in front
 * of them. A create aimed at a precedence an unmanaged rule holds cannot be helped and is left in
 * place (Cloudflare refuses it; the plan's other writes still go through).
 */
export function orderPolicyWrites(
  actions: readonly Action[],
  observed: readonly ObservedNetworkPolicy[],
): Action[] {
  const writes = actions.filter(isPolicyWrite);
  if (writes.length === 0) {
    return [...actions];
  }
  const holder = new Map(observed.map((p) => [p.precedence, p.cloudflareId]));
  const precedenceOf = new Map(observed.map((p) => [p.cloudflareId, p.precedence]));
  const deletes = new Map(actions.filter(isPolicyDelete).map((d) => [d.cloudflareId, d] as const));
  const pulled = new Set<Action>();
  const ordered: Action[] = [];
  const pending = [...writes];
  let parking = Math.max(
    0,
    ...observed.map((p) => p.precedence),
    ...writes.map((w) => w.desired.precedence),
  );

  const move = (cloudflareId: string | null, to: number) => {
    if (cloudflareId === null) {
      holder.set(to, "new");
      return;
    }
    const from = precedenceOf.get(cloudflareId);
    if (from !== undefined && holder.get(from) === cloudflareId) {
      holder.delete(from);
    }
    holder.set(to, cloudflareId);
    precedenceOf.set(cloudflareId, to);
  };
  const idOf = (w: PolicyWrite) => (w.op === "update" ? w.cloudflareId : null);

  while (pending.length > 0) {
    const ready = pending.findIndex((w) => {
      const owner = holder.get(w.desired.precedence);
      return owner === undefined || owner === idOf(w) || deletes.has(owner);
    });
    if (ready >= 0) {
      const [write] = pending.splice(ready, 1);
      if (write === undefined) {
        continue;
      }
      const owner = holder.get(write.desired.precedence);
      const blocking = owner === undefined ? undefined : deletes.get(owner);
      if (blocking !== undefined && owner !== idOf(write)) {
        ordered.push(blocking);
        pulled.add(blocking);
        deletes.delete(blocking.cloudflareId);
        holder.delete(write.desired.precedence);
      }
      ordered.push(write);
      move(idOf(write), write.desired.precedence);
      continue;
    }
    const stuck = pending.find((w) => {
      const owner = holder.get(w.desired.precedence);
      return pending.some((other) => other !== w && idOf(other) === owner);
    });
    if (stuck === undefined) {
      // Only writes blocked by rules nobody moves are left: send them as planned.
      for (const write of pending.splice(0)) {
        ordered.push(write);
        move(idOf(write), write.desired.precedence);
      }
      break;
    }
    const blocker = pending.find((other) => idOf(other) === holder.get(stuck.desired.precedence));
    if (blocker === undefined || blocker.op !== "update") {
      break;
    }
    parking += 1;
    ordered.push({
      ...blocker,
      reason: `parked at precedence ${parking} so that another policy can take ${precedenceOf.get(blocker.cloudflareId)}`,
      diff: [
        { field: "precedence", observed: precedenceOf.get(blocker.cloudflareId), desired: parking },
      ],
      desired: { ...blocker.desired, precedence: parking },
      isDrift: false,
    });
    move(blocker.cloudflareId, parking);
  }
  const firstWrite = actions.findIndex(isPolicyWrite);
  const rest = actions.filter((a) => !isPolicyWrite(a) && !pulled.has(a));
  const before = actions.slice(0, firstWrite).filter((a) => !pulled.has(a));
  return [...before, ...ordered, ...rest.slice(before.length)];
}
