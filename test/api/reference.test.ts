/**
 * The API as its users meet it: the OpenAPI document (English summaries, an example on every
 * body, patterns that compile as ECMAScript and match their own examples), the problem catalogue
 * every problem `type` resolves to, the operator's endpoints, and the typed client.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createTunnelplaneClient } from "tunnelplane/client";
import { describe, it } from "vitest";
import { PROBLEMS } from "../../src/api/problem";
import worker from "../../src/index";
import type { ReconcileMessage } from "../../src/reconciler/continue";
import { ADMIN_KEY, call, get, post } from "../helpers/api";
import { control, newAccountId } from "../helpers/emulator";
import { mintKey } from "../helpers/keys";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";
import type { RunBody } from "../helpers/wire";

interface Schema {
  pattern?: string;
  example?: unknown;
  [key: string]: unknown;
}
interface Media {
  example?: unknown;
  examples?: unknown;
}
interface Operation {
  operationId: string;
  summary?: string;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

async function openApiDocument(): Promise<Document> {
  return (await call<Document>("GET", "/openapi.json", { key: null })).body;
}

function operationsOf(doc: Document): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]): [string, Operation] => [
      `${method.toUpperCase()} ${path}`,
      op,
    ]),
  );
}

describe("the OpenAPI document", () => {
  it("gives every operation an English summary", async ({ expect }) => {
    const doc = await openApiDocument();
    const wrong = operationsOf(doc).flatMap(([where, op]) => {
      const summary = op.summary ?? "";
      const faults = [
        summary === "" ? "no summary" : null,
        /\b[A-Z][a-z]+[A-Z]/.test(summary) ? "a PascalCase word" : null,
        /\ba (?:[aeio]|u(?!s|ni))/i.test(summary) ? "'a' before a vowel" : null,
        /^[a-z]/.test(summary) ? "lower-case start" : null,
      ].filter((f) => f !== null);
      return faults.length === 0 ? [] : [`${where}: ${faults.join(", ")} in "${summary}"`];
    });
    expect(wrong).toEqual([]);
    const summaries = Object.fromEntries(
      operationsOf(doc).map(([, op]) => [op.operationId, op.summary]),
    );
    expect([
      summaries.createAssertion,
      summaries.getVirtualNetwork,
      summaries.listHostnameRoutes,
      summaries.replaceEnrollmentRule,
    ]).toEqual([
      "Create an assertion",
      "Get a virtual network",
      "List hostname routes",
      "Replace an enrollment rule",
    ]);
  });

  it("shows an example of every request and response body", async ({ expect }) => {
    const doc = await openApiDocument();
    const missing = operationsOf(doc).flatMap(([where, op]) => {
      const bodies = [
        ...Object.entries(op.requestBody?.content ?? {}).map(([type, m]) => [`request ${type}`, m]),
        ...Object.entries(op.responses).flatMap(([status, r]) =>
          Object.entries(r.content ?? {}).map(([type, m]) => [`${status} ${type}`, m]),
        ),
      ] as [string, Media][];
      return bodies
        .filter(([, media]) => media.example === undefined && media.examples === undefined)
        .map(([body]) => `${where} ${body}`);
    });
    expect(missing).toEqual([]);
    const routes = doc.paths["/v1/accounts/{account_id}/routes"];
    expect(routes?.post?.requestBody?.content["application/json"]?.example).toEqual({
      network: "10.0.0.0/8",
      tunnel_id: "4f9d6a2e-3b1c-4e8a-9d7f-1a2b3c4d5e6f",
      comment: "data centre",
    });
  });

  it("has patterns that compile as ECMAScript and match their own examples", async ({ expect }) => {
    const doc = await openApiDocument();
    const faults: string[] = [];
    let patterns = 0;
    const visit = (node: unknown, where: string): void => {
      if (node === null || typeof node !== "object") {
        return;
      }
      const schema = node as Schema;
      if (typeof schema.pattern === "string") {
        patterns += 1;
        let regex: RegExp | undefined;
        try {
          regex = new RegExp(schema.pattern, "u");
        } catch {
          faults.push(`${where}: does not compile`);
        }
        if (typeof schema.example !== "string") {
          faults.push(`${where}: no string example`);
        } else if (regex !== undefined && !regex.test(schema.example)) {
          faults.push(`${where}: ${JSON.stringify(schema.example)} does not match`);
        }
      }
      for (const [key, child] of Object.entries(node)) {
        visit(child, `${where}/${key}`);
      }
    };
    visit(doc, "#");
    expect(faults).toEqual([]);
    expect(patterns).toBeGreaterThanOrEqual(15);
    const host = doc.components.schemas.SplitTunnelEntryInput as {
      properties: { host: Schema };
    };
    const hostPattern = new RegExp(host.properties.host.pattern ?? "", "u");
    expect(
      ["*.corp.example.com", "Intranet.Example.COM", "bad host", "*.", "a..b"].map((h) =>
        hostPattern.test(h),
      ),
    ).toEqual([true, true, false, false, false]);
  });
});

describe("problem types", () => {
  it("resolve to the catalogue, which lists every one", async ({ expect }) => {
    const missing = await get<{ type: string; status: number; title: string }>(
      "/v1/accounts/0123456789abcdef0123456789abcdef/nothing-here",
    );
    expect([missing.status, missing.body.type]).toEqual([
      404,
      "http://tunnelplane/problems/not-found",
    ]);
    const entry = await exports.default.fetch(new Request(missing.body.type));
    expect([entry.status, await entry.json()]).toEqual([
      200,
      {
        type: "http://tunnelplane/problems/not-found",
        slug: "not-found",
        status: 404,
        title: "Not found",
      },
    ]);
    const catalogue = await call<{ items: { slug: string; status: number }[] }>(
      "GET",
      "/problems",
      { key: null },
    );
    expect(catalogue.body.items.map((e) => [e.slug, e.status])).toEqual(
      Object.entries(PROBLEMS).map(([slug, p]) => [slug, p.status]),
    );
    const page = await exports.default.fetch(
      new Request("http://tunnelplane/problems/lease-held", { headers: { accept: "text/html" } }),
    );
    expect(await page.text()).toContain(
      '<tr id="lease-held"><td>409</td><td><a href="/problems/lease-held">lease-held</a></td><td>Another reconcile of this account is running</td></tr>',
    );
    const unknown = await call<{ type: string }>("GET", "/problems/no-such-problem", {
      key: null,
    });
    expect([unknown.status, unknown.body.type]).toEqual([
      404,
      "http://tunnelplane/problems/not-found",
    ]);
  });

  it("are listed in the document, and every field error code is kebab-case", async ({ expect }) => {
    const doc = await openApiDocument();
    const problem = doc.components.schemas.Problem as { properties: { type: Schema } };
    const typePattern = new RegExp(problem.properties.type.pattern ?? "", "u");
    expect(
      Object.keys(PROBLEMS).filter(
        (slug) => !typePattern.test(`https://tp.example/problems/${slug}`),
      ),
    ).toEqual([]);
    const invalid = await call<{ errors: { pointer: string; code: string }[] }>(
      "POST",
      "/v1/accounts",
      { body: { account_id: "nope", name: "", api_token: "short", colour: "red" } },
    );
    expect(invalid.body.errors.map((e) => [e.pointer, e.code])).toEqual([
      ["#/account_id", "invalid-format"],
      ["#/name", "too-small"],
      ["#/api_token", "too-small"],
      ["#/colour", "unknown-field"],
    ]);
  });
});

interface Summary {
  account_id: string;
  name: string;
  mode: string;
  state: string;
  last_run: {
    id: string;
    outcome: string;
    drift_count: number;
    error_count: number;
    duration_ms: number | null;
  } | null;
  drifted_objects: number;
  dead_letters: number;
  next_run_at: string;
  lease: { holder: string; expires_at: string } | null;
  token_problems: string[];
}

describe("operators", () => {
  it("read the version, D1, the queue and the scheduler's lag from /healthz", async ({
    expect,
  }) => {
    const health = await call<Record<string, unknown>>("GET", "/healthz", { key: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      ok: true,
      version: { package: "0.1.0", commit: "unknown" },
      d1: { reachable: true, latency_ms: expect.any(Number) },
      queue: { bound: true },
      oldest_due_lag_ms: expect.any(Number),
    });
  });

  // Two reconciles; the limit leaves room for a loaded machine.
  it("list accounts with their state, last run, drift and token problems", {
    timeout: 20_000,
  }, async ({ expect }) => {
    const healthy = await seedAccount(expect, { reconcileIntervalS: 3600 });
    await describeSeedScenario(healthy.base);
    const good = await post<RunBody>(`${healthy.base}/reconcile`);
    expect(good.body.outcome).toBe("succeeded");

    // A token Cloudflare knows but which may only read: every write is refused with 403.
    const refusedToken = `refused-${crypto.randomUUID()}-0123456789`;
    expect(
      await control("/tokens", "PUT", {
        token: refusedToken,
        permission_groups: ["Zero Trust Read"],
      }),
    ).toMatchObject({ permission_groups: ["Zero Trust Read"] });
    const refusedId = newAccountId();
    expect(
      (
        await post("/v1/accounts", {
          account_id: refusedId,
          name: "refused",
          api_token: refusedToken,
          reconcile_interval_s: 3600,
        })
      ).status,
    ).toBe(201);
    await post(`/v1/accounts/${refusedId}/tunnels`, { name: "dc1" });
    const bad = await post<RunBody>(`/v1/accounts/${refusedId}/reconcile`);
    const fresh = await seedAccount(expect);
    // The refused account's follow-up gave up twice: the dead-letter queue stores both messages.
    const letters = createMessageBatch<ReconcileMessage>(
      "tunnelplane-reconcile-dlq",
      [1, 2].map((n) => ({
        id: `dl-${refusedId}-${n}`,
        timestamp: new Date(),
        attempts: 4,
        body: { account_id: refusedId },
      })),
    );
    await worker.queue(letters, env);
    expect((await getQueueResult(letters, createExecutionContext())).ackAll).toBe(true);

    const viewer = await mintKey(expect, "viewer", [fresh.accountId, refusedId, healthy.accountId]);
    const first = await call<{ items: Summary[]; next_cursor: string | null }>(
      "GET",
      "/v1/accounts?limit=2",
      { key: viewer.secret },
    );
    const second = await call<{ items: Summary[]; next_cursor: string | null }>(
      "GET",
      `/v1/accounts?limit=2&cursor=${first.body.next_cursor}`,
      { key: viewer.secret },
    );
    expect(second.body.next_cursor).toBe(null);
    const byId = new Map([...first.body.items, ...second.body.items].map((s) => [s.account_id, s]));
    expect([...byId.keys()]).toEqual([fresh.accountId, refusedId, healthy.accountId].sort());
    expect(byId.get(healthy.accountId)).toEqual({
      account_id: healthy.accountId,
      name: `test ${healthy.accountId.slice(0, 6)}`,
      mode: "enforce",
      state: "healthy",
      last_run: {
        id: good.body.id,
        outcome: "succeeded",
        started_at: expect.any(String),
        finished_at: expect.any(String),
        duration_ms: expect.any(Number),
        drift_count: 0,
        error_count: 0,
      },
      drifted_objects: 0,
      dead_letters: 0,
      next_run_at: expect.any(String),
      lease: null,
      token_problems: [],
    });
    const refused = byId.get(refusedId);
    expect([
      refused?.state,
      bad.body.outcome,
      refused?.last_run?.outcome,
      refused?.dead_letters,
    ]).toEqual(["failing", "partial", "partial", 2]);
    expect(refused?.token_problems).toEqual([
      "the API token lacks Cloudflare Tunnel: Edit (Cloudflare answered 403 / 10000 to GET teamnet/virtual_networks)",
      "the API token lacks Cloudflare Tunnel: Edit (Cloudflare answered 403 / 10000 to GET cfd_tunnel)",
    ]);
    expect([byId.get(fresh.accountId)?.state, byId.get(fresh.accountId)?.last_run]).toEqual([
      "never-run",
      null,
    ]);
  });
});

describe("the typed client", () => {
  it("describes the seed scenario against the Worker and reads problems as typed errors", async ({
    expect,
  }) => {
    const { accountId } = await seedAccount(expect);
    const client = createTunnelplaneClient({
      baseUrl: "http://tunnelplane",
      apiKey: ADMIN_KEY,
      fetch: (request) => exports.default.fetch(request),
    });
    const account_id = accountId;
    const tunnel = await client.POST("/v1/accounts/{account_id}/tunnels", {
      params: { path: { account_id } },
      body: { name: "dc1" },
    });
    expect([tunnel.response.status, tunnel.data?.name]).toEqual([201, "dc1"]);
    const tunnel_id = tunnel.data?.id ?? "";
    const route = await client.POST("/v1/accounts/{account_id}/routes", {
      params: { path: { account_id } },
      body: { network: "10.0.0.0/8", tunnel_id, comment: "data centre" },
    });
    expect([route.response.status, route.data?.network, route.data?.status.state]).toEqual([
      201,
      "10.0.0.0/8",
      "pending",
    ]);
    const listed = await client.GET("/v1/accounts/{account_id}/routes", {
      params: { path: { account_id }, query: { limit: 10 } },
    });
    expect(listed.data?.items.map((r) => [r.network, r.tunnel_id, r.comment])).toEqual([
      ["10.0.0.0/8", tunnel_id, "data centre"],
    ]);
    const refused = await client.POST("/v1/accounts/{account_id}/routes", {
      params: { path: { account_id } },
      body: { network: "10.1.2.3/8", tunnel_id },
    });
    expect([refused.response.status, refused.error?.type, refused.error?.errors]).toEqual([
      422,
      "http://tunnelplane/problems/validation-failed",
      [
        {
          pointer: "#/network",
          detail: "10.1.2.3/8 has host bits set; the canonical form is 10.0.0.0/8",
          code: "cidr-host-bits-set",
        },
      ],
    ]);
  });
});

describe("the dashboard", () => {
  it("shows the account's runs, drift, conflicts, grants and tunnels to a reader, and nothing to others", {
    timeout: 20_000,
  }, async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.outcome).toBe("succeeded");
    const grant = await post(`${base}/grants`, {
      ticket: { system: "servicenow", id: "CHG0031337" },
      subject_email: "contractor@example.com",
      destinations: ["10.128.0.7"],
      ports: [22],
      reason: "database migration",
      starts_at: new Date(Date.now() + 7_200_000).toISOString(),
      duration_s: 3600,
    });
    expect(grant.status).toBe(201);
    const viewer = await mintKey(expect, "viewer", [accountId]);
    const page = (path: string, key: string | null) =>
      exports.default.fetch(
        new Request(`http://tunnelplane${path}`, {
          headers: key === null ? {} : { authorization: `Bearer ${key}` },
        }),
      );

    const accounts = await page("/dashboard", viewer.secret);
    const accountsHtml = await accounts.text();
    expect([accounts.status, accountsHtml.startsWith('<!doctype html><html lang="en">')]).toEqual([
      200,
      true,
    ]);
    expect(accountsHtml).toContain(
      `<td data-label="account"><a href="/dashboard/accounts/${accountId}">test ${accountId.slice(0, 6)}</a><br/><code>${accountId}</code></td><td data-label="state"><span class="state healthy">healthy</span></td>`,
    );
    expect(
      accountsHtml.match(/<tr><td data-label="account"><a href="\/dashboard\/accounts\//g)?.length,
    ).toBe(1);

    const detail = await (await page(`/dashboard/accounts/${accountId}`, viewer.secret)).text();
    expect(detail).toContain('aria-label="API calls and drift for 1 runs"');
    expect(detail).toContain(
      `<td data-label="trigger">api</td><td data-label="outcome"><span class="state succeeded">succeeded</span></td>`,
    );
    expect(detail).toContain(
      `<td data-label="API calls">${run.body.counts.subrequests}</td><td data-label="applied">7</td><td data-label="drift">0</td>`,
    );
    expect(detail).toContain(
      '<td data-label="subject">contractor@example.com</td><td data-label="destinations">10.128.0.7/32</td><td data-label="ticket">servicenow CHG0031337</td><td data-label="state"><span class="state requested">requested</span></td><td data-label="time left">starts in 2 h 0 min</td>',
    );
    expect(detail).toContain(
      '<td data-label="tunnel">dc1</td><td data-label="sync"><span class="state synced">synced</span></td>',
    );
    // The seed's 10.0.0.0/8 covers the common home LAN: the one warning GET conflicts lists.
    expect(detail).toContain(
      '<h2>Conflicts and warnings</h2><p>0 errors, 1 warning.</p><div class="scroll"><table class="cards"><thead><tr><th>severity</th><th>code</th><th>finding</th></tr></thead><tbody><tr><td data-label="severity"><span class="state warning">warning</span></td><td data-label="code"><code>home-lan-overlap</code></td><td data-label="finding">10.0.0.0/8 overlaps the common home LAN 10.0.0.0/24; users on such a LAN cannot reach 10.0.0.0/24</td></tr></tbody></table></div><h2>',
    );

    const other = await mintKey(expect, "viewer", [newAccountId()]);
    const ticketing = await mintKey(expect, "ticketing", [accountId], "servicenow");
    expect(
      await Promise.all(
        [
          page(`/dashboard/accounts/${accountId}`, other.secret),
          page(`/dashboard/accounts/${accountId}`, ticketing.secret),
          page("/dashboard", null),
        ].map(async (r) => (await r).status),
      ),
    ).toEqual([404, 403, 401]);
  });
});
