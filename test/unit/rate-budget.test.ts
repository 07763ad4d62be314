/**
 * The account's Cloudflare API budget: slots of a tenth of the window counted whole, lanes that
 * leave headroom for revocations, holds that stop every call, and Cloudflare's Ratelimit header.
 */
import { describe, it } from "vitest";
import {
  FRESH_BUDGET,
  holdCalls,
  type Lane,
  parseRatelimitHeader,
  type RateBudgetState,
  refundCalls,
  reserveCalls,
} from "../../src/domain/rate-budget";

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
