/**
 * Static analysis of the desired policies (stable codes, exact findings), the access delta the
 * plan reports for policy changes, and who-can-reach / reachable-by, all on the exact engine.
 */
import { describe, it } from "vitest";
import { call, get, post, put } from "../helpers/api";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";
import type { Created } from "../helpers/wire";

interface Problem {
  errors?: { pointer: string; detail: string; code: string }[];
  limit?: string;
  maximum?: number;
  requested?: number;
}

describe("policy analysis", () => {
  it("finds shadowed policies, allows partly blocked first and a catch-all above other rules", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const create = async (body: Record<string, unknown>) =>
      (await post<Created>(`${base}/policies`, body)).body.id;
    const alice = await create({
      name: "Allow alice to db over SSH",
      action: "allow",
      precedence: 3000,
      destinations: ["10.128.0.7/32"],
      ports: [22],
      emails: ["alice@example.com"],
    });
    const contractors = await create({
      name: "Block contractors from 10/8",
      action: "block",
      precedence: 500,
      destinations: ["10.0.0.0/8"],
      groups: ["Contractors"],
    });
    const catchAll = await create({ name: "Block everything", action: "block", precedence: 4000 });
    const ssh = await create({
      name: "Allow SSH anywhere",
      action: "allow",
      precedence: 5000,
      ports: [22],
    });
    await create({ name: "Disabled", action: "block", precedence: 4500, enabled: false });

    const analysis = await get(`${base}/policies/analysis`);
    expect(analysis.status).toBe(200);
    expect(analysis.body).toEqual({
      // An example.com address in Contractors is a class of its own: the contractors' block
      // takes the database from it before the example.com allow, and from alice before her own.
      findings: [
        {
          code: "allow-partly-blocked",
          severity: "warning",
          message:
            'part of what "Allow example.com to db" (1000) allows is blocked first by "Block contractors from 10/8" (500)',
          policy_id: ids.allow.id,
          related_policy_ids: [contractors],
        },
        {
          code: "shadowed-policy",
          severity: "warning",
          message:
            '"Allow alice to db over SSH" (3000) never matches: "Block contractors from 10/8" (500), "Allow example.com to db" (1000) match everything it does first',
          policy_id: alice,
          related_policy_ids: [contractors, ids.allow.id],
        },
        {
          code: "catch-all-above-specific",
          severity: "warning",
          message:
            '"Block everything" (4000) matches any destination, port and protocol and sits above 1 policies',
          policy_id: catchAll,
          related_policy_ids: [ssh],
        },
        {
          code: "shadowed-policy",
          severity: "warning",
          message:
            '"Allow SSH anywhere" (5000) never matches: "Block contractors from 10/8" (500), "Allow example.com to db" (1000), "Block db for everyone else" (2000), "Block everything" (4000) match everything it does first',
          policy_id: ssh,
          related_policy_ids: [contractors, ids.allow.id, ids.block.id, catchAll],
        },
      ],
      limits: [
        { resource: "network_policies", used: 7, limit: 500 },
        { resource: "tunnels", used: 1, limit: 1000 },
        { resource: "routes", used: 2, limit: 1000 },
        { resource: "access_apps", used: 0, limit: 500 },
        { resource: "access_policies", used: 0, limit: 500 },
      ],
      // No run has read the account: no shared rule is known.
      shared_rules_observed_at: null,
    });
  });
});

describe("plan access delta", () => {
  it("names who gains and who loses access when a policy changes", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    await post(`${base}/reconcile`);
    const unchanged = await post<{ access_delta: unknown }>(`${base}/plan`);
    expect(unchanged.body.access_delta).toEqual({
      changes: [],
      atoms: 0,
      classes: 0,
      work_units: 0,
    });

    await put(`${base}/policies/${ids.allow.id}`, {
      name: "Allow example.com to db",
      action: "allow",
      precedence: 1000,
      destinations: ["10.128.0.7"],
      emails: ["contractor@other.test"],
      email_regex: "^[^@]+@example\\.com$",
    });
    const plan = await post<{ actions: { op: string; key: string }[]; access_delta: unknown }>(
      `${base}/plan`,
    );
    expect(plan.body.actions.map((a) => [a.op, a.key])).toEqual([["update", ids.allow.id]]);
    const allow = {
      id: ids.allow.id,
      name: "Allow example.com to db",
      action: "allow",
      precedence: 1000,
    };
    const block = {
      id: ids.block.id,
      name: "Block db for everyone else",
      action: "block",
      precedence: 2000,
    };
    const db = [
      { protocols: ["icmp"], ports: null, destinations: ["10.128.0.7/32"] },
      { protocols: ["tcp", "udp"], ports: ["1-65535"], destinations: ["10.128.0.7/32"] },
    ];
    expect(plan.body.access_delta).toEqual({
      changes: [
        {
          identities: ["email:contractor@other.test"],
          change: "gains",
          traffic: db,
          decided_by: allow,
          previously_decided_by: block,
        },
        // `.*@example.com` also matched look-alikes such as x@example.com.evil.test; the
        // anchored regex does not.
        {
          identities: ["lookalike:.*@example.com"],
          change: "loses",
          traffic: db,
          decided_by: block,
          previously_decided_by: allow,
        },
      ],
      atoms: 3,
      classes: 4,
      // 3 atoms × 4 classes, 18 for the policy evaluations at them and the ranges cut, and 10
      // enumeration steps (5 address kinds tested on 2 leaves).
      work_units: 40,
    });
  });
});

describe("who-can-reach and reachable-by", () => {
  it("lists who may reach the database and by which policy, and what one person may reach", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const staff = (
      await post<Created>(`${base}/policies`, {
        name: "Allow staff SSH to 10.128.0.0/24",
        action: "allow",
        precedence: 500,
        destinations: ["10.128.0.0/24"],
        ports: [22],
        protocols: ["tcp"],
        groups: ["Staff"],
      })
    ).body.id;
    const allowRef = {
      id: ids.allow.id,
      name: "Allow example.com to db",
      action: "allow",
      precedence: 1000,
      grant_id: null,
      private_app_id: null,
    };
    const staffRef = {
      id: staff,
      name: "Allow staff SSH to 10.128.0.0/24",
      action: "allow",
      precedence: 500,
      grant_id: null,
      private_app_id: null,
    };
    const who = await post(`${base}/who-can-reach`, {
      destination_ip: "10.128.0.7",
      port: 22,
    });
    expect(who.status).toBe(200);
    expect(who.body).toEqual({
      destination: "10.128.0.7/32",
      port: 22,
      protocol: null,
      allowed: [
        {
          identities: ["regex:.*@example.com", "lookalike:.*@example.com"],
          traffic: [{ protocols: ["tcp", "udp"], ports: ["22"], destinations: ["10.128.0.7/32"] }],
          allowed_by: allowRef,
        },
        // An example.com address in Staff: Staff's policy first over TCP, example.com's over UDP.
        {
          identities: [
            "regex:.*@example.com + group:Staff",
            "lookalike:.*@example.com + group:Staff",
          ],
          traffic: [{ protocols: ["tcp"], ports: ["22"], destinations: ["10.128.0.7/32"] }],
          allowed_by: staffRef,
        },
        {
          identities: [
            "regex:.*@example.com + group:Staff",
            "lookalike:.*@example.com + group:Staff",
          ],
          traffic: [{ protocols: ["udp"], ports: ["22"], destinations: ["10.128.0.7/32"] }],
          allowed_by: allowRef,
        },
        {
          identities: ["group:Staff"],
          traffic: [{ protocols: ["tcp"], ports: ["22"], destinations: ["10.128.0.7/32"] }],
          allowed_by: staffRef,
        },
      ],
      // tcp/22 and udp/22; classes: the regex (and its look-alike), the same in Staff, Staff,
      // everyone else. Work: 2 atoms × 4 classes, 10 for the evaluations and cuts, 16 enumeration
      // steps (4 for the memberships, 6 candidates tested on 2 leaves).
      atoms: 2,
      classes: 4,
      work_units: 34,
    });

    const reach = await post(`${base}/reachable-by`, { email: "Bob@Example.com" });
    expect(reach.status).toBe(200);
    const everywhereBut = (cidrs: string[]) => [
      { protocols: ["icmp"], ports: null, destinations: cidrs },
      { protocols: ["tcp", "udp"], ports: ["1-65535"], destinations: cidrs },
    ];
    const body = reach.body as {
      allowed: { allowed_by: unknown; traffic: { destinations: string[] }[] }[];
    };
    expect(body.allowed.map((a) => a.allowed_by)).toEqual([null, allowRef]);
    expect(body.allowed[1]?.traffic).toEqual(everywhereBut(["10.128.0.7/32"]));
    expect(body.allowed[0]?.traffic.map((t) => t.destinations.includes("10.128.0.7/32"))).toEqual([
      false,
      false,
    ]);
  });

  it("refuses two destinations, a port on ICMP, and work past the account's budget", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    await describeSeedScenario(base);
    const both = await post<Problem>(`${base}/who-can-reach`, {
      destination_ip: "10.128.0.7",
      cidr: "10.0.0.0/8",
    });
    const icmpPort = await post<Problem>(`${base}/who-can-reach`, {
      cidr: "10.0.0.0/8",
      port: 22,
      protocol: "icmp",
    });
    expect([both.status, both.body.errors, icmpPort.status, icmpPort.body.errors]).toEqual([
      422,
      [
        {
          pointer: "#/destination_ip",
          detail: "give exactly one of destination_ip or cidr",
          code: "one-destination",
        },
      ],
      422,
      [{ pointer: "#/port", detail: "an ICMP connection has no port", code: "icmp-port" }],
    ]);
    expect((await call("PATCH", base, { body: { limits: { work_units: 5 } } })).status).toBe(200);
    // Rendering the two policies for the engine (5 selector units × 40) is refused first.
    const refused = await post<Problem>(`${base}/who-can-reach`, { cidr: "10.128.0.0/24" });
    expect([
      refused.status,
      refused.body.limit,
      refused.body.maximum,
      refused.body.requested,
    ]).toEqual([422, "work_units", 5, 200]);
  });
});
