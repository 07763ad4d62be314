/**
 * Assertions: stored policy tests that every desired-state write runs against the would-be state.
 * A write that breaks one is a 422 naming it with its explain trace and stores nothing.
 */
import { describe, it } from "vitest";
import { call, del, get, post, put } from "../helpers/api";
import { mintKey } from "../helpers/keys";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";

interface Stored {
  id: string;
  version: number;
  warnings?: { code: string; message: string }[];
}

const CAN_REACH_DB = {
  name: "user@example.com can reach db over SSH",
  email: "user@example.com",
  destination_ip: "10.128.0.7",
  port: 22,
  expect: "allow",
};

describe("assertions", () => {
  it("a change that would block user@example.com from 10.128.0.7:22 fails with 422 and stores nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const assertion = await post<Stored>(`${base}/assertions`, CAN_REACH_DB);
    expect(assertion.status).toBe(201);
    expect(assertion.body.warnings).toEqual([]);

    const narrowed = await put(`${base}/policies/${ids.allow.id}`, {
      name: "Allow corp.test to db",
      action: "allow",
      precedence: 1000,
      destinations: ["10.128.0.7"],
      email_regex: "^[^@]+@corp\\.test$",
    });
    expect(narrowed.status).toBe(422);
    expect(narrowed.headers.get("content-type")).toBe("application/problem+json");
    expect(narrowed.body).toEqual({
      type: "http://tunnelplane/problems/assertion-failed",
      title: "The change would break an assertion",
      status: 422,
      detail: "The change would break 1 assertion(s); nothing was stored.",
      instance: `${base}/policies/${ids.allow.id}`,
      request_id: expect.any(String),
      errors: [
        {
          pointer: "#",
          detail: `assertion ${assertion.body.id} "user@example.com can reach db over SSH" (user@example.com -> 10.128.0.7:22/tcp, expect allow) would fail: blocked by policy "Block db for everyone else" (precedence 2000), route 10.0.0.0/8 through tunnel dc1`,
          code: "assertion-failed",
        },
      ],
      broken_assertions: [
        {
          id: assertion.body.id,
          name: "user@example.com can reach db over SSH",
          email: "user@example.com",
          destination_ip: "10.128.0.7",
          port: 22,
          protocol: null,
          expect: "allow",
          passed: false,
          verdict: "blocked_by_policy",
          explanation: {
            verdict: "blocked_by_policy",
            summary:
              'blocked by policy "Block db for everyone else" (precedence 2000), route 10.0.0.0/8 through tunnel dc1',
            split_tunnel: {
              profile: "default",
              mode: "exclude",
              through_warp: true,
              entry: null,
              assumed_default: false,
            },
            route: {
              route_id: ids.wide.id,
              network: "10.0.0.0/8",
              tunnel: { id: ids.tunnel.id, name: "dc1", health: "unknown" },
            },
            proxy: { protocol: "tcp", enabled: true, managed: true },
            policy: {
              decision: "block",
              decided_by: {
                id: ids.block.id,
                name: "Block db for everyone else",
                action: "block",
                precedence: 2000,
              },
              trace: [
                {
                  id: ids.allow.id,
                  name: "Allow corp.test to db",
                  action: "allow",
                  precedence: 1000,
                  outcome: "not-matched",
                  reason: {
                    part: "identity",
                    clause: 'identity.email matches "^[^@]+@corp\\.test$"',
                  },
                },
                {
                  id: ids.block.id,
                  name: "Block db for everyone else",
                  action: "block",
                  precedence: 2000,
                  outcome: "matched",
                },
              ],
              unevaluable: [],
            },
          },
        },
      ],
    });

    const policy = await get<Stored & { name: string; email_regex: string }>(
      `${base}/policies/${ids.allow.id}`,
    );
    expect([policy.body.version, policy.body.name, policy.body.email_regex]).toEqual([
      1,
      "Allow example.com to db",
      ".*@example.com",
    ]);
  });

  it("deleting the allow, the route, or excluding 10.0.0.0/8 from WARP is refused the same way", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    await post(`${base}/assertions`, CAN_REACH_DB);

    const verdictOf = (body: unknown) =>
      (body as { broken_assertions: { verdict: string }[] }).broken_assertions.map(
        (b) => b.verdict,
      );
    const deletePolicy = await del(`${base}/policies/${ids.allow.id}`);
    expect([deletePolicy.status, verdictOf(deletePolicy.body)]).toEqual([
      422,
      ["blocked_by_policy"],
    ]);
    const deleteRoute = await del(`${base}/routes/${ids.wide.id}`);
    // Without the route, the auto Exclude list takes 10.0.0.0/8 back: WARP is bypassed first.
    expect([deleteRoute.status, verdictOf(deleteRoute.body)]).toEqual([
      422,
      ["excluded_from_warp"],
    ]);
    const exclude = await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: true,
      entries: [{ address: "10.128.0.0/16" }],
    });
    // With auto, a user exclude over a route is refused by the split tunnel rule itself.
    expect(exclude.status).toBe(422);
    const manual = await put(`${base}/split-tunnels/default`, {
      mode: "include",
      auto: false,
      entries: [{ address: "172.31.0.0/16" }],
    });
    expect([manual.status, verdictOf(manual.body)]).toEqual([422, ["excluded_from_warp"]]);
    const proxy = await put(`${base}/proxy-settings`, { tcp: false, udp: true, icmp: true });
    expect([proxy.status, verdictOf(proxy.body)]).toEqual([422, ["proxy_off"]]);

    expect((await get(`${base}/policies/${ids.allow.id}`)).status).toBe(200);
    expect((await get(`${base}/routes/${ids.wide.id}`)).status).toBe(200);
    expect((await get<{ mode: string }>(`${base}/split-tunnels/default`)).body.mode).toBe(
      "exclude",
    );
    expect((await get<{ tcp: boolean }>(`${base}/proxy-settings`)).body.tcp).toBe(true);
    // A change that keeps the assertion passing goes through.
    const harmless = await put(`${base}/proxy-settings`, { tcp: true, udp: false, icmp: true });
    expect(harmless.status).toBe(200);
  });

  it("run reports every assertion; one that fails already warns on create and blocks nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const reach = await post<Stored>(`${base}/assertions`, CAN_REACH_DB);
    const denied = await post<Stored>(`${base}/assertions`, {
      email: "someone@other.test",
      destination_ip: "10.128.0.7",
      port: 22,
      expect: "deny",
    });
    const wrong = await post<Stored>(`${base}/assertions`, {
      email: "someone@other.test",
      destination_ip: "192.0.2.10",
      protocol: "icmp",
      expect: "allow",
    });
    expect(wrong.body.warnings).toEqual([
      {
        code: "assertion-fails-now",
        message:
          "The assertion fails on the desired state as it is: no route in the default virtual network contains 192.0.2.10",
      },
    ]);
    const run = await post<{
      passed: number;
      failed: number;
      results: { id: string; name: string; passed: boolean; verdict: string }[];
    }>(`${base}/assertions/run`);
    expect(run.status).toBe(200);
    expect({
      passed: run.body.passed,
      failed: run.body.failed,
      results: run.body.results.map(({ id, name, passed, verdict }) => ({
        id,
        name,
        passed,
        verdict,
      })),
    }).toEqual({
      passed: 2,
      failed: 1,
      results: [
        { id: reach.body.id, name: CAN_REACH_DB.name, passed: true, verdict: "allowed" },
        {
          id: denied.body.id,
          name: "someone@other.test -> 10.128.0.7:22 deny",
          passed: true,
          verdict: "blocked_by_policy",
        },
        {
          id: wrong.body.id,
          name: "someone@other.test -> 192.0.2.10 allow",
          passed: false,
          verdict: "not_routed",
        },
      ],
    });
    // The failing assertion was failing before, so it does not block an unrelated write.
    const rename = await put(`${base}/policies/${ids.block.id}`, {
      name: "Block the db",
      action: "block",
      precedence: 2000,
      destinations: ["10.128.0.7"],
    });
    expect(rename.status).toBe(200);
    // Opening the db to everyone breaks the deny assertion.
    const open = await del(`${base}/policies/${ids.block.id}`);
    expect(open.status).toBe(422);
    expect((open.body as { errors: { detail: string }[] }).errors.map((e) => e.detail)).toEqual([
      `assertion ${denied.body.id} "someone@other.test -> 10.128.0.7:22 deny" (someone@other.test -> 10.128.0.7:22/tcp, expect deny) would fail: allowed: no network policy matches (Gateway's default is allow), route 10.0.0.0/8 through tunnel dc1`,
    ]);
  });

  it("a write re-runs only the assertions it can affect, within the work_units budget", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    expect((await post(`${base}/assertions`, CAN_REACH_DB)).status).toBe(201);
    // A budget no re-run fits in: only writes that cannot affect 10.128.0.7 get through.
    const lowered = await call("PATCH", base, { body: { limits: { work_units: 1 } } });
    expect(lowered.status).toBe(200);
    const unaffected = [
      await post(`${base}/routes`, { network: "192.168.77.0/24", tunnel_id: ids.tunnel.id }),
      await post(`${base}/policies`, {
        name: "Block the lab",
        action: "block",
        precedence: 3000,
        destinations: ["172.16.0.0/12"],
      }),
      await post(`${base}/enrollment-rules`, { name: "staff", email_domains: ["example.com"] }),
    ];
    expect(unaffected.map((r) => r.status)).toEqual([201, 201, 201]);
    const affected = await post(`${base}/routes`, {
      network: "10.128.0.0/16",
      tunnel_id: ids.tunnel.id,
    });
    // Selector units: the allow 3 (policy, destination, regex), the two blocks 2 each; twice
    // (before and after), 40 work units each.
    expect(affected.status).toBe(422);
    expect(affected.body).toEqual({
      type: "http://tunnelplane/problems/limit-exceeded",
      title: "The account's quota does not allow this",
      status: 422,
      detail: `Re-running the 1 assertion(s) this write can affect, before and after it, needs 560 work_units and the account's limit is 1; an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"work_units": 560}}.`,
      instance: `${base}/routes`,
      request_id: expect.any(String),
      limit: "work_units",
      maximum: 1,
      current: 0,
      requested: 560,
    });
    const everyone = await post(`${base}/policies`, {
      name: "Block everything",
      action: "block",
      precedence: 4000,
      destinations: [],
    });
    expect(everyone.status).toBe(422);
    expect((await call("PATCH", base, { body: { limits: null } })).status).toBe(200);
    expect(
      (await post(`${base}/routes`, { network: "10.128.0.0/16", tunnel_id: ids.tunnel.id })).status,
    ).toBe(201);
  });

  it("a write over one route among many is decided on the routes there, and refused with the whole list's entry", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const tunnel = (await post<Stored>(`${base}/tunnels`, { name: "dc1" })).body.id;
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
    await put(`${base}/split-tunnels/default`, { mode: "include", auto: true });
    for (const network of ["10.0.0.0/24", "10.0.1.0/24", "10.9.0.0/16"]) {
      await post(`${base}/routes`, { network, tunnel_id: tunnel });
    }
    const assertion = await post<Stored>(`${base}/assertions`, {
      name: "alice reaches 10.0.1.7 over SSH",
      email: "alice@example.com",
      destination_ip: "10.0.1.7",
      port: 22,
      expect: "allow",
    });
    expect(assertion.body.warnings).toEqual([]);
    const over = await post(`${base}/routes`, { network: "10.0.1.0/28", tunnel_id: tunnel });
    expect(over.status).toBe(201);

    const blocked = await post<{
      broken_assertions: { id: string; explanation: { split_tunnel: unknown } }[];
    }>(`${base}/policies`, {
      name: "Block 10.0.1.7",
      action: "block",
      precedence: 10,
      destinations: ["10.0.1.7"],
    });
    expect(blocked.status).toBe(422);
    // The Include list merges the two /24s: the guard's own state, holding only the routes
    // containing 10.0.1.7, would name 10.0.1.0/24.
    expect(blocked.body.broken_assertions.map((b) => [b.id, b.explanation.split_tunnel])).toEqual([
      [
        assertion.body.id,
        {
          profile: "default",
          mode: "include",
          through_warp: true,
          entry: { address: "10.0.0.0/23", description: "" },
          assumed_default: false,
        },
      ],
    ]);
  });

  it("validates assertions with pointers and the planner ignores them", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    await describeSeedScenario(base);
    const bad = await post(`${base}/assertions`, {
      email: "not-an-email",
      destination_ip: "10.0.0.0/8",
      port: 70000,
      expect: "maybe",
    });
    expect(bad.status).toBe(422);
    expect(
      (bad.body as { errors: { pointer: string; code: string }[] }).errors.map((e) => [
        e.pointer,
        e.code,
      ]),
    ).toEqual([
      ["#/email", "invalid-format"],
      ["#/destination_ip", "invalid-ip"],
      ["#/port", "too-big"],
      ["#/expect", "invalid-value"],
    ]);
    await post(`${base}/assertions`, CAN_REACH_DB);
    const run = await post<{ counts: { planned: number } }>(`${base}/reconcile`);
    expect(run.body.counts.planned).toBe(7);
    const plan = await post<{ actions: unknown[] }>(`${base}/plan`);
    expect(plan.body.actions).toEqual([]);
  });

  it("a grant that would open what an assertion keeps shut is refused at request and at approval", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    const ticketing = await mintKey(expect, "ticketing", [accountId], "servicenow");
    const grant = {
      ticket: { system: "ServiceNow", id: "CHG7" },
      subject_email: "someone@other.test",
      destinations: ["10.128.0.7"],
      ports: [22],
      protocols: ["tcp"],
      reason: "debugging",
      duration_s: 3600,
    };
    const waiting = await call<Stored>("POST", `${base}/grants`, {
      body: grant,
      key: ticketing.secret,
    });
    expect(waiting.status).toBe(201);
    const shut = await post<Stored>(`${base}/assertions`, {
      name: "outsiders never reach db",
      email: "someone@other.test",
      destination_ip: "10.128.0.7",
      port: 22,
      expect: "deny",
    });
    expect(shut.status).toBe(201);

    const approve = await post(`${base}/grants/${waiting.body.id}/approve`, { reason: "ok" });
    expect([approve.status, (approve.body as { type: string }).type]).toEqual([
      422,
      "http://tunnelplane/problems/assertion-failed",
    ]);
    expect((await get<{ state: string }>(`${base}/grants/${waiting.body.id}`)).body.state).toBe(
      "requested",
    );

    const again = await post(`${base}/grants`, {
      ...grant,
      ticket: { system: "ServiceNow", id: "CHG8" },
    });
    expect(again.status).toBe(422);
    const grants = await get<{ items: { ticket: { id: string } }[] }>(`${base}/grants`);
    expect(grants.body.items.map((g) => g.ticket.id)).toEqual(["CHG7"]);
  });
});
