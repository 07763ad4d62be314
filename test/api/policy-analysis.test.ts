/**
 * Static analysis of the desired policies (stable codes, exact findings) and the access delta
 * the plan reports for policy changes.
 */
import { describe, it } from "vitest";
import { get, post, put } from "../helpers/api";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";
import type { Created } from "../helpers/wire";

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
            '"Allow alice to db over SSH" (3000) never matches: "Allow example.com to db" (1000) matches everything it does first',
          policy_id: alice,
          related_policy_ids: [ids.allow.id],
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
            '"Allow SSH anywhere" (5000) never matches: "Block everything" (4000) matches everything it does first',
          policy_id: ssh,
          related_policy_ids: [catchAll],
        },
      ],
      limits: [
        { resource: "network_policies", used: 7, limit: 500 },
        { resource: "tunnels", used: 1, limit: 1000 },
        { resource: "routes", used: 2, limit: 1000 },
        { resource: "access_apps", used: 0, limit: 500 },
        { resource: "access_policies", used: 0, limit: 500 },
      ],
    });
  });
});

describe("plan access delta", () => {
  it("names who gains and who loses access when a policy changes", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    await post(`${base}/reconcile`);
    const unchanged = await post<{ access_delta: unknown }>(`${base}/plan`);
    expect(unchanged.body.access_delta).toEqual({ changes: [], probes: 0, truncated: false });

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
    expect(plan.body.access_delta).toEqual({
      changes: [
        {
          subject: "email:contractor@other.test",
          email: "contractor@other.test",
          groups: [],
          destination: "10.128.0.7/32",
          port: null,
          protocol: "tcp",
          change: "gains",
          decided_by: "Allow example.com to db",
        },
        {
          subject: "lookalike:user@example.com",
          email: "user@example.com.lookalike.invalid",
          groups: [],
          destination: "10.128.0.7/32",
          port: null,
          protocol: "tcp",
          change: "loses",
          decided_by: "Block db for everyone else",
        },
      ],
      // Subjects: the email, the regexes' shared sample and its look-alike, everyone else; one
      // destination, one (unnamed) port, tcp.
      probes: 4,
      truncated: false,
    });
  });
});
