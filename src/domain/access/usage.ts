/**
 * What each policy does in practice, computed exactly on the engine: whether it matches any
 * connection of any identity class, whether it ever decides one (is the first match), and which
 * earlier policies decide the connections it matches but does not decide. Static analysis reads
 * shadowed, dead and conflicting rules from it.
 */
import type { AddressRange } from "../cidr/ranges";
import type { EvaluablePolicy } from "../policies/evaluate";
import { err, ok, type Result } from "../result";
import { presentAt } from "./atom-leaves";
import { fullBits } from "./bits";
import { classTable } from "./class-cache";
import type { ClassTable } from "./classes";
import type { CompiledPolicy } from "./compile";
import {
  type Cell,
  identityLeavesOf,
  partition,
  WHOLE_SPACE,
  type WorkBudgetExceeded,
} from "./engine";
import { valueAt } from "./first-match";
import { prepareLists } from "./prepare";

/** One enabled policy's use. */
export interface PolicyUsage {
  id: string;
  /** True when some connection of some class matches it. */
  matches: boolean;
  /** True when it is the first match of some connection. */
  decides: boolean;
  /** Ids of the earlier policies that decide connections it matches, in Gateway order. */
  overriddenBy: string[];
}

/** Usage of every enabled policy, in Gateway order, and what computing it took. */
export interface UsageAnswer {
  usage: PolicyUsage[];
  atoms: number;
  /** The most identity classes told apart at one atom. */
  classes: number;
  /** Work units spent (see `policyUsage`). */
  work: number;
}

/** What one policy does, as found so far. */
interface Use {
  matches: boolean;
  decides: boolean;
  overriddenBy: Set<number>;
}

/** First match at one atom over every class of `table`, recorded in `usage`. */
function visitAtom(
  policies: readonly CompiledPolicy[],
  present: readonly number[],
  cell: Cell,
  atom: AddressRange,
  table: ClassTable,
  usage: readonly Use[],
): void {
  const size = table.classes.length;
  const deciders = new Int32Array(size);
  const all = fullBits(size);
  const undecided = fullBits(size);
  for (const i of present) {
    const v = valueAt((policies[i] as CompiledPolicy).condition, cell, atom, table);
    const use = usage[i];
    if (v === false || use === undefined) {
      continue;
    }
    for (let w = 0; w < undecided.length; w++) {
      const matched = (v === true ? all[w] : v[w]) ?? 0;
      if (matched === 0) {
        continue;
      }
      use.matches = true;
      const open = undecided[w] as number;
      const decided = (matched & open) >>> 0;
      const taken = (matched & ~open) >>> 0;
      if (decided !== 0) {
        use.decides = true;
        undecided[w] = (open & ~decided) >>> 0;
      }
      for (let bit = 0; bit < 32; bit++) {
        if ((decided >>> bit) & 1) {
          deciders[w * 32 + bit] = i;
        } else if ((taken >>> bit) & 1) {
          use.overriddenBy.add(deciders[w * 32 + bit] as number);
        }
      }
    }
  }
}

/**
 * The use of every enabled policy of `policies` over the whole connection space and every
 * identity class. Classes are enumerated per atom, over the selectors of the policies that may
 * match there (`presentAt`), so people are told apart only where it can matter. Work: Σ over
 * atoms of their classes + the steps of enumerating each distinct table + the partition's
 * evaluations and cuts. Errors: `work-budget-exceeded` when the partition, an enumeration (see
 * `ClassBound`), or the work so far plus an atom's candidate classes passes `budget`.
 */
export function policyUsage(
  policies: readonly EvaluablePolicy[],
  budget: number,
): Result<UsageAnswer, WorkBudgetExceeded> {
  const prepared = prepareLists([policies]);
  if (prepared.policies.length === 0) {
    return ok({ usage: [], atoms: 0, classes: 0, work: 0 });
  }
  const cut = partition({ policies: prepared.policies, region: WHOLE_SPACE, budget });
  if (!cut.ok) {
    return cut;
  }
  const order = prepared.orders[0] ?? [];
  const usage: Use[] = prepared.policies.map(() => ({
    matches: false,
    decides: false,
    overriddenBy: new Set<number>(),
  }));
  const leavesOf = prepared.policies.map((p) => {
    const leaves = new Set<number>();
    identityLeavesOf(p.condition, leaves);
    return [...leaves];
  });
  const tables = new Map<string, ClassTable>();
  let work = cut.value.evaluations;
  let most = 0;
  for (const cell of cut.value.cells) {
    const alive = new Set(cell.alive);
    const list = order.filter((i) => alive.has(i));
    for (const atom of cell.atoms) {
      const present = presentAt(prepared.policies, list, cell, atom);
      const leafIds = [...new Set(present.flatMap((i) => leavesOf[i] ?? []))].sort((a, b) => a - b);
      const key = leafIds.join(",");
      let table = tables.get(key);
      if (table === undefined) {
        const room = Math.max(0, budget - work);
        const found = classTable(prepared.leaves, leafIds, { perCandidate: 1, room });
        if (!found.ok) {
          return err({ code: "work-budget-exceeded", budget, work: work + found.error });
        }
        table = found.value;
        tables.set(key, table);
        work += table.steps;
      }
      if (work + table.candidates > budget) {
        return err({ code: "work-budget-exceeded", budget, work: work + table.candidates });
      }
      work += table.classes.length;
      most = Math.max(most, table.classes.length);
      visitAtom(prepared.policies, present, cell, atom, table, usage);
    }
  }
  const position = new Map(order.map((index, rank) => [index, rank]));
  return ok({
    usage: order.map((i) => {
      const use = usage[i] as Use;
      return {
        id: (prepared.policies[i] as CompiledPolicy).id,
        matches: use.matches,
        decides: use.decides,
        overriddenBy: [...use.overriddenBy]
          .sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))
          .map((j) => (prepared.policies[j] as CompiledPolicy).id),
      };
    }),
    atoms: cut.value.atoms,
    classes: most,
    work,
  });
}
