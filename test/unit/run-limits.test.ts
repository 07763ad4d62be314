/**
 * What keeps a run within limits: the account's Cloudflare API budget (slots of a tenth of the
 * window counted whole, lanes that leave headroom for revocations, holds that stop every call,
 * Cloudflare's Ratelimit header), list paging that stops on the totals, and the run record's
 * bounded size.
 */
import { describe, it } from "vitest";
import { listAllPages } from "../../src/cloudflare/paging";
import { dueJitterMs, nextSweepAtMs } from "../../src/domain/due";
import { EMPTY_OBSERVED } from "../../src/domain/model";
import type { Action } from "../../src/domain/plan/actions";
import {
  FRESH_BUDGET,
  holdCalls,
  type Lane,
  parseRatelimitHeader,
  preemptSweeps,
  type RateBudgetState,
  refundCalls,
  reserveCalls,
} from "../../src/domain/rate-budget";
import type { AppliedAction } from "../../src/reconciler/apply-plan";
import { summariseRun } from "../../src/reconciler/summarise";

/** 20 calls per 100 s: slots of 10 s. */
const CONFIG = { callsPerWindow: 20, windowMs: 100_000 };

function reserveAll(state: RateBudgetState, asks: [Lane, number, number][]) {
  const results = [];
  let current = state;
  for (const [lane, wanted, nowMs] of asks) {
    const { next, result } = reserveCalls(current, CONFIG, lane, wanted, nowMs);
    results.push(result);
    current = next;
  }
  return { state: current, results };
}

describe("reserveCalls", () => {
  it.for<[string, [Lane, number, number][], unknown[]]>([
    [
      "a sweep fills 75% of the share and then waits for its first slot to leave the window",
      [
        ["sweep", 10, 0],
        ["sweep", 10, 5_000],
        ["sweep", 1, 9_999],
      ],
      [
        { status: "granted", calls: 10 },
        { status: "granted", calls: 5 },
        {
          status: "wait",
          retryAtMs: 110_000,
          reason: "the sweep share of 20 calls per 100 s is spent",
        },
      ],
    ],
    [
      "a revocation gets the headroom a sweep and a requested apply leave",
      [
        ["sweep", 15, 0],
        ["requested", 10, 1_000],
        ["revocation", 10, 2_000],
      ],
      [
        { status: "granted", calls: 15 },
        { status: "granted", calls: 3 },
        { status: "granted", calls: 2 },
      ],
    ],
    [
      "a slot counts until its end has left the window: at 110 s the calls of 0..10 s are free",
      [
        ["revocation", 20, 0],
        ["revocation", 1, 109_999],
        ["revocation", 5, 110_000],
      ],
      [
        { status: "granted", calls: 20 },
        {
          status: "wait",
          retryAtMs: 110_000,
          reason: "the revocation share of 20 calls per 100 s is spent",
        },
        { status: "granted", calls: 5 },
      ],
    ],
  ])("%s", ([, asks, expected], { expect }) => {
    expect(reserveAll(FRESH_BUDGET, asks).results).toEqual(expected);
  });

  it("never grants more than the share in any window, asked every second for 10 minutes", ({
    expect,
  }) => {
    const grantedAt: number[] = [];
    let state = FRESH_BUDGET;
    for (let nowMs = 0; nowMs < 600_000; nowMs += 1_000) {
      const { next, result } = reserveCalls(state, CONFIG, "revocation", 3, nowMs);
      state = next;
      if (result.status === "granted") {
        grantedAt.push(...Array<number>(result.calls).fill(nowMs));
      }
    }
    let most = 0;
    for (const start of grantedAt) {
      most = Math.max(most, grantedAt.filter((t) => t >= start && t < start + 100_000).length);
    }
    expect([most, grantedAt.length]).toEqual([20, 120]);
  });

  it("a hold stops every lane until it ends; a shorter hold does not shorten it", ({ expect }) => {
    const held = holdCalls(
      holdCalls(FRESH_BUDGET, 300_000, "Cloudflare answered 429"),
      200_000,
      "shorter",
    );
    expect(reserveCalls(held, CONFIG, "revocation", 1, 299_999).result).toEqual({
      status: "wait",
      retryAtMs: 300_000,
      reason: "Cloudflare answered 429",
    });
    expect(reserveCalls(held, CONFIG, "revocation", 1, 300_000).result).toEqual({
      status: "granted",
      calls: 1,
    });
  });

  it("a revocation waiting for the lease makes only sweeps yield, until it is over", ({
    expect,
  }) => {
    const waiting = preemptSweeps(FRESH_BUDGET, 50_000);
    const ask = (state: RateBudgetState, lane: Lane, nowMs: number) =>
      reserveCalls(state, CONFIG, lane, 1, nowMs).result;
    expect([
      ask(waiting, "sweep", 49_999),
      ask(waiting, "requested", 49_999),
      ask(waiting, "sweep", 50_000),
      ask(preemptSweeps(waiting, 0), "sweep", 1_000),
    ]).toEqual([
      {
        status: "yield",
        retryAtMs: 50_000,
        reason: "a revocation waits for the lease: the sweep yields and continues after it",
      },
      { status: "granted", calls: 1 },
      { status: "granted", calls: 1 },
      { status: "granted", calls: 1 },
    ]);
  });

  it("calls given back are granted again", ({ expect }) => {
    const { state } = reserveAll(FRESH_BUDGET, [["revocation", 20, 0]]);
    expect(reserveCalls(refundCalls(state, 7), CONFIG, "revocation", 10, 1_000).result).toEqual({
      status: "granted",
      calls: 7,
    });
  });
});

describe("parseRatelimitHeader", () => {
  it.for<[string, string | null, unknown]>([
    ["Cloudflare's form", '"default";r=42;t=17', { remaining: 42, resetSeconds: 17 }],
    ["no remaining", '"default";t=17', null],
    ["absent", null, null],
  ])("%s", ([, value, expected], { expect }) => {
    expect(parseRatelimitHeader(value)).toEqual(expected);
  });
});

describe("summariseRun", () => {
  const header = {
    id: "run-1",
    accountId: "acc",
    trigger: "cron" as const,
    mode: "enforce" as const,
    fencingToken: 7,
    startedAtMs: 1_000,
  };
  const routeCreate = (i: number): Action => ({
    op: "create",
    kind: "tunnel_route",
    key: `r${i}`,
    reason: "missing in Cloudflare",
    diff: [],
    isDrift: false,
    desired: { network: `10.${i}.0.0/16`, tunnelKey: "t", virtualNetworkKey: null, comment: "" },
  });
  const entries = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => ({
      address: `10.${from + i}.0.0/16`,
      description: "",
    }));
  const splitTunnel: Action = {
    op: "update",
    kind: "split_tunnel",
    key: "default",
    cloudflareId: "default",
    reason: "differs from the desired state",
    diff: [{ field: "entries", observed: entries(0, 40), desired: entries(5, 55) }],
    isDrift: false,
    desired: { profileId: "default", mode: "exclude", entries: entries(5, 55) },
  };

  it("keeps the actions sent, the first 100 of the rest and a split tunnel diff as counts", ({
    expect,
  }) => {
    const actions = [splitTunnel, ...Array.from({ length: 150 }, (_, i) => routeCreate(i))];
    const results = new Map<Action, AppliedAction>(
      actions.slice(0, 21).map((a) => [a, { outcome: "applied", cloudflareId: "cf", error: null }]),
    );
    const run = summariseRun(
      header,
      {
        status: "planned",
        observed: EMPTY_OBSERVED,
        plan: { actions, bindings: [], unmanaged: [], warnings: [] },
        sent: actions,
        applied: { results, stop: "budget-spent", hold: null },
      },
      2_000,
      900,
    );
    expect([run.counts, run.continued, run.actions.length]).toEqual([
      {
        observed: 0,
        planned: 151,
        applied: 21,
        failed: 0,
        deferred: 130,
        unmanaged: 0,
        subrequests: 900,
      },
      true,
      121,
    ]);
    expect(run.actions.map((a) => a.key).slice(-2)).toEqual(["r118", "r119"]);
    expect(run.actions[0]?.diff).toEqual([
      {
        field: "entries",
        observed: { count: 40, removed: 5, first_removed: entries(0, 5) },
        desired: { count: 50, added: 15, first_added: entries(40, 50) },
      },
    ]);
  });
});

describe("listAllPages", () => {
  const pages = (perPage: number, total: number, withTotals: boolean) => {
    const asked: number[] = [];
    const fetchPage = async (page: number) => {
      asked.push(page);
      const result = Array.from(
        { length: Math.max(0, Math.min(perPage, total - (page - 1) * perPage)) },
        (_, i) => ({ id: `o${(page - 1) * perPage + i}` }),
      );
      return {
        result,
        result_info: withTotals
          ? { page, per_page: perPage, total_count: total, total_pages: Math.ceil(total / perPage) }
          : { page, per_page: perPage },
      };
    };
    return { asked, fetchPage };
  };

  it.for<[string, number, boolean, number[]]>([
    ["stops on total_pages: no empty page after a full one", 2000, true, [1, 2]],
    ["one call for an empty list", 0, true, [1]],
    ["without totals, a full last page costs one empty page", 2000, false, [1, 2, 3]],
    ["without totals, a short page is the last", 1500, false, [1, 2]],
  ])("%s", async ([, total, withTotals, expected], { expect }) => {
    const { asked, fetchPage } = pages(1000, total, withTotals);
    const items = await listAllPages("teamnet/routes", 1000, fetchPage, (o) => o.id);
    expect([items.length, asked]).toEqual([total, expected]);
  });

  it("fails on a page that repeats the previous one instead of looping", async ({ expect }) => {
    const asked: number[] = [];
    const stuck = async (page: number) => {
      asked.push(page);
      return { result: [{ id: "a" }, { id: "b" }], result_info: {} };
    };
    await expect(listAllPages("cfd_tunnel", 2, stuck, (o) => o.id)).rejects.toThrow(
      "Cloudflare's cfd_tunnel list answered page 2 with items of earlier pages (it ignores `page`); listing stopped after 2 calls, the list could not be read whole",
    );
    expect(asked).toEqual([1, 2]);
  });

  it("keeps an item a shifted page repeats once, and stops on total_count without total_pages", async ({
    expect,
  }) => {
    const answers = [
      ["a", "b"],
      ["b", "c"],
      ["d", "e"],
    ];
    const asked: number[] = [];
    const shifting = async (page: number) => {
      asked.push(page);
      return {
        result: (answers[page - 1] ?? []).map((id) => ({ id })),
        result_info: { page, per_page: 2, total_count: 5 },
      };
    };
    const items = await listAllPages("access/apps", 2, shifting, (o) => o.id);
    expect([items.map((o) => o.id), asked]).toEqual([
      ["a", "b", "c", "d", "e"],
      [1, 2, 3],
    ]);
  });
});

describe("next sweep with jitter", () => {
  it("spreads accounts over a tenth of the interval, each at a fixed offset", ({ expect }) => {
    const ids = Array.from({ length: 200 }, (_, i) => `account-${i}`);
    const jitters = ids.map((id) => dueJitterMs(id, 300));
    expect([Math.min(...jitters) >= 0, Math.max(...jitters) < 30_000]).toEqual([true, true]);
    // Accounts land in every 3 s tenth of the 30 s spread.
    expect(new Set(jitters.map((j) => Math.floor(j / 3_000))).size).toBe(10);
    expect(dueJitterMs("account-7", 300)).toBe(dueJitterMs("account-7", 300));
    expect(nextSweepAtMs("account-7", 1_000, 300)).toBe(301_000 + dueJitterMs("account-7", 300));
    expect(dueJitterMs("account-7", 0)).toBe(0);
  });
});
