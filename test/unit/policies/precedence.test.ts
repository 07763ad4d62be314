import fc from "fast-check";
import { describe, it } from "vitest";
import {
  type PrecedenceChange,
  type PrecedenceSlot,
  planDelete,
  planInsert,
  planMove,
} from "../../../src/domain/policies/precedence";

function slots(...entries: [string, number][]): PrecedenceSlot[] {
  return entries.map(([id, precedence]) => ({ id, precedence }));
}

/** Applies changes one by one, failing if a write lands on a precedence someone holds. */
function apply(existing: PrecedenceSlot[], changes: PrecedenceChange[]): PrecedenceSlot[] {
  const byId = new Map(existing.map((slot) => [slot.id, slot.precedence]));
  for (const change of changes) {
    if (byId.get(change.id) !== change.from) {
      throw new Error(`${change.id} is not at ${change.from}`);
    }
    for (const [id, precedence] of byId) {
      if (precedence === change.to && id !== change.id) {
        throw new Error(`${change.id} -> ${change.to} collides with ${id}`);
      }
    }
    byId.set(change.id, change.to);
  }
  return [...byId].map(([id, precedence]) => ({ id, precedence }));
}

function order(list: PrecedenceSlot[]): string[] {
  return [...list].sort((a, b) => a.precedence - b.precedence).map((slot) => slot.id);
}

describe("planInsert", () => {
  it.for<[string, PrecedenceSlot[], Parameters<typeof planInsert>[1], number, PrecedenceChange[]]>([
    ["the first policy of an account gets 1000", [], { at: "bottom" }, 1000, []],
    [
      "at the bottom: the next multiple of 1000",
      slots(["a", 1000], ["b", 2000]),
      { at: "bottom" },
      3000,
      [],
    ],
    [
      "at the bottom after an odd value",
      slots(["a", 1000], ["b", 2042]),
      { at: "bottom" },
      3000,
      [],
    ],
    [
      "between two: the middle of the gap",
      slots(["a", 1000], ["b", 2000]),
      { after: "a" },
      1500,
      [],
    ],
    ["before one: the same gap", slots(["a", 1000], ["b", 2000]), { before: "b" }, 1500, []],
    [
      "at the top: half the first precedence",
      slots(["a", 1000], ["b", 2000]),
      { at: "top" },
      500,
      [],
    ],
    ["a one-wide gap is enough", slots(["a", 1000], ["b", 1002]), { after: "a" }, 1001, []],
    [
      "no gap: the one neighbour above moves into its own gap",
      slots(["a", 1000], ["b", 1001], ["c", 1002], ["d", 5000]),
      { after: "a" },
      667,
      [{ id: "a", from: 1000, to: 333 }],
    ],
    [
      "no gap: two below move, fewer than the three above",
      slots(["a", 1], ["b", 2], ["c", 3], ["d", 4], ["e", 100]),
      { after: "b" },
      26,
      [
        { id: "c", from: 3, to: 51 },
        { id: "d", from: 4, to: 75 },
      ],
    ],
    [
      "a tight block shifts by one, the last first so no write lands on a taken value",
      slots(["a", 1], ["b", 2], ["c", 3], ["d", 4], ["e", 6]),
      { after: "a" },
      2,
      [
        { id: "d", from: 4, to: 5 },
        { id: "c", from: 3, to: 4 },
        { id: "b", from: 2, to: 3 },
      ],
    ],
    [
      "no room at the top: everything moves to the open end",
      slots(["a", 1], ["b", 2], ["c", 3]),
      { at: "top" },
      1000,
      [
        { id: "a", from: 1, to: 2000 },
        { id: "b", from: 2, to: 3000 },
        { id: "c", from: 3, to: 4000 },
      ],
    ],
  ])("%s", ([_reason, existing, position, precedence, changes], { expect }) => {
    expect(planInsert(existing, position)).toEqual({ ok: true, value: { precedence, changes } });
  });

  it("uses the given step at the open end", ({ expect }) => {
    expect(planInsert(slots(["a", 100]), { at: "bottom" }, { step: 100 })).toEqual({
      ok: true,
      value: { precedence: 200, changes: [] },
    });
  });

  it.for<[string, PrecedenceSlot[], Parameters<typeof planInsert>[1], unknown]>([
    [
      "an unknown neighbour",
      slots(["a", 1000]),
      { after: "zz" },
      { code: "unknown-policy", id: "zz" },
    ],
    [
      "two policies at one precedence",
      slots(["a", 1000], ["b", 1000]),
      { at: "top" },
      { code: "duplicate-precedence", precedence: 1000, ids: ["a", "b"] },
    ],
    [
      "a precedence below 1",
      slots(["a", 0]),
      { at: "top" },
      { code: "invalid-precedence", id: "a", precedence: 0 },
    ],
    [
      "a fractional precedence",
      slots(["a", 1.5]),
      { at: "top" },
      { code: "invalid-precedence", id: "a", precedence: 1.5 },
    ],
  ])("refuses %s", ([_reason, existing, position, error], { expect }) => {
    expect(planInsert(existing, position)).toEqual({ ok: false, error });
  });

  it("finds the middle of a very wide gap, up to Gateway's int32 maximum", ({ expect }) => {
    expect(planInsert(slots(["a", 1], ["b", 2_147_483_647]), { after: "a" })).toEqual({
      ok: true,
      value: { precedence: 1_073_741_824, changes: [] },
    });
    expect(planInsert(slots(["a", 2_147_483_000]), { at: "bottom" })).toEqual({
      ok: true,
      value: { precedence: 2_147_483_324, changes: [] },
    });
  });

  it("always plans an order-keeping, collision-free sequence of writes", ({ expect }) => {
    const existing = fc
      .uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 0, maxLength: 25 })
      .map((values) => values.map((precedence, i) => ({ id: `p${i}`, precedence })));
    fc.assert(
      fc.property(existing, fc.nat(), (list, pick) => {
        const sorted = order(list);
        const index = sorted.length === 0 ? 0 : pick % (sorted.length + 1);
        const position =
          index === 0 ? ({ at: "top" } as const) : { after: sorted[index - 1] ?? "" };
        const plan = planInsert(list, position);
        expect(plan.ok).toBe(true);
        if (!plan.ok) {
          return;
        }
        const after = apply(list, plan.value.changes);
        expect(after.some((slot) => slot.precedence === plan.value.precedence)).toBe(false);
        const withNew = [...after, { id: "new", precedence: plan.value.precedence }];
        const expected = [...sorted];
        expected.splice(index, 0, "new");
        expect(order(withNew)).toEqual(expected);
        expect(plan.value.changes.length).toBeLessThanOrEqual(sorted.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe("planMove", () => {
  it("moves a policy into a gap with one write", ({ expect }) => {
    expect(planMove(slots(["a", 1000], ["b", 2000], ["c", 3000]), "c", { at: "top" })).toEqual({
      ok: true,
      value: { changes: [{ id: "c", from: 3000, to: 500 }] },
    });
  });

  it("makes no write when the policy is already there", ({ expect }) => {
    const list = slots(["a", 1000], ["b", 2000], ["c", 3000]);
    expect(planMove(list, "b", { after: "a" })).toEqual({ ok: true, value: { changes: [] } });
    expect(planMove(list, "b", { before: "c" })).toEqual({ ok: true, value: { changes: [] } });
    expect(planMove(list, "a", { at: "top" })).toEqual({ ok: true, value: { changes: [] } });
    expect(planMove(list, "c", { at: "bottom" })).toEqual({ ok: true, value: { changes: [] } });
  });

  it("moves to the open end with two writes when the gap below is too small", ({ expect }) => {
    expect(
      planMove(slots(["p", 10], ["m", 11], ["q", 12], ["r", 13]), "m", { after: "q" }),
    ).toEqual({
      ok: true,
      value: {
        changes: [
          { id: "r", from: 13, to: 2000 },
          { id: "m", from: 11, to: 1000 },
        ],
      },
    });
  });

  it("parks one policy when two must swap values: three writes, never a collision", ({
    expect,
  }) => {
    const list = slots(["p", 10], ["m", 11], ["q", 12], ["r", 13], ["s", 14], ["t", 15]);
    const plan = planMove(list, "m", { after: "q" });
    expect(plan).toEqual({
      ok: true,
      value: {
        changes: [
          { id: "q", from: 12, to: 2_147_483_647 },
          { id: "m", from: 11, to: 12 },
          { id: "q", from: 2_147_483_647, to: 11 },
        ],
      },
    });
    expect(plan.ok && order(apply(list, plan.value.changes))).toEqual([
      "p",
      "q",
      "m",
      "r",
      "s",
      "t",
    ]);
  });

  it("refuses an unknown policy and a position relative to itself", ({ expect }) => {
    const list = slots(["a", 1000], ["b", 2000]);
    expect(planMove(list, "zz", { at: "top" })).toEqual({
      ok: false,
      error: { code: "unknown-policy", id: "zz" },
    });
    expect(planMove(list, "a", { after: "a" })).toEqual({
      ok: false,
      error: { code: "unknown-policy", id: "a" },
    });
  });

  it("always ends with the moved policy in place and the others in order", ({ expect }) => {
    const existing = fc
      .uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 2, maxLength: 20 })
      .map((values) => values.map((precedence, i) => ({ id: `p${i}`, precedence })));
    fc.assert(
      fc.property(existing, fc.nat(), fc.nat(), (list, pickMoved, pickTarget) => {
        const sorted = order(list);
        const moved = sorted[pickMoved % sorted.length] ?? "";
        const others = sorted.filter((id) => id !== moved);
        const index = pickTarget % (others.length + 1);
        const position =
          index === 0 ? ({ at: "top" } as const) : { after: others[index - 1] ?? "" };
        const plan = planMove(list, moved, position);
        expect(plan.ok).toBe(true);
        if (!plan.ok) {
          return;
        }
        const expected = [...others];
        expected.splice(index, 0, moved);
        expect(order(apply(list, plan.value.changes))).toEqual(expected);
        if (expected.join() === sorted.join()) {
          expect(plan.value.changes).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("planDelete", () => {
  it("deletes without renumbering anyone", ({ expect }) => {
    expect(planDelete(slots(["a", 1000], ["b", 1001], ["c", 1002]), "b")).toEqual({
      ok: true,
      value: { changes: [] },
    });
  });

  it("refuses an unknown policy", ({ expect }) => {
    expect(planDelete(slots(["a", 1000]), "b")).toEqual({
      ok: false,
      error: { code: "unknown-policy", id: "b" },
    });
  });
});
