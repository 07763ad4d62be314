/**
 * The grant API through the Worker's fetch: validation with pointers, approval rules (auto,
 * manual, hard limits), the path check flagging grants that cannot work, operator decisions and
 * refused transitions, filters and paging, the audit trail, the write-only callback secret.
 */
import { describe, it } from "vitest";
import { call, del, get, post, put } from "../helpers/api";
import { setCallbackSecret } from "../helpers/grants";
import { mintKey } from "../helpers/keys";
import { expectAuthRequired, problemOf } from "../helpers/problems";
import { seedAccount } from "../helpers/seed";

interface GrantBody {
  id: string;
  state: string;
  decision: { by: string; rule_id: string | null; reason: string } | null;
  check: { phase: string; ok: boolean; problems: { code: string; message: string }[] } | null;
  policy: { state: string };
}

const request = (extra: Record<string, unknown> = {}) => ({
  ticket: { system: "ServiceNow", id: "CHG1" },
  subject_email: "Contractor@Example.com",
  destinations: ["10.128.0.7"],
  ports: [22],
  protocols: ["tcp"],
  reason: "Patch the db host",
  duration_s: 3600,
  ...extra,
});

/** A route, a tunnel and proxy settings so grants to 10.128.0.7 can work (nothing reconciled). */
async function network(base: string) {
  const tunnel = (await post<{ id: string }>(`${base}/tunnels`, { name: "dc1" })).body;
  await post(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id });
  await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
}

describe("POST grants", () => {
  it("answers 401 without a key and 404 for an unknown account", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    await expectAuthRequired(expect, "POST", `${base}/grants`, request());
    const missing = await post(`/v1/accounts/${"f".repeat(32)}/grants`, request());
    expect(missing.status).toBe(404);
  });

  it("rejects invalid fields with a pointer for each and stores nothing", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const response = await post(`${base}/grants`, {
      ticket: { system: "", id: "X" },
      subject_email: "not-an-email",
      destinations: ["10.1.2.3/8"],
      ports: [70000],
      reason: "r",
      duration_s: 3600,
      ends_at: "2030-01-01T00:00:00Z",
    });
    expect(response.status).toBe(422);
    expect(
      (problemOf(response).errors as { pointer: string; code: string }[]).map((e) => [
        e.pointer,
        e.code,
      ]),
    ).toEqual([
      ["#/ticket/system", "invalid-format"],
      ["#/subject_email", "invalid-format"],
      ["#/destinations/0", "cidr-host-bits-set"],
      ["#/ports/0", "too-big"],
      ["#/ports/0", "invalid-port"],
      ["#/duration_s", "duration-xor-ends-at"],
    ]);
    expect((await get<{ items: unknown[] }>(`${base}/grants`)).body.items).toEqual([]);
  });

  it("refuses a window in the past, an unknown extended grant and a callback without a secret", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const response = await post(
      `${base}/grants`,
      request({
        duration_s: undefined,
        starts_at: "2020-01-01T00:00:00Z",
        ends_at: "2020-01-01T01:00:00Z",
        extends_grant_id: "nope",
        callback_url: "https://tickets.example.com/hook",
      }),
    );
    expect(response.status).toBe(422);
    expect(problemOf(response).errors).toEqual([
      { pointer: "#/ends_at", detail: "the grant would end in the past", code: "ends-in-past" },
      {
        pointer: "#/extends_grant_id",
        detail: "no grant nope in this account",
        code: "unknown-reference",
      },
      {
        pointer: "#/callback_url",
        detail:
          "set a callback secret first (PUT grant-settings, or its receivers/{ticket_system})",
        code: "callback-secret-missing",
      },
    ]);
  });

  it("without rules a grant waits for an operator; approve, then a second approve is refused", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect, { mode: "observe" });
    await network(base);
    // The requester never approves its own grant: a ticketing key asks, the admin decides.
    const ticketing = await mintKey(expect, "ticketing", [accountId], "servicenow");
    const created = await call<GrantBody>("POST", `${base}/grants`, {
      body: request(),
      key: ticketing.secret,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: "requested",
      decision: { by: "system", rule_id: null, reason: "no approval rule: waits for an operator" },
      check: { phase: "before-approval", ok: true, problems: [] },
    });
    const approved = await post<GrantBody>(`${base}/grants/${created.body.id}/approve`, {
      reason: "CAB approved",
    });
    expect(approved.body).toMatchObject({
      state: "active",
      decision: { by: "operator", rule_id: null, reason: "CAB approved" },
    });
    const again = await post(`${base}/grants/${created.body.id}/approve`, {});
    expect([again.status, problemOf(again).detail]).toEqual([
      409,
      "A active grant cannot take the approve transition.",
    ]);
    const trail = await get<{ items: { event: string; actor: string; reason: string | null }[] }>(
      `${base}/grants/${created.body.id}/events`,
    );
    expect(trail.body.items.map((e) => [e.event, e.actor, e.reason])).toEqual([
      ["create", ticketing.actor, "Patch the db host"],
      ["approve", "bootstrap-admin", "CAB approved"],
      ["activate", "clock", "starts_at reached"],
    ]);
  });

  it("a grant with no route is flagged, not approved, even inside an auto-approve rule", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const rule = (
      await post<{ id: string }>(`${base}/grant-approval-rules`, {
        name: "any",
        effect: "auto_approve",
      })
    ).body;
    const created = await post<GrantBody>(`${base}/grants`, request());
    expect(created.body).toMatchObject({
      state: "requested",
      decision: {
        by: "system",
        rule_id: rule.id,
        reason: "not approved automatically, the grant cannot work: no route covers 10.128.0.7/32",
      },
      check: {
        ok: false,
        problems: [{ code: "no-route", message: "no route covers 10.128.0.7/32" }],
      },
    });
  });

  it("a request outside every hard limit is rejected with the reason", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    await post(`${base}/grant-approval-rules`, {
      name: "short only",
      effect: "hard_limit",
      max_duration_s: 1800,
      allowed_systems: ["jira-sm"],
    });
    const created = await post<GrantBody>(`${base}/grants`, request());
    expect(created.body).toMatchObject({
      state: "rejected",
      decision: {
        by: "rule",
        rule_id: null,
        reason:
          'outside every hard limit: rule "short only": lasts 3600 s, more than 1800 s; requester system servicenow is not allowed',
      },
    });
    const cancel = await post(`${base}/grants/${created.body.id}/cancel`, {});
    expect(cancel.status).toBe(409);
  });

  it("cancel and reject end a requested grant; lists filter by state, subject and ticket with paging", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const a = (await post<GrantBody>(`${base}/grants`, request())).body;
    const b = (
      await post<GrantBody>(
        `${base}/grants`,
        request({ ticket: { system: "jira-sm", id: "OPS-9" }, subject_email: "ops@example.com" }),
      )
    ).body;
    const c = (await post<GrantBody>(`${base}/grants`, request())).body;
    expect((await post<GrantBody>(`${base}/grants/${a.id}/cancel`, {})).body.state).toBe(
      "cancelled",
    );
    expect((await post<GrantBody>(`${base}/grants/${b.id}/reject`, {})).body.state).toBe(
      "rejected",
    );
    const ids = async (query: string) =>
      (await get<{ items: GrantBody[] }>(`${base}/grants?${query}`)).body.items.map((g) => g.id);
    expect(await ids("state=requested")).toEqual([c.id]);
    expect(await ids("subject_email=OPS@example.com")).toEqual([b.id]);
    expect(await ids("ticket_system=servicenow&ticket_id=CHG1")).toEqual([a.id, c.id]);
    const page = await get<{ items: GrantBody[]; next_cursor: string }>(`${base}/grants?limit=2`);
    expect(page.body.items.map((g) => g.id)).toEqual([a.id, b.id]);
    expect(await ids(`limit=2&cursor=${page.body.next_cursor}`)).toEqual([c.id]);
    expect((await get(`${base}/grants?state=nope`)).status).toBe(422);
  });

  it("another account's grant is a 404", async ({ expect }) => {
    const mine = await seedAccount(expect);
    const theirs = await seedAccount(expect);
    const grant = (await post<GrantBody>(`${theirs.base}/grants`, request())).body;
    expect((await get(`${mine.base}/grants/${grant.id}`)).status).toBe(404);
    expect((await post(`${mine.base}/grants/${grant.id}/approve`, {})).status).toBe(404);
  });

  it("two concurrent requests with one Idempotency-Key create one grant", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const send = () =>
      call<GrantBody>("POST", `${base}/grants`, {
        body: request(),
        headers: { "idempotency-key": "same" },
      });
    const results = await Promise.all([send(), send()]);
    const statuses = results.map((r) => r.status).sort();
    expect([
      [201, 409],
      [200, 201],
    ]).toContainEqual(statuses);
    expect((await get<{ items: unknown[] }>(`${base}/grants`)).body.items.length).toBe(1);
  });
});

describe("grant settings and approval rules", () => {
  it("the callback secret is write-only", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    expect((await get(`${base}/grant-settings`)).body).toEqual({
      callback_secret_set: false,
      updated_at: null,
      previous_secret_valid_until: null,
      callback_allowed_ports: [],
    });
    await setCallbackSecret(base);
    const settings = await get<Record<string, unknown>>(`${base}/grant-settings`);
    expect(Object.keys(settings.body).sort()).toEqual([
      "callback_allowed_ports",
      "callback_secret_set",
      "previous_secret_valid_until",
      "updated_at",
    ]);
    expect(settings.body).toMatchObject({
      callback_secret_set: true,
      previous_secret_valid_until: null,
      callback_allowed_ports: [],
    });
    const short = await put(`${base}/grant-settings`, { callback_secret: "short" });
    expect(short.status).toBe(422);
  });

  it("rules are created canonical, replaced with If-Match and deleted", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const bad = await post(`${base}/grant-approval-rules`, {
      name: "x",
      effect: "auto_approve",
      allowed_destinations: ["10.0.0.1/8"],
      subject_email_pattern: "(?=x)",
    });
    expect((problemOf(bad).errors as { pointer: string }[]).map((e) => e.pointer)).toEqual([
      "#/allowed_destinations/0",
      "#/subject_email_pattern",
    ]);
    const created = await post<{ id: string; allowed_destinations: string[]; version: number }>(
      `${base}/grant-approval-rules`,
      { name: "db", effect: "auto_approve", allowed_destinations: ["10.128.0.7"] },
    );
    expect([created.status, created.body.allowed_destinations]).toEqual([201, ["10.128.0.7/32"]]);
    const path = `${base}/grant-approval-rules/${created.body.id}`;
    const stale = await put(path, { name: "db2", effect: "hard_limit" }, { "if-match": '"9"' });
    expect(stale.status).toBe(412);
    const replaced = await put<{ name: string; version: number }>(
      path,
      { name: "db2", effect: "hard_limit" },
      { "if-match": '"1"' },
    );
    expect([replaced.body.name, replaced.body.version]).toEqual(["db2", 2]);
    expect((await del(path)).status).toBe(204);
    expect((await get(path)).status).toBe(404);
  });
});
