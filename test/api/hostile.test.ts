/**
 * Hostile inputs: every request is bounded. Oversized fields are refused before anything costly
 * runs, error answers stay short, quotas refuse writes before they are stored, and requests over
 * the account's work budget are refused (or cut) instead of running for minutes. Timings are
 * measured in bench/hostile.bench.ts, not here.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { createDb } from "../../src/db/client";
import { insertObject } from "../../src/db/desired-objects.repo";
import { policyAtLimits } from "../fixtures/wide-policies";
import { call, get, post } from "../helpers/api";
import { problemOf } from "../helpers/problems";
import { seedAccount } from "../helpers/seed";

interface Problem {
  type: string;
  detail: string;
  errors?: { pointer?: string; detail: string; code: string }[];
  [extension: string]: unknown;
}

const patch = (path: string, body: unknown) => call("PATCH", path, { body });

describe("validation checks sizes first", () => {
  it("refuses a 1 MB email regex by its length alone, without compiling it", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const response = await post<Problem>(`${base}/policies`, {
      name: "huge regex",
      action: "allow",
      email_regex: `(${"a".repeat(1_000_000)}`,
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([
      {
        pointer: "#/email_regex",
        detail: "Too big: expected string to have <=1024 characters",
        code: "too-big",
      },
    ]);
  });

  it("refuses a short regex whose counted repetitions unroll past 1,000 atoms", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const response = await post<Problem>(`${base}/policies`, {
      name: "costly regex",
      action: "allow",
      email_regex: "(ab|cd){1000}",
    });
    expect(response.status).toBe(422);
    expect(response.body.errors?.map((e) => [e.pointer, e.code])).toEqual([
      ["#/email_regex", "regex-too-complex"],
    ]);
  });

  it("lists 100 of 90,000 unknown fields and says how many there were", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const body: Record<string, unknown> = { name: "many keys", action: "allow" };
    for (let i = 0; i < 90_000; i++) {
      body[`k${i}`] = 0;
    }
    const response = await post<Problem>(`${base}/policies`, body);
    expect(response.status).toBe(422);
    expect(response.body.detail).toBe(
      "The request body has 90000 invalid field(s); the first 100 are listed.",
    );
    expect(response.body.errors).toHaveLength(100);
    expect(response.body.errors?.[99]).toEqual({
      pointer: "#/k99",
      detail: 'unknown field "k99"',
      code: "unknown-field",
    });
  });

  it("quotes at most 80 characters of a 1 MB unknown key", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const key = "x".repeat(1_000_000);
    const response = await post<Problem>(`${base}/policies`, {
      name: "long key",
      action: "allow",
      [key]: 1,
    });
    expect(response.status).toBe(422);
    const cut = `${"x".repeat(80)}…`;
    expect(response.body.errors).toEqual([
      { pointer: `#/${cut}`, detail: `unknown field "${cut}"`, code: "unknown-field" },
    ]);
  });

  it("never echoes a 1 MB destination_ip", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const response = await post<Problem>(`${base}/explain`, {
      email: "alice@example.com",
      destination_ip: "1".repeat(1_000_000),
    });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([
      {
        pointer: "#/destination_ip",
        detail: "Too big: expected string to have <=64 characters",
        code: "too-big",
      },
    ]);
  });
});

describe("per-account quotas", () => {
  it("refuses the route past the account's limit before storing it, and a raised limit admits it", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const lowered = await patch(base, { limits: { tunnels: 1 } });
    expect(lowered.status).toBe(200);
    expect((lowered.body as { limits: Record<string, number> }).limits).toEqual({
      routes: 1000,
      network_policies: 500,
      private_apps: 500,
      tunnels: 1,
      virtual_networks: 1000,
      split_tunnel_entries: 1000,
      selector_units: 25_000,
      work_units: 4_000_000,
      event_subscriptions: 20,
    });
    expect((await post(`${base}/tunnels`, { name: "t1" })).status).toBe(201);
    const refused = await post<Problem>(`${base}/tunnels`, { name: "t2" });
    expect(refused.status).toBe(422);
    expect(problemOf(refused)).toEqual({
      type: "http://tunnelplane/problems/limit-exceeded",
      title: "The account's quota does not allow this",
      status: 422,
      detail: `This needs 2 tunnels and the account's limit is 1 (1 in use); an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"tunnels": 2}}.`,
      instance: `${base}/tunnels`,
      limit: "tunnels",
      maximum: 1,
      current: 1,
      requested: 2,
    });
    const listed = await get<{ items: { name: string }[] }>(`${base}/tunnels`);
    expect(listed.body.items.map((t) => t.name)).toEqual(["t1"]);
    expect((await patch(base, { limits: { tunnels: 5000 } })).status).toBe(200);
    expect((await post(`${base}/tunnels`, { name: "t2" })).status).toBe(201);
    const reset = await patch(base, { limits: null });
    expect((reset.body as { limits: { tunnels: number } }).limits.tunnels).toBe(1000);
  });

  it("counts CIDR and hostname routes against one routes quota, and keeps their tunnel", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    expect((await patch(base, { limits: { routes: 2 } })).status).toBe(200);
    const tunnel = (await post<{ id: string }>(`${base}/tunnels`, { name: "t1" })).body.id;
    const cidr = await post<{ id: string }>(`${base}/routes`, {
      network: "10.0.0.0/8",
      tunnel_id: tunnel,
    });
    const named = await post<{ id: string }>(`${base}/hostname-routes`, {
      hostname: "a.internal",
      tunnel_id: tunnel,
    });
    expect([cidr.status, named.status]).toEqual([201, 201]);
    const refused = await post<Problem>(`${base}/hostname-routes`, {
      hostname: "b.internal",
      tunnel_id: tunnel,
    });
    expect([
      refused.status,
      refused.body.limit,
      refused.body.current,
      refused.body.requested,
    ]).toEqual([422, "routes", 2, 3]);
    expect((await call("DELETE", `${base}/routes/${cidr.body.id}`)).status).toBe(204);
    const inUse = await call<Problem>("DELETE", `${base}/tunnels/${tunnel}`);
    expect([inUse.status, problemOf(inUse).detail]).toEqual([
      409,
      `Routes ${named.body.id} use this tunnel; delete or move them first.`,
    ]);
  });

  it("refuses a policy whose selectors take the account past its selector units", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    expect((await patch(base, { limits: { selector_units: 1500 } })).status).toBe(200);
    const destinations = (n: number) =>
      Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const first = await post(`${base}/policies`, {
      name: "a",
      action: "block",
      destinations: destinations(1000),
    });
    expect(first.status).toBe(201);
    const second = await post<Problem>(`${base}/policies`, {
      name: "b",
      action: "block",
      destinations: destinations(500),
    });
    expect(second.status).toBe(422);
    expect([second.body.limit, second.body.current, second.body.requested]).toEqual([
      "selector_units",
      1001,
      1502,
    ]);
  });
});

/** Stores `count` policies at the selector limits straight into D1 (past the API's quota). */
async function seedPoliciesAtLimits(accountId: string, count: number): Promise<void> {
  const db = createDb(env.DB);
  for (let i = 0; i < count; i++) {
    const spec = policyAtLimits(i);
    await insertObject(
      db,
      accountId,
      { kind: "network_policy", id: crypto.randomUUID(), spec, naturalKey: `${spec.precedence}` },
      { name: "test" },
      Date.now(),
    );
  }
}

describe("policies at the selector limits", () => {
  it("150 of them: plan, analysis and explain are refused by the work budget before running", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    await seedPoliciesAtLimits(base.slice("/v1/accounts/".length), 150);
    const refusals = [
      await post<Problem>(`${base}/plan`),
      await get<Problem>(`${base}/policies/analysis`),
      await post<Problem>(`${base}/explain`, {
        email: "alice@example.com",
        destination_ip: "10.3.0.1",
        port: 2010,
      }),
    ];
    expect(
      refusals.map((r) => [r.status, r.body.type, r.body.limit, r.body.maximum, r.body.requested]),
    ).toEqual([
      [422, LIMIT_EXCEEDED, "work_units", 4_000_000, 40 * 150 * 1201],
      [422, LIMIT_EXCEEDED, "work_units", 4_000_000, 40 * 150 * 1201],
      [422, LIMIT_EXCEEDED, "work_units", 4_000_000, EXPLAIN_WORK_AT_LIMITS],
    ]);
  });

  it("10 of them: the plan answers with its exact access delta within the work budget", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await seedPoliciesAtLimits(accountId, 10);
    const plan = await post<{
      access_delta: { atoms: number; classes: number; work_units: number };
    }>(`${base}/plan`);
    expect(plan.status).toBe(200);
    // Atoms: tcp and udp × 100 ports × 10 ranges (each policy's /26s are contiguous); ICMP has
    // no port. Classes: the 100 groups, which every policy names alike, and everyone else.
    expect([plan.body.access_delta.atoms, plan.body.access_delta.classes]).toEqual([2000, 2]);
  });
});

const LIMIT_EXCEEDED = "http://tunnelplane/problems/limit-exceeded";

/**
 * Work units of one explain over 150 policies at the limits: 40 per expression node, 1,205 nodes
 * per policy (the policy, 1,000 destinations, 100 ports, 100 groups and 4 operators).
 */
const EXPLAIN_WORK_AT_LIMITS = 40 * 150 * 1205;
