/**
 * The desired state as one document: export (JSON and YAML), diff without storing anything, and
 * the atomic apply, down to the Cloudflare objects the emulator holds after a reconcile.
 */
import { env, exports } from "cloudflare:workers";
import { describe, it } from "vitest";
import { applyDesiredStateWrites, isFingerprintMismatch } from "../../src/db/desired-state.repo";
import { ADMIN_KEY, call, get, post } from "../helpers/api";
import { callsOf, lastSeq, sdk } from "../helpers/emulator";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";
import type { RunBody } from "../helpers/wire";

/** The seed scenario of the README's quickstart, as a document. */
const SEED_YAML = `format: tunnelplane.desired-state/v1
tunnels:
  - name: dc1
routes:
  - network: 10.0.0.0/8
    tunnel: dc1
  - network: 172.31.0.0/16
    tunnel: dc1
split_tunnel:
  mode: exclude
  auto: true
proxy_settings:
  tcp: true
  udp: true
  icmp: true
policies:
  - name: Allow example.com to db
    action: allow
    precedence: 1000
    destinations: [10.128.0.7]
    email_regex: ".*@example.com"
  - name: Block db for everyone else
    action: block
    precedence: 2000
    destinations: [10.128.0.7]
`;

/** One object of every listed kind. */
const EVERY_KIND = {
  format: "tunnelplane.desired-state/v1",
  virtual_networks: [
    { name: "prod", is_default: true },
    { name: "staging", comment: "lab networks" },
  ],
  tunnels: [{ name: "dc1" }, { name: "dc2" }],
  routes: [
    { network: "10.1.0.0/16", tunnel: "dc1", virtual_network: "prod" },
    { network: "10.1.0.0/16", tunnel: "dc2", virtual_network: "staging", comment: "lab" },
  ],
  hostname_routes: [{ hostname: "*.Apps.acme.internal", tunnel: "dc1" }],
  device_profiles: [
    {
      name: "Engineers",
      match: 'any(identity.groups.name[*] in {"eng"})',
      precedence: 10,
      virtual_networks: ["staging"],
      split_tunnel: { mode: "exclude", auto: true },
    },
  ],
  private_apps: [
    {
      name: "db-prod",
      precedence: 5000,
      destinations: [{ cidr: "10.1.2.3", ports: [5432], protocol: "tcp" }],
      emails: ["Alice@example.com"],
    },
  ],
  enrollment_rules: [{ name: "Employees", email_domains: ["example.com"] }],
  grant_approval_rules: [
    {
      name: "Contractors to db",
      effect: "auto_approve",
      max_duration_s: 14_400,
      allowed_destinations: ["10.1.2.3", "10.1.0.0/16", "10.1.2.3/32"],
      allowed_systems: ["Jira "],
      subject_email_pattern: "[^@]+@example\\.com",
    },
    { name: "Bounds", effect: "hard_limit", allowed_destinations: ["10.0.0.0/8"] },
  ],
  assertions: [
    {
      name: "nobody reaches the documentation range",
      email: "alice@example.com",
      destination_ip: "192.0.2.1",
      port: 443,
      expect: "deny",
    },
  ],
};

interface Doc {
  format: string;
  version: string;
  tunnels: { name: string }[];
  routes: { network: string; tunnel: string; virtual_network: string | null; comment: string }[];
  policies: Record<string, unknown>[];
  assertions: Record<string, unknown>[];
  [field: string]: unknown;
}

interface Diff {
  version: string;
  document_version: string;
  acceptable: boolean;
  summary: Record<string, number>;
  changes: {
    op: string;
    kind: string;
    key: string;
    pointer: string | null;
    fields: { field: string; before: unknown; after: unknown }[];
  }[];
  problems: { pointer: string; detail: string; code: string }[];
  assertions: { name: string; passed: boolean }[];
  plan: { actions: { op: string; kind: string }[]; access_delta: { changes: unknown[] } } | null;
}

const yaml = (path: string, method: string, body: string, headers: Record<string, string> = {}) =>
  call<Record<string, unknown>>(method, path, {
    body,
    headers: { "content-type": "application/yaml", ...headers },
  });

const exportOf = async (base: string) => (await get<Doc>(`${base}/desired-state`)).body;

/** If-Match for an apply over whatever version the account is at. */
const ANY = { "if-match": "*" };

const applyDoc = (base: string, doc: unknown, query = "", headers: Record<string, string> = ANY) =>
  call<Record<string, unknown>>("PUT", `${base}/desired-state${query}`, { body: doc, headers });

const withoutMarker = (text: string | undefined | null) =>
  (text ?? "").replace(/ ?tunnelplane:\S+$/, "");

/** What the emulator holds for the account, ids and ownership markers left out. */
async function cloudflareState(accountId: string) {
  const cf = sdk();
  const account = { account_id: accountId };
  const tunnels = (await cf.zeroTrust.tunnels.cloudflared.list({ ...account, is_deleted: false }))
    .result;
  const routes = (await cf.zeroTrust.networks.routes.list({ ...account, is_deleted: false }))
    .result;
  const excludes = (await cf.zeroTrust.devices.policies.default.excludes.get(account)).result;
  const device = await cf.zeroTrust.devices.settings.get(account);
  const connectivity = await cf.zeroTrust.connectivitySettings.get(account);
  const rules = (await cf.zeroTrust.gateway.rules.list(account)).result;
  return {
    tunnels: tunnels.map((t) => t.name),
    routes: routes.map((r) => [r.network, withoutMarker(r.comment)]).sort(),
    excludes: excludes.map((e) => ("address" in e ? e.address : e.host)).sort(),
    proxy: [device?.gateway_proxy_enabled, device?.gateway_udp_proxy_enabled],
    icmp: connectivity.icmp_proxy_enabled,
    rules: rules.map((r) => [r.name, r.action, r.precedence, r.traffic, r.identity]),
  };
}

const writesOf = async (accountId: string, since: number) =>
  (await callsOf(accountId, since)).filter((c) => c.method !== "GET").length;

describe("desired-state document", () => {
  it("the seed scenario as YAML lands the same Cloudflare state as the REST quickstart, and round-trips", async ({
    expect,
  }) => {
    const byRest = await seedAccount(expect);
    await describeSeedScenario(byRest.base);
    const byDoc = await seedAccount(expect);

    const applied = await yaml(`${byDoc.base}/desired-state`, "PUT", SEED_YAML, ANY);
    expect(applied.status).toBe(200);
    expect(applied.body.summary).toEqual({ create: 7, update: 0, delete: 0, unchanged: 0 });
    // Applied routes carry their range keys, so a later route write finds them by range.
    const unranged = await env.DB.prepare(
      "SELECT count(*) AS n FROM desired_objects WHERE account_id = ? AND kind = 'tunnel_route' AND range_first IS NULL",
    )
      .bind(byDoc.accountId)
      .first<{ n: number }>();
    expect(unranged?.n).toBe(0);

    const restDoc = await exportOf(byRest.base);
    const docDoc = await exportOf(byDoc.base);
    expect(docDoc).toEqual(restDoc);
    expect(applied.headers.get("etag")).toBe(`"${restDoc.version}"`);
    expect(docDoc.routes).toEqual([
      { network: "10.0.0.0/8", tunnel: "dc1", virtual_network: null, comment: "" },
      { network: "172.31.0.0/16", tunnel: "dc1", virtual_network: null, comment: "" },
    ]);

    for (const { base } of [byRest, byDoc]) {
      expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    }
    expect(await cloudflareState(byDoc.accountId)).toEqual(await cloudflareState(byRest.accountId));

    // Export, apply to an empty account, export again: the same document, version included.
    const copy = await seedAccount(expect);
    expect((await applyDoc(copy.base, docDoc)).status).toBe(200);
    expect(await exportOf(copy.base)).toEqual(docDoc);

    // An unchanged document changes nothing, and the next reconcile writes nothing.
    const since = await lastSeq(byDoc.accountId);
    const again = await applyDoc(byDoc.base, docDoc, "", { "if-match": `"${docDoc.version}"` });
    expect(again.body).toEqual({
      version: docDoc.version,
      summary: { create: 0, update: 0, delete: 0, unchanged: 7 },
      changes: [],
    });
    expect((await post<RunBody>(`${byDoc.base}/reconcile`)).body.counts.applied).toBe(0);
    expect(await writesOf(byDoc.accountId, since)).toBe(0);

    const response = await exports.default.fetch(
      new Request(`http://tunnelplane${byDoc.base}/desired-state`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: "application/yaml" },
      }),
    );
    expect(response.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    const text = await response.text();
    expect(text).toContain(`version: ${docDoc.version}\n`);
    expect(text).toContain("  - network: 172.31.0.0/16\n    tunnel: dc1\n");
  });

  it("refuses a document with one invalid CIDR among 1,000 routes whole, with its pointer", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const routes = Array.from({ length: 1000 }, (_, i) => ({
      network: i === 537 ? "10.2.9.1/16" : `10.${i >> 8}.${i & 255}.0/24`,
      tunnel: "dc1",
    }));
    const doc = { format: "tunnelplane.desired-state/v1", tunnels: [{ name: "dc1" }], routes };
    const refused = await applyDoc(base, doc);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      {
        pointer: "#/routes/537/network",
        detail: "10.2.9.1/16 has host bits set; the canonical form is 10.2.0.0/16",
        code: "cidr-host-bits-set",
      },
    ]);
    const diff = await post(`${base}/desired-state/diff`, doc);
    expect([diff.status, (diff.body as { errors: unknown }).errors]).toEqual([
      422,
      refused.body.errors,
    ]);
    const empty = await exportOf(base);
    expect([empty.tunnels, empty.routes]).toEqual([[], []]);
  });

  it("diffs without storing: field changes, deletes, problems with pointers and the plan", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    expect((await yaml(`${base}/desired-state`, "PUT", SEED_YAML, ANY)).status).toBe(200);
    const before = await exportOf(base);
    const edited = {
      ...before,
      routes: [before.routes[0], { network: "10.200.0.0/16", tunnel: "dc1" }],
      policies: before.policies.map((p, i) => (i === 1 ? { ...p, precedence: 3000 } : p)),
    };
    const diff = await post<Diff>(`${base}/desired-state/diff`, edited);
    expect(diff.status).toBe(200);
    expect(diff.body.acceptable).toBe(true);
    expect(diff.body.version).toBe(before.version);
    expect(diff.body.summary).toEqual({ create: 1, update: 1, delete: 1, unchanged: 5 });
    expect(diff.body.changes.map((c) => [c.op, c.kind, c.key, c.pointer, c.fields])).toEqual([
      ["create", "tunnel_route", "|10.200.0.0/16", "#/routes/1", []],
      ["delete", "tunnel_route", "|172.31.0.0/16", null, []],
      [
        "update",
        "network_policy",
        "Block db for everyone else",
        "#/policies/1",
        [{ field: "precedence", before: 2000, after: 3000 }],
      ],
    ]);
    expect(diff.body.plan?.actions.map((a) => `${a.op} ${a.kind}`).sort()).toEqual([
      "create network_policy",
      "create network_policy",
      "create tunnel",
      "create tunnel_route",
      "create tunnel_route",
      "update proxy_settings",
      "update split_tunnel",
    ]);
    expect(await exportOf(base)).toEqual(before);

    await call("PATCH", base, { body: { limits: { work_units: 100 } } });
    const costly = await post<{ limit: string; requested: number }>(
      `${base}/desired-state/diff`,
      edited,
    );
    expect([costly.status, costly.body.limit, costly.body.requested]).toEqual([
      422,
      "work_units",
      // 40 per selector unit: the allow has 3 (itself, a destination, a regex), the block 2.
      40 * 5,
    ]);

    const unknown = await post<Diff>(`${base}/desired-state/diff?plan=false`, {
      ...edited,
      routes: [...edited.routes, { network: "10.201.0.0/16", tunnel: "dc9" }],
    });
    expect([unknown.body.acceptable, unknown.body.problems, unknown.body.plan]).toEqual([
      false,
      [
        {
          pointer: "#/routes/2/tunnel",
          detail: 'no tunnel named "dc9" in the document or the account',
          code: "unknown-reference",
        },
      ],
      null,
    ]);
  });

  it("applies in one step: If-Match, prune=false, swapped precedences, and one audit entry", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    expect((await yaml(`${base}/desired-state`, "PUT", SEED_YAML, ANY)).status).toBe(200);
    const before = await exportOf(base);
    const stale = await applyDoc(base, before, "", {
      "if-match": '"0000"',
    });
    expect([stale.status, stale.headers.get("etag")]).toEqual([412, `"${before.version}"`]);

    const swapped = {
      ...before,
      routes: [],
      policies: before.policies.map((p, i) => ({ ...p, precedence: i === 0 ? 2000 : 1000 })),
    };
    const kept = await applyDoc(base, swapped, "?prune=false", {
      "if-match": `"${before.version}"`,
    });
    expect([kept.status, kept.body.summary]).toEqual([
      200,
      { create: 0, update: 2, delete: 0, unchanged: 3 },
    ]);
    const after = await exportOf(base);
    expect([after.routes.length, after.policies.map((p) => [p.name, p.precedence])]).toEqual([
      2,
      [
        ["Block db for everyone else", 1000],
        ["Allow example.com to db", 2000],
      ],
    ]);
    expect((await get<{ ok: boolean }>(`${base}/audit-log/verify`)).body.ok).toBe(true);
    const log = await get<{
      items: { action: string; kind: string; object_id: string; after: unknown }[];
    }>(`${base}/audit-log`);
    expect(log.body.items.slice(0, 2).map((e) => [e.action, e.kind, e.object_id, e.after])).toEqual(
      [
        [
          "applyDesiredState",
          "desired_state",
          after.version,
          {
            document_hash: after.version,
            create: 0,
            update: 2,
            delete: 0,
            unchanged: 3,
            prune: "false",
          },
        ],
        [
          "applyDesiredState",
          "desired_state",
          before.version,
          {
            document_hash: before.version,
            create: 7,
            update: 0,
            delete: 0,
            unchanged: 0,
            prune: "true",
          },
        ],
      ],
    );
  });

  it("refuses a failing assertion and a conflicting route with the diff's answer", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const doc = {
      format: "tunnelplane.desired-state/v1",
      tunnels: [{ name: "dc1" }],
      routes: [{ network: "192.168.1.0/24", tunnel: "dc1" }],
      split_tunnel: {
        mode: "exclude",
        auto: true,
        entries: [{ address: "192.168.0.0/16", description: "home" }],
      },
      proxy_settings: { tcp: true, udp: true, icmp: false },
      policies: [{ name: "Block db", action: "block", precedence: 10, destinations: ["10.0.0.7"] }],
      assertions: [
        {
          name: "alice reaches the db",
          email: "alice@example.com",
          destination_ip: "10.0.0.7",
          port: 5432,
          expect: "allow",
        },
      ],
    };
    const refused = await applyDoc(base, doc);
    expect(refused.status).toBe(422);
    const errors = refused.body.errors as { pointer: string; code: string }[];
    expect(errors.map((e) => [e.pointer, e.code])).toEqual([
      ["#/routes/0", "route-excluded"],
      ["#/assertions/0", "assertion-failed"],
    ]);
    const diff = await post<Diff>(`${base}/desired-state/diff?plan=false`, doc);
    expect(diff.body.problems).toEqual(errors);
    expect(refused.body.diff).toEqual(diff.body);
    expect(diff.body.assertions.map((a) => [a.name, a.passed])).toEqual([
      ["alice reaches the db", false],
    ]);
    expect((await exportOf(base)).tunnels).toEqual([]);
  });

  it("round-trips every kind, approval rules included; renames by name; changes approval rules by name", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const applied = await applyDoc(base, EVERY_KIND);
    expect([applied.status, applied.body.summary]).toEqual([
      200,
      { create: 13, update: 0, delete: 0, unchanged: 0 },
    ]);
    const exported = await exportOf(base);
    const rules = [
      {
        name: "Bounds",
        effect: "hard_limit",
        max_duration_s: null,
        allowed_destinations: ["10.0.0.0/8"],
        allowed_systems: [],
        subject_email_pattern: null,
      },
      {
        name: "Contractors to db",
        effect: "auto_approve",
        max_duration_s: 14_400,
        allowed_destinations: ["10.1.2.3/32", "10.1.0.0/16"],
        allowed_systems: ["jira"],
        subject_email_pattern: "[^@]+@example\\.com",
      },
    ];
    expect(exported.grant_approval_rules).toEqual(rules);
    const stored = await get<{ items: Record<string, unknown>[] }>(`${base}/grant-approval-rules`);
    expect(
      stored.body.items
        .map(({ id: _i, version, created_at: _c, updated_at: _u, ...rule }) => [version, rule])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual(rules.map((rule) => [1, rule]));
    expect([
      exported.routes,
      exported.hostname_routes,
      (exported.device_profiles as Record<string, unknown>[])[0]?.virtual_networks,
      (exported.private_apps as Record<string, unknown>[])[0]?.destinations,
    ]).toEqual([
      [
        { network: "10.1.0.0/16", tunnel: "dc1", virtual_network: "prod", comment: "" },
        { network: "10.1.0.0/16", tunnel: "dc2", virtual_network: "staging", comment: "lab" },
      ],
      [{ hostname: "*.apps.acme.internal", tunnel: "dc1", comment: "" }],
      ["staging"],
      [{ cidr: "10.1.2.3/32", ports: ["5432"], protocol: "tcp" }],
    ]);
    const copy = await seedAccount(expect);
    expect((await applyDoc(copy.base, exported)).status).toBe(200);
    expect(await exportOf(copy.base)).toEqual(exported);

    const renamed = JSON.parse(JSON.stringify(exported).replaceAll('"staging"', '"stage"'));
    const diff = await post<Diff>(`${base}/desired-state/diff?plan=false`, renamed);
    expect(diff.body.changes.map((c) => [c.op, c.kind, c.key, c.fields])).toEqual([
      ["create", "virtual_network", "stage", []],
      ["delete", "virtual_network", "staging", []],
      // A route is identified by its virtual network and network: it moves as a new route.
      ["create", "tunnel_route", "stage|10.1.0.0/16", []],
      ["delete", "tunnel_route", "staging|10.1.0.0/16", []],
      [
        "update",
        "device_profile",
        "Engineers",
        [{ field: "virtual_networks", before: ["staging"], after: ["stage"] }],
      ],
    ]);

    // An approval rule changed, one left out (pruned), one added: matched by name.
    const ruled = {
      ...exported,
      grant_approval_rules: [
        { ...rules[1], max_duration_s: 3600 },
        { name: "Ops", effect: "auto_approve", allowed_systems: ["servicenow"] },
      ],
    };
    const ruleDiff = await post<Diff>(`${base}/desired-state/diff?plan=false`, ruled);
    expect(ruleDiff.body.changes.map((c) => [c.op, c.kind, c.key, c.pointer, c.fields])).toEqual([
      [
        "update",
        "grant_approval_rule",
        "Contractors to db",
        "#/grant_approval_rules/0",
        [{ field: "max_duration_s", before: 14_400, after: 3600 }],
      ],
      ["create", "grant_approval_rule", "Ops", "#/grant_approval_rules/1", []],
      ["delete", "grant_approval_rule", "Bounds", null, []],
    ]);
    const ruledApply = await applyDoc(base, ruled, "", { "if-match": `"${exported.version}"` });
    expect([ruledApply.status, ruledApply.body.summary]).toEqual([
      200,
      { create: 1, update: 1, delete: 1, unchanged: 11 },
    ]);
    expect(ruledApply.body.version).toBe(ruleDiff.body.document_version);
    const afterRules = await get<{ items: { name: string; version: number }[] }>(
      `${base}/grant-approval-rules`,
    );
    expect(afterRules.body.items.map((r) => [r.name, r.version]).sort()).toEqual([
      ["Contractors to db", 2],
      ["Ops", 1],
    ]);
    expect((await exportOf(base)).version).toBe(ruledApply.body.version);
  });

  it("refuses unknown names with their pointers, and a batch whose state moved on", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const broken = {
      ...EVERY_KIND,
      hostname_routes: [{ hostname: "git.acme.internal", tunnel: "dc3" }],
      device_profiles: [{ ...EVERY_KIND.device_profiles[0], virtual_networks: ["prod", "qa"] }],
      tunnels: [{ name: "dc1" }, { name: "dc2" }, { name: "dc1" }],
    };
    await call("PATCH", base, { body: { limits: { tunnels: 2 } } });
    const refused = await applyDoc(base, broken);
    expect(refused.body.errors).toEqual([
      {
        pointer: "#/hostname_routes/0/tunnel",
        detail: 'no tunnel named "dc3" in the document or the account',
        code: "unknown-reference",
      },
      {
        pointer: "#/device_profiles/0/virtual_networks/1",
        detail: 'no virtual network named "qa" in the document or the account',
        code: "unknown-reference",
      },
      {
        pointer: "#/tunnels/2",
        detail: "tunnel name dc1 is also used by #/tunnels/0",
        code: "name-taken",
      },
      {
        pointer: "#/tunnels",
        detail: `This needs 3 tunnels and the account's limit is 2 (0 in use); an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"tunnels": 3}}.`,
        code: "limit-exceeded",
      },
    ]);

    const write = {
      kind: "tunnel" as const,
      id: "t-1",
      specJson: '{"name":"x"}',
      naturalKey: "x",
      rangeFirst: null,
      rangeLast: null,
    };
    const none = { count: 0, versionSum: 0, maxUpdatedAtMs: 0 };
    const refusals = [];
    // The objects moved on; then the objects as read but an approval rule written meanwhile.
    for (const fingerprint of [
      { count: 1, versionSum: 1, maxUpdatedAtMs: 1, approvalRules: none },
      { ...none, approvalRules: { count: 1, versionSum: 1, maxUpdatedAtMs: 1 } },
    ]) {
      const stale = applyDesiredStateWrites(
        env.DB,
        accountId,
        {
          creates: [write],
          updates: [],
          deletes: [],
          approvalRules: { creates: [], updates: [], deletes: [] },
        },
        fingerprint,
        { actor: { name: "test" }, documentHash: "h", summary: {} },
        Date.now(),
      );
      refusals.push(
        isFingerprintMismatch(
          await stale.then(
            () => null,
            (error: unknown) => error,
          ),
        ),
      );
    }
    expect(refusals).toEqual([true, true]);
    expect((await exportOf(base)).tunnels).toEqual([]);
  });

  it("refuses split tunnel lists past split_tunnel_entries, as a single write does", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await call("PATCH", base, { body: { limits: { split_tunnel_entries: 2 } } });
    const entries = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((address) => ({
      address,
    }));
    const doc = {
      format: "tunnelplane.desired-state/v1",
      split_tunnel: { mode: "exclude", auto: false, entries },
      device_profiles: [
        {
          name: "Engineers",
          match: 'any(identity.groups.name[*] in {"eng"})',
          precedence: 10,
          split_tunnel: { mode: "exclude", auto: true, max_entries: 5 },
        },
      ],
    };
    const single = await call<{ detail: string }>("PUT", `${base}/split-tunnels/default`, {
      body: doc.split_tunnel,
    });
    expect(single.status).toBe(422);
    const raise = `an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"split_tunnel_entries":`;
    const refused = await applyDoc(base, doc);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      {
        pointer: "#/device_profiles/0/split_tunnel",
        detail: `An auto split tunnel list with max_entries 5 needs 5 split_tunnel_entries and the account's limit is 2; ${raise} 5}}.`,
        code: "limit-exceeded",
      },
      { pointer: "#/split_tunnel", detail: single.body.detail, code: "limit-exceeded" },
    ]);
    expect(single.body.detail).toBe(
      `A split tunnel list of 3 entries needs 3 split_tunnel_entries and the account's limit is 2; ${raise} 3}}.`,
    );
    expect((await exportOf(base)).device_profiles).toEqual([]);

    await call("PATCH", base, { body: { limits: { split_tunnel_entries: 5 } } });
    expect((await applyDoc(base, doc)).status).toBe(200);
  });

  it("refuses YAML with duplicate keys, an alias bomb or nesting too deep as unparseable, storing nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const before = await exportOf(base);
    const level = (name: string, of: string) =>
      `${name}: &${name} [${Array.from({ length: 9 }, () => `*${of}`).join(",")}]`;
    const bomb = [
      "format: tunnelplane.desired-state/v1",
      "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]",
      ...["b", "c", "d", "e", "f", "g"].map((name, i) => level(name, "abcdef"[i] ?? "a")),
      "tunnels: *g",
    ].join("\n");
    const duplicate = `${SEED_YAML}tunnels:\n  - name: dc9\n`;
    const nested = "format: tunnelplane.desired-state/v1\ntunnels:\n  - {name: dc1, name: dc2}\n";
    const answers = [];
    const deep = `format: tunnelplane.desired-state/v1\ntunnels: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`;
    for (const body of [bomb, duplicate, nested, deep]) {
      const refused = await yaml(`${base}/desired-state`, "PUT", body, ANY);
      answers.push([refused.status, refused.body.title, refused.body.detail]);
    }
    expect(answers).toEqual([
      [
        400,
        "The request body cannot be parsed",
        "The body is not a YAML document: Excessive alias count indicates a resource exhaustion attack",
      ],
      [
        400,
        "The request body cannot be parsed",
        'The body is not a YAML document: Map keys must be unique ("tunnels")',
      ],
      [
        400,
        "The request body cannot be parsed",
        'The body is not a YAML document: Map keys must be unique ("name")',
      ],
      [
        400,
        "The request body cannot be parsed",
        "The body is not a YAML document: it is nested too deeply",
      ],
    ]);
    expect((await exportOf(base)).version).toBe(before.version);
  });

  it("a pruning apply needs If-Match: without it 428 and nothing changes; prune=false may go without", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    expect((await yaml(`${base}/desired-state`, "PUT", SEED_YAML, ANY)).status).toBe(200);
    const before = await exportOf(base);
    const smaller = { ...before, routes: [], policies: [] };
    const refused = await applyDoc(base, smaller, "", {});
    expect([refused.status, refused.headers.get("content-type"), refused.body.type]).toEqual([
      428,
      "application/problem+json",
      "http://tunnelplane/problems/precondition-required",
    ]);
    expect(refused.body.title).toBe("The request must name the version it expects (If-Match)");
    expect(await exportOf(base)).toEqual(before);
    const entry = await call<{ slug: string; status: number }>(
      "GET",
      "/problems/precondition-required",
      { key: null },
    );
    expect([entry.body.slug, entry.body.status]).toEqual(["precondition-required", 428]);

    const kept = await applyDoc(base, smaller, "?prune=false", {});
    expect([kept.status, kept.body.summary]).toEqual([
      200,
      { create: 0, update: 0, delete: 0, unchanged: 3 },
    ]);
    const pruned = await applyDoc(base, smaller, "", { "if-match": `"${before.version}"` });
    expect([pruned.status, pruned.body.summary]).toEqual([
      200,
      { create: 0, update: 0, delete: 4, unchanged: 3 },
    ]);
    const after = await exportOf(base);
    expect([after.routes, after.policies, after.tunnels]).toEqual([[], [], [{ name: "dc1" }]]);
  });

  it("refuses a bad approval rule whole with its pointer, and approval-rule changes from an operator", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const doc = {
      format: "tunnelplane.desired-state/v1",
      tunnels: [{ name: "dc1" }],
      routes: [{ network: "10.0.0.0/8", tunnel: "dc1" }],
      grant_approval_rules: [
        { name: "Bounds", effect: "hard_limit", allowed_destinations: ["10.0.0.0/8"] },
        { name: "Db", effect: "auto_approve", allowed_destinations: ["10.0.0.7", "10.2.9.1/16"] },
      ],
    };
    const refused = await applyDoc(base, doc);
    expect([refused.status, refused.body.errors]).toEqual([
      422,
      [
        {
          pointer: "#/grant_approval_rules/1/allowed_destinations/1",
          detail: "10.2.9.1/16 has host bits set; the canonical form is 10.2.0.0/16",
          code: "cidr-host-bits-set",
        },
      ],
    ]);
    const nothing = await exportOf(base);
    expect([nothing.tunnels, nothing.routes, nothing.grant_approval_rules]).toEqual([[], [], []]);
    expect((await get<{ items: unknown[] }>(`${base}/grant-approval-rules`)).body.items).toEqual(
      [],
    );

    const key = await post<{ secret: string }>("/v1/api-keys", {
      name: `ops-${crypto.randomUUID().slice(0, 8)}`,
      role: "operator",
      accounts: [accountId],
    });
    const asOperator = (method: string, path: string, body: unknown) =>
      call<Record<string, unknown>>(method, path, { body, key: key.body.secret, headers: ANY });
    const good = {
      ...doc,
      grant_approval_rules: [doc.grant_approval_rules[0], { name: "Db", effect: "auto_approve" }],
    };
    const operatorDiff = await asOperator("POST", `${base}/desired-state/diff?plan=false`, good);
    expect([operatorDiff.body.acceptable, operatorDiff.body.problems]).toEqual([
      false,
      [
        {
          pointer: "#/grant_approval_rules/0",
          detail: 'only an admin may create grant approval rule "Bounds"',
          code: "approval-rules-admin-only",
        },
        {
          pointer: "#/grant_approval_rules/1",
          detail: 'only an admin may create grant approval rule "Db"',
          code: "approval-rules-admin-only",
        },
      ],
    ]);
    const operatorApply = await asOperator("PUT", `${base}/desired-state`, good);
    expect([operatorApply.status, operatorApply.body.type, operatorApply.body.errors]).toEqual([
      403,
      "http://tunnelplane/problems/forbidden",
      operatorDiff.body.problems,
    ]);
    expect((await exportOf(base)).version).toBe(nothing.version);

    // Applied by an admin, the rules stay as they are when an operator applies the same rules.
    expect((await applyDoc(base, good)).status).toBe(200);
    const same = await asOperator("PUT", `${base}/desired-state`, {
      ...good,
      routes: [{ network: "10.0.0.0/8", tunnel: "dc1", comment: "all of dc1" }],
    });
    expect([same.status, same.body.summary]).toEqual([
      200,
      { create: 0, update: 1, delete: 0, unchanged: 3 },
    ]);
    const leftOut = await asOperator("PUT", `${base}/desired-state`, {
      ...good,
      grant_approval_rules: [],
    });
    expect([leftOut.status, leftOut.body.errors]).toEqual([
      403,
      [
        {
          pointer: "#/grant_approval_rules",
          detail: 'only an admin may delete grant approval rule "Bounds"',
          code: "approval-rules-admin-only",
        },
        {
          pointer: "#/grant_approval_rules",
          detail: 'only an admin may delete grant approval rule "Db"',
          code: "approval-rules-admin-only",
        },
      ],
    ]);
  });

  it("publishes the document's JSON Schema", async ({ expect }) => {
    const response = await exports.default.fetch(
      new Request("http://tunnelplane/schemas/desired-state.json"),
    );
    const schema = (await response.json()) as {
      $id: string;
      properties: Record<string, { items?: { required?: string[] } }>;
      required: string[];
    };
    expect(response.status).toBe(200);
    expect(schema.$id).toBe("/schemas/desired-state.json");
    expect(schema.required).toEqual(["format"]);
    expect(Object.keys(schema.properties)).toEqual([
      "format",
      "version",
      "virtual_networks",
      "tunnels",
      "routes",
      "hostname_routes",
      "split_tunnel",
      "device_profiles",
      "proxy_settings",
      "policies",
      "private_apps",
      "enrollment_rules",
      "grant_approval_rules",
      "assertions",
    ]);
    expect(schema.properties.routes?.items?.required).toEqual(["network", "tunnel"]);
  });
});
