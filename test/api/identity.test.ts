/**
 * Identity and trust boundaries through the Worker's fetch: every operation of the OpenAPI
 * document × every kind of caller against one expected table; the ticketing-system attack
 * replayed; API keys (secret once, hashed, expiry, revocation); Cloudflare Access logins
 * verified against the test certs Worker; the audit log's actors, request ids, redaction and
 * hash chain (tampering found, pruning survived).
 */
import { env } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";
import { describe, it } from "vitest";
import { createApp } from "../../src/api/app";
import { pruneAuditLog } from "../../src/db/audit-log.repo";
import { createDb } from "../../src/db/client";
import { ACCESS_TEST_KID, ACCESS_TEST_PRIVATE_JWK } from "../fixtures/access-key";
import { type ApiResponse, call, del, get, post, put } from "../helpers/api";
import { runCronTick } from "../helpers/cron";
import { newAccountId } from "../helpers/emulator";
import { mintKey } from "../helpers/keys";
import { problemOf } from "../helpers/problems";
import { seedAccount } from "../helpers/seed";

type Caller = "none" | "bad key" | "viewer" | "operator" | "ticketing" | "admin" | "other account";

/**
 * The expected table: operationId -> the roles that pass authorization (a = admin, o = operator,
 * v = viewer, t = ticketing). Everyone else gets 403; no key or a bad key 401; a key scoped to
 * another account 404 on every account path. Every operation of the document needs a row.
 */
const EXPECTED: Record<string, string> = {
  createAccount: "a",
  getAccount: "aov",
  listAccounts: "aov",
  updateAccount: "a",
  runAssertions: "aov",
  explainAccess: "aov",
  whoCanReach: "aov",
  reachableBy: "aov",
  moveNetworkPolicy: "ao",
  analysePolicies: "aov",
  importObject: "ao",
  ...Object.fromEntries(
    [
      ["VirtualNetworks", "VirtualNetwork"],
      ["Tunnels", "Tunnel"],
      ["TunnelRoutes", "TunnelRoute"],
      ["HostnameRoutes", "HostnameRoute"],
      ["NetworkPolicies", "NetworkPolicy"],
      ["Assertions", "Assertion"],
      ["PrivateApps", "PrivateApp"],
      ["EnrollmentRules", "EnrollmentRule"],
      ["DeviceProfiles", "DeviceProfile"],
    ].flatMap(([plural, one]) => [
      [`list${plural}`, "aov"],
      [`get${one}`, "aov"],
      [`create${one}`, "ao"],
      [`replace${one}`, "ao"],
      [`delete${one}`, "ao"],
    ]),
  ),
  getSplitTunnel: "aov",
  putSplitTunnel: "ao",
  getProxySettings: "aov",
  putProxySettings: "ao",
  getProfileSplitTunnel: "aov",
  listSplitTunnelEntries: "aov",
  getSplitTunnelEntry: "aov",
  listConflicts: "aov",
  checkClientLan: "aov",
  planAccount: "ao",
  getDesiredState: "aov",
  diffDesiredState: "ao",
  applyDesiredState: "ao",
  reconcileAccount: "ao",
  listRuns: "aov",
  getRun: "aov",
  listDeadLetters: "a",
  redriveDeadLetter: "a",
  createGrant: "aot",
  listGrants: "aovt",
  getGrant: "aovt",
  listGrantEvents: "aovt",
  approveGrant: "ao",
  rejectGrant: "ao",
  revokeGrant: "ao",
  cancelGrant: "aot",
  getGrantSettings: "aov",
  putGrantSettings: "a",
  listCallbackReceivers: "aov",
  putCallbackReceiver: "a",
  deleteCallbackReceiver: "a",
  listEventSubscriptions: "aov",
  createEventSubscription: "a",
  getEventSubscription: "aov",
  updateEventSubscription: "a",
  deleteEventSubscription: "a",
  listEventDeliveries: "aov",
  listGrantApprovalRules: "aov",
  createGrantApprovalRule: "a",
  getGrantApprovalRule: "aov",
  replaceGrantApprovalRule: "a",
  deleteGrantApprovalRule: "a",
  listAuditLog: "aov",
  verifyAuditLog: "aov",
  listGlobalAuditLog: "a",
  verifyGlobalAuditLog: "a",
  getTunnelToken: "ao",
  createApiKey: "a",
  listApiKeys: "a",
  getApiKey: "a",
  revokeApiKey: "a",
  createAccessRoleBinding: "a",
  listAccessRoleBindings: "a",
  deleteAccessRoleBinding: "a",
  whoAmI: "aovt",
};

const LETTER: Record<string, string> = { admin: "a", operator: "o", viewer: "v", ticketing: "t" };

interface Operation {
  method: string;
  path: string;
  operationId: string;
}

async function documentOperations(): Promise<Operation[]> {
  const doc = (
    await call<{ paths: Record<string, Record<string, { operationId: string }>> }>(
      "GET",
      "/openapi.json",
      { key: null },
    )
  ).body;
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      operationId: op.operationId,
    })),
  );
}

/** What `caller` should get from `op` (`pass`: anything but 401 and 403). */
function expectedFor(caller: Caller, op: Operation): number | "pass" {
  if (caller === "none" || caller === "bad key") {
    return 401;
  }
  if (caller === "other account") {
    return op.path.includes("{account_id}") ? 404 : expectedFor("operator", op);
  }
  return (EXPECTED[op.operationId] ?? "").includes(LETTER[caller] ?? "?") ? "pass" : 403;
}

/**
 * One request straight into the app (same middleware, handlers and D1, without the Worker
 * entry's round trip, whose cost in the test runtime grows with every request an isolate has
 * served); a JSON `{}` body for writes.
 */
async function direct(
  method: string,
  path: string,
  key: string | null,
): Promise<{ status: number }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== null) {
    headers.authorization = `Bearer ${key}`;
  }
  const body = method === "GET" || method === "DELETE" ? undefined : "{}";
  const response = await matrixApp.request(
    `http://tunnelplane${path}`,
    { method, headers, body },
    env,
  );
  await response.arrayBuffer();
  return { status: response.status };
}

const matrixApp = createApp();

function concretePath(path: string, accountId: string): string {
  return path
    .replace("{account_id}", accountId)
    .replace("{profile}", "not-a-profile")
    .replace(/\{[a-z_]+\}/g, "00000000-0000-4000-8000-000000000000");
}

describe("role × operation matrix", () => {
  it("has exactly one row per operation of the OpenAPI document", async ({ expect }) => {
    const ids = (await documentOperations()).map((op) => op.operationId).sort();
    expect(ids).toEqual(Object.keys(EXPECTED).sort());
  });

  // About 80 requests each; the limit leaves room for a loaded machine.
  it.for<Caller>(["none", "bad key", "viewer", "operator", "ticketing", "admin", "other account"])(
    "%s gets the expected status from every operation",
    { timeout: 20_000 },
    async (caller, { expect }) => {
      // An account id no test registers: an allowed call passes authorization and then stops
      // at the handler's own 404 or the body's 422, so ~80 calls stay cheap for D1.
      const accountId = newAccountId();
      let key: string | null = null;
      if (caller === "bad key") {
        key = "tp_not-a-key-0000000000000000000000";
      } else if (caller === "other account") {
        key = (await mintKey(expect, "operator", [newAccountId()])).secret;
      } else if (caller !== "none") {
        const scope = caller === "admin" ? "*" : [accountId];
        key = (await mintKey(expect, caller, scope, caller === "ticketing" ? "servicenow" : null))
          .secret;
      }
      const outcomes: (string | null)[] = [];
      for (const op of await documentOperations()) {
        const response = await direct(op.method, concretePath(op.path, accountId), key);
        const expected = expectedFor(caller, op);
        const passed = response.status !== 401 && response.status !== 403;
        outcomes.push(
          expected === (expected === "pass" && passed ? "pass" : response.status)
            ? null
            : `${op.operationId}: expected ${expected}, got ${response.status}`,
        );
      }
      expect(outcomes.filter((o) => o !== null)).toEqual([]);
    },
  );
});

const grantRequest = (system: string, ticketId: string) => ({
  ticket: { system, id: ticketId },
  subject_email: "anyone@example.com",
  destinations: ["0.0.0.0/0"],
  ports: [22],
  protocols: ["tcp"],
  reason: "routine access",
  duration_s: 3600,
});

/** Everything the attack could have changed, read with the admin key. */
async function snapshot(base: string): Promise<unknown[]> {
  const paths = [
    base,
    `${base}/policies`,
    `${base}/tunnels`,
    `${base}/grants`,
    `${base}/grant-approval-rules`,
    `${base}/grant-settings`,
    `${base}/audit-log?limit=200`,
    "/v1/api-keys?limit=200",
  ];
  return Promise.all(paths.map(async (path) => (await get(path)).body));
}

describe("a ticketing key used as an attacker would", () => {
  it("cannot widen its power, touch another system's grants, or change anything", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const other = await seedAccount(expect);
    await setSecret(base);
    const block = (
      await post<{ id: string }>(`${base}/policies`, {
        name: "block db",
        action: "block",
        precedence: 1000,
        destinations: ["10.128.0.0/16"],
      })
    ).body;
    const tunnel = (await post<{ id: string }>(`${base}/tunnels`, { name: "dc1" })).body;
    const jira = await mintKey(expect, "ticketing", [accountId], "jira");
    const theirs = await call<{ id: string }>("POST", `${base}/grants`, {
      body: grantRequest("jira", "JIRA-1"),
      key: jira.secret,
    });
    const attacker = await mintKey(expect, "ticketing", [accountId], "servicenow");
    const as = (method: string, path: string, body?: unknown) =>
      call(method, path, { body, key: attacker.secret });

    // What it may do: request a grant, which carries its own system whatever the body says.
    const own = await as("POST", `${base}/grants`, grantRequest("jira", "CHG-1"));
    expect([own.status, (own.body as { ticket: { system: string } }).ticket.system]).toEqual([
      201,
      "servicenow",
    ]);
    const ownId = (own.body as { id: string }).id;

    const before = await snapshot(base);
    const attempts: [string, ApiResponse][] = [
      [
        "create an auto-approve rule",
        await as("POST", `${base}/grant-approval-rules`, { name: "all", effect: "auto_approve" }),
      ],
      ["approve its own grant", await as("POST", `${base}/grants/${ownId}/approve`, {})],
      ["delete the block policy", await as("DELETE", `${base}/policies/${block.id}`)],
      [
        "change the account's token and mode",
        await as("PATCH", base, { api_token: "x".repeat(40), mode: "observe" }),
      ],
      ["read the tunnel token", await as("GET", `${base}/tunnels/${tunnel.id}/token`)],
      [
        "set the callback secret",
        await as("PUT", `${base}/grant-settings`, { callback_secret: "y".repeat(40) }),
      ],
      ["reconcile", await as("POST", `${base}/reconcile`)],
      ["register an account", await as("POST", "/v1/accounts", { account_id: "f".repeat(32) })],
      [
        "mint itself an admin key",
        await as("POST", "/v1/api-keys", { name: "mine", role: "admin", accounts: "*" }),
      ],
      ["revoke its own key", await as("DELETE", `/v1/api-keys/${attacker.id}`)],
      ["read another system's grant", await as("GET", `${base}/grants/${theirs.body.id}`)],
      [
        "cancel another system's grant",
        await as("POST", `${base}/grants/${theirs.body.id}/cancel`, {}),
      ],
      ["read another account", await as("GET", `${other.base}/grants`)],
    ];
    expect(attempts.map(([what, r]) => [what, r.status, problemOf(r).type])).toEqual([
      ["create an auto-approve rule", 403, "http://tunnelplane/problems/forbidden"],
      ["approve its own grant", 403, "http://tunnelplane/problems/forbidden"],
      ["delete the block policy", 403, "http://tunnelplane/problems/forbidden"],
      ["change the account's token and mode", 403, "http://tunnelplane/problems/forbidden"],
      ["read the tunnel token", 403, "http://tunnelplane/problems/forbidden"],
      ["set the callback secret", 403, "http://tunnelplane/problems/forbidden"],
      ["reconcile", 403, "http://tunnelplane/problems/forbidden"],
      ["register an account", 403, "http://tunnelplane/problems/forbidden"],
      ["mint itself an admin key", 403, "http://tunnelplane/problems/forbidden"],
      ["revoke its own key", 403, "http://tunnelplane/problems/forbidden"],
      ["read another system's grant", 404, "http://tunnelplane/problems/not-found"],
      ["cancel another system's grant", 404, "http://tunnelplane/problems/not-found"],
      ["read another account", 404, "http://tunnelplane/problems/not-found"],
    ]);
    const listed = await as("GET", `${base}/grants`);
    expect((listed.body as { items: { id: string }[] }).items.map((g) => g.id)).toEqual([ownId]);
    const filtered = await as("GET", `${base}/grants?ticket_system=jira`);
    expect((filtered.body as { items: { id: string }[] }).items.map((g) => g.id)).toEqual([ownId]);
    expect(await snapshot(base)).toEqual(before);
  });
});

/** Sets the account's callback secret (grants with a callback need it; the audit redacts it). */
async function setSecret(base: string): Promise<void> {
  await put(`${base}/grant-settings`, { callback_secret: "test-callback-secret-0123456789abcdef" });
}

describe("requester and approver", () => {
  it("the identity that requested a grant cannot approve it; another operator can", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect, { mode: "observe" });
    const alice = await mintKey(expect, "operator", [accountId]);
    const bob = await mintKey(expect, "operator", [accountId]);
    const created = await call<{ id: string; requested_by: string }>("POST", `${base}/grants`, {
      body: grantRequest("internal", "OPS-1"),
      key: alice.secret,
    });
    expect([created.status, created.body.requested_by]).toEqual([201, alice.actor]);
    const self = await call("POST", `${base}/grants/${created.body.id}/approve`, {
      body: {},
      key: alice.secret,
    });
    expect(problemOf(self)).toEqual({
      type: "http://tunnelplane/problems/grant-self-approval",
      title: "The requester of a grant cannot decide it",
      status: 403,
      detail: `${alice.actor} requested grant ${created.body.id}; another identity must approve it.`,
      instance: `${base}/grants/${created.body.id}/approve`,
    });
    const other = await call<{ state: string }>(
      "POST",
      `${base}/grants/${created.body.id}/approve`,
      {
        body: { reason: "looked at it" },
        key: bob.secret,
      },
    );
    expect([other.status, other.body.state]).toEqual([200, "active"]);
  });
});

describe("API keys", () => {
  it("answers the secret once, stores only its hash, and a revoked key stops at once", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const name = `ci-${crypto.randomUUID().slice(0, 8)}`;
    const created = await post<Record<string, unknown> & { id: string; secret: string }>(
      "/v1/api-keys",
      { name, role: "viewer", accounts: [accountId] },
    );
    const { secret, id, created_at: _at, ...shown } = created.body;
    expect([created.status, created.headers.get("location"), shown]).toEqual([
      201,
      `/v1/api-keys/${id}`,
      {
        name,
        role: "viewer",
        accounts: [accountId],
        ticket_system: null,
        prefix: secret.slice(0, 10),
        expires_at: null,
        revoked_at: null,
        created_by: "bootstrap-admin",
      },
    ]);
    expect(secret).toMatch(/^tp_[A-Za-z0-9_-]{32}$/);
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first();
    expect(JSON.stringify(stored).includes(secret)).toBe(false);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)),
    );
    expect(stored?.secret_hash).toBe(
      [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
    );
    const read = await get<Record<string, unknown>>(`/v1/api-keys/${id}`);
    expect(Object.keys(read.body).includes("secret")).toBe(false);

    const whoami = await call("GET", "/v1/whoami", { key: secret });
    expect(whoami.body).toEqual({
      actor: `key:${name}`,
      role: "viewer",
      accounts: [accountId],
      ticket_system: null,
    });
    expect((await call("GET", base, { key: secret })).status).toBe(200);
    expect((await del(`/v1/api-keys/${id}`)).status).toBe(204);
    const after = await call("GET", base, { key: secret });
    expect([after.status, problemOf(after).detail]).toEqual([
      401,
      "The API key is unknown, revoked or expired.",
    ]);
    const listed = await get<{ items: { id: string; revoked_at: string | null }[] }>(
      "/v1/api-keys?limit=200",
    );
    expect(listed.body.items.find((k) => k.id === id)?.revoked_at).toEqual(
      (await get<{ revoked_at: string }>(`/v1/api-keys/${id}`)).body.revoked_at,
    );
  });

  it("an expired key is refused", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const key = await mintKey(expect, "operator", [accountId]);
    expect((await call("GET", base, { key: key.secret })).status).toBe(200);
    // Moves the expiry into the past instead of waiting for it.
    await env.DB.prepare("UPDATE api_keys SET expires_at_ms = ? WHERE id = ?")
      .bind(Date.now() - 1, key.id)
      .run();
    expect((await call("GET", base, { key: key.secret })).status).toBe(401);
  });

  it("validates role, scope, ticket system, expiry and name", async ({ expect }) => {
    const bad = await post("/v1/api-keys", {
      name: "Bad Name",
      role: "admin",
      accounts: ["0123456789abcdef0123456789abcdef"],
      ticket_system: "jira",
      expires_at: "2020-01-01T00:00:00Z",
    });
    expect(
      (problemOf(bad).errors as { pointer: string; code: string }[]).map((e) => [
        e.pointer,
        e.code,
      ]),
    ).toEqual([
      ["#/name", "invalid-format"],
      ["#/accounts", "admin-scope"],
      ["#/ticket_system", "ticket-system"],
    ]);
    const ticketing = await post("/v1/api-keys", { name: "t", role: "ticketing", accounts: "*" });
    expect(problemOf(ticketing).errors).toEqual([
      {
        pointer: "#/ticket_system",
        detail: "a ticketing key needs its ticket_system",
        code: "ticket-system",
      },
    ]);
    const past = await post("/v1/api-keys", {
      name: `p-${crypto.randomUUID().slice(0, 8)}`,
      role: "viewer",
      accounts: "*",
      expires_at: "2020-01-01T00:00:00Z",
    });
    expect([past.status, problemOf(past).errors]).toEqual([
      422,
      [{ pointer: "#/expires_at", detail: "must be in the future", code: "expires-in-past" }],
    ]);
    const name = `dup-${crypto.randomUUID().slice(0, 8)}`;
    expect((await post("/v1/api-keys", { name, role: "viewer", accounts: "*" })).status).toBe(201);
    const again = await post("/v1/api-keys", { name, role: "viewer", accounts: "*" });
    expect([again.status, problemOf(again).detail]).toEqual([
      409,
      `An API key named ${name} exists.`,
    ]);
  });
});

/** A Cloudflare Access token signed with the test key (or `signingKey`), valid for an hour. */
async function accessToken(
  email: string | null,
  options: { audience?: string; issuer?: string; expiresAtS?: number; signingKey?: CryptoKey } = {},
): Promise<string> {
  const key = options.signingKey ?? (await importJWK(ACCESS_TEST_PRIVATE_JWK, "ES256"));
  const nowS = Math.floor(Date.now() / 1000);
  return new SignJWT(email === null ? {} : { email })
    .setProtectedHeader({ alg: "ES256", kid: ACCESS_TEST_KID })
    .setIssuer(options.issuer ?? `https://${env.ACCESS_TEAM_DOMAIN}`)
    .setAudience(options.audience ?? env.ACCESS_AUD ?? "")
    .setIssuedAt(nowS)
    .setExpirationTime(options.expiresAtS ?? nowS + 3600)
    .sign(key);
}

const asPerson = (method: string, path: string, token: string, body?: unknown) =>
  call(method, path, { body, key: null, headers: { "cf-access-jwt-assertion": token } });

describe("Cloudflare Access login", () => {
  it("a verified email gets its bound role; the audit log names the person", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const email = `ops-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const binding = await post<{ id: string }>("/v1/access-role-bindings", {
      email: email.toUpperCase(),
      role: "operator",
      accounts: [accountId],
    });
    expect(binding.status).toBe(201);
    const token = await accessToken(email);
    expect((await asPerson("GET", "/v1/whoami", token)).body).toEqual({
      actor: `access:${email}`,
      role: "operator",
      accounts: [accountId],
      ticket_system: null,
    });
    const vnet = await asPerson("POST", `${base}/virtual-networks`, token, { name: "prod" });
    expect(vnet.status).toBe(201);
    const log = await get<{ items: { actor: string; action: string }[] }>(`${base}/audit-log`);
    expect(log.body.items[0]).toMatchObject({ actor: `access:${email}`, action: "create" });
    expect((await asPerson("POST", "/v1/api-keys", token, {})).status).toBe(403);

    expect((await del(`/v1/access-role-bindings/${binding.body.id}`)).status).toBe(204);
    const unbound = await asPerson("GET", base, token);
    expect([unbound.status, problemOf(unbound).detail]).toEqual([
      403,
      `${email} has no role in tunnelplane.`,
    ]);
  });

  it("refuses a token with another signer, audience or issuer, an expired one, and no email", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const email = `v-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await post("/v1/access-role-bindings", { email, role: "viewer", accounts: "*" });
    expect((await asPerson("GET", base, await accessToken(email))).status).toBe(200);
    const { privateKey } = (await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const cases: [string, string][] = [
      ["signed by another key", await accessToken(email, { signingKey: privateKey })],
      ["for another application", await accessToken(email, { audience: "someone-else" })],
      [
        "from another team",
        await accessToken(email, { issuer: "https://evil.cloudflareaccess.com" }),
      ],
      ["expired", await accessToken(email, { expiresAtS: Math.floor(Date.now() / 1000) - 60 })],
      ["a service token without email", await accessToken(null)],
      ["not a JWT", "not.a.jwt"],
    ];
    const outcomes = await Promise.all(
      cases.map(async ([what, token]) => [what, (await asPerson("GET", base, token)).status]),
    );
    expect(outcomes).toEqual(cases.map(([what]) => [what, 401]));
  });
});

interface Entry {
  id: string;
  actor: string;
  request_id: string | null;
  action: string;
  kind: string;
  object_id: string;
  before: unknown;
  after: unknown;
  prev_hash: string;
  hash: string;
}

describe("audit log", () => {
  it("records writes, decisions, rules, plans and secret reads with actor, request id and no secret", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect, { mode: "observe" });
    const operator = await mintKey(expect, "operator", [accountId]);
    const ticketing = await mintKey(expect, "ticketing", [accountId], "servicenow");
    const settings = await put(`${base}/grant-settings`, {
      callback_secret: "very-secret-callback-value-0123456789",
    });
    const rule = await post<{ id: string }>(`${base}/grant-approval-rules`, {
      name: "limit",
      effect: "hard_limit",
      max_duration_s: 7200,
    });
    const grant = await call<{ id: string }>("POST", `${base}/grants`, {
      body: grantRequest("servicenow", "CHG-9"),
      key: ticketing.secret,
    });
    const approve = await call("POST", `${base}/grants/${grant.body.id}/approve`, {
      body: { reason: "ok" },
      key: operator.secret,
    });
    const plan = await call("POST", `${base}/plan`, { key: operator.secret });
    const log = await get<{ items: Entry[] }>(`${base}/audit-log`);
    const requestIds = [settings, rule, grant, approve, plan].map((r) =>
      r.headers.get("x-request-id"),
    );
    expect(
      log.body.items
        .slice(0, 5)
        .reverse()
        .map((e) => [e.actor, e.action, e.kind, e.object_id, e.request_id]),
    ).toEqual([
      ["bootstrap-admin", "putGrantSettings", "grant-settings", accountId, requestIds[0]],
      [
        "bootstrap-admin",
        "createGrantApprovalRule",
        "grant-approval-rules",
        rule.body.id,
        requestIds[1],
      ],
      [ticketing.actor, "createGrant", "grants", grant.body.id, requestIds[2]],
      [operator.actor, "approveGrant", "grants", grant.body.id, requestIds[3]],
      [operator.actor, "planAccount", "plan", accountId, requestIds[4]],
    ]);
    const approval = log.body.items[1];
    expect([approval?.before, (approval?.after as { state: string } | undefined)?.state]).toEqual([
      { state: "requested", version: 1 },
      "active",
    ]);
    expect(JSON.stringify(log.body).includes("very-secret-callback-value")).toBe(false);

    const keys = await get<{ items: Entry[] }>("/v1/audit-log?limit=200");
    const minted = keys.body.items.find((e) => e.object_id === operator.id);
    expect([minted?.action, (minted?.after as { secret: string } | undefined)?.secret]).toEqual([
      "createApiKey",
      "(redacted)",
    ]);
    expect(JSON.stringify(keys.body).includes(operator.secret)).toBe(false);
  });

  it("chains every entry to the one before and says where a changed or removed entry breaks it", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    for (const name of ["a", "b", "c"]) {
      await post(`${base}/virtual-networks`, { name });
    }
    const entries = (await get<{ items: Entry[] }>(`${base}/audit-log`)).body.items.reverse();
    expect(
      entries.map((e, i) => e.prev_hash === (i === 0 ? "0".repeat(64) : entries[i - 1]?.hash)),
    ).toEqual([true, true, true, true]);
    const verified = await get(`${base}/audit-log/verify`);
    expect(verified.body).toEqual({
      ok: true,
      checked: 4,
      first_entry_id: entries[0]?.id,
      last_hash: entries[3]?.hash,
      break: null,
    });
    const [, second, third] = entries;
    await env.DB.prepare("UPDATE audit_log SET after_json = ? WHERE id = ?")
      .bind(JSON.stringify({ name: "forged" }), second?.id)
      .run();
    expect((await get(`${base}/audit-log/verify`)).body).toEqual({
      ok: false,
      checked: 2,
      first_entry_id: entries[0]?.id,
      last_hash: entries[0]?.hash,
      break: { entry_id: second?.id, reason: "hash-mismatch" },
    });
    await env.DB.prepare("DELETE FROM audit_log WHERE id = ?").bind(second?.id).run();
    expect((await get(`${base}/audit-log/verify`)).body).toEqual({
      ok: false,
      checked: 2,
      first_entry_id: entries[0]?.id,
      last_hash: entries[0]?.hash,
      break: { entry_id: third?.id, reason: "prev-hash-mismatch" },
    });
  });

  it("pruning the oldest entries keeps the rest verifiable", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    for (const name of ["a", "b"]) {
      await post(`${base}/virtual-networks`, { name });
    }
    const entries = (await get<{ items: Entry[] }>(`${base}/audit-log`)).body.items.reverse();
    // Everything but the newest entry is older than "now + 1 ms": the newest always stays.
    expect(await pruneAuditLog(createDb(env.DB), accountId, Date.now() + 1)).toBe(2);
    await post(`${base}/virtual-networks`, { name: "c" });
    const verified = await get<{ ok: boolean; checked: number; first_entry_id: string }>(
      `${base}/audit-log/verify`,
    );
    expect(verified.body).toMatchObject({ ok: true, checked: 2, first_entry_id: entries[2]?.id });
  });

  it("the cron tick prunes the audit log of the accounts it hands out past 90 days", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    for (const name of ["a", "b"]) {
      await post(`${base}/virtual-networks`, { name });
    }
    const before = (await get<{ items: Entry[] }>(`${base}/audit-log`)).body.items;
    // 89 days on nothing is old enough; 91 days on everything is, but the newest entry stays.
    expect(await runCronTick(Date.now() + 89 * 86_400_000)).toContainEqual({
      account_id: accountId,
    });
    expect((await get<{ items: Entry[] }>(`${base}/audit-log`)).body.items).toHaveLength(
      before.length,
    );
    await env.DB.prepare("UPDATE accounts SET next_reconcile_at_ms = 0 WHERE id = ?")
      .bind(accountId)
      .run();
    expect(await runCronTick(Date.now() + 91 * 86_400_000)).toContainEqual({
      account_id: accountId,
    });
    const after = (await get<{ items: Entry[] }>(`${base}/audit-log`)).body.items;
    expect(after.map((e) => e.id)).toEqual([before[0]?.id]);
    expect((await get(`${base}/audit-log/verify`)).body).toMatchObject({ ok: true, checked: 1 });
  });
});
