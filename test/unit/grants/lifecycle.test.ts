import { describe, it } from "vitest";
import { EVENT_TYPES, isEventPattern, matchesEventType } from "../../../src/domain/events/events";
import { runEvents } from "../../../src/domain/events/run-events";
import { nextDeliveryAttemptAtMs } from "../../../src/domain/grants/delivery";
import type { GrantState } from "../../../src/domain/grants/grant";
import {
  dueClockEvent,
  type GrantActorRole,
  type GrantEvent,
  nextClockEventAtMs,
  transitionGrant,
} from "../../../src/domain/grants/lifecycle";

const START = 1_000_000;
const END = START + 3_600_000;
const window = (state: GrantState) => ({ state, startsAtMs: START, endsAtMs: END });

describe("transitionGrant", () => {
  it.for<[string, GrantState, GrantEvent, GrantActorRole, number, GrantState]>([
    ["an operator approves a request", "requested", "approve", "operator", START, "approved"],
    ["a rule approves a request", "requested", "approve", "system", START, "approved"],
    ["an operator rejects a request", "requested", "reject", "operator", START, "rejected"],
    ["a rule rejects a request", "requested", "reject", "system", START, "rejected"],
    ["the requester cancels a request", "requested", "cancel", "requester", START, "cancelled"],
    ["an operator cancels a request", "requested", "cancel", "operator", START, "cancelled"],
    ["an undecided request expires at its end", "requested", "expire", "system", END, "expired"],
    ["the clock activates at the start", "approved", "activate", "system", START, "active"],
    [
      "the requester cancels before the start",
      "approved",
      "cancel",
      "requester",
      START,
      "cancelled",
    ],
    ["an operator revokes an approved grant", "approved", "revoke", "operator", START, "revoked"],
    ["an approved grant expires at its end", "approved", "expire", "system", END, "expired"],
    ["an operator revokes an active grant", "active", "revoke", "operator", START, "revoked"],
    ["an active grant expires at its end", "active", "expire", "system", END, "expired"],
  ])("%s", ([_reason, from, event, role, nowMs, to], { expect }) => {
    expect(transitionGrant(window(from), event, role, nowMs)).toEqual({ ok: true, value: to });
  });

  it.for<[string, GrantState, GrantEvent, GrantActorRole, number, unknown]>([
    [
      "an expired grant cannot be approved",
      "expired",
      "approve",
      "operator",
      START,
      { code: "invalid-transition", from: "expired", event: "approve" },
    ],
    [
      "a revoked grant cannot become active again",
      "revoked",
      "activate",
      "system",
      START,
      { code: "invalid-transition", from: "revoked", event: "activate" },
    ],
    [
      "an active grant cannot be cancelled, only revoked",
      "active",
      "cancel",
      "requester",
      START,
      { code: "invalid-transition", from: "active", event: "cancel" },
    ],
    [
      "a requester cannot approve",
      "requested",
      "approve",
      "requester",
      START,
      { code: "forbidden-actor", from: "requested", event: "approve", role: "requester" },
    ],
    [
      "a requester cannot revoke",
      "active",
      "revoke",
      "requester",
      START,
      { code: "forbidden-actor", from: "active", event: "revoke", role: "requester" },
    ],
    [
      "an operator cannot expire a grant by hand",
      "active",
      "expire",
      "operator",
      END,
      { code: "forbidden-actor", from: "active", event: "expire", role: "operator" },
    ],
    [
      "no activation before the start",
      "approved",
      "activate",
      "system",
      START - 1,
      { code: "too-early", event: "activate", atMs: START },
    ],
    [
      "no expiry before the end",
      "active",
      "expire",
      "system",
      END - 1,
      { code: "too-early", event: "expire", atMs: END },
    ],
    [
      "no approval at or after the end",
      "requested",
      "approve",
      "operator",
      END,
      { code: "too-late", event: "approve", endsAtMs: END },
    ],
  ])("%s", ([_reason, from, event, role, nowMs, error], { expect }) => {
    expect(transitionGrant(window(from), event, role, nowMs)).toEqual({ ok: false, error });
  });
});

describe("the clock", () => {
  it.for<[string, GrantState, number, "expire" | "activate" | null, number | null]>([
    ["an approved grant not started waits for its start", "approved", START - 1, null, START],
    ["an approved grant at its start activates", "approved", START, "activate", END],
    ["an approved grant past its end expires, never activates", "approved", END, "expire", END],
    ["an active grant waits for its end", "active", START, null, END],
    ["an active grant at its end expires", "active", END, "expire", END],
    ["a requested grant expires at its end", "requested", END, "expire", END],
    ["an ended grant has no timer", "expired", END, null, null],
    ["a revoked grant has no timer", "revoked", START, null, null],
  ])("%s", ([_reason, state, nowMs, due, next], { expect }) => {
    expect([dueClockEvent(window(state), nowMs), nextClockEventAtMs(window(state), nowMs)]).toEqual(
      [due, next],
    );
  });
});

describe("delivery retries and event selection", () => {
  it("waits 30 s, 60 s, 120 s … up to an hour for callbacks, and follows a shorter schedule for events", ({
    expect,
  }) => {
    const events = { maxAttempts: 3, firstRetryAfterMs: 1_000, maxRetryAfterMs: 3_600_000 };
    expect([1, 2, 3, 7, 8].map((n) => nextDeliveryAttemptAtMs(n, 0))).toEqual([
      30_000,
      60_000,
      120_000,
      1_920_000,
      null,
    ]);
    expect([1, 2, 3].map((n) => nextDeliveryAttemptAtMs(n, 10_000, events))).toEqual([
      11_000,
      12_000,
      null,
    ]);
  });

  it.for<[string, string[], string[]]>([
    ["an exact type", ["run.failed"], ["run.failed"]],
    [
      "a family",
      ["grant.*"],
      [
        "grant.requested",
        "grant.approved",
        "grant.active",
        "grant.expired",
        "grant.rejected",
        "grant.cancelled",
        "grant.revoked",
      ],
    ],
    [
      "two families",
      ["drift.*", "desired_state.*"],
      ["drift.detected", "drift.repaired", "desired_state.changed"],
    ],
    ["everything", ["*"], [...EVENT_TYPES]],
  ])("%s selects exactly its events", ([, patterns, selected], { expect }) => {
    expect(EVENT_TYPES.filter((t) => matchesEventType(patterns, t))).toEqual(selected);
  });

  it("accepts types, known families and * as patterns, nothing else", ({ expect }) => {
    const patterns = ["grant.*", "drift.detected", "*", "grants.*", "grant.", "drift.*.*", "run"];
    expect(patterns.map(isEventPattern)).toEqual([true, true, true, false, false, false, false]);
  });

  it("a run raises detected, repaired, failed and continued, with ids from the run", ({
    expect,
  }) => {
    const run = {
      id: "r1",
      accountId: "a1",
      trigger: "cron",
      outcome: "failed",
      finishedAtMs: 1_000,
      drift: [{ kind: "tunnel_route", key: "k1", reason: "missing in Cloudflare" }],
      actions: [
        { kind: "tunnel_route", key: "k1", isDrift: true, outcome: "applied" },
        { kind: "tunnel", key: "k2", isDrift: false, outcome: "applied" },
      ],
      errors: [{ kind: null, key: null, message: "Cloudflare answered 500" }],
      continued: true,
      continueAtMs: 61_000,
    };
    expect(runEvents(run, 5_000).map((e) => [e.id, e.type, e.atMs, e.data])).toEqual([
      ["r1.drift.detected", "drift.detected", 1_000, { run_id: "r1", count: 1, drift: run.drift }],
      [
        "r1.drift.repaired",
        "drift.repaired",
        1_000,
        { run_id: "r1", count: 1, repaired: [{ kind: "tunnel_route", key: "k1" }] },
      ],
      [
        "r1.run.failed",
        "run.failed",
        1_000,
        {
          run_id: "r1",
          trigger: "cron",
          errors: [{ kind: null, key: null, message: "Cloudflare answered 500" }],
        },
      ],
      [
        "r1.run.continued",
        "run.continued",
        1_000,
        { run_id: "r1", continue_at: "1970-01-01T00:01:01.000Z" },
      ],
    ]);
    expect(
      runEvents({ ...run, outcome: "succeeded", drift: [], actions: [], continued: false }, 0),
    ).toEqual([]);
  });
});
