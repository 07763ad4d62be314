/**
 * The REST contract every desired kind shares, exercised on routes, tunnels, virtual networks,
 * policies and the singletons: auth, validation with pointers, 404 across accounts, 409 on
 * natural keys, If-Match, paging, tombstones and the OpenAPI document.
 */
import { env, exports } from "cloudflare:workers";
import { describe, it } from "vitest";
import { call, del, get, post, put } from "../helpers/api";
import { expectAuthRequired, problemOf } from "../helpers/problems";
import { seedAccount } from "../helpers/seed";

interface Obj {
  id: string;
  version: number;
  warnings?: { code: string; message: string }[];
  [field: string]: unknown;
}

describe("authentication", () => {
  it("refuses every endpoint without the admin key, as problem+json", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    await expectAuthRequired(expect, "POST", "/v1/accounts", {
      account_id: "0".repeat(32),
      name: "x",
      api_token: "y".repeat(40),
    });
    await expectAuthRequired(expect, "GET", base);
    await expectAuthRequired(expect, "GET", `${base}/routes`);
    await expectAuthRequired(expect, "POST", `${base}/tunnels`, { name: "t" });
    await expectAuthRequired(expect, "PUT", `${base}/proxy-settings`, {
      tcp: true,
      udp: true,
      icmp: true,
    });
    await expectAuthRequired(expect, "POST", `${base}/reconcile`);
    expect((await get<{ items: unknown[] }>(`${base}/tunnels`)).body.items).toEqual([]);
  });
});

describe("accounts", () => {
  it("never returns the API token and refuses a second registration", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const account = await get<Record<string, unknown>>(base);
    expect(Object.keys(account.body).sort()).toEqual([
      "account_id",
      "api_budget_share",
      "created_at",
      "initial_resolved_ipv4",
      "limits",
      "mode",
      "name",
      "next_reconcile_at",
      "reconcile_interval_s",
      "team_domain",
      "token_problems",
      "updated_at",
      "version",
    ]);
    expect(account.body.token_problems).toEqual([]);
    expect(JSON.stringify(account.body)).not.toContain("test-cloudflare-api-token");
    const again = await post("/v1/accounts", {
      account_id: accountId,
      name: "again",
      api_token: "another-token-0123456789-0123456789abcdefgh",
    });
    expect(again.status).toBe(409);
    expect(problemOf(again)).toMatchObject({
      type: "http://tunnelplane/problems/account-exists",
      status: 409,
    });
  });

  it("rejects an account id that is not 32 hex characters, naming the field", async ({
    expect,
  }) => {
    const response = await post("/v1/accounts", {
      account_id: "ACME",
      name: "",
      api_token: "short",
    });
    expect(response.status).toBe(422);
    const errors = (response.body as { errors: { pointer: string; code: string }[] }).errors;
    expect(errors.map((e) => [e.pointer, e.code])).toEqual([
      ["#/account_id", "invalid-format"],
      ["#/name", "too-small"],
      ["#/api_token", "too-small"],
    ]);
  });

  it("audits registration and changes without the token, and a shorter interval applies at once", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect, { reconcileIntervalS: 3600 });
    const before = await get<{ next_reconcile_at: string }>(base);
    await post(`${base}/reconcile`);
    const scheduled = Date.parse(
      (await get<{ next_reconcile_at: string }>(base)).body.next_reconcile_at,
    );
    expect(scheduled - Date.parse(before.body.next_reconcile_at)).toBeGreaterThan(3_500_000);
    const patched = await call<{ next_reconcile_at: string }>("PATCH", base, {
      body: { reconcile_interval_s: 60, api_token: "rotated-token-0123456789abcdef0123456789ab" },
    });
    expect(Date.parse(patched.body.next_reconcile_at)).toBeLessThanOrEqual(Date.now() + 60_000);
    const log = await get<{
      items: { action: string; kind: string; before: unknown; after: unknown }[];
    }>(`${base}/audit-log?object_id=${accountId}`);
    expect(
      log.body.items.map(({ action, kind, before: b, after }) => ({
        action,
        kind,
        before: b,
        after,
      })),
    ).toEqual([
      {
        action: "update",
        kind: "account",
        before: {
          name: `test ${accountId.slice(0, 6)}`,
          mode: "enforce",
          reconcileIntervalS: 3600,
          teamDomain: null,
          limits: null,
          apiBudgetShare: null,
          initialResolvedIpv4: "172.64.128.0/20",
        },
        after: {
          name: `test ${accountId.slice(0, 6)}`,
          mode: "enforce",
          reconcileIntervalS: 60,
          teamDomain: null,
          limits: null,
          apiBudgetShare: null,
          initialResolvedIpv4: "172.64.128.0/20",
          apiToken: "(set)",
        },
      },
      {
        action: "create",
        kind: "account",
        before: null,
        after: {
          name: `test ${accountId.slice(0, 6)}`,
          mode: "enforce",
          reconcileIntervalS: 3600,
          teamDomain: null,
          limits: null,
          apiBudgetShare: null,
          initialResolvedIpv4: "172.64.128.0/20",
          apiToken: "(set)",
        },
      },
    ]);
    expect(JSON.stringify(log.body)).not.toContain("rotated-token");
  });

  it("overrides the API budget share per account within 0.01..1, and null returns to the default", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    expect((await get<{ api_budget_share: number | null }>(base)).body.api_budget_share).toBe(null);
    const refused = await call("PATCH", base, { body: { api_budget_share: 0 } });
    expect([refused.status, problemOf(refused).errors]).toEqual([
      422,
      [
        {
          pointer: "#/api_budget_share",
          detail: "at least 0.01 (1% of Cloudflare's limit)",
          code: "too-small",
        },
      ],
    ]);
    const tooMuch = await call("PATCH", base, { body: { api_budget_share: 1.5 } });
    expect(problemOf(tooMuch).errors).toEqual([
      {
        pointer: "#/api_budget_share",
        detail: "at most 1 (all of Cloudflare's limit)",
        code: "too-big",
      },
    ]);
    const set = await call<{ api_budget_share: number | null }>("PATCH", base, {
      body: { api_budget_share: 0.25 },
    });
    expect([set.status, set.body.api_budget_share]).toEqual([200, 0.25]);
    const cleared = await call<{ api_budget_share: number | null }>("PATCH", base, {
      body: { api_budget_share: null },
    });
    expect([cleared.status, cleared.body.api_budget_share]).toEqual([200, null]);
  });

  it("switches mode with If-Match and refuses a stale version", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const stale = await call("PATCH", base, {
      body: { mode: "observe" },
      headers: { "if-match": '"7"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get("etag")).toBe('"1"');
    const ok = await call<{ mode: string; version: number }>("PATCH", base, {
      body: { mode: "observe" },
      headers: { "if-match": '"1"' },
    });
    expect([ok.status, ok.body.mode, ok.body.version, ok.headers.get("etag")]).toEqual([
      200,
      "observe",
      2,
      '"2"',
    ]);
  });
});

describe("request bodies", () => {
  it("answers 415 for a body that is not JSON and 413 for one over 1 MiB, as problems", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const form = await call("POST", `${base}/tunnels`, {
      body: "name=dc1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect([form.status, problemOf(form).type]).toEqual([
      415,
      "http://tunnelplane/problems/unsupported-media-type",
    ]);
    const huge = await call("POST", `${base}/tunnels`, { body: { name: "x".repeat(1_100_000) } });
    expect([huge.status, problemOf(huge).type]).toEqual([
      413,
      "http://tunnelplane/problems/payload-too-large",
    ]);
    expect((await get<{ items: unknown[] }>(`${base}/tunnels`)).body.items).toEqual([]);
  });

  it("refuses unknown fields at any depth, naming each by its pointer, and stores nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const response = await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      automatic: true,
      entries: [{ adress: "10.1.0.0/16" }],
    });
    expect(response.status).toBe(422);
    expect(problemOf(response)).toEqual({
      type: "http://tunnelplane/problems/validation-failed",
      title: "The request is not valid",
      status: 422,
      detail: "The request body has 3 invalid field(s).",
      instance: `${base}/split-tunnels/default`,
      errors: [
        { pointer: "#/entries/0/adress", detail: 'unknown field "adress"', code: "unknown-field" },
        {
          pointer: "#/entries/0",
          detail: "an entry has exactly one of address or host",
          code: "address-xor-host",
        },
        { pointer: "#/automatic", detail: 'unknown field "automatic"', code: "unknown-field" },
      ],
    });
    expect((await get(`${base}/split-tunnels/default`)).status).toBe(404);
  });

  it("refuses text that is not valid Unicode, naming each string and key, and stores nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const tunnel = await post<{ id: string }>(`${base}/tunnels`, { name: "dc1" });
    const response = await post(`${base}/routes`, {
      network: "10.1.0.0/16",
      tunnel_id: tunnel.body.id,
      comment: "bad \ud800 text",
      "\udc00": "x",
    });
    expect([response.status, problemOf(response).detail, problemOf(response).errors]).toEqual([
      422,
      "Text in the body must be valid Unicode.",
      [
        {
          pointer: "#/comment",
          detail: "not valid Unicode: holds a lone UTF-16 surrogate",
          code: "invalid-unicode",
        },
        {
          pointer: "#/\udc00",
          detail: "not valid Unicode: holds a lone UTF-16 surrogate",
          code: "invalid-unicode",
        },
      ],
    ]);
    const paired = await post(`${base}/routes`, {
      network: "10.1.0.0/16",
      tunnel_id: tunnel.body.id,
      comment: "paired \ud83d\ude00 is fine",
    });
    expect(paired.status).toBe(201);
    const routes = await get<{ items: { comment: string }[] }>(`${base}/routes`);
    expect(routes.body.items.map((route) => route.comment)).toEqual(["paired 😀 is fine"]);
  });

  const grant = {
    ticket: { system: "jira", id: "OPS-1" },
    subject_email: "a@example.com",
    destinations: ["10.0.0.7"],
    reason: "r",
    duration_s: 3600,
  };
  it.for<[string, string, string, Record<string, unknown>, string]>([
    ["account update", "PATCH", "", { reconcile_interval: 60 }, "reconcile_interval"],
    ["virtual network", "POST", "/virtual-networks", { name: "v", default: true }, "default"],
    ["tunnel", "POST", "/tunnels", { name: "t", comment: "dc1" }, "comment"],
    [
      "route",
      "POST",
      "/routes",
      { network: "10.0.0.0/8", tunnel_id: "t", virtual_network: "v" },
      "virtual_network",
    ],
    [
      "policy",
      "POST",
      "/policies",
      { name: "p", action: "allow", precedence: 10, email: "a@example.com" },
      "email",
    ],
    [
      "policy position",
      "POST",
      "/policies",
      { name: "p", action: "allow", position: { at: "top", before_id: "x" } },
      "position/before_id",
    ],
    ["policy move", "POST", "/policies/p1/move", { at: "top", position: "top" }, "position"],
    [
      "private app destination",
      "POST",
      "/private-apps",
      { name: "db", emails: ["a@example.com"], destinations: [{ cidr: "10.0.0.7", port: 22 }] },
      "destinations/0/port",
    ],
    [
      "enrollment rule",
      "POST",
      "/enrollment-rules",
      { name: "e", emails: ["a@example.com"], domains: ["example.com"] },
      "domains",
    ],
    [
      "assertion",
      "POST",
      "/assertions",
      { email: "a@example.com", destination_ip: "10.0.0.7", expect: "allow", expected: "allow" },
      "expected",
    ],
    [
      "proxy settings",
      "PUT",
      "/proxy-settings",
      { tcp: true, udp: true, icmp: true, dns: true },
      "dns",
    ],
    [
      "explain",
      "POST",
      "/explain",
      { email: "a@example.com", destination_ip: "10.0.0.7", device: "default" },
      "device",
    ],
    [
      "client LAN check",
      "POST",
      "/conflicts/check-client-lan",
      { lan: "10.0.0.0/24", cidr: "10.0.0.0/24" },
      "cidr",
    ],
    ["import", "POST", "/import", { kind: "network_policy", cloudflare_id: "r1", id: "r1" }, "id"],
    [
      "device profile split tunnel entry",
      "POST",
      "/device-profiles",
      {
        name: "eng",
        match: 'any(identity.groups.name[*] in {"eng"})',
        precedence: 10,
        split_tunnel: { mode: "exclude", entries: [{ address: "10.1.0.0/16", adress: "x" }] },
      },
      "split_tunnel/entries/0/adress",
    ],
    [
      "device profile",
      "POST",
      "/device-profiles",
      {
        name: "eng",
        match: 'any(identity.groups.name[*] in {"eng"})',
        precedence: 10,
        virtual_network_id: "default",
        split_tunnel: { mode: "exclude", entries: [] },
      },
      "virtual_network_id",
    ],
    [
      "grant ticket",
      "POST",
      "/grants",
      { ...grant, ticket: { ...grant.ticket, uri: "https://jira.example.com/OPS-1" } },
      "ticket/uri",
    ],
    ["grant decision", "POST", "/grants/g1/approve", { reason: "ok", note: "x" }, "note"],
    [
      "grant settings",
      "PUT",
      "/grant-settings",
      { callback_secret: "s".repeat(32), secret: "s".repeat(32) },
      "secret",
    ],
    [
      "grant approval rule",
      "POST",
      "/grant-approval-rules",
      { name: "r", effect: "auto_approve", auto_aprove: true },
      "auto_aprove",
    ],
  ])(
    "refuses an unknown field in the %s body and changes nothing",
    async ([_reason, method, path, body, field], { expect }) => {
      const { base } = await seedAccount(expect);
      const name = field.split("/").at(-1);
      const response = await call(method, `${base}${path}`, { body });
      expect([response.status, problemOf(response).errors]).toEqual([
        422,
        [{ pointer: `#/${field}`, detail: `unknown field "${name}"`, code: "unknown-field" }],
      ]);
      const log = await get<{ items: { action: string; kind: string }[] }>(`${base}/audit-log`);
      expect(log.body.items.map((e) => [e.action, e.kind])).toEqual([["create", "account"]]);
    },
  );

  it("refuses an unknown field when registering an account, and registers nothing", async ({
    expect,
  }) => {
    const accountId = "e".repeat(32);
    const response = await post("/v1/accounts", {
      account_id: accountId,
      name: "Acme",
      api_token: "token-0123456789abcdefghij0123456789abcdefgh",
      interval_s: 60,
    });
    expect([response.status, problemOf(response).errors]).toEqual([
      422,
      [{ pointer: "#/interval_s", detail: 'unknown field "interval_s"', code: "unknown-field" }],
    ]);
    expect((await get(`/v1/accounts/${accountId}`)).status).toBe(404);
  });

  it("refuses an overlong CIDR by its length, without parsing or echoing it", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const response = await post(`${base}/routes`, {
      network: `10.0.0.0/8${"9".repeat(500)}`,
      tunnel_id: "t",
    });
    expect((response.body as { errors: unknown[] }).errors).toEqual([
      {
        pointer: "#/network",
        detail: "Too big: expected string to have <=64 characters",
        code: "too-big",
      },
    ]);
  });
});

describe("methods", () => {
  it("answers 405 with Allow for a method a known path lacks, and 404 for an unknown path", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const refused = await call("PATCH", `${base}/tunnels`, { body: { name: "t" } });
    expect([
      refused.status,
      refused.headers.get("content-type"),
      refused.headers.get("allow"),
      problemOf(refused),
    ]).toEqual([
      405,
      "application/problem+json",
      "GET, HEAD, POST",
      {
        type: "http://tunnelplane/problems/method-not-allowed",
        title: "The path does not answer this method",
        status: 405,
        detail: `${base}/tunnels does not answer PATCH; it answers GET, HEAD, POST.`,
        instance: `${base}/tunnels`,
      },
    ]);
    const allowOf = async (method: string, path: string) => {
      const response = await call(method, path);
      return [response.status, response.headers.get("allow")];
    };
    expect([
      await allowOf("DELETE", `${base}/plan`),
      await allowOf("DELETE", base),
      await allowOf("POST", `${base}/tunnels/t1`),
      await allowOf("DELETE", `${base}/split-tunnels/default`),
      await allowOf("PUT", `${base}/split-tunnels/p1`),
      await allowOf("GET", `${base}/tunnels/t1/token/extra`),
      await allowOf("GET", "/v1/nothing-here"),
    ]).toEqual([
      [405, "POST"],
      [405, "GET, HEAD, PATCH"],
      [405, "DELETE, GET, HEAD, PUT"],
      [405, "GET, HEAD, PUT"],
      [405, "GET, HEAD"],
      [404, null],
      [404, null],
    ]);
    expect((await call("HEAD", `${base}/tunnels`)).status).toBe(200);
    expect((await get<{ items: unknown[] }>(`${base}/tunnels`)).body.items).toEqual([]);
  });

  it("asks for the key before telling which methods a path answers", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    await expectAuthRequired(expect, "PATCH", `${base}/tunnels`, { name: "t" });
    await expectAuthRequired(expect, "DELETE", `${base}/plan`);
  });
});

describe("routes", () => {
  it("rejects 10.1.2.3/8 with its canonical form and stores nothing", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const tunnel = (await post<Obj>(`${base}/tunnels`, { name: "t1" })).body;
    const response = await post(`${base}/routes`, { network: "10.1.2.3/8", tunnel_id: tunnel.id });
    expect(response.status).toBe(422);
    expect(problemOf(response)).toEqual({
      type: "http://tunnelplane/problems/validation-failed",
      title: "The request is not valid",
      status: 422,
      detail: "The request body has 1 invalid field(s).",
      instance: `${base}/routes`,
      errors: [
        {
          pointer: "#/network",
          detail: "10.1.2.3/8 has host bits set; the canonical form is 10.0.0.0/8",
          code: "cidr-host-bits-set",
        },
      ],
    });
    expect((await get<{ items: unknown[] }>(`${base}/routes`)).body.items).toEqual([]);
  });

  it("stores a bare address as /32 and IPv6 in RFC 5952 form", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const tunnel = (await post<Obj>(`${base}/tunnels`, { name: "t1" })).body;
    const v4 = await post<Obj>(`${base}/routes`, { network: "10.128.0.7", tunnel_id: tunnel.id });
    const v6 = await post<Obj>(`${base}/routes`, {
      network: "FD00:1234:0:0::/32",
      tunnel_id: tunnel.id,
    });
    expect([v4.status, v4.body.network, v6.status, v6.body.network]).toEqual([
      201,
      "10.128.0.7/32",
      201,
      "fd00:1234::/32",
    ]);
  });

  it("refuses a route inside a Cloudflare reserved range and one naming an unknown tunnel", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const response = await post(`${base}/routes`, { network: "100.96.1.0/24", tunnel_id: "nope" });
    expect(response.status).toBe(422);
    expect((response.body as { errors: unknown[] }).errors).toEqual([
      {
        pointer: "#/network",
        detail: "100.96.1.0/24 is inside Cloudflare's reserved range 100.96.0.0/12 (Device IPs)",
        code: "reserved-range",
      },
    ]);
    const unknownTunnel = await post(`${base}/routes`, {
      network: "10.0.0.0/8",
      tunnel_id: "nope",
    });
    expect((unknownTunnel.body as { errors: unknown[] }).errors).toEqual([
      {
        pointer: "#/tunnel_id",
        detail: "no tunnel nope in this account",
        code: "unknown-reference",
      },
    ]);
  });

  it("answers 409 for the same network twice in one virtual network, and warns about home LANs", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const tunnel = (await post<Obj>(`${base}/tunnels`, { name: "t1" })).body;
    const first = await post<Obj>(`${base}/routes`, {
      network: "192.168.0.0/16",
      tunnel_id: tunnel.id,
    });
    expect(first.body.warnings?.map((w) => w.code)).toEqual([
      "home-lan-overlap",
      "home-lan-overlap",
    ]);
    const second = await post(`${base}/routes`, {
      network: "192.168.0.0/16",
      tunnel_id: tunnel.id,
    });
    expect(second.status).toBe(409);
    expect(problemOf(second)).toMatchObject({
      type: "http://tunnelplane/problems/duplicate-route",
      detail: "192.168.0.0/16 is already routed in the default virtual network.",
    });
  });

  it("warns about exactly the routes nesting with the one written, also those stored before the range index", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const t1 = (await post<Obj>(`${base}/tunnels`, { name: "t1" })).body.id;
    const t2 = (await post<Obj>(`${base}/tunnels`, { name: "t2" })).body.id;
    const lab = (await post<Obj>(`${base}/virtual-networks`, { name: "lab" })).body.id;
    const route = (network: string, tunnel: string, vnet: string | null = null) =>
      post<Obj>(`${base}/routes`, { network, tunnel_id: tunnel, virtual_network_id: vnet });
    await route("10.0.0.0/8", t1);
    await route("10.20.0.0/16", t1, lab);
    await route("10.20.30.0/24", t1);
    await route("10.30.0.0/16", t2);
    await route("fd00::/8", t1);
    // Rows written before the range columns existed: the next route write fills them.
    await env.DB.prepare(
      "UPDATE desired_objects SET range_first = NULL, range_last = NULL WHERE account_id = ?",
    )
      .bind(accountId)
      .run();
    const middle = await route("10.20.0.0/16", t2);
    expect(middle.status).toBe(201);
    expect(middle.body.warnings).toEqual([
      {
        code: "route-overlap",
        message: `10.20.0.0/16 (tunnel ${t2}) lies inside 10.0.0.0/8 (tunnel ${t1}); the longest prefix wins, so 10.20.0.0/16 goes to tunnel ${t2}`,
      },
      {
        code: "route-overlap",
        message: `10.20.30.0/24 (tunnel ${t1}) lies inside 10.20.0.0/16 (tunnel ${t2}); the longest prefix wins, so 10.20.30.0/24 goes to tunnel ${t1}`,
      },
    ]);
    const unfilled = await env.DB.prepare(
      "SELECT count(*) AS n FROM desired_objects WHERE account_id = ? AND kind = 'tunnel_route' AND range_first IS NULL",
    )
      .bind(accountId)
      .first<{ n: number }>();
    expect(unfilled?.n).toBe(0);
    // The networks enclosing this address start at 127 places, more than one D1 statement
    // binds: the lookup takes two queries.
    const host = await route("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", t2);
    expect(host.body.warnings).toEqual([
      {
        code: "route-overlap",
        message: `fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 (tunnel ${t2}) lies inside fd00::/8 (tunnel ${t1}); the longest prefix wins, so fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128 goes to tunnel ${t2}`,
      },
    ]);
    const moved = await put<Obj>(
      `${base}/routes/${middle.body.id}`,
      { network: "10.30.0.0/16", tunnel_id: t1 },
      { "if-match": '"1"' },
    );
    expect(moved.status).toBe(409);
    const narrowed = await put<Obj>(
      `${base}/routes/${middle.body.id}`,
      { network: "10.30.1.0/24", tunnel_id: t1 },
      { "if-match": '"1"' },
    );
    expect(narrowed.body.warnings).toEqual([
      {
        code: "route-overlap",
        message: `10.30.1.0/24 (tunnel ${t1}) lies inside 10.30.0.0/16 (tunnel ${t2}); the longest prefix wins, so 10.30.1.0/24 goes to tunnel ${t1}`,
      },
    ]);
  });

  it("answers 404 for another account's object", async ({ expect }) => {
    const mine = await seedAccount(expect);
    const theirs = await seedAccount(expect);
    const tunnel = (await post<Obj>(`${theirs.base}/tunnels`, { name: "theirs" })).body;
    const response = await get(`${mine.base}/tunnels/${tunnel.id}`);
    expect(response.status).toBe(404);
    expect(problemOf(response)).toMatchObject({
      type: "http://tunnelplane/problems/not-found",
    });
  });
});

describe("writes", () => {
  it("honours If-Match on PUT and DELETE, and a deleted object is gone from the API", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const vnet = await post<Obj>(`${base}/virtual-networks`, { name: "prod" });
    expect(vnet.headers.get("etag")).toBe('"1"');
    const stale = await put(
      `${base}/virtual-networks/${vnet.body.id}`,
      { name: "production" },
      { "if-match": '"2"' },
    );
    expect(stale.status).toBe(412);
    const renamed = await put<Obj>(
      `${base}/virtual-networks/${vnet.body.id}`,
      { name: "production" },
      { "if-match": '"1"' },
    );
    expect([renamed.status, renamed.body.name, renamed.body.version]).toEqual([
      200,
      "production",
      2,
    ]);
    expect(
      (await del(`${base}/virtual-networks/${vnet.body.id}`, { "if-match": '"1"' })).status,
    ).toBe(412);
    expect(
      (await del(`${base}/virtual-networks/${vnet.body.id}`, { "if-match": '"2"' })).status,
    ).toBe(204);
    expect((await get(`${base}/virtual-networks/${vnet.body.id}`)).status).toBe(404);
    // The name is free again once the object is deleted.
    expect((await post(`${base}/virtual-networks`, { name: "production" })).status).toBe(201);
  });

  it("refuses to delete a tunnel that routes still use", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const tunnel = (await post<Obj>(`${base}/tunnels`, { name: "t1" })).body;
    const route = (
      await post<Obj>(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id })
    ).body;
    const response = await del(`${base}/tunnels/${tunnel.id}`);
    expect(response.status).toBe(409);
    expect(problemOf(response)).toMatchObject({
      detail: `Routes ${route.id} use this tunnel; delete or move them first.`,
    });
  });

  it("refuses malformed JSON with 400", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const response = await call("POST", `${base}/tunnels`, { body: "{not json" });
    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({
      type: "http://tunnelplane/problems/malformed-request",
      status: 400,
    });
  });

  it("refuses a policy with an email regex Gateway cannot compile, and warns about an unanchored one", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const bad = await post(`${base}/policies`, {
      name: "p",
      action: "allow",
      precedence: 10,
      destinations: ["10.0.0.0/8"],
      email_regex: "(?=x)@example\\.com",
    });
    expect(bad.status).toBe(422);
    expect(
      (bad.body as { errors: { pointer: string; code: string }[] }).errors.map((e) => [
        e.pointer,
        e.code,
      ]),
    ).toEqual([["#/email_regex", "unsupported-regex-feature"]]);
    const good = await post<Obj>(`${base}/policies`, {
      name: "p",
      action: "allow",
      precedence: 10,
      destinations: ["10.0.0.0/8"],
      email_regex: ".*@example.com",
    });
    expect(good.status).toBe(201);
    expect(good.body.warnings?.map((w) => w.code)).toContain("unanchored-email-regex");
    const clash = await post(`${base}/policies`, { name: "q", action: "block", precedence: 10 });
    expect(clash.status).toBe(409);
  });
});

describe("tunnel token", () => {
  it("is refused until the tunnel exists in Cloudflare, then is the token cloudflared runs with", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const tunnel = (await post<Obj>(`${base}/tunnels`, { name: "dc1" })).body;
    const early = await get(`${base}/tunnels/${tunnel.id}/token`);
    expect([early.status, problemOf(early).type]).toEqual([
      409,
      "http://tunnelplane/problems/tunnel-not-created",
    ]);
    await post(`${base}/reconcile`);
    const synced = (
      await get<{ status: { cloudflare_id: string } }>(`${base}/tunnels/${tunnel.id}`)
    ).body;
    const response = await get<{ token: string; command: string }>(
      `${base}/tunnels/${tunnel.id}/token`,
    );
    expect([response.status, response.headers.get("cache-control")]).toEqual([200, "no-store"]);
    const decoded = JSON.parse(atob(response.body.token)) as { a: string; t: string; s: string };
    expect([decoded.a, decoded.t, decoded.s.length > 0]).toEqual([
      accountId,
      synced.status.cloudflare_id,
      true,
    ]);
    expect(response.body.command).toBe(`cloudflared tunnel run --token ${response.body.token}`);
  });
});

describe("audit log", () => {
  it("records every write with who, what, before and after, newest first", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const vnet = (await post<Obj>(`${base}/virtual-networks`, { name: "prod" })).body;
    await put(`${base}/virtual-networks/${vnet.id}`, { name: "production", comment: "main" });
    await put(`${base}/virtual-networks/${vnet.id}`, { name: "stale" }, { "if-match": '"1"' });
    await del(`${base}/virtual-networks/${vnet.id}`);
    const log = await get<{ items: Record<string, unknown>[]; next_cursor: string | null }>(
      `${base}/audit-log?object_id=${vnet.id}`,
    );
    const stable = log.body.items.map(
      ({ id: _id, at: _at, request_id: _r, prev_hash: _p, hash: _h, ...rest }) => rest,
    );
    expect(stable).toEqual([
      {
        actor: "bootstrap-admin",
        action: "delete",
        kind: "virtual_network",
        object_id: vnet.id,
        before: { name: "production", comment: "main", isDefault: false },
        after: null,
      },
      {
        actor: "bootstrap-admin",
        action: "update",
        kind: "virtual_network",
        object_id: vnet.id,
        before: { name: "prod", comment: "", isDefault: false },
        after: { name: "production", comment: "main", isDefault: false },
      },
      {
        actor: "bootstrap-admin",
        action: "create",
        kind: "virtual_network",
        object_id: vnet.id,
        before: null,
        after: { name: "prod", comment: "", isDefault: false },
      },
    ]);
    expect(log.body.next_cursor).toBe(null);
    const first = await get<{ items: { action: string }[]; next_cursor: string }>(
      `${base}/audit-log?object_id=${vnet.id}&limit=2`,
    );
    const rest = await get<{ items: { action: string }[]; next_cursor: string | null }>(
      `${base}/audit-log?object_id=${vnet.id}&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect([
      first.body.items.map((e) => e.action),
      rest.body.items.map((e) => e.action),
      rest.body.next_cursor,
    ]).toEqual([["delete", "update"], ["create"], null]);
  });
});

describe("lists", () => {
  it("pages with a cursor in creation order and rejects a foreign cursor", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const names = ["a", "b", "c", "d", "e"];
    for (const name of names) {
      await post(`${base}/tunnels`, { name });
    }
    const first = await get<{ items: Obj[]; next_cursor: string | null }>(
      `${base}/tunnels?limit=2`,
    );
    const second = await get<{ items: Obj[]; next_cursor: string | null }>(
      `${base}/tunnels?limit=2&cursor=${first.body.next_cursor}`,
    );
    const third = await get<{ items: Obj[]; next_cursor: string | null }>(
      `${base}/tunnels?limit=2&cursor=${second.body.next_cursor}`,
    );
    expect(
      [first.body.items, second.body.items, third.body.items].map((page) =>
        page.map((t) => t.name),
      ),
    ).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(third.body.next_cursor).toBe(null);
    const empty = await get<{ items: Obj[] }>(`${base}/tunnels?cursor=&limit=2`);
    expect(empty.body.items.map((t) => t.name)).toEqual(["a", "b"]);
    const foreign = await get(`${base}/tunnels?cursor=bogus`);
    expect(foreign.status).toBe(422);
  });
});

describe("documentation", () => {
  it("serves the OpenAPI 3.1 document and the docs page without a key", async ({ expect }) => {
    const doc = await call<{ openapi: string; paths: Record<string, unknown> }>(
      "GET",
      "/openapi.json",
      { key: null },
    );
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toContain("/v1/accounts/{account_id}/routes/{id}");
    const page = await exports.default.fetch(new Request("http://tunnelplane/docs"));
    expect([page.status, page.headers.get("content-type")]).toEqual([
      200,
      "text/html; charset=UTF-8",
    ]);
    const text = await page.text();
    expect(text).toContain('"url": "/openapi.json"');
    expect(text).toContain("Scalar.createApiReference('#app'");
    // Scalar's script comes from the Worker itself (test/browser runs it), so the page renders
    // without the internet.
    expect(text).toContain('<script src="/docs/scalar-1.44.3.js"></script>');
    expect(text).not.toMatch(/https?:\/\//);
  });

  it("closes every object of every request body", async ({ expect }) => {
    interface Schema {
      $ref?: string;
      type?: string | string[];
      properties?: Record<string, Schema>;
      additionalProperties?: boolean | Schema;
      items?: Schema;
      anyOf?: Schema[];
      oneOf?: Schema[];
      allOf?: Schema[];
    }
    type Operation = { requestBody?: { content: Record<string, { schema: Schema }> } };
    const doc = (
      await call<{
        paths: Record<string, Record<string, Operation>>;
        components: { schemas: Record<string, Schema> };
      }>("GET", "/openapi.json", { key: null })
    ).body;
    const open: string[] = [];
    const visit = (schema: Schema, where: string, seen: Set<string>): void => {
      if (schema.$ref !== undefined) {
        const name = schema.$ref.replace("#/components/schemas/", "");
        const target = doc.components.schemas[name];
        if (target !== undefined && !seen.has(name)) {
          visit(target, where, new Set([...seen, name]));
        }
        return;
      }
      if (schema.properties !== undefined && schema.additionalProperties !== false) {
        open.push(where);
      }
      for (const [field, child] of Object.entries(schema.properties ?? {})) {
        visit(child, `${where}/${field}`, seen);
      }
      for (const child of [
        ...(schema.items === undefined ? [] : [schema.items]),
        ...(schema.anyOf ?? []),
        ...(schema.oneOf ?? []),
        ...(schema.allOf ?? []),
      ]) {
        visit(child, schema.items === child ? `${where}/0` : where, seen);
      }
    };
    let bodies = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const schema = operation.requestBody?.content["application/json"]?.schema;
        if (schema !== undefined) {
          bodies += 1;
          visit(schema, `${method.toUpperCase()} ${path} #`, new Set());
        }
      }
    }
    expect([bodies, open]).toEqual([43, []]);
  });
});
