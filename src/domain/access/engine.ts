/**
 * The exact access engine. The connection space (destination × port × protocol) is cut into
 * atoms by the bounds the policies themselves draw, dimension by dimension: per protocol, the
 * ports are cut by the port tests of the policies that may match under it; per port atom, the
 * destinations by the address tests of those that may still match. Inside an atom every traffic
 * test is constant, so first-match (Gateway precedence) evaluated once per atom and identity
 * class is exact for every connection of the atom. Work is atoms × identity classes plus atoms ×
 * the policies that may match at them (each is evaluated there once for every class word),
 * checked against a budget while cutting and before any class is evaluated.
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/order-of-enforcement/
 */
import { type AddressRange, intersection, intersectRange, union } from "../cidr/ranges";
import type { NetworkProtocol } from "../model";
import { err, ok, type Result } from "../result";
import type { CompiledPolicy, Condition } from "./compile";
import { cutAddresses, cutPorts } from "./cuts";
import { type Interval, intersectIntervals, intervalsContain, unionIntervals } from "./intervals";
import { ADDRESS_SPACE, PORT_SPACE, PROTOCOLS } from "./space";
import { type Fixed, mayHold, possibleDestinations, possiblePorts } from "./support";

/** The part of the connection space a question is about. */
export interface Region {
  protocols: readonly NetworkProtocol[];
  /** TCP/UDP ports (normalised, inside 1..65535). */
  ports: readonly Interval[];
  /** Destinations (a normalised address set). */
  destinations: readonly AddressRange[];
}

/** Every connection: all protocols, ports and addresses of both families. */
export const WHOLE_SPACE: Region = {
  protocols: PROTOCOLS,
  ports: [PORT_SPACE],
  destinations: ADDRESS_SPACE,
};

/** One protocol and port atom, cut into destination atoms. */
export interface Cell {
  protocol: NetworkProtocol;
  /** The port atom (every port in it is alike), or null for ICMP (no port). */
  port: Interval | null;
  /** Destination atoms, ascending. */
  atoms: AddressRange[];
  /** Indices (into the question's policies) of those that may match in this cell. */
  alive: number[];
}

/** A question to the engine. */
export interface EngineQuestion {
  /** Every policy of every list, compiled with one identity leaf table. */
  policies: readonly CompiledPolicy[];
  /** Where to look. */
  region: Region;
  /** When set, only where one of these policies may match (the rest is known to be alike). */
  focus?: ReadonlySet<number>;
  /** When set, one person's identity leaf truths, used to skip policies early. */
  identity?: (leaf: number) => boolean | undefined;
  /** Work units allowed (see `classesWithin`). */
  budget: number;
}

/** The space cut into cells, before classes are known. */
export interface Partition {
  cells: Cell[];
  atoms: number;
  /**
   * Σ atoms × policies that may match there (the policy evaluations per class word), plus the
   * cuts: per protocol, port atoms × the address ranges of the policies that may match.
   */
  evaluations: number;
  /** Identity leaves of the policies that may match somewhere in the cells. */
  leafIds: number[];
}

/** The question needs more than its budget: `work` is what was counted when it stopped. */
export interface WorkBudgetExceeded {
  code: "work-budget-exceeded";
  budget: number;
  work: number;
}

/** Adds the identity leaves of `c` to `into`. */
export function identityLeavesOf(c: Condition, into: Set<number>): void {
  switch (c.kind) {
    case "and":
    case "or":
    case "xor":
      for (const o of c.operands) {
        identityLeavesOf(o, into);
      }
      return;
    case "not":
      identityLeavesOf(c.operand, into);
      return;
    case "identity":
      into.add(c.leaf);
      return;
    default:
      return;
  }
}

/** `possiblePorts`, from the policy's reach when no identity is known. */
function portsOf(p: CompiledPolicy, fixed: Fixed): Interval[] {
  return fixed.identity === undefined && fixed.protocol !== "icmp"
    ? p.reach.ports[fixed.protocol]
    : possiblePorts(p.condition, fixed);
}

/** `mayHold` with protocol and port fixed, from the policy's reach when no identity is known. */
function mayHoldAt(p: CompiledPolicy, fixed: Fixed & { port: Interval | null }): boolean {
  const { identity, protocol, port } = fixed;
  if (identity === undefined && protocol === "icmp" && port === null) {
    return p.reach.icmpPortless;
  }
  if (identity === undefined && protocol !== "icmp" && port !== null) {
    return intervalsContain(p.reach.ports[protocol], port.from);
  }
  return mayHold(p.condition, fixed);
}

/**
 * Cuts the question's region into cells and atoms. Errors: `work-budget-exceeded` as soon as
 * atoms + evaluations pass the budget (there is at least one class, so that is a lower bound).
 */
export function partition(q: EngineQuestion): Result<Partition, WorkBudgetExceeded> {
  const cells: Cell[] = [];
  let atomCount = 0;
  let evaluations = 0;
  const all = q.policies
    .map((_, i) => i)
    .filter((i) => {
      const bound = (q.policies[i] as CompiledPolicy).dstBound;
      return (
        bound === null ||
        q.region.destinations.some((range) => intersectRange(bound, range).length > 0)
      );
    });
  for (const protocol of q.region.protocols) {
    const base: Fixed = { protocol, identity: q.identity };
    const alive0 = all.filter((i) => {
      const p = q.policies[i] as CompiledPolicy;
      return q.identity === undefined ? p.reach.byProtocol[protocol] : mayHold(p.condition, base);
    });
    const focus0 = q.focus === undefined ? alive0 : alive0.filter((i) => q.focus?.has(i));
    if (q.focus !== undefined && focus0.length === 0) {
      continue;
    }
    let portAtoms: (Interval | null)[] = [null];
    if (protocol !== "icmp") {
      let portRegion: Interval[] = [...q.region.ports];
      if (q.focus !== undefined) {
        const reach = focus0.reduce<Interval[]>(
          (acc, i) => unionIntervals(acc, portsOf(q.policies[i] as CompiledPolicy, base)),
          [],
        );
        portRegion = intersectIntervals(portRegion, reach);
      }
      portAtoms = cutPorts(
        portRegion,
        alive0.flatMap((i) => (q.policies[i] as CompiledPolicy).portSets),
      );
    }
    // Cutting destinations scans the ranges of every policy alive in each port atom: counted
    // up front, so a question too wide to cut is refused before it is cut.
    const ranges = alive0.reduce(
      (sum, i) =>
        sum + (q.policies[i] as CompiledPolicy).dstSets.reduce((n, set) => n + set.length, 0),
      0,
    );
    evaluations += portAtoms.length * ranges;
    if (atomCount + evaluations > q.budget) {
      return err({ code: "work-budget-exceeded", budget: q.budget, work: atomCount + evaluations });
    }
    for (const port of portAtoms) {
      const fixed = { ...base, port };
      const alive = alive0.filter((i) => mayHoldAt(q.policies[i] as CompiledPolicy, fixed));
      const focus = q.focus === undefined ? alive : alive.filter((i) => q.focus?.has(i));
      if (q.focus !== undefined && focus.length === 0) {
        continue;
      }
      let dstRegion: AddressRange[] = [...q.region.destinations];
      let present = alive;
      if (q.focus !== undefined) {
        const reach = focus.reduce<AddressRange[]>(
          (acc, i) =>
            union(acc, possibleDestinations((q.policies[i] as CompiledPolicy).condition, fixed)),
          [],
        );
        dstRegion = intersection(dstRegion, reach);
        // Policies bounded away from where the changed ones may match take no part here, nor
        // do their identity selectors.
        present = alive.filter((i) => {
          const bound = (q.policies[i] as CompiledPolicy).dstBound;
          return bound === null || intersection(bound, dstRegion).length > 0;
        });
      }
      if (dstRegion.length === 0) {
        continue;
      }
      const atoms = cutAddresses(
        dstRegion,
        present.flatMap((i) => (q.policies[i] as CompiledPolicy).dstSets),
      );
      atomCount += atoms.length;
      evaluations += atoms.length * present.length;
      if (atomCount + evaluations > q.budget) {
        return err({
          code: "work-budget-exceeded",
          budget: q.budget,
          work: atomCount + evaluations,
        });
      }
      cells.push({ protocol, port, atoms, alive: present });
    }
  }
  const leaves = new Set<number>();
  for (const cell of cells) {
    for (const i of cell.alive) {
      identityLeavesOf((q.policies[i] as CompiledPolicy).condition, leaves);
    }
  }
  return ok({
    cells,
    atoms: atomCount,
    evaluations,
    leafIds: [...leaves].sort((a, b) => a - b),
  });
}
