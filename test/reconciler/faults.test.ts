/**
 * Fault handling of a run: 429 waited out, 5xx retried on updates, lost create responses found
 * again instead of duplicated, the subrequest budget continued by the next run, a lost lease
 * stopping writes, observe mode recording drift without writing, the rate budget's holds and
 * shares, one subrequest budget per queue invocation, dead letters shown and re-driven, a token
 * lacking a permission (403 / 10000) named on the run and the account, and lists that ignore `page`.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { createCloudflareClient, SubrequestBudget } from "../../src/cloudflare/client";
import { listAllPages, RepeatedPageError } from "../../src/cloudflare/paging";
import worker from "../../src/index";
import { consumeReconcileBatch } from "../../src/reconciler/consume";
import type { ReconcileMessage } from "../../src/reconciler/continue";
import { redriveDeadLetter } from "../../src/reconciler/dead-letters";
import { createReconcileDeps } from "../../src/reconciler/deps";
import { reconcileAccount } from "../../src/reconciler/reconcile-account";
import { call, get, post, put } from "../helpers/api";
import { recordingQueue } from "../helpers/cron";
import {
  callsOf,
  control,
  emulator,
  lastSeq,
  newAccountId,
  sdk,
  tokenWith,
} from "../helpers/emulator";
import { problemOf } from "../helpers/problems";
import { seedAccount } from "../helpers/seed";
import type { Created, RunBody } from "../helpers/wire";

async function describeNetwork(base: string) {
  const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
  const wide = (
    await post<Created>(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id })
  ).body;
  const narrow = (
    await post<Created>(`${base}/routes`, { network: "172.31.0.0/16", tunnel_id: tunnel.id })
  ).body;
  return { tunnel, wide, narrow };
}

const writesOf = async (accountId: string, since: number) =>
  (await callsOf(accountId, since))
    .filter((c) => c.method !== "GET")
    .map(
      (c) => `${c.method} ${c.path.replace(`/client/v4/accounts/${accountId}`, "")} ${c.status}`,
    );

describe("faults during a run", () => {
  it("waits out a 429 per its Retry-After and carries on", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/teamnet/routes`,
      status: 429,
      retry_after: 1,
      times: 1,
    });

    const run = await post<RunBody>(`${base}/reconcile`);
    expect([run.body.outcome, run.body.counts.applied, run.body.counts.failed]).toEqual([
      "succeeded",
      3,
      0,
    ]);
    expect(await writesOf(accountId, 0)).toEqual([
      "POST /cfd_tunnel 200",
      "POST /teamnet/routes 429",
      "POST /teamnet/routes 200",
      "POST /teamnet/routes 200",
    ]);
  });

  it("a route create whose response was lost is not duplicated: the next run finds it by its marker", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const ids = await describeNetwork(base);
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/teamnet/routes`,
      status: 502,
      times: 1,
      after_apply: true,
    });

    const first = await post<RunBody>(`${base}/reconcile`);
    expect(first.body.outcome).toBe("partial");
    expect(first.body.actions.map((a) => [a.kind, a.key, a.outcome])).toEqual([
      ["tunnel", ids.tunnel.id, "applied"],
      ["tunnel_route", ids.wide.id, "failed"],
      ["tunnel_route", ids.narrow.id, "applied"],
    ]);
    const since = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect([second.body.outcome, second.body.actions]).toEqual(["succeeded", []]);
    expect(await writesOf(accountId, since)).toEqual([]);
    const routes = (
      await sdk().zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
    ).result;
    expect(routes.map((r) => r.comment).sort()).toEqual(
      [`tunnelplane:${ids.narrow.id}`, `tunnelplane:${ids.wide.id}`].sort(),
    );
    expect(
      (await get<{ status: { state: string } }>(`${base}/routes/${ids.wide.id}`)).body.status.state,
    ).toBe("synced");
  });

  it("a tunnel whose create response was lost is adopted by name, not created twice", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const ids = await describeNetwork(base);
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/cfd_tunnel`,
      status: 500,
      times: 1,
      after_apply: true,
    });

    const first = await post<RunBody>(`${base}/reconcile`);
    expect(first.body.actions.map((a) => [a.kind, a.outcome])).toEqual([
      ["tunnel", "failed"],
      ["tunnel_route", "failed"],
      ["tunnel_route", "failed"],
    ]);
    expect(first.body.actions[1]?.error).toBe(
      `tunnel ${ids.tunnel.id} does not exist in Cloudflare yet`,
    );

    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body.actions.map((a) => [a.op, a.kind, a.outcome])).toEqual([
      ["create", "tunnel_route", "applied"],
      ["create", "tunnel_route", "applied"],
    ]);
    const tunnels = (
      await sdk().zeroTrust.tunnels.cloudflared.list({ account_id: accountId, is_deleted: false })
    ).result;
    expect(tunnels.map((t) => t.name)).toEqual(["dc1"]);
    const tunnel = await get<{ status: { state: string; cloudflare_id: string } }>(
      `${base}/tunnels/${ids.tunnel.id}`,
    );
    expect(tunnel.body.status).toMatchObject({ state: "synced", cloudflare_id: tunnels[0]?.id });
  });

  it("retries a 5xx on an update with backoff", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const policy = (
      await post<Created>(`${base}/policies`, {
        name: "p",
        action: "block",
        precedence: 100,
        destinations: ["10.0.0.0/8"],
      })
    ).body;
    await post(`${base}/reconcile`);
    await put(`${base}/policies/${policy.id}`, {
      name: "p2",
      action: "block",
      precedence: 100,
      destinations: ["10.0.0.0/8"],
    });
    await control("/faults", "POST", {
      method: "PUT",
      path_prefix: `/client/v4/accounts/${accountId}/gateway/rules`,
      status: 503,
      times: 1,
    });
    const since = await lastSeq(accountId);

    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.outcome).toBe("succeeded");
    expect(
      (await writesOf(accountId, since)).map((w) => w.replace(/rules\/\S+/, "rules/{id}")),
    ).toEqual(["PUT /gateway/rules/{id} 503", "PUT /gateway/rules/{id} 200"]);
  });
});

describe("a fault mix", () => {
  it("10% 5xx and 30% 429 with Retry-After on the writes: converges with no duplicate, no unmanaged object touched and no call while a Retry-After is pending", {
    timeout: 15_000,
  }, async ({ expect }) => {
    const apiToken = `mix-${crypto.randomUUID()}`;
    const { accountId, base } = await seedAccount(expect, { apiToken });
    const cf = sdk(apiToken);
    const unmanaged = await cf.zeroTrust.gateway.rules.create({
      account_id: accountId,
      name: "hand-made",
      action: "block",
      filters: ["l4"],
      traffic: "net.dst.ip in {192.168.77.0/24}",
      precedence: 9000,
    });
    const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
    for (let i = 0; i < 5; i++) {
      await post(`${base}/routes`, { network: `10.${i}.0.0/16`, tunnel_id: tunnel.id });
    }
    await post(`${base}/policies`, {
      name: "allow",
      action: "allow",
      precedence: 1000,
      destinations: ["10.0.0.7"],
      emails: ["a@example.com"],
    });
    await post(`${base}/policies`, {
      name: "block",
      action: "block",
      precedence: 2000,
      destinations: ["10.0.0.7"],
    });
    const prefix = `/client/v4/accounts/${accountId}/`;
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: prefix,
      status: 503,
      share: 0.1,
      times: 1000,
    });
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: prefix,
      status: 429,
      retry_after: 1,
      share: 1 / 3,
      times: 1000,
    });
    try {
      const deps = createReconcileDeps(env);
      const runs = [];
      for (let i = 0; i < 4 && runs.at(-1)?.counts.planned !== 0; i++) {
        const outcome = await reconcileAccount(deps, accountId, "api");
        if (outcome.status !== "done") {
          throw new Error(outcome.status);
        }
        runs.push(outcome.run);
      }
      // Creates in order: block, tunnel, 10.0/16 (429, waited out), allow, 10.1/16 (429),
      // 10.2/16, 10.3/16 (429, then 503: a create is not retried, the next run sends it),
      // 10.4/16; run 2 sends 10.3/16; run 3 is converged.
      expect(runs.map((r) => [r.outcome, r.counts.applied, r.counts.failed])).toEqual([
        ["partial", 7, 1],
        ["succeeded", 1, 0],
        ["succeeded", 0, 0],
      ]);
      const posts = (await callsOf(accountId))
        .filter((c) => c.method === "POST")
        .map((c) => c.status);
      expect(posts).toEqual([200, 200, 200, 429, 200, 200, 429, 200, 200, 429, 503, 200, 200]);
      const routes = (
        await cf.zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
      ).result;
      expect(routes.map((r) => r.network).sort()).toEqual([
        "10.0.0.0/16",
        "10.1.0.0/16",
        "10.2.0.0/16",
        "10.3.0.0/16",
        "10.4.0.0/16",
      ]);
      const rules = (await cf.zeroTrust.gateway.rules.list({ account_id: accountId })).result;
      expect(rules.map((r) => [r.name, r.precedence]).sort()).toEqual([
        ["allow", 1000],
        ["block", 2000],
        ["hand-made", 9000],
      ]);
      expect(
        (await callsOf(accountId)).filter((c) => c.path.endsWith(unmanaged.id ?? "?")),
      ).toEqual([]);
      const hash = [
        ...new Uint8Array(
          await crypto.subtle.digest("SHA-256", new TextEncoder().encode(apiToken)),
        ),
      ]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
      const report = (await control("/rate-limit")) as {
        tokens: { token_hash: string; rate_limited_calls: number; calls_during_lockout: number }[];
      };
      const mine = report.tokens.find((t) => t.token_hash === hash);
      expect([mine?.rate_limited_calls, mine?.calls_during_lockout]).toEqual([0, 0]);
    } finally {
      await control("/faults", "DELETE");
    }
  });
});

describe("the account's Cloudflare API budget", () => {
  it("a 429 without Retry-After holds every call of the account: the run ends continued and the next run sends nothing", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/teamnet/routes`,
      status: 429,
      times: 1,
    });
    const { queue, sent } = recordingQueue();
    const deps = { ...createReconcileDeps(env), queue };
    const first = await reconcileAccount(deps, accountId, "api");
    if (first.status !== "done") {
      throw new Error(first.status);
    }
    const holdEnd = new Date(first.run.startedAtMs + 300_000);
    expect([first.run.outcome, first.run.continued, first.run.counts.applied]).toEqual([
      "partial",
      true,
      1,
    ]);
    const reason = first.run.errors[0]?.message ?? "";
    expect(reason).toMatch(/^Cloudflare answered 429; no call before \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    const heldUntilMs = Date.parse(reason.slice(reason.lastIndexOf(" ") + 1));
    expect(heldUntilMs - holdEnd.getTime()).toBeGreaterThanOrEqual(0);
    // The follow-up waits out the hold in the queue: 300 s from the 429, the run ended just after.
    expect([first.run.counts.deferred, first.run.continueAtMs, sent]).toEqual([
      2,
      heldUntilMs,
      [{ body: { account_id: accountId }, delaySeconds: 300 }],
    ]);
    expect(await writesOf(accountId, 0)).toEqual([
      "POST /cfd_tunnel 200",
      "POST /teamnet/routes 429",
    ]);
    const since = await lastSeq(accountId);

    // Without a queue (the inline fallback) the account is due again when the hold ends.
    const second = await reconcileAccount({ ...deps, queue: undefined }, accountId, "cron");
    if (second.status !== "done") {
      throw new Error(second.status);
    }
    expect([
      second.run.outcome,
      second.run.continued,
      second.run.continueAtMs,
      second.run.errors,
    ]).toEqual([
      "failed",
      true,
      heldUntilMs,
      [{ kind: null, key: null, message: reason, retryable: true }],
    ]);
    expect(sent.length).toBe(1);
    expect(await callsOf(accountId, since)).toEqual([]);
    const account = await get<{ next_reconcile_at: string }>(base);
    expect(Date.parse(account.body.next_reconcile_at)).toBe(heldUntilMs);
  });

  it("a lockout another client of the token caused meets one call of the run, not its parallel lists", async ({
    expect,
  }) => {
    const apiToken = `lockout-${crypto.randomUUID()}`;
    const { accountId, base } = await seedAccount(expect, { apiToken });
    await describeNetwork(base);
    // The dashboard, on the same token, spends a 3-call window and locks the token out for 60 s.
    await control("/rate-limit", "PUT", { limit: 3, window_s: 300, lockout_s: 60 });
    try {
      const dashboard = sdk(apiToken);
      for (let i = 0; i < 4; i++) {
        await dashboard.zeroTrust.networks.routes
          .list({ account_id: newAccountId() })
          .catch(() => undefined);
      }
      const { queue, sent } = recordingQueue();
      const outcome = await reconcileAccount(
        { ...createReconcileDeps(env), queue },
        accountId,
        "api",
      );
      if (outcome.status !== "done") {
        throw new Error(outcome.status);
      }
      const calls = (await callsOf(accountId)).map((c) => `${c.method} ${c.status}`);
      expect([outcome.run.outcome, outcome.run.continued, calls, sent.length]).toEqual([
        "failed",
        true,
        ["GET 429"],
        1,
      ]);
      expect(sent[0]?.delaySeconds).toBeGreaterThanOrEqual(59);
      expect(sent[0]?.delaySeconds).toBeLessThanOrEqual(60);
    } finally {
      await control("/rate-limit", "PUT", { limit: 1200, window_s: 300, lockout_s: 300 });
    }
  });

  it.for<[string, number, number | null]>([
    ["the configured share: 50% of 20 calls", 20, null],
    ["the account's own share overriding it: 25% of 40 calls", 40, 0.25],
  ])(
    "a run stops at %s per window and says when it continues",
    async ([_share, apiRateLimit, accountShare], { expect }) => {
      const { accountId, base } = await seedAccount(expect);
      await describeNetwork(base);
      if (accountShare !== null) {
        await call("PATCH", base, { body: { api_budget_share: accountShare } });
      }
      const deps = createReconcileDeps(env);
      const { queue, sent } = recordingQueue();
      // 10 calls per window for tunnelplane, 9 of them for a requested run.
      const small = { ...deps, queue, config: { ...deps.config, apiRateLimit } };
      const outcome = await reconcileAccount(small, accountId, "api");
      if (outcome.status !== "done") {
        throw new Error(outcome.status);
      }
      expect([
        outcome.run.outcome,
        outcome.run.continued,
        outcome.run.counts.subrequests,
        outcome.run.errors.map((e) => e.message),
      ]).toEqual(["partial", true, 9, ["the requested share of 10 calls per 300 s is spent"]]);
      expect((await callsOf(accountId)).length).toBe(9);
      // The bucket frees the calls when their 30 s slot leaves the 300 s window: the follow-up is
      // queued for that instant (a slot boundary), between 300 and 330 s after the run.
      const { continueAtMs, finishedAtMs, counts } = outcome.run;
      const delaySeconds = Math.ceil(((continueAtMs ?? 0) - (finishedAtMs ?? 0)) / 1000);
      expect([counts.deferred, (continueAtMs ?? 1) % 30_000, sent]).toEqual([
        1,
        0,
        [{ body: { account_id: accountId }, delaySeconds }],
      ]);
      expect(delaySeconds > 300 && delaySeconds <= 330).toBe(true);
    },
  );
});

describe("plan when Cloudflare fails", () => {
  it("answers 502 upstream-failed naming Cloudflare's error when observing fails", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    // A Retry-After longer than one wait may last is not waited out: the observation fails.
    await control("/faults", "POST", {
      method: "GET",
      path_prefix: `/client/v4/accounts/${accountId}/gateway/rules`,
      status: 429,
      retry_after: 120,
      times: 1,
    });
    const planned = await post(`${base}/plan`);
    expect([planned.status, planned.headers.get("content-type")]).toEqual([
      502,
      "application/problem+json",
    ]);
    expect(problemOf(planned)).toEqual({
      type: "http://tunnelplane/problems/upstream-failed",
      title: "The Cloudflare API call failed",
      status: 502,
      detail:
        "Cloudflare answered 429 (971: Please wait and consider throttling your request speed)",
      instance: `/v1/accounts/${accountId}/plan`,
    });
  });
});

describe("budget and lease", () => {
  it("stops at the subrequest budget, says so, and the next runs continue until converged", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
    await post(`${base}/policies`, {
      name: "a",
      action: "allow",
      precedence: 1000,
      destinations: ["10.128.0.7"],
      emails: ["a@example.com"],
    });
    await post(`${base}/policies`, {
      name: "b",
      action: "block",
      precedence: 2000,
      destinations: ["10.128.0.7"],
    });
    const { queue, sent } = recordingQueue();
    const deps = { ...createReconcileDeps(env), queue };
    // Observation costs 7 requests, one per list (its totals say when to stop) and the two proxy
    // settings. Run 1 has room for 5 writes, in dependency order with narrowing first: the block,
    // the tunnel, the route covering the allow, the allow, the other route; the split tunnel and
    // the proxy settings wait. Run 2 sends the split tunnel and the two proxy PATCHes in its 3.
    const small = { ...deps, config: { ...deps.config, maxSubrequestsPerRun: 12 } };

    const runs = [];
    for (let i = 0; i < 3; i++) {
      const outcome = await reconcileAccount(small, accountId, "api");
      if (outcome.status !== "done") {
        throw new Error(`run ${i} was ${outcome.status}`);
      }
      runs.push(outcome.run);
    }
    expect(
      runs.map((r) => [
        r.outcome,
        r.continued,
        r.counts.applied,
        r.counts.deferred,
        r.counts.subrequests,
      ]),
    ).toEqual([
      ["partial", true, 5, 2, 12],
      ["succeeded", false, 2, 0, 10],
      ["succeeded", false, 0, 0, 7],
    ]);
    expect(runs[0]?.actions.map((a) => [a.op, a.kind, a.outcome])).toEqual([
      ["create", "network_policy", "applied"],
      ["create", "tunnel", "applied"],
      ["create", "tunnel_route", "applied"],
      ["create", "network_policy", "applied"],
      ["create", "tunnel_route", "applied"],
      ["update", "split_tunnel", "deferred"],
      ["update", "proxy_settings", "deferred"],
    ]);
    // Only the first run left work: its follow-up is queued 1 s out, never re-run at once.
    const finished = runs.map((r) => r.finishedAtMs ?? 0);
    expect([runs.map((r) => r.continueAtMs), sent]).toEqual([
      [(finished[0] ?? 0) + 1000, null, null],
      [{ body: { account_id: accountId }, delaySeconds: 1 }],
    ]);
    const listed = await get<{ items: RunBody[] }>(`${base}/runs`);
    expect(listed.body.items.map((r) => [r.continued, r.counts.deferred, r.continue_at])).toEqual([
      [false, 0, null],
      [false, 0, null],
      [true, 2, new Date((finished[0] ?? 0) + 1000).toISOString()],
    ]);
    const account = await get<{ next_reconcile_at: string }>(base);
    expect(Date.parse(account.body.next_reconcile_at)).toBeGreaterThan(Date.now());
  });

  it("one queue invocation stays within its subrequest budget however many accounts its batch holds", {
    timeout: 15_000,
  }, async ({ expect }) => {
    const small = await seedAccount(expect);
    await describeNetwork(small.base);
    const big = await seedAccount(expect);
    const tunnel = (await post<Created>(`${big.base}/tunnels`, { name: "dc1" })).body;
    for (let i = 0; i < 13; i++) {
      await post(`${big.base}/routes`, { network: `10.${i}.0.0/16`, tunnel_id: tunnel.id });
    }
    const last = await seedAccount(expect);
    await describeNetwork(last.base);
    const { queue, sent } = recordingQueue();
    const deps = createReconcileDeps(env);
    const batch = createMessageBatch<ReconcileMessage>(
      "tunnelplane-reconcile",
      [small, big, last].map(({ accountId }, i) => ({
        id: `m${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { account_id: accountId },
      })),
    );
    const ctx = createExecutionContext();
    // 30 for the batch: the first account's run takes 10 (7 lists, 3 creates), the second is cut
    // at the 20 left (7 lists, the tunnel and 12 of its 13 routes), and the third, meeting fewer
    // than MIN_SUBREQUESTS_PER_RUN, is sent again for a later invocation without running.
    await consumeReconcileBatch(
      { ...deps, queue, config: { ...deps.config, maxSubrequestsPerInvocation: 30 } },
      batch,
    );
    const counts = await Promise.all(
      [small, big, last].map(async ({ accountId }) => (await callsOf(accountId)).length),
    );
    const bigRun = (await get<{ items: RunBody[] }>(`${big.base}/runs`)).body.items[0];
    expect([
      counts,
      bigRun?.outcome,
      bigRun?.counts.applied,
      bigRun?.errors.map((e) => e.message),
    ]).toEqual([[10, 20, 0], "partial", 13, ["the invocation's subrequest budget of 30 spent"]]);
    expect(sent).toEqual([
      { body: { account_id: big.accountId }, delaySeconds: 1 },
      { body: { account_id: last.accountId } },
    ]);
    const result = await getQueueResult(batch, ctx);
    expect([result.explicitAcks.sort(), result.retryMessages]).toEqual([["m0", "m1", "m2"], []]);
  });

  it("a run that outlasts its lease TTL several times keeps it by heartbeat: a second run is held, not overlapping", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    // Each of the 3 creates takes 400 ms against a 500 ms lease: about 2.5 TTLs of writing.
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/`,
      delay_ms: 400,
      times: 3,
    });
    const deps = createReconcileDeps(env);
    const short = { ...deps, config: { ...deps.config, leaseTtlMs: 500 } };
    const first = reconcileAccount(short, accountId, "api");
    const seconds = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 350));
      seconds.push((await reconcileAccount(short, accountId, "api")).status);
    }
    const done = await first;
    if (done.status !== "done") {
      throw new Error(done.status);
    }
    expect([seconds, done.run.outcome, done.run.counts.applied]).toEqual([
      ["held", "held", "held"],
      "succeeded",
      3,
    ]);
    expect(await writesOf(accountId, 0)).toEqual([
      "POST /cfd_tunnel 200",
      "POST /teamnet/routes 200",
      "POST /teamnet/routes 200",
    ]);
  });

  it("a run whose lease expired before it writes sends no write and records why", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    const deps = createReconcileDeps(env);
    const outcome = await reconcileAccount(
      { ...deps, config: { ...deps.config, leaseTtlMs: 1 } },
      accountId,
      "api",
    );
    if (outcome.status !== "done") {
      throw new Error(outcome.status);
    }
    expect(outcome.run.outcome).toBe("partial");
    expect(outcome.run.errors).toEqual([
      {
        kind: null,
        key: null,
        message: `the lease (fencing token ${outcome.run.fencingToken}) was lost; remaining actions left to the next run`,
        retryable: true,
      },
    ]);
    expect(await writesOf(accountId, 0)).toEqual([]);
  });
});

describe("run history", () => {
  it("keeps the newest runs per account and drops runs past the retention age", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const deps = createReconcileDeps(env);
    const keepTwo = { ...deps, config: { ...deps.config, runsKeptPerAccount: 2 } };
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const outcome = await reconcileAccount(keepTwo, accountId, "cron");
      ids.push(outcome.status === "done" ? outcome.run.id : outcome.status);
    }
    const listed = async () =>
      (await get<{ items: { id: string }[] }>(`${base}/runs`)).body.items.map((r) => r.id);
    expect(await listed()).toEqual([ids[2], ids[1]]);

    const young = { ...deps, config: { ...deps.config, runRetentionMs: 1 } };
    const last = await reconcileAccount(young, accountId, "cron");
    expect(await listed()).toEqual([last.status === "done" ? last.run.id : last.status]);
  });
});

describe("observe mode", () => {
  it("records drift without writing, and marks the object drifted", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const ids = await describeNetwork(base);
    await post(`${base}/reconcile`);
    await call("PATCH", base, { body: { mode: "observe" } });
    const routes = (
      await sdk().zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
    ).result;
    await sdk().zeroTrust.networks.routes.delete(
      routes.find((r) => r.network === "10.0.0.0/8")?.id ?? "",
      { account_id: accountId },
    );
    const since = await lastSeq(accountId);

    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.drift).toEqual([
      { kind: "tunnel_route", key: ids.wide.id, reason: "missing in Cloudflare" },
    ]);
    expect(run.body.actions.map((a) => [a.op, a.outcome])).toEqual([["create", "planned"]]);
    expect(await writesOf(accountId, since)).toEqual([]);
    expect(
      (await get<{ status: { state: string } }>(`${base}/routes/${ids.wide.id}`)).body.status.state,
    ).toBe("drifted");
  });
});

describe("dead letters", () => {
  it("stores what the dead-letter queue receives, lists it newest first and re-drives it", async ({
    expect,
  }) => {
    const accounts = [newAccountId(), newAccountId()];
    const ids = accounts.map((a) => `dl-${a}`);
    const sentAt = new Date("2026-12-01T10:00:00.000Z");
    const batch = createMessageBatch<ReconcileMessage>(
      "tunnelplane-reconcile-dlq",
      accounts.map((account_id, i) => ({
        id: ids[i] ?? "",
        timestamp: sentAt,
        attempts: 4,
        body: { account_id },
      })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);

    type Letter = { id: string; account_id: string; attempts: number; sent_at: string };
    const listed = await get<{ items: (Letter & { dead_lettered_at: string })[] }>(
      "/v1/reconcile/dead-letters",
    );
    expect(
      listed.body.items
        .map(({ dead_lettered_at: _at, ...letter }) => letter)
        .sort((a, b) => a.id.localeCompare(b.id)),
    ).toEqual(
      accounts
        .map((account_id, i) => ({
          id: ids[i],
          account_id,
          attempts: 4,
          sent_at: sentAt.toISOString(),
        }))
        .sort((a, b) => (a.id ?? "").localeCompare(b.id ?? "")),
    );

    const redriven = await post<Letter>(`/v1/reconcile/dead-letters/${ids[0]}/redrive`);
    expect([redriven.status, redriven.body.account_id]).toEqual([202, accounts[0]]);
    const { queue, sent } = recordingQueue();
    const letter = await redriveDeadLetter({ ...createReconcileDeps(env), queue }, ids[1] ?? "");
    expect([letter?.accountId, sent]).toEqual([
      accounts[1],
      [{ body: { account_id: accounts[1] } }],
    ]);
    expect((await get<{ items: Letter[] }>("/v1/reconcile/dead-letters")).body.items).toEqual([]);
    const again = await post(`/v1/reconcile/dead-letters/${ids[0]}/redrive`);
    expect([again.status, problemOf(again).detail]).toEqual([404, `No dead letter ${ids[0]}.`]);
  });
});

interface AccountBody {
  token_problems: {
    permission: string;
    permission_groups: string[];
    request: string;
    detail: string;
    met_by: string;
    run_id: string | null;
    detected_at: string;
  }[];
}

describe("a token without a permission", () => {
  it("a token without Zero Trust reconciles tunnels and routes, sends nothing of Zero Trust, and names Zero Trust: Edit on the run and the account", async ({
    expect,
  }) => {
    const apiToken = await tokenWith(["Cloudflare Tunnel Write"]);
    const { accountId, base } = await seedAccount(expect, { apiToken });
    await describeNetwork(base);
    await post(`${base}/policies`, {
      name: "Allow db",
      action: "allow",
      precedence: 100,
      destinations: ["10.128.0.7"],
    });

    const run = await post<RunBody>(`${base}/reconcile`);
    const detail =
      "the API token lacks Zero Trust: Edit (Cloudflare answered 403 / 10000 to GET devices/policies)";
    expect([run.body.outcome, run.body.counts.applied, run.body.counts.failed]).toEqual([
      "partial",
      3,
      1,
    ]);
    expect(run.body.errors).toEqual([
      { kind: null, key: null, message: detail, retryable: false, permission: "Zero Trust: Edit" },
      expect.objectContaining({ kind: "network_policy", message: `not sent: ${detail}` }),
    ]);
    const calls = await callsOf(accountId);
    expect(
      calls
        .filter((c) => c.status === 403)
        .map((c) => `${c.method} ${c.path.replace(`/client/v4/accounts/${accountId}/`, "")}`)
        .sort(),
    ).toEqual([
      "GET devices/policies",
      "GET devices/settings",
      "GET gateway/rules",
      "GET zerotrust/connectivity_settings",
    ]);
    expect(await writesOf(accountId, 0)).toEqual([
      "POST /cfd_tunnel 200",
      "POST /teamnet/routes 200",
      "POST /teamnet/routes 200",
    ]);
    const account = await get<AccountBody>(base);
    expect(account.body.token_problems).toEqual([
      {
        permission: "Zero Trust: Edit",
        permission_groups: ["Zero Trust Write"],
        request: "GET devices/policies",
        detail,
        met_by: "run",
        run_id: run.body.id,
        detected_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    ]);
    const policies = await get<{ items: { status: { state: string; last_error: string } }[] }>(
      `${base}/policies`,
    );
    expect(policies.body.items.map((p) => [p.status.state, p.status.last_error])).toEqual([
      ["error", `not sent: ${detail}`],
    ]);

    // The permission granted, the next run converges and the problem is gone.
    await control("/tokens", "PUT", {
      token: apiToken,
      permission_groups: ["Cloudflare Tunnel Write", "Zero Trust Write"],
    });
    const next = await post<RunBody>(`${base}/reconcile`);
    expect([next.body.outcome, next.body.counts.applied, next.body.errors]).toEqual([
      "succeeded",
      1,
      [],
    ]);
    expect((await get<AccountBody>(base)).body.token_problems).toEqual([]);
  });

  it("a refused write stops that permission's writes for the run; a new token clears the problem until the next run", async ({
    expect,
  }) => {
    const apiToken = await tokenWith(["Cloudflare Tunnel Write", "Zero Trust Read"]);
    const { accountId, base } = await seedAccount(expect, { mode: "observe", apiToken });
    for (const [name, precedence] of [
      ["Allow db", 100],
      ["Allow web", 200],
    ] as const) {
      await post(`${base}/policies`, {
        name,
        action: "allow",
        precedence,
        destinations: ["10.0.0.1"],
      });
    }
    // Observing needs only Read: no problem.
    const observed = await post<RunBody>(`${base}/reconcile`);
    expect([observed.body.outcome, observed.body.errors]).toEqual(["succeeded", []]);
    expect((await get<AccountBody>(base)).body.token_problems).toEqual([]);

    const enforce = await call("PATCH", base, {
      body: { mode: "enforce" },
      headers: { "if-match": '"1"' },
    });
    expect(enforce.status).toBe(200);
    const run = await post<RunBody>(`${base}/reconcile`);
    const detail =
      "the API token lacks Zero Trust: Edit (Cloudflare answered 403 / 10000 to POST gateway/rules)";
    expect(run.body.errors.map((e) => [e.key === null, e.message, e.permission])).toEqual([
      [true, detail, "Zero Trust: Edit"],
      [false, detail, undefined],
      [false, `not sent: ${detail}`, undefined],
    ]);
    expect(await writesOf(accountId, 0)).toEqual(["POST /gateway/rules 403"]);
    expect((await get<AccountBody>(base)).body.token_problems.map((p) => p.request)).toEqual([
      "POST gateway/rules",
    ]);

    const renewed = await call("PATCH", base, {
      body: { api_token: "another-cloudflare-api-token-0123456789abcdef" },
      headers: { "if-match": '"2"' },
    });
    expect((renewed.body as AccountBody).token_problems).toEqual([]);
  });
});

describe("lists that ignore page", () => {
  it("stops on the second call with a clear error instead of reading page 1 forever, and keeps no item twice", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const cf = sdk();
    const tunnel = await cf.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "dc1",
      config_src: "cloudflare",
    });
    for (const network of ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]) {
      await cf.zeroTrust.networks.routes.create({
        account_id: accountId,
        network,
        tunnel_id: tunnel.id ?? "",
      });
    }
    const client = createCloudflareClient(
      "test-token",
      { baseUrl: "http://emulator/client/v4", fetcher: emulator() },
      new SubrequestBudget(100),
    );
    const listRoutes = () =>
      listAllPages(
        "teamnet/routes",
        2,
        (page) =>
          client.zeroTrust.networks.routes.list({
            account_id: accountId,
            is_deleted: false,
            per_page: 2,
            page,
          }),
        (r) => r.id,
      );
    const routeLists = async (since: number) =>
      (await callsOf(accountId, since))
        .filter((c) => c.path.endsWith("/teamnet/routes") && c.method === "GET")
        .map((c) => new URLSearchParams(c.query).get("page"));

    const before = await lastSeq(accountId);
    expect((await listRoutes()).map((r) => r.network)).toEqual([
      "10.1.0.0/16",
      "10.2.0.0/16",
      "10.3.0.0/16",
    ]);
    // A list that pages: 3 routes in pages of 2, stopped by total_count.
    expect(await routeLists(before)).toEqual(["1", "2"]);

    await control("/behaviour", "PUT", {
      account_id: accountId,
      behaviour: { ignore_page: ["teamnet/routes"] },
    });
    const ignoring = await lastSeq(accountId);
    const failure = await listRoutes().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RepeatedPageError);
    expect((failure as Error).message).toBe(
      "Cloudflare's teamnet/routes list answered page 2 with items of earlier pages (it ignores `page`); listing stopped after 2 calls, the list could not be read whole",
    );
    expect(await routeLists(ignoring)).toEqual(["1", "2"]);
  });

  it("a run on an account whose lists ignore page reads each list once (total_count) and converges", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    await control("/behaviour", "PUT", {
      account_id: accountId,
      behaviour: { ignore_page: ["cfd_tunnel", "tunnels", "teamnet/routes"] },
    });
    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const since = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect([second.body.outcome, second.body.counts.planned]).toEqual(["succeeded", 0]);
    const lists = (await callsOf(accountId, since))
      .filter((c) => /\/(cfd_tunnel|teamnet\/routes)$/.test(c.path))
      .map((c) => `${c.method} ${c.path.replace(`/client/v4/accounts/${accountId}/`, "")}`);
    expect(lists).toEqual(["GET cfd_tunnel", "GET teamnet/routes"]);
  });
});

describe("soft-deleted objects listed next to live ones", () => {
  it("a run whose lists show deleted tunnels, networks and routes next to live ones of the same name recreates the deleted, then converges", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeNetwork(base);
    await post(`${base}/virtual-networks`, { name: "prod" });
    expect((await post<RunBody>(`${base}/reconcile`)).body.counts.applied).toBe(4);
    const cf = sdk();
    const [tunnel] = (await cf.zeroTrust.tunnels.cloudflared.list({ account_id: accountId }))
      .result;
    const prod = (
      await cf.zeroTrust.networks.virtualNetworks.list({ account_id: accountId, name: "prod" })
    ).result[0];
    // Deleted by hand: the tunnel takes its two routes with it.
    await cf.zeroTrust.tunnels.cloudflared.delete(tunnel?.id ?? "", { account_id: accountId });
    await cf.zeroTrust.networks.virtualNetworks.delete(prod?.id ?? "", { account_id: accountId });
    await control("/behaviour", "PUT", {
      account_id: accountId,
      behaviour: { list_deleted: ["cfd_tunnel", "teamnet/virtual_networks", "teamnet/routes"] },
    });

    const run = await post<RunBody>(`${base}/reconcile`);
    expect([run.body.outcome, run.body.counts.applied, run.body.errors]).toEqual([
      "succeeded",
      4,
      [],
    ]);
    const tunnels = await cf.zeroTrust.tunnels.cloudflared.list({
      account_id: accountId,
      is_deleted: false,
    });
    expect(tunnels.result.map((t) => [t.name, t.deleted_at === null])).toEqual([
      ["dc1", false],
      ["dc1", true],
    ]);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect([second.body.outcome, second.body.counts.planned]).toEqual(["succeeded", 0]);
  });
});
