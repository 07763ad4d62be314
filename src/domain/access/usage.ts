/**
 * What each policy does in practice, computed exactly on the engine: whether it matches any
 * connection of any identity class, whether it ever decides one (is the first match), and which
 * earlier policies decide the connections it matches but does not decide. Static analysis reads
 * shadowed, dead and conflicting rules from it.
 */
import type { EvaluablePolicy } from "../policies/evaluate";
import { err, ok, type Result } from "../result";
import { fullBits } from "./bits";
import type { ClassTable } from "./classes";
import type { CompiledPolicy } from "./compile";
import { type Cell, partition, WHOLE_SPACE, type WorkBudgetExceeded } from "./engine";
import { valueAt } from "./first-match";
import { prepareLists } from "./prepare";
import { classesWithin } from "./work";

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
  classes: number;
  /** Work units spent: atoms × classes + atoms × policies evaluated there. */
  work: number;
}

function visitCell(
  policies: readonly CompiledPolicy[],
  order: readonly number[],
  cell: Cell,
  table: ClassTable,
  usage: { matches: boolean; decides: boolean; overriddenBy: Set<number> }[],
): void {
  const size = table.classes.length;
  const alive = new Set(cell.alive);
  const list = order.filter((i) => alive.has(i));
  const deciders = new Int32Array(size);
  const all = fullBits(size);
  for (const atom of cell.atoms) {
    const undecided = fullBits(size);
    for (const i of list) {
      const v = valueAt((policies[i] as CompiledPolicy).condition, cell, atom, table);
      if (v === false) {
        continue;
      }
      const use = usage[i];
      if (use === undefined) {
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
}

/**
 * The use of every enabled policy of `policies` over the whole connection space and every
 * identity class. Errors: `work-budget-exceeded` past `budget` work units (see `classesWithin`).
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
  const classed = classesWithin(cut.value, prepared.leaves, budget);
  if (!classed.ok) {
    return err(classed.error);
  }
  const { table, work } = classed.value;
  const order = prepared.orders[0] ?? [];
  const usage = prepared.policies.map(() => ({
    matches: false,
    decides: false,
    overriddenBy: new Set<number>(),
  }));
  for (const cell of cut.value.cells) {
    visitCell(prepared.policies, order, cell, table, usage);
  }
  const position = new Map(order.map((index, rank) => [index, rank]));
  return ok({
    usage: order.map((i) => {
      const use = usage[i] as (typeof usage)[number];
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
    classes: table.classes.length,
    work,
  });
}
