/**
 * Grants end to end: requested over REST by a ticketing system, decided by approval rules, made
 * into a Gateway allow policy in the emulator by a real reconcile, ended by the account's alarm,
 * revoked without touching overlapping grants (and ahead of a long sweep, which it pre-empts),
 * and reported to a signed callback receiver.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { createReconcileDeps } from "../../src/reconciler/deps";
import { reconcileAccount } from "../../src/reconciler/reconcile-account";
import { call, get, post, put } from "../helpers/api";
import { callsOf, control, lastSeq, sdk } from "../helpers/emulator";
import {
  alarmOf,
  eventually,
  failNext,
  fireAlarmAt,
  hasValidSignature,
  newHook,
  receivedOn,
  setCallbackSecret,
} from "../helpers/grants";
import { seedAccount } from "../helpers/seed";
import type { Created } from "../helpers/wire";

interface GrantBody {
  id: string;
  state: string;
  ends_at: string;
  decision: { by: string; rule_id: string | null; reason: string } | null;
  check: {
    phase: string;
    ok: boolean;
    problems: { code: string; destination: string; message: string }[];
    destinations: unknown[];
  } | null;
  policy: { state: string; precedence: number | null; cloudflare_id: string | null };
  deliveries: {
    event: string;
    status: string;
    attempts: { status_code: number | null; error: string | null }[];
  }[];
}

/** The seed's network: a tunnel, 10.0.0.0/8 and 172.31.0.0/16, auto split tunnel, proxy on, and the block for 10.128.0.7. */
async function seedNetwork(base: string) {
  const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
  await post(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id });
  await post(`${base}/routes`, { network: "172.31.0.0/16", tunnel_id: tunnel.id });
  await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
  await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
  const block = (
    await post<Created>(`${base}/policies`, {
      name: "Block db for everyone else",
      action: "block",
      precedence: 2000,
      destinations: ["10.128.0.7"],
    })
  ).body;
  const run = await post<{ outcome: string }>(`${base}/reconcile`);
  if (run.body.outcome !== "succeeded") {
    throw new Error(`seed reconcile: ${run.body.outcome}`);
  }
  return { tunnel, block };
}

async function contractorRule(base: string) {
  return (
    await post<Created>(`${base}/grant-approval-rules`, {
      name: "Contractors to db",
      effect: "auto_approve",
      max_duration_s: 14_400,
      allowed_destinations: ["10.128.0.0/16"],
      allowed_systems: ["servicenow"],
      subject_email_pattern: "[^@]+@example\\.com",
    })
  ).body;
}

const sshGrant = (ticket: string, extra: Record<string, unknown> = {}) => ({
  ticket: { system: "servicenow", id: ticket },
  subject_email: "contractor@example.com",
  destinations: ["10.128.0.7"],
  ports: [22],
  protocols: ["tcp"],
  reason: "Patch the db host",
  duration_s: 3600,
  ...extra,
});

async function rulesOf(accountId: string) {
  const rules = (await sdk().zeroTrust.gateway.rules.list({ account_id: accountId })).result;
  return rules.map((r) => ({
    name: r.name,
    action: r.action,
    precedence: r.precedence,
    traffic: r.traffic,
    identity: r.identity,
    description: r.description,
  }));
}

const grantPolicy = (grantId: string, precedence: number, ticket: string) => ({
  name: `Grant servicenow ${ticket}: contractor@example.com`,
  action: "allow",
  precedence,
  traffic: 'net.dst.ip in {10.128.0.7} and net.dst.port in {22} and net.protocol in {"tcp"}',
  identity: 'identity.email in {"contractor@example.com"}',
  description: `tunnelplane:${grantId}`,
});

const blockPolicy = (blockId: string) => ({
  name: "Block db for everyone else",
  action: "block",
  precedence: 2000,
  traffic: "net.dst.ip in {10.128.0.7}",
  identity: "",
  description: `tunnelplane:${blockId}`,
});

describe("grants end to end", () => {
  it("the seed's access case: approved by a rule, allowed above the block, gone when the alarm fires at ends_at", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const { tunnel, block } = await seedNetwork(base);
    await setCallbackSecret(base);
    const rule = await contractorRule(base);
    const hook = newHook();

    const created = await call<GrantBody>("POST", `${base}/grants`, {
      body: sshGrant("CHG0031337", { callback_url: hook.url }),
      headers: { "idempotency-key": "chg0031337-1" },
    });
    expect(created.status).toBe(201);
    const grant = created.body;
    const policyName = "Grant servicenow CHG0031337: contractor@example.com";
    expect(grant).toMatchObject({
      state: "active",
      decision: {
        by: "rule",
        rule_id: rule.id,
        reason: 'inside approval rule "Contractors to db"',
      },
      policy: { state: "synced", precedence: 1999 },
      check: {
        phase: "after-activation",
        ok: true,
        problems: [],
        destinations: [
          {
            destination: "10.128.0.7/32",
            route: { network: "10.0.0.0/8", tunnel_id: tunnel.id },
            through_warp: true,
            probe: { ip: "10.128.0.7", port: 22, protocol: "tcp" },
            decision: "allow",
            decided_by: { id: grant.id, name: policyName, precedence: 1999 },
          },
        ],
      },
    });
    expect(await rulesOf(accountId)).toEqual([
      grantPolicy(grant.id, 1999, "CHG0031337"),
      blockPolicy(block.id),
    ]);
    const cloudflareRules = (await sdk().zeroTrust.gateway.rules.list({ account_id: accountId }))
      .result;
    expect(grant.policy.cloudflare_id).toBe(cloudflareRules[0]?.id);

    const probe = {
      email: "contractor@example.com",
      destination_ip: "10.128.0.7",
      port: 22,
      protocol: "tcp",
    };
    for (const state of ["desired", "observed"]) {
      const explained = await post<{
        verdict: string;
        policy: { decision: string; decided_by: { precedence: number; name: string } | null };
      }>(`${base}/explain?state=${state}`, probe);
      expect([state, explained.body.verdict, explained.body.policy.decision]).toEqual([
        state,
        "allowed",
        "allow",
      ]);
      expect(explained.body.policy.decided_by).toMatchObject({
        name: policyName,
        precedence: 1999,
      });
    }

    const endsAtMs = Date.parse(grant.ends_at);
    // The three callbacks so far go out from the alarm the request armed, which then waits for ends_at.
    await eventually(
      () => alarmOf(accountId),
      (atMs) => atMs === endsAtMs,
    );
    expect(await fireAlarmAt(accountId, endsAtMs + 1000)).toBe(true);

    expect(await rulesOf(accountId)).toEqual([blockPolicy(block.id)]);
    const denied = await post<{ verdict: string }>(`${base}/explain?state=observed`, probe);
    expect(denied.body.verdict).toBe("blocked_by_policy");
    const ended = await get<GrantBody>(`${base}/grants/${grant.id}`);
    expect(ended.body).toMatchObject({
      state: "expired",
      policy: { state: "none", precedence: null, cloudflare_id: null },
    });
    const received = await receivedOn(hook.name);
    expect(received.map((r) => JSON.parse(r.body).event)).toEqual([
      "grant.requested",
      "grant.approved",
      "grant.active",
      "grant.expired",
    ]);
    expect(await Promise.all(received.map(hasValidSignature))).toEqual([true, true, true, true]);
    expect(ended.body.deliveries.map((d) => [d.event, d.status, d.attempts.length])).toEqual([
      ["requested", "delivered", 1],
      ["approved", "delivered", 1],
      ["active", "delivered", 1],
      ["expired", "delivered", 1],
    ]);
    const trail = await get<{ items: { event: string; to_state: string; actor: string }[] }>(
      `${base}/grants/${grant.id}/events`,
    );
    expect(trail.body.items.map((e) => [e.event, e.to_state, e.actor])).toEqual([
      ["create", "requested", "bootstrap-admin"],
      ["approve", "approved", `rule:${rule.id}`],
      ["activate", "active", "clock"],
      ["expire", "expired", "clock"],
    ]);

    // Drift repair never brings an ended grant back.
    const again = await post<{ actions: unknown[] }>(`${base}/reconcile`);
    expect(again.body.actions).toEqual([]);
    expect(await rulesOf(accountId)).toEqual([blockPolicy(block.id)]);
  });

  it("a revocation during a long sweep pre-empts it: the grant's policy is gone before the sweep's next writes", {
    timeout: 15_000,
  }, async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const { tunnel } = await seedNetwork(base);
    await contractorRule(base);
    const grant = (await post<GrantBody>(`${base}/grants`, sshGrant("CHG9"))).body;
    expect(grant.policy.state).toBe("synced");
    for (let i = 0; i < 18; i++) {
      await post(`${base}/routes`, { network: `10.${100 + i}.0.0/16`, tunnel_id: tunnel.id });
    }
    const since = await lastSeq(accountId);
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/teamnet/routes`,
      delay_ms: 40,
      times: 18,
    });
    const sweep = reconcileAccount(createReconcileDeps(env), accountId, "cron");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const revoked = await post<GrantBody>(`${base}/grants/${grant.id}/revoke`, { reason: "done" });
    const swept = await sweep;
    if (swept.status !== "done") {
      throw new Error(swept.status);
    }
    expect(revoked.body).toMatchObject({ state: "revoked", policy: { state: "none" } });
    const writes = (await callsOf(accountId, since))
      .filter((c) => c.method !== "GET")
      .map((c) => `${c.method} ${c.path.split("/").slice(5, 7).join("/")}`);
    // The sweep stops at its next reservation of calls; the revocation's run removes the allow
    // first, then carries on with the routes the sweep left.
    const sweptRoutes = swept.run.counts.applied;
    expect(writes).toEqual([
      ...Array(sweptRoutes).fill("POST teamnet/routes"),
      "DELETE gateway/rules",
      ...Array(18 - sweptRoutes).fill("POST teamnet/routes"),
    ]);
    expect([
      sweptRoutes > 0 && sweptRoutes < 18,
      swept.run.continued,
      swept.run.errors.map((e) => e.message),
    ]).toEqual([
      true,
      true,
      ["a revocation waits for the lease: the sweep yields and continues after it"],
    ]);
  });

  it("two overlapping grants: revoking the first keeps the second's access, revoking the second removes it", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const { block } = await seedNetwork(base);
    await contractorRule(base);
    const first = (await post<GrantBody>(`${base}/grants`, sshGrant("CHG1"))).body;
    const second = (await post<GrantBody>(`${base}/grants`, sshGrant("CHG2"))).body;
    expect([first.state, second.state]).toEqual(["active", "active"]);
    expect(await rulesOf(accountId)).toEqual([
      grantPolicy(second.id, 1998, "CHG2"),
      grantPolicy(first.id, 1999, "CHG1"),
      blockPolicy(block.id),
    ]);

    const revoked = await post<GrantBody>(`${base}/grants/${first.id}/revoke`, {
      reason: "work done",
    });
    expect(revoked.body).toMatchObject({ state: "revoked", policy: { state: "none" } });
    expect(await rulesOf(accountId)).toEqual([
      grantPolicy(second.id, 1998, "CHG2"),
      blockPolicy(block.id),
    ]);
    const still = await get<GrantBody>(`${base}/grants/${second.id}`);
    expect(still.body.policy).toMatchObject({ state: "synced", precedence: 1998 });

    await post(`${base}/grants/${second.id}/revoke`, {});
    expect(await rulesOf(accountId)).toEqual([blockPolicy(block.id)]);
  });

  it("a grant activated in enforce mode, then the account switched to observe, then revoked: its allow policy is gone from the emulator", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const { block } = await seedNetwork(base);
    await contractorRule(base);
    const grant = (await post<GrantBody>(`${base}/grants`, sshGrant("CHG7"))).body;
    expect(await rulesOf(accountId)).toEqual([
      grantPolicy(grant.id, 1999, "CHG7"),
      blockPolicy(block.id),
    ]);
    await call("PATCH", base, { body: { mode: "observe" } });

    await post(`${base}/grants/${grant.id}/revoke`, { reason: "access no longer needed" });
    expect(await rulesOf(accountId)).toEqual([blockPolicy(block.id)]);
    const runs = await get<{
      items: {
        mode: string;
        actions: { op: string; key: string; reason: string; outcome: string }[];
      }[];
    }>(`${base}/runs?limit=1`);
    expect(
      runs.body.items.map((r) => [
        r.mode,
        r.actions.map(({ op, key, reason, outcome }) => ({ op, key, reason, outcome })),
      ]),
    ).toEqual([
      [
        "observe",
        [
          {
            op: "delete",
            key: grant.id,
            reason:
              "no longer desired; written in observe mode: removing an ended grant's own allow policy only narrows access",
            outcome: "applied",
          },
        ],
      ],
    ]);
  });

  it("a retried POST with the same Idempotency-Key makes one grant and one policy", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const { block } = await seedNetwork(base);
    await contractorRule(base);
    const send = (body: unknown) =>
      call<GrantBody>("POST", `${base}/grants`, {
        body,
        headers: { "idempotency-key": "ticket-CHG77" },
      });
    const first = await send(sshGrant("CHG77"));
    const retry = await send(sshGrant("CHG77"));
    expect([first.status, retry.status]).toEqual([201, 200]);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
    const other = await send(sshGrant("CHG78"));
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({
      type: "http://tunnelplane/problems/idempotency-key-reused",
    });
    const list = await get<{ items: GrantBody[] }>(`${base}/grants`);
    expect(list.body.items.map((g) => g.id)).toEqual([first.body.id]);
    expect(await rulesOf(accountId)).toEqual([
      grantPolicy(first.body.id, 1999, "CHG77"),
      blockPolicy(block.id),
    ]);
  });

  it("a grant policy deleted out of band is restored while active and not after expiry", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const { block } = await seedNetwork(base);
    await contractorRule(base);
    const grant = (await post<GrantBody>(`${base}/grants`, sshGrant("CHG9"))).body;
    const cf = sdk();
    const deleteGrantRule = async () => {
      const rules = (await cf.zeroTrust.gateway.rules.list({ account_id: accountId })).result;
      const mine = rules.find((r) => r.description === `tunnelplane:${grant.id}`);
      await cf.zeroTrust.gateway.rules.delete(mine?.id ?? "", { account_id: accountId });
    };

    await deleteGrantRule();
    const repair = await post<{ drift: unknown[] }>(`${base}/reconcile`);
    expect(repair.body.drift).toEqual([
      { kind: "network_policy", key: grant.id, reason: "missing in Cloudflare" },
    ]);
    expect(await rulesOf(accountId)).toEqual([
      grantPolicy(grant.id, 1999, "CHG9"),
      blockPolicy(block.id),
    ]);

    expect(await fireAlarmAt(accountId, Date.parse(grant.ends_at))).toBe(true);
    expect(await rulesOf(accountId)).toEqual([blockPolicy(block.id)]);
    const after = await post<{ actions: unknown[]; drift: unknown[] }>(`${base}/reconcile`);
    expect([after.body.actions, after.body.drift]).toEqual([[], []]);
    expect(await rulesOf(accountId)).toEqual([blockPolicy(block.id)]);
  });

  it("a receiver that fails twice gets the callback, signed, once it recovers", async ({
    expect,
  }) => {
    const { base, accountId } = await seedAccount(expect);
    await seedNetwork(base);
    await setCallbackSecret(base);
    const hook = newHook();
    await failNext(hook.name, 2);

    // No rule: the grant waits for an operator, and its `requested` callback is the first one.
    const grant = (
      await post<GrantBody>(`${base}/grants`, sshGrant("CHG5", { callback_url: hook.url }))
    ).body;
    expect(grant.state).toBe("requested");
    const attemptsOf = async () =>
      (await get<GrantBody>(`${base}/grants/${grant.id}`)).body.deliveries.map((d) => [
        d.event,
        d.status,
        d.attempts.map((a) => [a.status_code, a.error]),
      ]);
    const failed = [503, "the receiver did not answer 2xx"];
    expect(await eventually(attemptsOf, (d) => JSON.stringify(d).includes("503"))).toEqual([
      ["requested", "pending", [failed]],
    ]);
    const firstRetryAtMs = await eventually(
      () => alarmOf(accountId),
      (atMs) => atMs !== null && atMs > Date.now() + 20_000,
    );
    expect(await fireAlarmAt(accountId, (firstRetryAtMs ?? 0) + 1_000)).toBe(true);
    const secondRetryAtMs = (await alarmOf(accountId)) ?? 0;
    expect(secondRetryAtMs - (firstRetryAtMs ?? 0)).toBeGreaterThanOrEqual(60_000);
    expect(await fireAlarmAt(accountId, secondRetryAtMs + 1_000)).toBe(true);

    expect(await attemptsOf()).toEqual([["requested", "delivered", [failed, failed, [204, null]]]]);
    const received = await receivedOn(hook.name);
    expect(received.map((r) => JSON.parse(r.body).event)).toEqual(["grant.requested"]);
    expect(await hasValidSignature(received[0] ?? { headers: {}, body: "" })).toBe(true);
  });
});
