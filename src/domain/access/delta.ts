/**
 * The exact access delta between two policy lists: for every identity class, the connections
 * (protocol, ports, destinations) whose decision differs, found by evaluating both lists on the
 * atoms where a changed policy may match (elsewhere both lists are the same policies in the same
 * order, so nothing can differ). No sampling: every connection of the space is accounted for.
 */
import type { EvaluablePolicy } from "../policies/evaluate";
import { err, ok, type Result } from "../result";
import type { CompiledPolicy } from "./compile";
import { partition, WHOLE_SPACE, type WorkBudgetExceeded } from "./engine";
import { firstMatches } from "./first-match";
import { BlockBuilder, type TrafficBlock } from "./merge";
import { prepareLists } from "./prepare";
import { classesWithin } from "./work";

/** The policy deciding a connection, as answers name it. */
export interface PolicyRef {
  id: string;
  name: string;
  action: "allow" | "block";
  precedence: number;
}

/** One identity class gaining or losing some connections. */
export interface AccessChange {
  /** Labels of the people concerned (see `IdentityClass.labels`). */
  identities: string[];
  change: "gains" | "loses";
  /** The connections concerned. */
  traffic: TrafficBlock[];
  /** The policy deciding after the change; null when none matches (Gateway allows). */
  decidedBy: PolicyRef | null;
  /** The policy deciding before the change; null when none matched. */
  previouslyDecidedBy: PolicyRef | null;
}

/** The delta and what computing it took. */
export interface AccessDelta {
  changes: AccessChange[];
  /** Atoms evaluated (destination × port × protocol pieces). */
  atoms: number;
  /** The identity classes evaluated, each as its labels (see `IdentityClass.labels`). */
  classes: string[][];
  /** Work units spent (see `classesWithin`): atoms × classes + enumeration steps + evaluations. */
  work: number;
}

function refOf(policies: readonly CompiledPolicy[], index: number): PolicyRef | null {
  const p = policies[index];
  return p === undefined
    ? null
    : { id: p.id, name: p.name, action: p.action, precedence: p.precedence };
}

function decisionOf(policies: readonly CompiledPolicy[], index: number): "allow" | "block" {
  return policies[index]?.action ?? "allow";
}

/**
 * Who gains and who loses which connections when the policies `before` become `after` (both in
 * any order; a policy is the same on both sides when its id, action, enabled flag, precedence
 * and expressions are). Changes are ordered by identity label, then gains before losses.
 * Errors: `work-budget-exceeded` when the work (see `classesWithin`) would pass `budget` units; nothing
 * is evaluated then.
 */
export function accessDelta(
  before: readonly EvaluablePolicy[],
  after: readonly EvaluablePolicy[],
  budget: number,
): Result<AccessDelta, WorkBudgetExceeded> {
  const { policies, leaves, orders } = prepareLists([before, after]);
  const [was = [], will = []] = orders;
  const inWas = new Set(was);
  const inWill = new Set(will);
  const focus = new Set(policies.map((_, i) => i).filter((i) => inWas.has(i) !== inWill.has(i)));
  if (focus.size === 0) {
    return ok({ changes: [], atoms: 0, classes: [], work: 0 });
  }
  const cut = partition({ policies, region: WHOLE_SPACE, focus, budget });
  if (!cut.ok) {
    return cut;
  }
  const classed = classesWithin(cut.value, leaves, budget);
  if (!classed.ok) {
    return err(classed.error);
  }
  const { table, work } = classed.value;
  const size = table.classes.length;
  const beforeDeciders = firstMatches(policies, was, cut.value.cells, table);
  const afterDeciders = firstMatches(policies, will, cut.value.cells, table);
  const groups = new Map<string, { cls: number; from: number; to: number; blocks: BlockBuilder }>();
  cut.value.cells.forEach((cell, c) => {
    const from = beforeDeciders[c] as Int32Array;
    const to = afterDeciders[c] as Int32Array;
    cell.atoms.forEach((atom, a) => {
      for (let k = 0; k < size; k++) {
        const x = from[a * size + k] as number;
        const y = to[a * size + k] as number;
        if (decisionOf(policies, x) === decisionOf(policies, y)) {
          continue;
        }
        const key = `${k} ${x} ${y}`;
        let group = groups.get(key);
        if (group === undefined) {
          group = { cls: k, from: x, to: y, blocks: new BlockBuilder() };
          groups.set(key, group);
        }
        group.blocks.add(cell.protocol, cell.port, atom);
      }
    });
  });
  const changes = [...groups.values()]
    .sort((g, h) => g.cls - h.cls || g.to - h.to || g.from - h.from)
    .map((g) => ({
      identities: table.classes[g.cls]?.labels ?? [],
      change: decisionOf(policies, g.to) === "allow" ? ("gains" as const) : ("loses" as const),
      traffic: g.blocks.build(),
      decidedBy: refOf(policies, g.to),
      previouslyDecidedBy: refOf(policies, g.from),
    }));
  return ok({
    changes,
    atoms: cut.value.atoms,
    classes: table.classes.map((c) => c.labels),
    work,
  });
}
