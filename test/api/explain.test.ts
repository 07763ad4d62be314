/**
 * Explain through the API on the seed scenario: the four verdicts of the issue with their exact
 * deciding entries, proxy_off, the same answers from the observed state after a reconcile, and
 * validation; rules shared from a parent account deciding first in explain, plan and grants.
 */
import { describe, it } from "vitest";
import { WARP_DEFAULT_EXCLUDES } from "../../src/domain/split-tunnels/defaults";
import { call, get, post, put } from "../helpers/api";
import { callsOf, control, sdk, tokenWith } from "../helpers/emulator";
import { describeSeedScenario, type SeedIds } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";
import type { Created, RunBody } from "../helpers/wire";

const ALLOW_TRACE = (ids: SeedIds) => ({
  id: ids.allow.id,
  name: "Allow example.com to db",
  action: "allow",
  precedence: 1000,
});
const BLOCK_TRACE = (ids: SeedIds) => ({
  id: ids.block.id,
  name: "Block db for everyone else",
  action: "block",
  precedence: 2000,
});

/** The route step of 10.128.0.7 in the seed scenario. */
const wideRoute = (ids: SeedIds, tunnelId = ids.tunnel.id, health = "unknown") => ({
  route_id: ids.wide.id,
  network: "10.0.0.0/8",
  tunnel: { id: tunnelId, name: "dc1", health },
});

const THROUGH_WARP = {
  profile: "default",
  mode: "exclude",
  through_warp: true,
  entry: null,
  assumed_default: false,
};
const TCP_ON = { protocol: "tcp", enabled: true, managed: true };

describe("explain on the seed scenario", () => {
  it("user@example.com -> 10.128.0.7:22/tcp is allowed by policy 1", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const response = await post(`${base}/explain`, {
      email: "User@Example.com",
      destination_ip: "10.128.0.7",
      port: 22,
      protocol: "tcp",
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      state: "desired",
      skipped: [],
      shared_rules_observed_at: null,
      verdict: "allowed",
      summary:
        'allowed by policy "Allow example.com to db" (precedence 1000), route 10.0.0.0/8 through tunnel dc1',
      split_tunnel: THROUGH_WARP,
      route: wideRoute(ids),
      proxy: TCP_ON,
      policy: {
        decision: "allow",
        decided_by: ALLOW_TRACE(ids),
        trace: [{ ...ALLOW_TRACE(ids), outcome: "matched" }],
        unevaluable: [],
      },
    });
  });

  it("someone@other.test is blocked_by_policy by policy 2, policy 1 failing on identity", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const response = await post(`${base}/explain`, {
      email: "someone@other.test",
      destination_ip: "10.128.0.7",
      port: 22,
    });
    expect(response.body).toEqual({
      state: "desired",
      skipped: [],
      shared_rules_observed_at: null,
      verdict: "blocked_by_policy",
      summary:
        'blocked by policy "Block db for everyone else" (precedence 2000), route 10.0.0.0/8 through tunnel dc1',
      split_tunnel: THROUGH_WARP,
      route: wideRoute(ids),
      proxy: TCP_ON,
      policy: {
        decision: "block",
        decided_by: BLOCK_TRACE(ids),
        trace: [
          {
            ...ALLOW_TRACE(ids),
            outcome: "not-matched",
            reason: { part: "identity", clause: 'identity.email matches ".*@example.com"' },
          },
          { ...BLOCK_TRACE(ids), outcome: "matched" },
        ],
        unevaluable: [],
      },
    });
  });

  it("10.128.0.7 with Exclude mode without auto (the default list) is excluded_from_warp by 10.0.0.0/8", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const profile = await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: false,
      entries: WARP_DEFAULT_EXCLUDES,
    });
    expect(profile.status).toBe(200);
    const response = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.128.0.7",
      port: 22,
      protocol: "tcp",
    });
    expect(response.body).toMatchObject({
      verdict: "excluded_from_warp",
      summary: "the Exclude entry 10.0.0.0/8 of the default profile sends 10.128.0.7 around WARP",
      split_tunnel: {
        profile: "default",
        mode: "exclude",
        through_warp: false,
        entry: { address: "10.0.0.0/8", description: "" },
        assumed_default: false,
      },
      // Every later step is still reported.
      route: wideRoute(ids),
      policy: { decision: "allow", decided_by: ALLOW_TRACE(ids) },
    });
  });

  it("192.0.2.10 is not_routed: through WARP, but no route contains it", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    const response = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "192.0.2.10",
      port: 443,
    });
    expect(response.body).toEqual({
      state: "desired",
      skipped: [],
      shared_rules_observed_at: null,
      verdict: "not_routed",
      summary: "no route in the default virtual network contains 192.0.2.10",
      split_tunnel: THROUGH_WARP,
      route: null,
      proxy: TCP_ON,
      policy: {
        decision: "allow",
        decided_by: null,
        trace: [
          {
            ...ALLOW_TRACE(ids),
            outcome: "not-matched",
            reason: { part: "traffic", clause: "net.dst.ip in {10.128.0.7}" },
          },
          {
            ...BLOCK_TRACE(ids),
            outcome: "not-matched",
            reason: { part: "traffic", clause: "net.dst.ip in {10.128.0.7}" },
          },
        ],
        unevaluable: [],
      },
    });
  });

  it("UDP with the UDP proxy off is proxy_off", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    await describeSeedScenario(base);
    await put(`${base}/proxy-settings`, { tcp: true, udp: false, icmp: true });
    const response = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.128.0.7",
      port: 53,
      protocol: "udp",
    });
    expect(response.body).toMatchObject({
      verdict: "proxy_off",
      summary: "the Gateway UDP proxy is off",
      proxy: { protocol: "udp", enabled: false, managed: true },
    });
  });

  it("?state=observed gives the same four verdicts from Cloudflare after a reconcile", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    expect((await post<{ outcome: string }>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const ask = (email: string, destination_ip: string) =>
      post<{
        verdict: string;
        split_tunnel: unknown;
        route: { tunnel: { id: string } } | null;
        policy: { decided_by: unknown };
      }>(`${base}/explain?state=observed`, { email, destination_ip, port: 22, protocol: "tcp" });
    const allowed = await ask("user@example.com", "10.128.0.7");
    expect(allowed.body).toMatchObject({
      state: "observed",
      verdict: "allowed",
      split_tunnel: THROUGH_WARP,
      route: wideRoute(ids, allowed.body.route?.tunnel.id ?? "", "inactive"),
      policy: { decided_by: ALLOW_TRACE(ids) },
    });
    expect(allowed.body.route?.tunnel.id).toMatch(/^cloudflare:[0-9a-f-]{36}$/);
    const blocked = await ask("someone@other.test", "10.128.0.7");
    expect(blocked.body).toMatchObject({
      verdict: "blocked_by_policy",
      policy: { decided_by: BLOCK_TRACE(ids) },
    });
    expect((await ask("user@example.com", "192.0.2.10")).body.verdict).toBe("not_routed");

    await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: false,
      entries: WARP_DEFAULT_EXCLUDES,
    });
    await post(`${base}/reconcile`);
    const excluded = await ask("user@example.com", "10.128.0.7");
    expect(excluded.body).toMatchObject({
      verdict: "excluded_from_warp",
      split_tunnel: { through_warp: false, entry: { address: "10.0.0.0/8", description: "" } },
    });
  });

  it("refuses a CIDR as destination and an unknown device profile with pointers", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const cidr = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.0.0.0/8",
      protocol: "sctp",
    });
    expect(cidr.status).toBe(422);
    expect(cidr.body).toMatchObject({
      status: 422,
      errors: [
        {
          pointer: "#/destination_ip",
          detail: "10.0.0.0/8 is not an IPv4 or IPv6 address",
          code: "invalid-ip",
        },
        { pointer: "#/protocol", code: "invalid-value" },
      ],
    });
    const profile = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.0.0.1",
      device_profile: "no-such-profile",
    });
    expect(profile.status).toBe(422);
    expect(profile.body).toMatchObject({
      errors: [
        {
          pointer: "#/device_profile",
          detail:
            "no device profile no-such-profile in this account (use default or a device profile id)",
          code: "unknown-reference",
        },
      ],
    });
    const state = await call("POST", `${base}/explain?state=later`, {
      body: { email: "user@example.com", destination_ip: "10.0.0.1" },
    });
    expect(state.body).toMatchObject({
      status: 422,
      errors: [{ parameter: "state", code: "invalid-value" }],
    });
  });
});

describe("rules shared from a parent account", () => {
  const PARENT = "0123456789abcdef0123456789abcdef";

  it("a shared block at precedence 90000 decides before an owned allow at 5: explain, plan, analysis and a grant's check; the rule is never written", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
    await post(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id });
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
    const allow = (
      await post<Created>(`${base}/policies`, {
        name: "Allow example.com to db",
        action: "allow",
        precedence: 5,
        destinations: ["10.128.0.7"],
        email_regex: ".*@example.com",
      })
    ).body;
    const { rule } = (await control("/shared-rules", "POST", {
      account_id: accountId,
      rule: {
        name: "Organization: no db access",
        action: "block",
        enabled: true,
        filters: ["l4"],
        traffic: "net.dst.ip in {10.128.0.0/16}",
        precedence: 90000,
      },
    })) as { rule: { id: string } };
    const sharedRef = {
      id: `cloudflare:${rule.id}`,
      name: "Organization: no db access",
      action: "block",
      precedence: 90000,
      shared_from: PARENT,
    };
    const ask = (state: string) =>
      post<{ verdict: string; summary: string; policy: unknown }>(
        `${base}/explain?state=${state}`,
        { email: "user@example.com", destination_ip: "10.128.0.7", port: 22, protocol: "tcp" },
      );
    // Before any run tunnelplane has not seen the shared rule: the owned allow decides.
    expect((await ask("desired")).body.verdict).toBe("allowed");

    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const afterFirst = (await callsOf(accountId)).at(-1)?.seq ?? 0;
    const second = await post<RunBody>(`${base}/reconcile`);
    expect([second.body.outcome, second.body.counts.planned]).toEqual(["succeeded", 0]);
    expect(
      (await callsOf(accountId))
        .filter((c) => c.path.includes(rule.id) || (c.method !== "GET" && c.seq > afterFirst))
        .map((c) => `${c.method} ${c.path}`),
    ).toEqual([]);

    const blocked = {
      verdict: "blocked_by_policy",
      summary: `blocked by rule "Organization: no db access" shared from account ${PARENT} (evaluated before every rule of this account), route 10.0.0.0/8 through tunnel dc1`,
      policy: {
        decision: "block",
        decided_by: sharedRef,
        trace: [{ ...sharedRef, outcome: "matched" }],
        unevaluable: [],
      },
    };
    expect((await ask("desired")).body).toMatchObject({ state: "desired", ...blocked });
    expect((await ask("observed")).body).toMatchObject({ state: "observed", ...blocked });
    const other = await post<{ policy: { trace: unknown[] } }>(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.0.0.9",
      port: 22,
    });
    expect(other.body.policy.trace).toEqual([
      {
        ...sharedRef,
        outcome: "not-matched",
        reason: { part: "traffic", clause: "net.dst.ip in {10.128.0.0/16}" },
      },
      {
        id: allow.id,
        name: "Allow example.com to db",
        action: "allow",
        precedence: 5,
        outcome: "not-matched",
        reason: { part: "traffic", clause: "net.dst.ip in {10.128.0.7}" },
      },
    ]);

    const plan = await post<{
      actions: unknown[];
      unmanaged: { kind: string }[];
      warnings: unknown[];
    }>(`${base}/plan`);
    const unmanagedRules = plan.body.unmanaged.filter((u) => u.kind === "network_policy");
    expect([plan.body.actions, unmanagedRules, plan.body.warnings]).toEqual([
      [],
      [{ kind: "network_policy", cloudflare_id: rule.id, label: "Organization: no db access" }],
      [
        {
          code: "shared-rule",
          kind: "network_policy",
          key: `cloudflare:${rule.id}`,
          message: `Gateway rule "Organization: no db access" is shared read-only from account ${PARENT}: it is evaluated before every rule of this account, whatever its precedence (90000), and is never changed here`,
        },
      ],
    ]);

    const analysis = await call<{ findings: unknown[] }>("GET", `${base}/policies/analysis`);
    expect(analysis.body.findings).toEqual([
      {
        code: "shadowed-policy",
        severity: "warning",
        message: `"Allow example.com to db" (5) never matches: "Organization: no db access" (shared from ${PARENT}) matches everything it does first`,
        policy_id: allow.id,
        related_policy_ids: [`cloudflare:${rule.id}`],
      },
    ]);

    const approvalRule = (
      await post<Created>(`${base}/grant-approval-rules`, { name: "any", effect: "auto_approve" })
    ).body;
    const grant = await post<{ state: string; decision: unknown; check: unknown }>(
      `${base}/grants`,
      {
        ticket: { system: "ServiceNow", id: "CHG7" },
        subject_email: "contractor@example.com",
        destinations: ["10.128.0.7"],
        ports: [22],
        protocols: ["tcp"],
        reason: "Patch the db host",
        duration_s: 3600,
      },
    );
    const why = `rule "Organization: no db access" shared from account ${PARENT} blocks 10.128.0.7/32 before every rule of this account`;
    expect(grant.body).toMatchObject({
      state: "requested",
      decision: {
        by: "system",
        rule_id: approvalRule.id,
        reason: `not approved automatically, the grant cannot work: ${why}`,
      },
      check: {
        ok: false,
        problems: [{ code: "blocked-by-policy", destination: "10.128.0.7/32", message: why }],
        destinations: [
          {
            destination: "10.128.0.7/32",
            decision: "block",
            decided_by: {
              id: `cloudflare:${rule.id}`,
              name: "Organization: no db access",
              precedence: 90000,
              shared_from: PARENT,
            },
          },
        ],
      },
    });
  });
  it("a grant approved on the shared rules as last read is checked again by the run that activates it, which names a shared block added since and says when it read the rules", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
    await post(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id });
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const firstRead = (
      await call<{ shared_rules_observed_at: string }>("GET", `${base}/policies/analysis`)
    ).body.shared_rules_observed_at;
    expect(firstRead).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const { rule } = (await control("/shared-rules", "POST", {
      account_id: accountId,
      rule: {
        name: "Organization: no db access",
        action: "block",
        enabled: true,
        filters: ["l4"],
        traffic: "net.dst.ip in {10.128.0.0/16}",
        precedence: 90000,
      },
    })) as { rule: { id: string } };
    const approval = (
      await post<Created>(`${base}/grant-approval-rules`, { name: "any", effect: "auto_approve" })
    ).body;
    const grant = await post<{
      state: string;
      decision: { by: string; reason: string };
      check: { phase: string; shared_rules_observed_at: string; ok: boolean; problems: unknown };
    }>(`${base}/grants`, {
      ticket: { system: "ServiceNow", id: "CHG8" },
      subject_email: "contractor@example.com",
      destinations: ["10.128.0.7"],
      ports: [22],
      protocols: ["tcp"],
      reason: "Patch the db host",
      duration_s: 3600,
    });
    const why = `rule "Organization: no db access" shared from account ${PARENT} blocks 10.128.0.7/32 before every rule of this account`;
    // Approved by the rule on the shared rules the first run read (none); the run that activated
    // it read the shared block, and the grant's check names it.
    expect([
      grant.body.state,
      grant.body.decision,
      grant.body.check.phase,
      grant.body.check.ok,
      grant.body.check.problems,
    ]).toEqual([
      "active",
      { by: "rule", rule_id: approval.id, reason: 'inside approval rule "any"' },
      "after-activation",
      false,
      [{ code: "blocked-by-policy", destination: "10.128.0.7/32", message: why }],
    ]);
    expect(grant.body.check.shared_rules_observed_at > (firstRead ?? "")).toBe(true);
    expect(
      (await callsOf(accountId)).filter((c) => c.path.includes(rule.id)).map((c) => c.method),
    ).toEqual([]);
  });
});

describe("explain per virtual network and per hostname", () => {
  it("looks routes up in the device's selected network only; a profile following prod carves 10.0.0.0/8 into exactly 16 prefixes", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const make = async (path: string, body: unknown) =>
      (await post<{ id: string }>(`${base}/${path}`, body)).body.id;
    const prod = await make("virtual-networks", { name: "prod", is_default: true });
    const staging = await make("virtual-networks", { name: "staging" });
    const prod1 = await make("tunnels", { name: "prod-1" });
    const stg1 = await make("tunnels", { name: "stg-1" });
    await make("routes", { network: "10.1.1.0/24", tunnel_id: prod1, virtual_network_id: prod });
    await make("routes", { network: "10.1.1.0/24", tunnel_id: stg1, virtual_network_id: staging });
    const wide = await make("routes", {
      network: "10.2.0.0/16",
      tunnel_id: stg1,
      virtual_network_id: staging,
    });
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: false });
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    const ask = async (network: string, ip: string) =>
      (
        await post<{
          verdict: string;
          summary: string;
          virtual_network?: unknown;
          route: { route_id: string; network: string; tunnel: { name: string } } | null;
        }>(`${base}/explain`, {
          email: "user@example.com",
          destination_ip: ip,
          port: 22,
          virtual_network_id: network,
        })
      ).body;
    const inProd = await ask(prod, "10.2.3.4");
    expect([inProd.verdict, inProd.summary, inProd.virtual_network]).toEqual([
      "not_routed",
      "no route in the default virtual network contains 10.2.3.4",
      { id: "default", name: "prod" },
    ]);
    const inStaging = await ask(staging, "10.2.3.4");
    expect([inStaging.verdict, inStaging.route, inStaging.virtual_network]).toEqual([
      "allowed",
      {
        route_id: wide,
        network: "10.2.0.0/16",
        tunnel: { id: stg1, name: "stg-1", health: "unknown" },
      },
      { id: staging, name: "staging" },
    ]);
    const shared = await ask(staging, "10.1.1.5");
    expect([shared.route?.network, shared.route?.tunnel.name]).toEqual(["10.1.1.0/24", "stg-1"]);
    expect((await ask("default", "10.1.1.5")).route?.tunnel.name).toBe("prod-1");
    const unknown = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.1.1.5",
      virtual_network_id: "no-such-network",
    });
    expect([unknown.status, (unknown.body as { errors: unknown }).errors]).toEqual([
      422,
      [
        {
          pointer: "#/virtual_network_id",
          detail:
            "no virtual network no-such-network in this account (use default or a virtual network id)",
          code: "unknown-reference",
        },
      ],
    ]);

    const profile = await make("device-profiles", {
      name: "Prod only",
      match: 'identity.email == "ops@example.com"',
      precedence: 1,
      virtual_network_ids: ["default"],
      split_tunnel: { mode: "exclude", auto: true },
    });
    const list = await post<{ split_tunnel: { entry: unknown } }>(`${base}/explain`, {
      email: "ops@example.com",
      destination_ip: "10.2.3.4",
      device_profile: profile,
      virtual_network_id: staging,
    });
    expect(list.body.split_tunnel.entry).toEqual({ address: "10.2.0.0/15", description: "" });
    const effective = await call<{ effective: { address?: string }[] }>(
      "GET",
      `${base}/split-tunnels/${profile}`,
    );
    expect(
      effective.body.effective.map((e) => e.address ?? "").filter((a) => a.startsWith("10.")),
    ).toEqual([
      "10.0.0.0/16",
      "10.1.0.0/24",
      "10.1.2.0/23",
      "10.1.4.0/22",
      "10.1.8.0/21",
      "10.1.16.0/20",
      "10.1.32.0/19",
      "10.1.64.0/18",
      "10.1.128.0/17",
      "10.2.0.0/15",
      "10.4.0.0/14",
      "10.8.0.0/13",
      "10.16.0.0/12",
      "10.32.0.0/11",
      "10.64.0.0/10",
      "10.128.0.0/9",
    ]);
  });

  it("a name under the profile's Local Domain Fallback never reaches the route; without it, the one-label wildcard rule, then UDP for its DNS", async ({
    expect,
  }) => {
    const { base, accountId } = await seedAccount(expect);
    const apps = (await post<{ id: string }>(`${base}/tunnels`, { name: "apps" })).body.id;
    const route = (
      await post<{ id: string }>(`${base}/hostname-routes`, {
        hostname: "*.apps.acme.internal",
        tunnel_id: apps,
      })
    ).body.id;
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: false });
    const ask = async (host: string, state = "desired") =>
      (
        await post<{
          verdict: string;
          summary: string;
          hostname_route: unknown;
          resolved_range: string;
          local_domain_fallback: unknown;
          route: unknown;
          split_tunnel: { through_warp: boolean };
          proxy: unknown;
        }>(`${base}/explain?state=${state}`, {
          email: "user@example.com",
          destination_host: host,
          port: 443,
        })
      ).body;
    // A fresh account keeps Cloudflare's default list, which holds `internal`.
    const fresh = await ask("wiki.apps.acme.internal");
    expect([fresh.verdict, fresh.summary, fresh.local_domain_fallback]).toEqual([
      "resolved_locally",
      "wiki.apps.acme.internal is under internal, which the Local Domain Fallback of the default profile lists (Cloudflare's default list): the device resolves it with its own DNS, so the query never reaches Gateway or a hostname route",
      { profile: "default", suffix: "internal", assumed_default: true },
    ]);
    // Cloudflare's list without `internal`, plus a narrower suffix; a run observes it.
    const account_id = accountId;
    await sdk().zeroTrust.devices.policies.default.fallbackDomains.update({
      account_id,
      domains: [{ suffix: "lan" }, { suffix: "db.apps.acme.internal", dns_server: ["10.0.0.53"] }],
    });
    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const local = await ask("x.db.apps.acme.internal", "observed");
    expect([local.verdict, local.local_domain_fallback]).toEqual([
      "resolved_locally",
      { profile: "default", suffix: "db.apps.acme.internal", assumed_default: false },
    ]);
    expect((await ask("wiki.apps.acme.internal", "observed")).verdict).toBe("allowed");
    const wiki = await ask("Wiki.Apps.Acme.Internal");
    expect([
      wiki.verdict,
      wiki.summary,
      wiki.hostname_route,
      wiki.resolved_range,
      wiki.local_domain_fallback,
      wiki.route,
      wiki.split_tunnel.through_warp,
    ]).toEqual([
      "allowed",
      "allowed: no network policy matches (Gateway's default is allow), hostname route *.apps.acme.internal through tunnel apps",
      {
        route_id: route,
        hostname: "*.apps.acme.internal",
        tunnel: { id: apps, name: "apps", health: "unknown" },
      },
      "172.64.128.0/20",
      { profile: "default", suffix: null, assumed_default: false },
      null,
      true,
    ]);
    // A fully qualified name, with its trailing dot, is the same host.
    const fqdn = await ask("wiki.apps.acme.internal.");
    expect([fqdn.verdict, fqdn.summary]).toEqual([wiki.verdict, wiki.summary]);
    const deep = await ask("a.b.apps.acme.internal");
    expect([deep.verdict, deep.summary, deep.hostname_route]).toEqual([
      "not_routed",
      "no hostname route serves a.b.apps.acme.internal",
      null,
    ]);
    await put(`${base}/proxy-settings`, { tcp: true, udp: false, icmp: false });
    const noDns = await ask("wiki.apps.acme.internal");
    expect([noDns.verdict, noDns.summary, noDns.proxy]).toEqual([
      "proxy_off",
      "the Gateway UDP proxy is off (hostname routes need TCP and UDP, which carries the DNS query)",
      { protocol: "udp", enabled: false, managed: true },
    ]);
    const both = await post(`${base}/explain`, {
      email: "user@example.com",
      destination_ip: "10.0.0.1",
      destination_host: "wiki.apps.acme.internal",
    });
    expect([both.status, (both.body as { errors: unknown }).errors]).toEqual([
      422,
      [
        {
          pointer: "#/destination_ip",
          detail: "give exactly one of destination_ip and destination_host",
          code: "one-destination",
        },
      ],
    ]);
  });
});

interface TokenProblemBody {
  permission: string;
  request: string;
  met_by: string;
  run_id: string | null;
}

interface PlanBody {
  actions: { op: string; kind: string; key: string }[];
  access_delta: unknown;
  unmanaged: unknown[];
  skipped: unknown[];
}

interface ExplainBody {
  state: string;
  verdict: string;
  summary: string;
  route: { network: string } | null;
  skipped: unknown[];
  shared_rules_observed_at: string | null;
}

describe("a token without a permission: plan and observed explain skip only what it may not read", () => {
  const ZERO_TRUST_DETAIL =
    "the API token lacks Zero Trust: Edit (Cloudflare answered 403 / 10000 to GET devices/policies)";
  const ZERO_TRUST_SKIPPED = {
    kinds: ["split_tunnel", "device_profile", "proxy_settings", "network_policy", "private_app"],
    permission: "Zero Trust: Edit",
    permission_groups: ["Zero Trust Write"],
    request: "GET devices/policies",
    detail: ZERO_TRUST_DETAIL,
  };

  it("plans and explains tunnels and routes without Zero Trust, names Zero Trust: Edit, records it on the account, and clears it once granted", async ({
    expect,
  }) => {
    const apiToken = await tokenWith(["Cloudflare Tunnel Write"]);
    const { accountId, base } = await seedAccount(expect, { apiToken });
    const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
    const wide = (
      await post<Created>(`${base}/routes`, { network: "10.0.0.0/8", tunnel_id: tunnel.id })
    ).body;
    const policy = (
      await post<Created>(`${base}/policies`, {
        name: "Allow db",
        action: "allow",
        precedence: 100,
        destinations: ["10.128.0.7"],
      })
    ).body;
    const route = (
      await post<Created>(`${base}/routes`, { network: "172.31.0.0/16", tunnel_id: tunnel.id })
    ).body;
    const plan = await post<PlanBody>(`${base}/plan`);
    expect(plan.status).toBe(200);
    // Tunnels and routes are planned; the policy is left out, not planned as a create.
    expect(plan.body.actions.map((a) => `${a.op} ${a.kind} ${a.key}`)).toEqual([
      `create tunnel ${tunnel.id}`,
      `create tunnel_route ${wide.id}`,
      `create tunnel_route ${route.id}`,
    ]);
    expect((await callsOf(accountId)).filter((c) => c.method !== "GET")).toEqual([]);
    expect([plan.body.skipped, plan.body.access_delta]).toEqual([
      [ZERO_TRUST_SKIPPED],
      { changes: [], atoms: 0, classes: 0, work_units: 0 },
    ]);
    const account = await get<{ token_problems: TokenProblemBody[] }>(base);
    expect(
      account.body.token_problems.map((p) => [p.permission, p.request, p.met_by, p.run_id]),
    ).toEqual([["Zero Trust: Edit", "GET devices/policies", "plan", null]]);

    expect((await post<RunBody>(`${base}/reconcile`)).body.counts.applied).toBe(3);
    const ask = (state: string, destination: string) =>
      post<ExplainBody>(`${base}/explain?state=${state}`, {
        email: "user@example.com",
        destination_ip: destination,
        port: 22,
      });
    const unknown = await ask("observed", "172.31.0.9");
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({
      state: "observed",
      verdict: "unknown",
      summary:
        "unknown: the split tunnel could not be read from Cloudflare (the API token lacks Zero Trust: Edit); the stages read are shown",
      route: { network: "172.31.0.0/16" },
      skipped: [ZERO_TRUST_SKIPPED],
      shared_rules_observed_at: null,
    });
    // A question by name meets the profile's Local Domain Fallback first, which was not read.
    const byName = await post<ExplainBody>(`${base}/explain?state=observed`, {
      email: "user@example.com",
      destination_host: "db.corp.example.com",
      port: 22,
    });
    expect([byName.status, byName.body.verdict, byName.body.summary]).toEqual([
      200,
      "unknown",
      "unknown: the Local Domain Fallback could not be read from Cloudflare (the API token lacks Zero Trust: Edit); the stages read are shown",
    ]);
    const problems = (await get<{ token_problems: TokenProblemBody[] }>(base)).body.token_problems;
    expect(problems.map((p) => [p.request, p.met_by, p.run_id])).toEqual([
      ["GET devices/policies", "explain", null],
    ]);

    // Granted: the plan reads the policies and plans the one left; the problem is cleared, and
    // the shared rules are now known as read at the observation.
    await control("/tokens", "PUT", {
      token: apiToken,
      permission_groups: ["Cloudflare Tunnel Write", "Zero Trust Write"],
    });
    const granted = await post<PlanBody>(`${base}/plan`);
    expect([
      granted.body.actions.map((a) => `${a.op} ${a.kind} ${a.key}`),
      granted.body.skipped,
    ]).toEqual([[`create network_policy ${policy.id}`], []]);
    expect((await get<{ token_problems: unknown[] }>(base)).body.token_problems).toEqual([]);
    const observed = await ask("observed", "172.31.0.9");
    expect([observed.body.verdict, observed.body.skipped]).toEqual(["excluded_from_warp", []]);
    const readAt = observed.body.shared_rules_observed_at;
    expect(readAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const desired = await ask("desired", "172.31.0.9");
    expect([desired.body.verdict, desired.body.shared_rules_observed_at]).toEqual([
      "excluded_from_warp",
      readAt,
    ]);
  });

  it("keeps a verdict a stage it read decides before the stage it could not read", async ({
    expect,
  }) => {
    const apiToken = await tokenWith(["Zero Trust Write"]);
    const { base } = await seedAccount(expect, { apiToken });
    const ask = (destination: string) =>
      post<ExplainBody>(`${base}/explain?state=observed`, {
        email: "user@example.com",
        destination_ip: destination,
        port: 22,
      });
    const tunnelSkipped = {
      kinds: ["tunnel"],
      permission: "Cloudflare Tunnel: Edit",
      permission_groups: [
        "Cloudflare Tunnel Write",
        "Cloudflare One Connectors Write",
        "Cloudflare One Connector: cloudflared Write",
      ],
      request: "GET cfd_tunnel",
      detail:
        "the API token lacks Cloudflare Tunnel: Edit (Cloudflare answered 403 / 10000 to GET cfd_tunnel)",
    };
    const networksSkipped = {
      kinds: ["virtual_network", "tunnel_route", "hostname_route"],
      permission: "Cloudflare Tunnel: Edit",
      permission_groups: ["Cloudflare Tunnel Write", "Cloudflare One Networks Write"],
      request: "GET teamnet/virtual_networks",
      detail:
        "the API token lacks Cloudflare Tunnel: Edit (Cloudflare answered 403 / 10000 to GET teamnet/virtual_networks)",
    };
    // Cloudflare's default Exclude list sends 10.0.0.0/8 around WARP: routes cannot change that.
    const excluded = await ask("10.1.2.3");
    expect([excluded.body.verdict, excluded.body.skipped]).toEqual([
      "excluded_from_warp",
      [networksSkipped, tunnelSkipped],
    ]);
    const unread = await ask("198.51.100.7");
    expect([unread.body.verdict, unread.body.summary, unread.body.route]).toEqual([
      "unknown",
      "unknown: the route could not be read from Cloudflare (the API token lacks Cloudflare Tunnel: Edit); the stages read are shown",
      null,
    ]);
    expect(unread.body.shared_rules_observed_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});
