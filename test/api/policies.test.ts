/**
 * Network policies through the API: every selector rendered to Gateway's expressions and landed
 * in the emulator, email regex checks, and precedence placement (insert between, move, delete)
 * with exact write counts in tunnelplane and in Cloudflare.
 */
import { describe, it } from "vitest";
import { del, get, post, put } from "../helpers/api";
import { callsOf, lastSeq, sdk } from "../helpers/emulator";
import { seedAccount } from "../helpers/seed";

interface Policy {
  id: string;
  name: string;
  precedence: number;
  version: number;
  warnings: { code: string; message: string }[];
}

const policy = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  action: "block",
  destinations: ["10.9.0.0/16"],
  ...extra,
});

async function rulesOf(accountId: string) {
  const rules = (await sdk().zeroTrust.gateway.rules.list({ account_id: accountId })).result;
  return rules.map((r) => [r.name, r.precedence]);
}

describe("network policy selectors", () => {
  it("renders groups, posture, port ranges and description, lands them in Cloudflare and converges", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const created = await post<Policy & Record<string, unknown>>(`${base}/policies`, {
      name: "Contractors to build farm",
      action: "allow",
      precedence: 500,
      destinations: ["10.20.0.0/16", "10.1.2.3"],
      ports: ["8000-8099", 22],
      protocols: ["udp", "tcp"],
      emails: ["Ops@Example.com"],
      groups: ["Contractors", "Build Team"],
      device_posture_ids: ["f2d9c0a4-posture-b", "a1b2c3d4-posture-a"],
      description: "ticket OPS-12",
    });
    expect(created.status).toBe(201);
    const { id, version, created_at, updated_at, status, ...wire } = created.body;
    expect(wire).toEqual({
      name: "Contractors to build farm",
      action: "allow",
      precedence: 500,
      enabled: true,
      destinations: ["10.1.2.3/32", "10.20.0.0/16"],
      ports: ["22", "8000-8099"],
      protocols: ["tcp", "udp"],
      emails: ["ops@example.com"],
      email_regex: null,
      groups: ["Build Team", "Contractors"],
      device_posture_ids: ["a1b2c3d4-posture-a", "f2d9c0a4-posture-b"],
      description: "ticket OPS-12",
      traffic:
        'net.dst.ip in {10.1.2.3 10.20.0.0/16} and net.dst.port in {22 8000..8099} and net.protocol in {"tcp" "udp"}',
      identity:
        '(identity.email in {"ops@example.com"} or any(identity.groups.name[*] in {"Build Team" "Contractors"}))',
      device_posture:
        'any(device_posture.checks.passed[*] in {"a1b2c3d4-posture-a" "f2d9c0a4-posture-b"})',
      warnings: [],
    });

    expect((await post<{ outcome: string }>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const [rule] = (await sdk().zeroTrust.gateway.rules.list({ account_id: accountId })).result;
    expect([rule?.description, rule?.traffic, rule?.identity, rule?.device_posture]).toEqual([
      `ticket OPS-12 tunnelplane:${id}`,
      wire.traffic,
      wire.identity,
      wire.device_posture,
    ]);
    const since = await lastSeq(accountId);
    const second = await post<{ actions: unknown[] }>(`${base}/reconcile`);
    expect(second.body.actions).toEqual([]);
    expect((await callsOf(accountId, since)).filter((c) => c.method !== "GET")).toEqual([]);

    // A member of a listed group on a listed port is allowed; posture checks must pass.
    const explain = (extra: Record<string, unknown>) =>
      post<{ verdict: string; policy: { trace: unknown[] } }>(`${base}/explain`, {
        email: "dev@example.com",
        destination_ip: "10.20.5.5",
        port: 8080,
        ...extra,
      });
    const noPosture = await explain({ groups: ["Contractors"] });
    expect(noPosture.body.policy.trace).toEqual([
      {
        id,
        name: "Contractors to build farm",
        action: "allow",
        precedence: 500,
        outcome: "not-matched",
        reason: {
          part: "device_posture",
          clause:
            'any(device_posture.checks.passed[*] in {"a1b2c3d4-posture-a" "f2d9c0a4-posture-b"})',
        },
      },
    ]);
    const passing = await explain({
      groups: ["Contractors"],
      device_posture_checks: ["f2d9c0a4-posture-b"],
    });
    expect(passing.body.policy.trace).toEqual([
      {
        id,
        name: "Contractors to build farm",
        action: "allow",
        precedence: 500,
        outcome: "matched",
      },
    ]);
  });

  it("refuses a regex Gateway cannot compile and warns with the anchored form of an unanchored one", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const bad = await post(`${base}/policies`, {
      name: "look-ahead",
      action: "allow",
      precedence: 100,
      email_regex: "(?=admin).*@example\\.com",
      ports: ["90-80"],
      position: { at: "top" },
    });
    expect(bad.status).toBe(422);
    expect((bad.body as { errors: unknown[] }).errors).toEqual([
      {
        pointer: "#/ports/0",
        detail: "ports are 1..65535 and a range goes upward",
        code: "invalid-port",
      },
      {
        pointer: "#/email_regex",
        detail: "look-ahead assertions are not supported by Gateway's regex engine",
        code: "unsupported-regex-feature",
      },
      {
        pointer: "#/position",
        detail: "give precedence or position, not both",
        code: "precedence-and-position",
      },
    ]);
    const loose = await post<Policy>(`${base}/policies`, {
      name: "example.com",
      action: "allow",
      email_regex: ".*@example.com",
    });
    expect([loose.status, loose.body.precedence, loose.body.warnings]).toEqual([
      201,
      1000,
      [
        {
          code: "unanchored-email-regex",
          message:
            'Gateway matches regexes anywhere in the email, so ".*@example.com" also matches longer addresses; anchor it: "^[^@]+@example\\\\.com$"',
        },
      ],
    ]);
  });
});

describe("network policy precedence", () => {
  it("inserts into a gap with no other write, and renumbers the fewest neighbours without one", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const a = (await post<Policy>(`${base}/policies`, policy("A"))).body;
    const b = (await post<Policy>(`${base}/policies`, policy("B", { precedence: 1001 }))).body;
    const c = (await post<Policy>(`${base}/policies`, policy("C", { precedence: 1002 }))).body;
    const d = (await post<Policy>(`${base}/policies`, policy("D"))).body;
    expect([a.precedence, d.precedence]).toEqual([1000, 2000]);
    await post(`${base}/reconcile`);

    const gap = await post<Policy>(
      `${base}/policies`,
      policy("between C and D", { position: { after: c.id } }),
    );
    expect([gap.body.precedence, gap.body.warnings]).toEqual([1501, []]);

    const tight = await post<Policy>(
      `${base}/policies`,
      policy("between A and B", { position: { before: b.id } }),
    );
    expect([tight.status, tight.body.precedence, tight.body.warnings]).toEqual([
      201,
      667,
      [
        {
          code: "precedence-renumbered",
          message: `To make room, 1 policies were renumbered: ${a.id} 1000 -> 333`,
        },
      ],
    ]);
    const list = await get<{ items: Policy[] }>(`${base}/policies`);
    expect(
      list.body.items
        .map((p) => [p.name, p.precedence])
        .sort((x, y) => Number(x[1]) - Number(y[1])),
    ).toEqual([
      ["A", 333],
      ["between A and B", 667],
      ["B", 1001],
      ["C", 1002],
      ["between C and D", 1501],
      ["D", 2000],
    ]);
    // In Cloudflare: one PUT for the renumbered A, two POSTs for the new policies.
    const since = await lastSeq(accountId);
    expect((await post<{ outcome: string }>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const writes = (await callsOf(accountId, since)).filter((x) => x.method !== "GET");
    expect(writes.map((x) => x.method).sort()).toEqual(["POST", "POST", "PUT"]);
    expect(await rulesOf(accountId)).toEqual([
      ["A", 333],
      ["between A and B", 667],
      ["B", 1001],
      ["C", 1002],
      ["between C and D", 1501],
      ["D", 2000],
    ]);
  });

  it("moves with exact write counts, never two policies at one precedence, and deletes renumber nothing", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const a = (await post<Policy>(`${base}/policies`, policy("A"))).body;
    const b = (await post<Policy>(`${base}/policies`, policy("B", { precedence: 1001 }))).body;
    const c = (await post<Policy>(`${base}/policies`, policy("C", { precedence: 1002 }))).body;
    const d = (await post<Policy>(`${base}/policies`, policy("D"))).body;
    await post(`${base}/reconcile`);

    const move = (id: string, position: unknown) =>
      post<{ writes: number; changes: unknown[]; order: unknown[] }>(
        `${base}/policies/${id}/move`,
        position,
      );
    const toBottom = await move(c.id, { at: "bottom" });
    expect(toBottom.body).toEqual({
      writes: 1,
      changes: [{ id: c.id, from: 1002, to: 3000 }],
      order: [
        { id: a.id, name: "A", precedence: 1000 },
        { id: b.id, name: "B", precedence: 1001 },
        { id: d.id, name: "D", precedence: 2000 },
        { id: c.id, name: "C", precedence: 3000 },
      ],
    });
    const already = await move(c.id, { after: d.id });
    expect([already.body.writes, already.body.changes]).toEqual([0, []]);
    const tight = await move(d.id, { before: b.id });
    expect([tight.status, tight.body.writes, tight.body.changes]).toEqual([
      200,
      2,
      [
        { id: b.id, from: 1001, to: 2333 },
        { id: d.id, from: 2000, to: 1666 },
      ],
    ]);
    const since = await lastSeq(accountId);
    expect((await post<{ outcome: string }>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    expect(
      (await callsOf(accountId, since)).filter((x) => x.method !== "GET").map((x) => x.method),
    ).toEqual(["PUT", "PUT", "PUT"]);
    expect(await rulesOf(accountId)).toEqual([
      ["A", 1000],
      ["D", 1666],
      ["B", 2333],
      ["C", 3000],
    ]);

    const removed = await del(`${base}/policies/${b.id}`);
    expect(removed.status).toBe(204);
    const remaining = await get<{ items: Policy[] }>(`${base}/policies`);
    expect(remaining.body.items.map((p) => [p.name, p.precedence, p.version])).toEqual([
      ["A", 1000, 1],
      ["C", 3000, 2],
      ["D", 1666, 2],
    ]);

    const unknown = await move(a.id, { after: "no-such-policy" });
    expect([unknown.status, (unknown.body as unknown as { errors: unknown[] }).errors]).toEqual([
      422,
      [
        {
          pointer: "#/after",
          detail: "no network policy no-such-policy in this account",
          code: "unknown-reference",
        },
      ],
    ]);
    const twoPositions = await move(a.id, { after: c.id, at: "top" });
    expect(twoPositions.status).toBe(422);
    expect((await move("missing", { at: "top" })).status).toBe(404);
  });

  it("a swap of two precedences reaches Cloudflare by parking one policy: one extra write", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const a = (await post<Policy>(`${base}/policies`, policy("A"))).body;
    const b = (await post<Policy>(`${base}/policies`, policy("B"))).body;
    await post(`${base}/reconcile`);
    const body = (name: string, precedence: number) => policy(name, { precedence });
    expect((await put(`${base}/policies/${a.id}`, body("A", 3000))).status).toBe(200);
    expect((await put(`${base}/policies/${b.id}`, body("B", 1000))).status).toBe(200);
    expect((await put(`${base}/policies/${a.id}`, body("A", 2000))).status).toBe(200);

    const since = await lastSeq(accountId);
    const run = await post<{ outcome: string; actions: { key: string; reason: string }[] }>(
      `${base}/reconcile`,
    );
    expect(run.body.outcome).toBe("succeeded");
    expect(run.body.actions.map((x) => [x.key, x.reason])).toEqual([
      [b.id, "parked at precedence 2001 so that another policy can take 2000"],
      [a.id, "differs from the desired state"],
      [b.id, "differs from the desired state"],
    ]);
    expect((await callsOf(accountId, since)).filter((x) => x.method === "PUT").length).toBe(3);
    expect(await rulesOf(accountId)).toEqual([
      ["B", 1000],
      ["A", 2000],
    ]);
  });
});
