/**
 * The order a plan's actions are sent in: every action after the actions it depends on, and
 * among the actions free to go, access-narrowing changes first, then writes, then the remaining
 * deletes. So a revocation or a new block never waits behind a bootstrap's route creates, and a
 * policy whose routes already exist never waits behind thousands of unrelated routes.
 */
import { parseKnownNetwork } from "../cidr";
import type { Kind, ObservedNetworkPolicy } from "../model";
import type { Expr } from "../policies/expression";
import { parseExpression } from "../policies/parse";
import { RouteIndex } from "../split-tunnels/route-index";
import type { Action, CreateAction, UpdateAction } from "./actions";

/**
 * Rank of the kinds' creates and updates among actions of the same class: what others reference
 * first (virtual networks, tunnels), then network policies (Gateway rules name addresses, never
 * a route, so only the routes covering an allow policy's destinations hold it back: see
 * dependenciesOf), then routes, the lists computed from them, and the rest.
 */
const WRITE_RANK: Readonly<Record<Kind, number>> = {
  virtual_network: 0,
  tunnel: 1,
  network_policy: 2,
  tunnel_route: 3,
  hostname_route: 4,
  split_tunnel: 5,
  device_profile: 6,
  proxy_settings: 7,
  private_app: 8,
  enrollment_rule: 9,
  assertion: 10,
};

/** Rank of deletes: the reverse of the dependency order (a route goes before its tunnel). */
const DELETE_RANK: Readonly<Record<Kind, number>> = {
  enrollment_rule: 0,
  network_policy: 1,
  proxy_settings: 2,
  device_profile: 3,
  split_tunnel: 4,
  hostname_route: 5,
  tunnel_route: 6,
  tunnel: 7,
  virtual_network: 8,
  private_app: 9,
  assertion: 10,
};

/**
 * Whether an action only takes access away: the delete of an allow policy (a revocation, an
 * expired grant, a removed allow) or the create or update of a block policy.
 */
export function isNarrowing(action: Action, observedAction: ReadonlyMap<string, string>): boolean {
  if (action.kind !== "network_policy") {
    return false;
  }
  if (action.op === "delete") {
    return observedAction.get(action.cloudflareId) === "allow";
  }
  return (action as PolicyWrite).desired.action === "block";
}

type PolicyWrite = CreateAction<"network_policy"> | UpdateAction<"network_policy">;
type RouteWrite = CreateAction<"tunnel_route"> | UpdateAction<"tunnel_route">;

const isWrite = (a: Action) => a.op !== "delete";

/** The addresses a Gateway traffic expression names under `net.dst.ip` (CIDRs; ranges skipped). */
function destinationsOf(traffic: string): string[] {
  const parsed = parseExpression(traffic);
  if (!parsed.ok || parsed.value === null) {
    return [];
  }
  const out: string[] = [];
  const walk = (expr: Expr) => {
    if (expr.kind === "not") {
      walk(expr.operand);
    } else if (expr.kind === "and" || expr.kind === "or" || expr.kind === "xor") {
      expr.operands.forEach(walk);
    } else if (expr.kind === "compare" && expr.field === "net.dst.ip") {
      const p = expr.predicate;
      const items = p.op === "in" ? p.items : p.op === "eq" || p.op === "ne" ? [p.value] : [];
      for (const item of items) {
        if (item.type === "ip") {
          out.push(item.cidr);
        }
      }
    }
  };
  walk(parsed.value);
  return out;
}

/**
 * What each action waits for, within `actions` (in plan order, policy writes already ordered by
 * orderPolicyWrites):
 * - a route's create or update waits for the writes of its tunnel and virtual network; a hostname
 *   route for its tunnel's;
 * - an allow policy's create or update waits for the route writes whose networks share an address
 *   with its destinations (it is about those routes);
 * - a policy write waits for the earlier policy action that moves or deletes the rule holding the
 *   precedence it takes (Gateway refuses a taken precedence), and for earlier actions on the same
 *   rule (a parked rule's final write);
 * - a tunnel's or virtual network's delete waits for every action on routes (a route moved off
 *   it, or deleted, first), a virtual network's also for device profile actions.
 */
function dependenciesOf(
  actions: readonly Action[],
  observed: readonly ObservedNetworkPolicy[],
): Map<Action, Action[]> {
  const deps = new Map<Action, Action[]>(actions.map((a) => [a, []]));
  const add = (action: Action, on: Action | undefined) => {
    if (on !== undefined && on !== action) {
      deps.get(action)?.push(on);
    }
  };
  const writesByKey = new Map<string, Action>();
  for (const a of actions.filter(isWrite)) {
    writesByKey.set(`${a.kind}/${a.key}`, a);
  }
  const routeWrites = actions.filter(
    (a): a is RouteWrite => a.kind === "tunnel_route" && isWrite(a),
  );
  const routesByNetwork = new Map<string, RouteWrite[]>();
  for (const r of routeWrites) {
    routesByNetwork.set(r.desired.network, [...(routesByNetwork.get(r.desired.network) ?? []), r]);
  }
  const pendingRoutes = new RouteIndex([...routesByNetwork.keys()]);

  const precedenceOf = new Map(observed.map((p) => [p.cloudflareId, p.precedence]));
  const lastVacating = new Map<number, Action>();
  const lastOnRule = new Map<string, Action>();
  for (const a of actions) {
    if (a.kind === "tunnel_route" && isWrite(a)) {
      const route = a as RouteWrite;
      add(a, writesByKey.get(`tunnel/${route.desired.tunnelKey}`));
      if (route.desired.virtualNetworkKey !== null) {
        add(a, writesByKey.get(`virtual_network/${route.desired.virtualNetworkKey}`));
      }
    } else if (a.kind === "hostname_route" && isWrite(a)) {
      add(a, writesByKey.get(`tunnel/${(a as CreateAction<"hostname_route">).desired.tunnelKey}`));
    } else if (a.kind === "network_policy") {
      const ruleId = a.op === "create" ? undefined : a.cloudflareId;
      if (ruleId !== undefined) {
        add(a, lastOnRule.get(ruleId));
        lastOnRule.set(ruleId, a);
      }
      if (isWrite(a)) {
        const write = a as PolicyWrite;
        add(a, lastVacating.get(write.desired.precedence));
        if (write.desired.action === "allow") {
          for (const cidr of destinationsOf(write.desired.traffic)) {
            for (const route of pendingRoutes.overlapping(parseKnownNetwork(cidr))) {
              for (const r of routesByNetwork.get(route.network) ?? []) {
                add(a, r);
              }
            }
          }
        }
      }
      const from = ruleId === undefined ? undefined : precedenceOf.get(ruleId);
      if (from !== undefined && ruleId !== undefined) {
        lastVacating.set(from, a);
        if (isWrite(a)) {
          precedenceOf.set(ruleId, (a as PolicyWrite).desired.precedence);
        }
      }
    } else if (a.op === "delete" && (a.kind === "tunnel" || a.kind === "virtual_network")) {
      const referencing = new Set<Kind>(["tunnel_route", "hostname_route"]);
      if (a.kind === "virtual_network") {
        referencing.add("device_profile");
      }
      for (const other of actions) {
        if (referencing.has(other.kind)) {
          add(a, other);
        }
      }
    }
  }
  return deps;
}

/** A binary min-heap of action positions by priority key. */
class ReadyQueue {
  private readonly heap: number[] = [];
  constructor(private readonly keyOf: (position: number) => number) {}

  get size(): number {
    return this.heap.length;
  }

  push(position: number): void {
    const heap = this.heap;
    heap.push(position);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(heap[parent] as number, heap[i] as number)) {
        break;
      }
      [heap[parent], heap[i]] = [heap[i] as number, heap[parent] as number];
      i = parent;
    }
  }

  pop(): number {
    const heap = this.heap;
    const top = heap[0] as number;
    const last = heap.pop() as number;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let least = i;
        if (l < heap.length && this.less(heap[l] as number, heap[least] as number)) {
          least = l;
        }
        if (r < heap.length && this.less(heap[r] as number, heap[least] as number)) {
          least = r;
        }
        if (least === i) {
          break;
        }
        [heap[least], heap[i]] = [heap[i] as number, heap[least] as number];
        i = least;
      }
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const ka = this.keyOf(a);
    const kb = this.keyOf(b);
    return ka === kb ? a < b : ka < kb;
  }
}

/**
 * Orders `actions` (plan order, policy writes ordered by orderPolicyWrites) for sending: each
 * action after what it depends on (see dependenciesOf); among the actions free to go, first the
 * access-narrowing ones (isNarrowing: allow deletes, then block writes), then creates and updates by WRITE_RANK, then the other
 * deletes by DELETE_RANK, plan order breaking ties. Pure; a cycle (none is planned) is broken by
 * sending the rest in plan order.
 * @param observed the rules observed, to tell an allow rule's delete and which rule holds a
 *   precedence.
 */
export function orderForApply(
  actions: readonly Action[],
  observed: readonly ObservedNetworkPolicy[],
): Action[] {
  const observedAction = new Map(observed.map((p) => [p.cloudflareId, p.action]));
  const deps = dependenciesOf(actions, observed);
  const positionOf = new Map(actions.map((a, i) => [a, i]));
  const keys = actions.map((a) => {
    if (isNarrowing(a, observedAction)) {
      // Taking away what is granted goes before guarding more with new blocks.
      return a.op === "delete" ? 0 : 1;
    }
    return a.op === "delete" ? 200 + DELETE_RANK[a.kind] : 100 + WRITE_RANK[a.kind];
  });
  const waiting = actions.map((a) => deps.get(a)?.length ?? 0);
  const dependants: number[][] = actions.map(() => []);
  actions.forEach((a, i) => {
    for (const on of deps.get(a) ?? []) {
      dependants[positionOf.get(on) as number]?.push(i);
    }
  });
  const ready = new ReadyQueue((i) => keys[i] as number);
  waiting.forEach((count, i) => {
    if (count === 0) {
      ready.push(i);
    }
  });
  const sent = new Set<number>();
  const ordered: Action[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    sent.add(i);
    ordered.push(actions[i] as Action);
    for (const d of dependants[i] ?? []) {
      waiting[d] = (waiting[d] as number) - 1;
      if (waiting[d] === 0) {
        ready.push(d);
      }
    }
  }
  return [...ordered, ...actions.filter((_, i) => !sent.has(i))];
}
