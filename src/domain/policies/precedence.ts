/**
 * Precedence planning for Gateway network policies. Precedence is unique per account and every
 * change is one API write, so placing a policy uses the gap between its neighbours when there is
 * one and otherwise renumbers the fewest neighbours; changes come in an order in which no write
 * ever lands on a precedence another policy still holds.
 */
import { err, ok, type Result } from "../result";

/** Lowest precedence tunnelplane assigns (inclusive). */
export const MIN_PRECEDENCE = 1;
/** Highest precedence tunnelplane assigns (inclusive): Gateway stores precedence as an int32. */
export const MAX_PRECEDENCE = 2_147_483_647;
/** Default spacing between policies placed at the bottom: Gateway's own scheme (1000, 2000, …). */
export const DEFAULT_PRECEDENCE_STEP = 1000;

/** A policy and its current precedence. */
export interface PrecedenceSlot {
  id: string;
  /** Integer in MIN_PRECEDENCE..MAX_PRECEDENCE, unique among the slots. */
  precedence: number;
}

/** One write: set policy `id` from precedence `from` to `to`. */
export interface PrecedenceChange {
  id: string;
  from: number;
  to: number;
}

/**
 * Where a policy goes in evaluation order: right after or right before another policy, or first
 * or last of all.
 */
export type PolicyPosition = { after: string } | { before: string } | { at: "top" | "bottom" };

/** How to place a new policy: apply `changes` in order, then create it at `precedence`. */
export interface InsertPlan {
  precedence: number;
  /** Writes to existing policies, in a safe order; `changes.length` is the number of writes. */
  changes: PrecedenceChange[];
}

/** How to move or delete: apply `changes` in order (the moved policy is among them). */
export interface ChangePlan {
  changes: PrecedenceChange[];
}

/**
 * Why a plan cannot be made.
 * - `unknown-policy`: `id` (moved, deleted, or named in the position) is not among the slots.
 * - `duplicate-precedence`: two slots share `precedence` (Gateway forbids it; the input is stale).
 * - `invalid-precedence`: a slot's precedence is not an integer in the allowed range.
 * - `no-room`: every precedence in range is taken.
 */
export type PrecedenceError =
  | { code: "unknown-policy"; id: string }
  | { code: "duplicate-precedence"; precedence: number; ids: [string, string] }
  | { code: "invalid-precedence"; id: string; precedence: number }
  | { code: "no-room" };

/** Options for the planners. */
export interface PrecedenceOptions {
  /** Spacing used when placing at the open end of the list; positive integer, default 1000. */
  step?: number;
}

function validate(slots: readonly PrecedenceSlot[]): Result<PrecedenceSlot[], PrecedenceError> {
  const sorted = [...slots].sort((a, b) => a.precedence - b.precedence);
  for (let i = 0; i < sorted.length; i++) {
    const slot = sorted[i];
    const previous = sorted[i - 1];
    if (slot === undefined) {
      continue;
    }
    if (
      !Number.isInteger(slot.precedence) ||
      slot.precedence < MIN_PRECEDENCE ||
      slot.precedence > MAX_PRECEDENCE
    ) {
      return err({ code: "invalid-precedence", id: slot.id, precedence: slot.precedence });
    }
    if (previous !== undefined && previous.precedence === slot.precedence) {
      return err({
        code: "duplicate-precedence",
        precedence: slot.precedence,
        ids: [previous.id, slot.id],
      });
    }
  }
  return ok(sorted);
}

/** The index in `sorted` before which the position puts a policy. */
function insertionIndex(
  sorted: readonly PrecedenceSlot[],
  position: PolicyPosition,
): Result<number, PrecedenceError> {
  if ("at" in position) {
    return ok(position.at === "top" ? 0 : sorted.length);
  }
  const id = "after" in position ? position.after : position.before;
  const index = sorted.findIndex((slot) => slot.id === id);
  if (index < 0) {
    return err({ code: "unknown-policy", id });
  }
  return ok("after" in position ? index + 1 : index);
}

/**
 * The precedences for `count` policies strictly between `low` and `high` (exclusive), or null
 * when they do not fit. With no upper neighbour (`high` is MAX_PRECEDENCE + 1) they go on the
 * next multiples of `step`, as Gateway numbers new rules; otherwise they are spread evenly.
 */
function spread(
  low: number,
  high: number,
  count: number,
  step: number,
  openEnd: boolean,
): number[] | null {
  if (high - low - 1 < count) {
    return null;
  }
  const first = (Math.floor(low / step) + 1) * step;
  if (openEnd && first + step * (count - 1) <= MAX_PRECEDENCE) {
    return Array.from({ length: count }, (_, j) => first + step * j);
  }
  return Array.from(
    { length: count },
    (_, j) => low + Math.floor(((j + 1) * (high - low)) / (count + 1)),
  );
}

/**
 * Orders changes so that each write goes to a precedence nobody holds at that moment. When the
 * changes form a cycle (A takes B's value while B takes A's), one policy is first parked on a
 * free precedence: one extra write.
 */
function safeOrder(
  current: readonly PrecedenceSlot[],
  changes: readonly PrecedenceChange[],
): PrecedenceChange[] {
  const holder = new Map(current.map((slot) => [slot.precedence, slot.id]));
  const targets = new Set(changes.map((change) => change.to));
  const pending = changes.map((change) => ({ ...change }));
  const ordered: PrecedenceChange[] = [];
  while (pending.length > 0) {
    const index = pending.findIndex((change) => {
      const owner = holder.get(change.to);
      return owner === undefined || owner === change.id;
    });
    if (index >= 0) {
      const [change] = pending.splice(index, 1);
      if (change !== undefined) {
        holder.delete(change.from);
        holder.set(change.to, change.id);
        ordered.push(change);
      }
      continue;
    }
    const stuck = pending[0];
    if (stuck === undefined) {
      break;
    }
    let parking = MAX_PRECEDENCE;
    while (holder.has(parking) || targets.has(parking)) {
      parking--;
    }
    ordered.push({ id: stuck.id, from: stuck.from, to: parking });
    holder.delete(stuck.from);
    holder.set(parking, stuck.id);
    stuck.from = parking;
  }
  return ordered;
}

interface Placement {
  precedence: number;
  changes: PrecedenceChange[];
}

/**
 * Places one policy before index `index` of `sorted` (which does not contain it). Tries windows
 * of neighbours of growing size, `up` policies above and `down` below, renumbered together with
 * the new one between the nearest untouched neighbours; the first size that fits wins, and
 * among those the plan with the fewest actual changes (then the one moving later policies).
 */
function place(sorted: readonly PrecedenceSlot[], index: number, step: number): Placement | null {
  const n = sorted.length;
  for (let size = 0; size <= n; size++) {
    let best: Placement | null = null;
    for (let down = size; down >= 0; down--) {
      const up = size - down;
      if (index - up < 0 || index + down > n) {
        continue;
      }
      const lowSlot = sorted[index - up - 1];
      const highSlot = sorted[index + down];
      const low = lowSlot === undefined ? MIN_PRECEDENCE - 1 : lowSlot.precedence;
      const high = highSlot === undefined ? MAX_PRECEDENCE + 1 : highSlot.precedence;
      const values = spread(low, high, size + 1, step, highSlot === undefined);
      if (values === null) {
        continue;
      }
      const window = sorted.slice(index - up, index + down);
      const precedence = values[up] ?? 0;
      const targets = [...values.slice(0, up), ...values.slice(up + 1)];
      const changes = window
        .map((slot, j) => ({
          id: slot.id,
          from: slot.precedence,
          to: targets[j] ?? slot.precedence,
        }))
        .filter((change) => change.from !== change.to);
      if (best === null || changes.length < best.changes.length) {
        best = { precedence, changes };
      }
    }
    if (best !== null) {
      return best;
    }
  }
  return null;
}

/**
 * Plans the precedence of a new policy at `position` among `existing` ones.
 *
 * With a gap, the new policy takes the middle of it (`{after: A}` between 1000 and 2000 gives
 * 1500) and nothing else changes; at the bottom it takes the next multiple of `step` above the
 * last policy (the first policy of an account gets 1000). Without a gap (1000, 1001) the fewest
 * neighbours are renumbered, spread evenly up to the nearest gap. Apply `changes` in order,
 * then create the policy. Pass every Gateway rule of the account as `existing`, not only the
 * network ones: whether uniqueness spans filter types is not documented, so assume it does.
 *
 * Errors: `unknown-policy`, `duplicate-precedence`, `invalid-precedence`, `no-room`.
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/order-of-enforcement/#order-of-precedence
 */
export function planInsert(
  existing: readonly PrecedenceSlot[],
  position: PolicyPosition,
  options: PrecedenceOptions = {},
): Result<InsertPlan, PrecedenceError> {
  const sorted = validate(existing);
  if (!sorted.ok) {
    return sorted;
  }
  const index = insertionIndex(sorted.value, position);
  if (!index.ok) {
    return index;
  }
  const placement = place(sorted.value, index.value, options.step ?? DEFAULT_PRECEDENCE_STEP);
  if (placement === null) {
    return err({ code: "no-room" });
  }
  return ok({
    precedence: placement.precedence,
    changes: safeOrder(sorted.value, placement.changes),
  });
}

/**
 * Plans moving policy `id` to `position`. A policy already at that position does not move (no
 * changes). Otherwise as `planInsert` for the policy taken out of the list; the moved policy's
 * own write is among the changes, and if renumbering would need two policies to swap values
 * one of them is parked first on a free precedence (one extra write).
 *
 * Errors: `unknown-policy` (the moved policy or the position's reference; a policy cannot be
 * placed relative to itself), `duplicate-precedence`, `invalid-precedence`, `no-room`.
 */
export function planMove(
  existing: readonly PrecedenceSlot[],
  id: string,
  position: PolicyPosition,
  options: PrecedenceOptions = {},
): Result<ChangePlan, PrecedenceError> {
  const sorted = validate(existing);
  if (!sorted.ok) {
    return sorted;
  }
  const moved = sorted.value.find((slot) => slot.id === id);
  if (moved === undefined) {
    return err({ code: "unknown-policy", id });
  }
  const others = sorted.value.filter((slot) => slot.id !== id);
  const index = insertionIndex(others, position);
  if (!index.ok) {
    return index;
  }
  const currentIndex = others.filter((slot) => slot.precedence < moved.precedence).length;
  if (currentIndex === index.value) {
    return ok({ changes: [] });
  }
  const placement = place(others, index.value, options.step ?? DEFAULT_PRECEDENCE_STEP);
  if (placement === null) {
    return err({ code: "no-room" });
  }
  const changes = [...placement.changes, { id, from: moved.precedence, to: placement.precedence }];
  return ok({ changes: safeOrder(sorted.value, changes) });
}

/**
 * Plans deleting policy `id`: the others keep their precedences (the freed value is just a wider
 * gap), so there are no changes besides the delete itself.
 *
 * Errors: `unknown-policy`, `duplicate-precedence`, `invalid-precedence`.
 */
export function planDelete(
  existing: readonly PrecedenceSlot[],
  id: string,
): Result<ChangePlan, PrecedenceError> {
  const sorted = validate(existing);
  if (!sorted.ok) {
    return sorted;
  }
  if (!sorted.value.some((slot) => slot.id === id)) {
    return err({ code: "unknown-policy", id });
  }
  return ok({ changes: [] });
}
