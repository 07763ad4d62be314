/**
 * A Gateway rule written by hand in Cloudflare with expressions tunnelplane did not render: it is
 * parsed and explained from the observed state, imported without loss (the same verdicts before
 * and after, the marker added, the structured form stored), and the next run writes nothing.
 */
import { describe, it } from "vitest";
import { get, post } from "../helpers/api";
import { callsOf, control, lastSeq, sdk, tokenWith } from "../helpers/emulator";
import { problemOf } from "../helpers/problems";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";

interface Explained {
  verdict: string;
  /** Differs by origin: the tunnel is tunnelplane's id when desired, Cloudflare's when observed. */
  route: unknown;
  policy: { decided_by: { id: string; name: string } | null };
  /** Now when observed, the last observation's time when desired. */
  shared_rules_observed_at: string | null;
}

const HAND_TRAFFIC = "(net.dst.ip == 10.128.0.7)   &&  net.dst.port in {22 2200..2299}";
const HAND_IDENTITY =
  'identity.email == "admin@other.test" || any(identity.groups[*].name in {"SRE"})';

/** Probe requests: who, port; every one is asked before and after the import. */
const PROBES: [string, string[], number][] = [
  ["admin@other.test", [], 22],
  ["admin@other.test", [], 2250],
  ["admin@other.test", [], 443],
  ["oncall@other.test", ["SRE"], 2299],
  ["oncall@other.test", ["DBA"], 22],
  ["user@example.com", [], 22],
  ["someone@other.test", [], 22],
];

describe("import of a hand-written policy", () => {
  it("is parsed, explained from the observed state and imported without loss", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    expect((await post<{ outcome: string }>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const cf = sdk();
    const hand = await cf.zeroTrust.gateway.rules.create({
      account_id: accountId,
      name: "SSH for admins",
      description: "made by hand",
      action: "allow",
      enabled: true,
      filters: ["l4"],
      precedence: 500,
      traffic: HAND_TRAFFIC,
      identity: HAND_IDENTITY,
    });

    const ask = async (state: string, [email, groups, port]: (typeof PROBES)[number]) =>
      (
        await post<Explained>(`${base}/explain?state=${state}`, {
          email,
          groups,
          destination_ip: "10.128.0.7",
          port,
        })
      ).body;
    const observedAdmin = await ask("observed", PROBES[0] as (typeof PROBES)[number]);
    expect(observedAdmin).toMatchObject({
      verdict: "allowed",
      policy: {
        decided_by: { id: `cloudflare:${hand.id}`, name: "SSH for admins" },
        trace: [
          {
            id: `cloudflare:${hand.id}`,
            name: "SSH for admins",
            action: "allow",
            precedence: 500,
            outcome: "matched",
          },
        ],
      },
    });
    const before = [];
    for (const probe of PROBES) {
      const answer = await ask("observed", probe);
      before.push([answer.verdict, answer.policy.decided_by?.name ?? null]);
    }
    expect(before).toEqual([
      ["allowed", "SSH for admins"],
      ["allowed", "SSH for admins"],
      ["blocked_by_policy", "Block db for everyone else"],
      ["allowed", "SSH for admins"],
      ["blocked_by_policy", "Block db for everyone else"],
      ["allowed", "Allow example.com to db"],
      ["blocked_by_policy", "Block db for everyone else"],
    ]);
    // The desired state does not know the rule yet.
    expect((await ask("desired", PROBES[0] as (typeof PROBES)[number])).verdict).toBe(
      "blocked_by_policy",
    );

    const imported = await post<{
      cloudflare_id: string;
      policy: Record<string, unknown> & { id: string };
      before: unknown;
    }>(`${base}/import`, { kind: "network_policy", cloudflare_id: hand.id });
    expect(imported.status).toBe(201);
    const { id, version, created_at, updated_at, status, ...policy } = imported.body.policy;
    expect(policy).toEqual({
      name: "SSH for admins",
      action: "allow",
      precedence: 500,
      enabled: true,
      destinations: ["10.128.0.7/32"],
      ports: ["22", "2200-2299"],
      protocols: [],
      emails: ["admin@other.test"],
      email_regex: null,
      groups: ["SRE"],
      device_posture_ids: [],
      description: "made by hand",
      traffic: "net.dst.ip in {10.128.0.7} and net.dst.port in {22 2200..2299}",
      identity:
        '(identity.email in {"admin@other.test"} or any(identity.groups.name[*] in {"SRE"}))',
      device_posture: "",
    });
    // As Cloudflare stored it: whitespace outside strings collapsed.
    expect(imported.body.before).toEqual({
      traffic: "(net.dst.ip == 10.128.0.7) && net.dst.port in {22 2200..2299}",
      identity: HAND_IDENTITY,
      device_posture: "",
    });
    const rule = await cf.zeroTrust.gateway.rules.get(hand.id ?? "", { account_id: accountId });
    expect([rule.description, rule.traffic, rule.identity, rule.precedence]).toEqual([
      `made by hand tunnelplane:${id}`,
      policy.traffic,
      policy.identity,
      500,
    ]);

    const after = [];
    for (const probe of PROBES) {
      const desired = await ask("desired", probe);
      const observed = await ask("observed", probe);
      expect(observed).toEqual({
        ...desired,
        state: "observed",
        route: observed.route,
        shared_rules_observed_at: observed.shared_rules_observed_at,
      });
      after.push([desired.verdict, desired.policy.decided_by?.name ?? null]);
    }
    expect(after).toEqual(before);

    const since = await lastSeq(accountId);
    const run = await post<{ actions: unknown[]; outcome: string }>(`${base}/reconcile`);
    expect([run.body.outcome, run.body.actions]).toEqual(["succeeded", []]);
    expect((await callsOf(accountId, since)).filter((c) => c.method !== "GET")).toEqual([]);
    expect(
      (await get<{ status: { state: string } }>(`${base}/policies/${id}`)).body.status.state,
    ).toBe("synced");
    const again = await post(`${base}/import`, { kind: "network_policy", cloudflare_id: hand.id });
    expect(again.status).toBe(409);
    // 28 explains read Cloudflare whole (and record what they read): about 4 s on a busy machine.
  }, 15_000);

  it("an import during a reconcile never yields two creates: the next run adds the marker with one update", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const cf = sdk();
    const hand = await cf.zeroTrust.gateway.rules.create({
      account_id: accountId,
      name: "SSH for admins",
      description: "made by hand",
      action: "allow",
      enabled: true,
      filters: ["l4"],
      precedence: 500,
      traffic: "net.dst.ip in {10.128.0.7}",
    });
    const since = await lastSeq(accountId);
    // The reconcile loads the desired state, then waits on its Gateway rule list while the
    // import stores the policy and finds the lease held.
    await control("/faults", "POST", {
      method: "GET",
      path_prefix: `/client/v4/accounts/${accountId}/gateway/rules`,
      delay_ms: 1500,
      times: 1,
    });
    const running = post<{ outcome: string; actions: unknown[] }>(`${base}/reconcile`);
    while (((await control("/faults")) as { faults: unknown[] }).faults.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const imported = await post<{ policy: { id: string } }>(`${base}/import`, {
      kind: "network_policy",
      cloudflare_id: hand.id,
    });
    expect(imported.status).toBe(201);
    const first = await running;
    expect([first.body.outcome, first.body.actions]).toEqual(["succeeded", []]);

    const next = await post<{ actions: { op: string; reason: string; outcome: string }[] }>(
      `${base}/reconcile`,
    );
    expect(next.body.actions.map(({ op, reason, outcome }) => ({ op, reason, outcome }))).toEqual([
      { op: "update", reason: "imported: the ownership marker is added", outcome: "applied" },
    ]);
    await post(`${base}/reconcile`);
    const writes = (await callsOf(accountId, since))
      .filter((c) => c.method !== "GET")
      .map((c) => `${c.method} ${c.path.replace(`/client/v4/accounts/${accountId}`, "")}`);
    expect(writes).toEqual([`PUT /gateway/rules/${hand.id}`]);
    const rule = await cf.zeroTrust.gateway.rules.get(hand.id ?? "", { account_id: accountId });
    expect(rule.description).toBe(`made by hand tunnelplane:${imported.body.policy.id}`);
  });

  it("refuses a rule the structured form cannot say, which explain still evaluates", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    await post(`${base}/reconcile`);
    const cf = sdk();
    const hand = await cf.zeroTrust.gateway.rules.create({
      account_id: accountId,
      name: "Everyone but the VPN range",
      action: "block",
      enabled: true,
      filters: ["l4"],
      precedence: 100,
      traffic: "not (net.src.ip in {192.168.0.0/16}) and net.dst.ip in {10.128.0.0/16}",
    });
    const refused = await post(`${base}/import`, {
      kind: "network_policy",
      cloudflare_id: hand.id,
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      type: "http://tunnelplane/problems/not-importable",
      detail: `Gateway rule ${hand.id} cannot be imported without loss: the traffic expression has no structured form: \`not (net.src.ip in {192.168.0.0/16})\` is not a set membership.`,
      errors: [
        {
          pointer: "#/cloudflare_id",
          detail:
            "the traffic expression has no structured form: `not (net.src.ip in {192.168.0.0/16})` is not a set membership",
          code: "not-importable",
        },
      ],
    });
    const explained = await post<Explained>(`${base}/explain?state=observed`, {
      email: "user@example.com",
      destination_ip: "10.128.0.7",
      port: 22,
    });
    // The request carries no source address, so `net.src.ip in {…}` is false and `not` is true.
    expect(explained.body).toMatchObject({
      verdict: "blocked_by_policy",
      policy: { decided_by: { id: `cloudflare:${hand.id}`, name: "Everyone but the VPN range" } },
    });
    expect((await get<{ items: unknown[] }>(`${base}/policies`)).body.items.length).toBe(2);
    const missing = await post(`${base}/import`, { kind: "network_policy", cloudflare_id: "nope" });
    expect(missing.status).toBe(404);
  });

  it("answers plan, explain and import about a rule nested 6,000 deep without falling over", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    await post(`${base}/reconcile`);
    const traffic = `${"(".repeat(6_000)}net.dst.ip in {10.20.1.1}${")".repeat(6_000)}`;
    const hand = await sdk().zeroTrust.gateway.rules.create({
      account_id: accountId,
      name: "Nested by a script",
      action: "block",
      enabled: true,
      filters: ["l4"],
      precedence: 100,
      traffic,
    });
    const plan = await post<{ actions: unknown[] }>(`${base}/plan`);
    expect([plan.status, plan.body.actions]).toEqual([200, []]);
    const explained = await post<{ verdict: string; policy: { unevaluable: unknown[] } }>(
      `${base}/explain?state=observed`,
      { email: "user@example.com", destination_ip: "10.20.1.1", port: 22 },
    );
    expect([explained.status, explained.body.policy.unevaluable]).toEqual([
      200,
      [
        {
          id: `cloudflare:${hand.id}`,
          name: "Nested by a script",
          precedence: 100,
          reason: "nested more than 64 levels deep (each `not` counts two) at offset 64",
        },
      ],
    ]);
    const imported = await post(`${base}/import`, {
      kind: "network_policy",
      cloudflare_id: hand.id,
    });
    expect([imported.status, (imported.body as { errors: unknown[] }).errors]).toEqual([
      422,
      [
        {
          pointer: "#/cloudflare_id",
          detail: `the expression ${JSON.stringify("(".repeat(60))}… does not parse at offset 64: nested more than 64 levels deep (each \`not\` counts two)`,
          code: "not-importable",
        },
      ],
    ]);
  });
});

describe("import of a hostname route made by hand", () => {
  it("adopts it in Cloudflare's form on a managed tunnel; the run adds the marker, then writes nothing", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const tunnel = await post<{ id: string }>(`${base}/tunnels`, { name: "apps" });
    await post(`${base}/reconcile`);
    const cf = sdk();
    const [landed] = (await cf.zeroTrust.tunnels.cloudflared.list({ account_id: accountId }))
      .result;
    const stranger = await cf.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "by-hand",
      config_src: "cloudflare",
    });
    const routes = cf.zeroTrust.networks.hostnameRoutes;
    const hand = await routes.create({
      account_id: accountId,
      hostname: "*.apps.acme.internal",
      tunnel_id: landed?.id ?? "",
      comment: "by hand",
    });
    const elsewhere = await routes.create({
      account_id: accountId,
      hostname: "wiki.acme.internal",
      tunnel_id: stranger.id ?? "",
    });

    const refused = await post(`${base}/import`, {
      kind: "hostname_route",
      cloudflare_id: elsewhere.id,
    });
    expect([refused.status, (refused.body as { errors: unknown[] }).errors]).toEqual([
      422,
      [
        {
          pointer: "#/cloudflare_id",
          detail: "its tunnel by-hand is not managed by tunnelplane",
          code: "not-importable",
        },
      ],
    ]);
    const since = await lastSeq(accountId);
    const imported = await post<{
      kind: string;
      hostname_route: Record<string, unknown> & { id: string };
      before: unknown;
    }>(`${base}/import`, { kind: "hostname_route", cloudflare_id: hand.id });
    expect(imported.status).toBe(201);
    const { id, version, created_at, updated_at, status, ...route } = imported.body.hostname_route;
    expect([imported.body.kind, route, imported.body.before]).toEqual([
      "hostname_route",
      {
        hostname: "apps.acme.internal",
        cloudflare_hostname: "apps.acme.internal",
        tunnel_id: tunnel.body.id,
        comment: "by hand",
      },
      { hostname: "apps.acme.internal", tunnel_id: landed?.id, comment: "by hand" },
    ]);
    const writes = async (from: number) =>
      (await callsOf(accountId, from))
        .filter((c) => c.method !== "GET")
        .map((c) => `${c.method} ${c.path.replace(`/client/v4/accounts/${accountId}`, "")}`);
    // The run the import asked for adds the marker with one edit, never a second route.
    expect(await writes(since)).toEqual([`PATCH /zerotrust/routes/hostname/${hand.id}`]);
    const live = (await routes.list({ account_id: accountId, is_deleted: false })).result;
    expect(live.map((r) => [r.id, r.hostname, r.comment]).sort()).toEqual(
      [
        [hand.id, "apps.acme.internal", `by hand tunnelplane:${id}`],
        [elsewhere.id, "wiki.acme.internal", ""],
      ].sort(),
    );

    const quiet = await lastSeq(accountId);
    const run = await post<{ outcome: string; actions: unknown[]; unmanaged: unknown[] }>(
      `${base}/reconcile`,
    );
    expect([run.body.outcome, run.body.actions]).toEqual(["succeeded", []]);
    expect(await writes(quiet)).toEqual([]);
    expect(
      (await get<{ status: { state: string } }>(`${base}/hostname-routes/${id}`)).body.status.state,
    ).toBe("synced");
    const again = await post(`${base}/import`, { kind: "hostname_route", cloudflare_id: hand.id });
    expect(again.status).toBe(409);
    const missing = await post(`${base}/import`, { kind: "hostname_route", cloudflare_id: "nope" });
    expect(missing.status).toBe(404);
  });
});

describe("import with a token that lacks a permission", () => {
  it("imports a rule without Cloudflare Tunnel, listing what it skipped; a hostname route it may not read is a 502 naming the permission", async ({
    expect,
  }) => {
    const apiToken = await tokenWith(["Zero Trust Write"]);
    const { accountId, base } = await seedAccount(expect, { apiToken });
    const hand = await sdk().zeroTrust.gateway.rules.create({
      account_id: accountId,
      name: "SSH for admins",
      action: "allow",
      enabled: true,
      filters: ["l4"],
      precedence: 500,
      traffic: HAND_TRAFFIC,
    });
    const networks =
      "the API token lacks Cloudflare Tunnel: Edit (Cloudflare answered 403 / 10000 to GET teamnet/virtual_networks)";
    const tunnels =
      "the API token lacks Cloudflare Tunnel: Edit (Cloudflare answered 403 / 10000 to GET cfd_tunnel)";

    const refused = await post(`${base}/import`, {
      kind: "hostname_route",
      cloudflare_id: crypto.randomUUID(),
    });
    expect([refused.status, problemOf(refused).detail]).toEqual([
      502,
      `Cannot import the hostname_route: ${networks}.`,
    ]);
    const account = await get<{
      token_problems: { request: string; detail: string; met_by: string; run_id: null }[];
    }>(base);
    expect(
      account.body.token_problems.map((p) => [p.request, p.detail, p.met_by, p.run_id]),
    ).toEqual([
      ["GET teamnet/virtual_networks", networks, "import", null],
      ["GET cfd_tunnel", tunnels, "import", null],
    ]);

    const imported = await post<{ kind: string; cloudflare_id: string; skipped: unknown[] }>(
      `${base}/import`,
      { kind: "network_policy", cloudflare_id: hand.id },
    );
    expect([imported.status, imported.body.kind, imported.body.cloudflare_id]).toEqual([
      201,
      "network_policy",
      hand.id,
    ]);
    expect(imported.body.skipped).toEqual([
      {
        kinds: ["virtual_network", "tunnel_route", "hostname_route"],
        permission: "Cloudflare Tunnel: Edit",
        permission_groups: ["Cloudflare Tunnel Write", "Cloudflare One Networks Write"],
        request: "GET teamnet/virtual_networks",
        detail: networks,
      },
      {
        kinds: ["tunnel"],
        permission: "Cloudflare Tunnel: Edit",
        permission_groups: [
          "Cloudflare Tunnel Write",
          "Cloudflare One Connectors Write",
          "Cloudflare One Connector: cloudflared Write",
        ],
        request: "GET cfd_tunnel",
        detail: tunnels,
      },
    ]);
  });
});
