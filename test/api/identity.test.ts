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
import { pruneAuditLog } from "../../src/db/audit-log.repo";
import { createDb } from "../../src/db/client";
import { ACCESS_TEST_KID, ACCESS_TEST_PRIVATE_JWK } from "../fixtures/access-key";
import { type ApiResponse, call, del, get, post, put } from "../helpers/api";
import { mintKey, type TestKey } from "../helpers/keys";
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
  updateAccount: "a",
  runAssertions: "aov",
  explainAccess: "aov",
  moveNetworkPolicy: "ao",
  analysePolicies: "aov",
  importObject: "ao",
  ...Object.fromEntries(
    [
      ["VirtualNetworks", "VirtualNetwork"],
      ["Tunnels", "Tunnel"],
      ["TunnelRoutes", "TunnelRoute"],
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
  listConflicts: "aov",
  checkClientLan: "aov",
  planAccount: "ao",
  reconcileAccount: "ao",
  listRuns: "aov",
  getRun: "aov",
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
  it.for<Caller>([
    "none",
    "bad key",
    "viewer",
    "operator",
    "ticketing",
    "admin",
    "other account",
  ])("%s gets the expected status from every operation", async (caller, { expect }) => {
    const { accountId } = await seedAccount(expect);
    const other = await seedAccount(expect);
    let key: string | null = null;
    if (caller === "bad key") {
      key = "tp_not-a-key-0000000000000000000000";
    } else if (caller === "other account") {
      key = (await mintKey(expect, "operator", [other.accountId])).secret;
    } else if (caller !== "none") {
      const scope = caller === "admin" ? "*" : [accountId];
      key = (await mintKey(expect, caller, scope, caller === "ticketing" ? "servicenow" : null))
        .secret;
    }
    // All at once: each answer depends only on the caller and the operation.
    const outcomes = await Promise.all(
      (await documentOperations()).map(async (op) => {
        const body = op.method === "GET" || op.method === "DELETE" ? undefined : {};
        const response = await call(op.method, concretePath(op.path, accountId), { body, key });
        const expected = expectedFor(caller, op);
        const passed = response.status !== 401 && response.status !== 403;
        return expected === (expected === "pass" && passed ? "pass" : response.status)
          ? null
          : `${op.operationId}: expected ${expected}, got ${response.status}`;
      }),
    );
    expect(outcomes.filter((o) => o !== null)).toEqual([]);
  }, 20_000);
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
      ["set the callback secret", await as("PUT", `${base}/grant-settings`, { callback_secret: "y".repeat(40) })],
      ["reconcile", await as("POST", `${base}/reconcile`)],
      ["register an account", await as("POST", "/v1/accounts", { account_id: "f".repeat(32) })],
      [
        "mint itself an admin key",
        await as("POST", "/v1/api-keys", { name: "mine", role: "admin", accounts: "*" }),
      ],
      ["revoke its own key", await as("DELETE", `/v1/api-keys/${attacker.id}`)],
      ["read another system's grant", await as("GET", `${base}/grants/${theirs.body.id}`)],
      ["cancel another system's grant", await as("POST", `${base}/grants/${theirs.body.id}/cancel`, {})],
      ["read another account", await as("GET", `${other.base}/grants`)],
    ];
    expect(attempts.map(([what, r]) => [what, r.status, problemOf(r).type])).toEqual([
      ["create an auto-approve rule", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["approve its own grant", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["delete the block policy", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["change the account's token and mode", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["read the tunnel token", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["set the callback secret", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["reconcile", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["register an account", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["mint itself an admin key", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["revoke its own key", 403, "https://tunnelplane.dev/problems/forbidden"],
      ["read another system's grant", 404, "https://tunnelplane.dev/problems/not-found"],
      ["cancel another system's grant", 404, "https://tunnelplane.dev/problems/not-found"],
      ["read another account", 404, "https://tunnelplane.dev/problems/not-found"],
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
      type: "https://tunnelplane.dev/problems/grant-self-approval",
      title: "The requester of a grant cannot decide it",
      status: 403,
      detail: `${alice.actor} requested grant ${created.body.id}; another identity must approve it.`,
      instance: `${base}/grants/${created.body.id}/approve`,
    });
    const other = await call<{ state: string }>("POST", `${base}/grants/${created.body.id}/approve`, {
      body: { reason: "looked at it" },
      key: bob.secret,
    });
    expect([other.status, other.body.state]).toEqual([200, "active"]);
  });
});
