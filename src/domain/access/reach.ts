/**
 * The reverse questions no Gateway screen answers: who can reach a destination (every identity
 * class allowed there, and by which policy), and what one person can reach (every destination
 * range, with ports and protocols). Both run the exact engine on the region asked about.
 */
import type { AddressRange } from "../cidr/ranges";
import type { NetworkProtocol } from "../model";
import type { EvaluablePolicy } from "../policies/evaluate";
import { ok, type Result } from "../result";
import { type ClassTable, personClass } from "./classes";
import type { PolicyRef } from "./delta";
import { type Cell, partition, type Region, WHOLE_SPACE, type WorkBudgetExceeded } from "./engine";
import { firstMatches } from "./first-match";
import { BlockBuilder, type TrafficBlock } from "./merge";
import { prepareLists } from "./prepare";
import { identityHolds } from "./selectors";
import { PORT_SPACE, PROTOCOLS } from "./space";
import { classesWithin } from "./work";

/** Connections allowed, and the policy allowing them (null: none matches, Gateway allows). */
export interface Allowed {
  /** Labels of the people allowed (see `IdentityClass.labels`). */
  identities: string[];
  traffic: TrafficBlock[];
  allowedBy: PolicyRef | null;
}

/** An answer and what it took. */
export interface ReachAnswer {
  allowed: Allowed[];
  atoms: number;
  /** The identity classes evaluated, each as its labels (see `IdentityClass.labels`). */
  classes: string[][];
  /** Work units spent (see `classesWithin`): atoms × classes + enumeration steps + evaluations. */
  work: number;
}

/** Where `whoCanReach` looks: a destination range, and optionally one port and one protocol. */
export interface ReachTarget {
  destination: AddressRange;
  /** 1..65535; absent: every port. */
  port?: number;
  /** Absent: every protocol. */
  protocol?: NetworkProtocol;
}

function allowedIn(
  policies: ReturnType<typeof prepareLists>["policies"],
  cells: readonly Cell[],
  deciders: readonly Int32Array[],
  table: ClassTable,
): Allowed[] {
  const size = table.classes.length;
  const groups = new Map<string, { cls: number; by: number; blocks: BlockBuilder }>();
  cells.forEach((cell, c) => {
    const decided = deciders[c] as Int32Array;
    cell.atoms.forEach((atom, a) => {
      for (let k = 0; k < size; k++) {
        const by = decided[a * size + k] as number;
        if (by >= 0 && policies[by]?.action === "block") {
          continue;
        }
        const key = `${k} ${by}`;
        let group = groups.get(key);
        if (group === undefined) {
          group = { cls: k, by, blocks: new BlockBuilder() };
          groups.set(key, group);
        }
        group.blocks.add(cell.protocol, cell.port, atom);
      }
    });
  });
  return [...groups.values()]
    .sort((g, h) => g.cls - h.cls || g.by - h.by)
    .map((g) => {
      const p = policies[g.by];
      return {
        identities: table.classes[g.cls]?.labels ?? [],
        traffic: g.blocks.build(),
        allowedBy:
          p === undefined
            ? null
            : { id: p.id, name: p.name, action: p.action, precedence: p.precedence },
      };
    });
}

/**
 * Every identity class allowed to reach `target`, by which policy, with the exact part of the
 * target each is allowed (ordered by class, then by policy precedence). A connection no policy
 * matches is allowed (Gateway's default) and is listed with `allowedBy` null.
 * Errors: `work-budget-exceeded` past `budget` work units (see `classesWithin`).
 */
export function whoCanReach(
  policies: readonly EvaluablePolicy[],
  target: ReachTarget,
  budget: number,
): Result<ReachAnswer, WorkBudgetExceeded> {
  const prepared = prepareLists([policies]);
  const region: Region = {
    protocols: target.protocol === undefined ? PROTOCOLS : [target.protocol],
    ports: target.port === undefined ? [PORT_SPACE] : [{ from: target.port, to: target.port }],
    destinations: [target.destination],
  };
  // A port asked about leaves ICMP out: an ICMP connection has no port.
  const asked =
    target.port === undefined
      ? region
      : { ...region, protocols: region.protocols.filter((p) => p !== "icmp") };
  const cut = partition({ policies: prepared.policies, region: asked, budget });
  if (!cut.ok) {
    return cut;
  }
  const classed = classesWithin(cut.value, prepared.leaves, budget);
  if (!classed.ok) {
    return classed;
  }
  const { table, work } = classed.value;
  const deciders = firstMatches(
    prepared.policies,
    prepared.orders[0] ?? [],
    cut.value.cells,
    table,
  );
  return ok({
    allowed: allowedIn(prepared.policies, cut.value.cells, deciders, table),
    atoms: cut.value.atoms,
    classes: table.classes.map((c) => c.labels),
    work,
  });
}

/** One person as the identity provider and the device describe them. */
export interface Person {
  /** Lower-case email. */
  email: string;
  groups: readonly string[];
  /** Ids of the device posture checks the device passes. */
  postureChecks: readonly string[];
}

/**
 * Every connection `person` may make: destination ranges with ports and protocols, grouped by
 * the policy allowing them (null: no policy matches, Gateway allows), exact for this person.
 * Errors: `work-budget-exceeded` past `budget` work units (see `classesWithin`; there is one class).
 */
export function reachableBy(
  policies: readonly EvaluablePolicy[],
  person: Person,
  budget: number,
): Result<ReachAnswer, WorkBudgetExceeded> {
  const prepared = prepareLists([policies]);
  const witness = {
    email: person.email,
    regex: null,
    contains: null,
    groups: [...person.groups],
    checks: [...person.postureChecks],
  };
  const truths = new Map<number, boolean>();
  const identity = (leaf: number) => {
    let truth = truths.get(leaf);
    if (truth === undefined) {
      const expr = prepared.leaves.exprs[leaf];
      truth = expr !== undefined && identityHolds(expr, witness);
      truths.set(leaf, truth);
    }
    return truth;
  };
  const cut = partition({ policies: prepared.policies, region: WHOLE_SPACE, identity, budget });
  if (!cut.ok) {
    return cut;
  }
  const table = personClass(prepared.leaves.exprs, cut.value.leafIds, `person:${person.email}`, {
    email: person.email,
    groups: person.groups,
    checks: person.postureChecks,
  });
  const deciders = firstMatches(
    prepared.policies,
    prepared.orders[0] ?? [],
    cut.value.cells,
    table,
  );
  return ok({
    allowed: allowedIn(prepared.policies, cut.value.cells, deciders, table),
    atoms: cut.value.atoms,
    classes: table.classes.map((c) => c.labels),
    work: cut.value.atoms + cut.value.evaluations,
  });
}
