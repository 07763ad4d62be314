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
import { type Bits, bitsetOf, fullBits } from "./bits";
import type { ClassTable } from "./classes";
import {
  ADDRESS_SPACE,
  type CompiledPolicy,
  type Condition,
  PORT_SPACE,
  PROTOCOLS,
} from "./compile";
import { type Interval, intersectIntervals, intervalsContain, unionIntervals } from "./intervals";
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
  /** Work units allowed (see `checkWork`). */
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

function identityLeavesOf(c: Condition, into: Set<number>): void {
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

function cutPorts(region: readonly Interval[], sets: readonly (readonly Interval[])[]): Interval[] {
  const atoms: Interval[] = [];
  for (const range of region) {
    const cuts = new Set<number>([range.from]);
    for (const set of sets) {
      for (const piece of intersectIntervals(set, [range])) {
        cuts.add(piece.from);
        if (piece.to < range.to) {
          cuts.add(piece.to + 1);
        }
      }
    }
    const sorted = [...cuts].sort((a, b) => a - b);
    sorted.forEach((from, i) => {
      atoms.push({ from, to: (sorted[i + 1] ?? range.to + 1) - 1 });
    });
  }
  return atoms;
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cutAddresses(
  region: readonly AddressRange[],
  sets: readonly (readonly AddressRange[])[],
): AddressRange[] {
  const atoms: AddressRange[] = [];
  for (const range of region) {
    const cuts = new Set<bigint>([range.first]);
    for (const set of sets) {
      for (const piece of intersection(set, [range])) {
        cuts.add(piece.first);
        if (piece.last < range.last) {
          cuts.add(piece.last + 1n);
        }
      }
    }
    const sorted = [...cuts].sort(compareBigints);
    sorted.forEach((first, i) => {
      const next = sorted[i + 1];
      atoms.push({
        family: range.family,
        first,
        last: next === undefined ? range.last : next - 1n,
      });
    });
  }
  return atoms;
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
      if (q.focus !== undefined) {
        const reach = focus.reduce<AddressRange[]>(
          (acc, i) =>
            union(acc, possibleDestinations((q.policies[i] as CompiledPolicy).condition, fixed)),
          [],
        );
        dstRegion = intersection(dstRegion, reach);
      }
      if (dstRegion.length === 0) {
        continue;
      }
      const atoms = cutAddresses(
        dstRegion,
        alive.flatMap((i) => (q.policies[i] as CompiledPolicy).dstSets),
      );
      atomCount += atoms.length;
      evaluations += atoms.length * alive.length;
      if (atomCount + evaluations > q.budget) {
        return err({
          code: "work-budget-exceeded",
          budget: q.budget,
          work: atomCount + evaluations,
        });
      }
      cells.push({ protocol, port, atoms, alive });
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

/**
 * The work of a question, atoms × classes + evaluations, or `work-budget-exceeded` past
 * `budget`.
 */
export function checkWork(
  p: Partition,
  table: ClassTable,
  budget: number,
): Result<number, WorkBudgetExceeded> {
  const work = p.atoms * table.classes.length + p.evaluations;
  return work > budget ? err({ code: "work-budget-exceeded", budget, work }) : ok(work);
}

/** A condition's value at one atom over every class: all, none, or some. */
type Value = boolean | Bits;

function addressIn(set: readonly AddressRange[], atom: AddressRange): boolean {
  let low = 0;
  let high = set.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const r = set[middle] as AddressRange;
    if (r.family < atom.family || (r.family === atom.family && r.last < atom.first)) {
      low = middle + 1;
    } else if (r.family > atom.family || r.first > atom.first) {
      high = middle - 1;
    } else {
      return true;
    }
  }
  return false;
}

function combine(kind: "and" | "or" | "xor", a: Value, b: Value, size: number): Value {
  const left = typeof a === "boolean" ? (a ? fullBits(size) : bitsetOf(size)) : a;
  const right = typeof b === "boolean" ? (b ? fullBits(size) : bitsetOf(size)) : b;
  const out = bitsetOf(size);
  for (let i = 0; i < out.length; i++) {
    const x = left[i] as number;
    const y = right[i] as number;
    out[i] = (kind === "and" ? x & y : kind === "or" ? x | y : x ^ y) >>> 0;
  }
  return out;
}

/** The value of a condition at one atom of a cell, for every class of `table`. */
export function valueAt(c: Condition, cell: Cell, atom: AddressRange, table: ClassTable): Value {
  const size = table.classes.length;
  switch (c.kind) {
    case "const":
      return c.value;
    case "protocol":
      return c.set.has(cell.protocol);
    case "port":
      return cell.port !== null && intervalsContain(c.set, cell.port.from);
    case "dst":
      return addressIn(c.set, atom);
    case "identity":
      return table.leafBits[c.leaf] ?? false;
    case "not": {
      const inner = valueAt(c.operand, cell, atom, table);
      return typeof inner === "boolean" ? !inner : combine("xor", inner, true, size);
    }
    case "and":
    case "or": {
      const absorbing = c.kind === "or";
      let acc: Value = !absorbing;
      for (const operand of c.operands) {
        const v = valueAt(operand, cell, atom, table);
        if (v === absorbing) {
          return absorbing;
        }
        if (typeof v !== "boolean") {
          acc = typeof acc === "boolean" ? v : combine(c.kind, acc, v, size);
        }
      }
      return acc;
    }
    case "xor":
      return c.operands.reduce<Value>((acc, operand) => {
        const v = valueAt(operand, cell, atom, table);
        return typeof acc === "boolean" && typeof v === "boolean"
          ? acc !== v
          : combine("xor", acc, v, size);
      }, false);
  }
}

/**
 * First match at every atom of every cell for one list of policies (indices in Gateway order):
 * per cell, `atoms.length × classes` deciding policy indices, -1 where none matches (allowed).
 */
export function firstMatches(
  policies: readonly CompiledPolicy[],
  order: readonly number[],
  cells: readonly Cell[],
  table: ClassTable,
): Int32Array[] {
  const size = table.classes.length;
  return cells.map((cell) => {
    const alive = new Set(cell.alive);
    const list = order.filter((i) => alive.has(i));
    const deciders = new Int32Array(cell.atoms.length * size).fill(-1);
    cell.atoms.forEach((atom, a) => {
      const undecided = fullBits(size);
      let left = size;
      for (const i of list) {
        const v = valueAt((policies[i] as CompiledPolicy).condition, cell, atom, table);
        if (v === false) {
          continue;
        }
        for (let w = 0; w < undecided.length; w++) {
          const hits =
            ((undecided[w] as number) & (v === true ? 0xffff_ffff : (v[w] as number))) >>> 0;
          if (hits === 0) {
            continue;
          }
          undecided[w] = ((undecided[w] as number) & ~hits) >>> 0;
          for (let bit = 0; bit < 32; bit++) {
            if ((hits >>> bit) & 1) {
              deciders[a * size + w * 32 + bit] = i;
              left--;
            }
          }
        }
        if (left === 0) {
          break;
        }
      }
    });
    return deciders;
  });
}
