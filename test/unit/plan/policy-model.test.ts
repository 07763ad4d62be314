/**
 * Pure pieces of the policy model: collision-free ordering of policy writes, the dependency and
 * narrowing-first order of a plan's actions, private-app policy pairs, import without loss,
 * static analysis and explain over a view.
 */
import { describe, it } from "vitest";
import { explain } from "../../../src/domain/explain/explain";
import type { NetworkView } from "../../../src/domain/explain/view";
import type {
  DesiredObject,
  NetworkPolicySpec,
  ObservedNetworkPolicy,
} from "../../../src/domain/model";
import type { Action } from "../../../src/domain/plan/actions";
import { orderForApply } from "../../../src/domain/plan/apply-order";
import { orderPolicyWrites } from "../../../src/domain/plan/policy-order";
import {
  identityRegex,
  privateAppOf,
  privateAppPolicies,
} from "../../../src/domain/plan/private-app-policies";
import { analysePolicies } from "../../../src/domain/policies/analysis";
import { importNetworkPolicy } from "../../../src/domain/policies/import";

function observedRule(
  cloudflareId: string,
  precedence: number,
  extra: Partial<ObservedNetworkPolicy> = {},
): ObservedNetworkPolicy {
  return {
    cloudflareId,
    name: cloudflareId,
    description: "",
    action: "block",
    enabled: true,
    precedence,
    filters: ["l4"],
    traffic: "",
    identity: "",
    devicePosture: "",
    ...extra,
  };
}

function rendered(precedence: number, action = "block", traffic = "") {
  return {
    name: "p",
    description: "",
    action,
    enabled: true,
    precedence,
    filters: ["l4"],
    traffic,
    identity: "",
    devicePosture: "",
  };
}

const update = (key: string, cloudflareId: string, to: number): Action => ({
  op: "update",
  kind: "network_policy",
  key,
  cloudflareId,
  reason: "differs from the desired state",
  diff: [],
  desired: rendered(to),
  isDrift: false,
});

const create = (key: string, to: number): Action => ({
  op: "create",
  kind: "network_policy",
  key,
  reason: "missing in Cloudflare",
  diff: [],
  desired: rendered(to),
  isDrift: false,
});

const remove = (key: string, cloudflareId: string): Action => ({
  op: "delete",
  kind: "network_policy",
  key,
  cloudflareId,
  reason: "no longer desired",
  diff: [],
  isDrift: false,
});

const allow = (key: string, to: number, destinations: string): Action =>
  ({
    ...create(key, to),
    desired: rendered(to, "allow", `net.dst.ip in {${destinations}}`),
  }) as Action;

const write = (op: "create" | "update", kind: Action["kind"], key: string, desired: object) =>
  ({
    op,
    kind,
    key,
    ...(op === "update" ? { cloudflareId: `c${key}` } : {}),
    reason: "r",
    diff: [],
    desired,
    isDrift: false,
  }) as Action;

const tunnel = (key: string) => write("create", "tunnel", key, { name: key });
const vnet = (key: string) =>
  write("create", "virtual_network", key, { name: key, comment: "", isDefault: false });
const route = (key: string, network: string, tunnelKey: string, virtualNetworkKey: string | null) =>
  write("create", "tunnel_route", key, { network, tunnelKey, virtualNetworkKey, comment: "" });
const drop = (kind: Action["kind"], key: string): Action => ({
  op: "delete",
  kind,
  key,
  cloudflareId: `c${key}`,
  reason: "no longer desired",
  diff: [],
  isDrift: false,
});
const splitTunnel = write("update", "split_tunnel", "default", {
  profileId: "default",
  mode: "exclude",
  entries: [],
});

const summary = (actions: Action[]) =>
  actions.map(
    (a) =>
      `${a.op} ${a.key}${a.kind !== "network_policy" || a.op === "delete" ? "" : `@${(a.desired as { precedence: number }).precedence}`}`,
  );

describe("orderPolicyWrites", () => {
  it.for<[string, ObservedNetworkPolicy[], Action[], string[]]>([
    [
      "a write waits for the policy leaving its precedence",
      [observedRule("ca", 1000), observedRule("cb", 2000)],
      [update("a", "ca", 2000), update("b", "cb", 3000)],
      ["update b@3000", "update a@2000"],
    ],
    [
      "a delete holding a needed precedence goes first",
      [observedRule("ca", 1000)],
      [create("n", 1000), remove("a", "ca")],
      ["delete a", "create n@1000"],
    ],
    [
      "a swap parks one policy above every value: one extra write",
      [observedRule("ca", 1000), observedRule("cb", 2000)],
      [update("a", "ca", 2000), update("b", "cb", 1000)],
      ["update b@2001", "update a@2000", "update b@1000"],
    ],
    [
      "a create on an unmanaged rule's precedence is left as planned",
      [observedRule("hand", 1000)],
      [create("n", 1000)],
      ["create n@1000"],
    ],
  ])("%s", ([_reason, observed, actions, expected], { expect }) => {
    expect(summary(orderPolicyWrites(actions, observed))).toEqual(expected);
  });
});

describe("orderForApply", () => {
  it.for<[string, ObservedNetworkPolicy[], Action[], string[]]>([
    [
      "a revocation (an allow's delete) and a new block go before a bootstrap's routes",
      [observedRule("cg", 500, { action: "allow" }), observedRule("cold", 900)],
      [
        tunnel("t"),
        route("r1", "10.1.0.0/16", "t", null),
        route("r2", "10.2.0.0/16", "t", null),
        create("b", 2000),
        drop("network_policy", "g"),
        drop("network_policy", "old"),
      ],
      ["delete g", "create b@2000", "create t", "create r1", "create r2", "delete old"],
    ],
    [
      "an allow whose routes exist goes before unrelated route creates; one waits for its route",
      [],
      [
        tunnel("t"),
        route("r1", "10.1.0.0/16", "t", null),
        route("r2", "10.2.0.0/16", "t", null),
        route("r3", "10.3.0.0/16", "t", null),
        allow("known", 100, "192.168.7.0/24"),
        allow("new", 200, "10.2.0.9/32"),
      ],
      ["create t", "create known@100", "create r1", "create r2", "create new@200", "create r3"],
    ],
    [
      "a virtual network goes before the route in it, the route before the split tunnel",
      [],
      [splitTunnel, route("r", "10.0.0.0/8", "t", "v"), tunnel("t"), vnet("v")],
      ["create v", "create t", "create r", "update default"],
    ],
    [
      "a tunnel and a virtual network are deleted after the routes leave them",
      [],
      [
        drop("virtual_network", "v"),
        drop("tunnel", "t"),
        drop("tunnel_route", "r"),
        route("moved", "10.9.0.0/16", "t2", null),
      ],
      ["create moved", "delete r", "delete t", "delete v"],
    ],
    [
      "a new block waits for the rule leaving its precedence, even a widening one",
      [observedRule("ca", 1000, { action: "allow" })],
      [update("a", "ca", 3000), create("b", 1000)],
      ["update a@3000", "create b@1000"],
    ],
  ])("%s", ([_reason, observed, actions, expected], { expect }) => {
    expect(summary(orderForApply(orderPolicyWrites(actions, observed), observed))).toEqual(
      expected,
    );
  });
});

describe("private app policies", () => {
  const app: DesiredObject<"private_app"> = {
    kind: "private_app",
    id: "0b7e1c52-2f9a-4c1e-9d3b-5a6f7e8d9c01",
    version: 3,
    spec: {
      name: "wiki",
      precedence: 7000,
      enabled: true,
      destinations: [{ cidr: "10.3.0.0/24", ports: [{ from: 443, to: 443 }], protocol: "tcp" }],
      emails: [],
      emailDomains: ["example.com", "corp.example.org"],
      emailRegex: "^admin@",
      groups: ["Staff"],
    },
    cloudflareId: null,
    syncedVersion: 3,
    createRequestedAtMs: null,
    deletedAtMs: null,
  };

  it("derives one allow/block pair with the app's version and an anchored domain regex", ({
    expect,
  }) => {
    expect(identityRegex(app.spec)).toBe(
      "(?:^admin@)|^[^@]+@(?:corp\\.example\\.org|example\\.com)$",
    );
    const [allow, block] = privateAppPolicies(app);
    expect([allow?.id, allow?.version, allow?.syncedVersion, allow?.spec]).toEqual([
      `${app.id}-allow-0`,
      3,
      3,
      {
        name: "wiki: allow",
        action: "allow",
        precedence: 7000,
        enabled: true,
        destinations: ["10.3.0.0/24"],
        ports: [{ from: 443, to: 443 }],
        protocols: ["tcp"],
        emails: [],
        emailRegex: "(?:^admin@)|^[^@]+@(?:corp\\.example\\.org|example\\.com)$",
        groups: ["Staff"],
      },
    ]);
    expect([block?.id, block?.spec.precedence, block?.spec.action, block?.spec.emailRegex]).toEqual(
      [`${app.id}-block-0`, 7001, "block", null],
    );
    expect([privateAppOf(`${app.id}-block-0`), privateAppOf(app.id)]).toEqual([app.id, null]);
  });
});

describe("importNetworkPolicy", () => {
  it.for<[string, Partial<ObservedNetworkPolicy>, unknown]>([
    [
      "reads == and ranges into selectors, posture ids and the description without marker",
      {
        action: "allow",
        traffic: "net.dst.ip == 10.0.0.1 and net.dst.port in {80 8000..8080}",
        identity: 'identity.email in {"a@x.test"}',
        devicePosture: 'any(device_posture.checks.passed[*] == "p1")',
        description: "kept",
      },
      {
        ok: true,
        value: {
          name: "r",
          action: "allow",
          precedence: 10,
          enabled: true,
          destinations: ["10.0.0.1/32"],
          ports: [
            { from: 80, to: 80 },
            { from: 8000, to: 8080 },
          ],
          protocols: [],
          emails: ["a@x.test"],
          emailRegex: null,
          groups: [],
          devicePostureIds: ["p1"],
          description: "kept",
        },
      },
    ],
    [
      "refuses a DNS rule",
      { filters: ["dns"] },
      {
        ok: false,
        error: { code: "not-importable", reason: 'the rule filters ["dns"], not ["l4"]' },
      },
    ],
    [
      "refuses an l4_override",
      { action: "l4_override" },
      {
        ok: false,
        error: {
          code: "not-importable",
          reason: "action l4_override has no structured form (allow or block)",
        },
      },
    ],
    [
      "refuses a posture expression with all(…)",
      { devicePosture: 'all(device_posture.checks.passed[*] in {"p1"})' },
      {
        ok: false,
        error: {
          code: "not-importable",
          reason:
            'the device posture expression has no structured form: all(device_posture.checks.passed[*] in {"p1"})',
        },
      },
    ],
  ])("%s", ([_reason, rule, expected], { expect }) => {
    expect(importNetworkPolicy(observedRule("r", 10, rule))).toEqual(expected);
  });
});

const spec = (extra: Partial<NetworkPolicySpec>): NetworkPolicySpec => ({
  name: "p",
  action: "block",
  precedence: 1,
  enabled: true,
  destinations: [],
  ports: [],
  protocols: [],
  emails: [],
  emailRegex: null,
  ...extra,
});

describe("analysis", () => {
  const policy = (id: string, extra: Partial<NetworkPolicySpec>) => ({ id, spec: spec(extra) });

  it("is exact: a policy two earlier ones cover together is shadowed by both", ({ expect }) => {
    const findings = analysePolicies(
      [
        policy("a", { precedence: 1, destinations: ["10.0.0.0/25"] }),
        policy("b", { precedence: 2, destinations: ["10.0.0.128/25"], action: "allow" }),
        policy("c", {
          precedence: 3,
          destinations: ["10.0.0.0/24"],
          ports: [{ from: 22, to: 22 }],
        }),
        policy("d", {
          precedence: 4,
          action: "allow",
          destinations: ["10.0.0.0/24"],
          groups: ["G"],
        }),
      ],
      [],
      1_000_000,
    );
    expect(findings).toEqual({
      ok: true,
      value: [
        {
          code: "shadowed-policy",
          severity: "warning",
          policyId: "c",
          by: ["a", "b"],
          message: '"p" (3) never matches: "p" (1), "p" (2) match everything it does first',
        },
        {
          code: "shadowed-policy",
          severity: "warning",
          policyId: "d",
          by: ["a", "b"],
          message: '"p" (4) never matches: "p" (1), "p" (2) match everything it does first',
        },
      ],
    });
  });

  it("an allow part of whose connections an earlier block decides is partly blocked", ({
    expect,
  }) => {
    const findings = analysePolicies(
      [
        policy("block", { precedence: 1, destinations: ["10.0.0.0/25"], groups: ["G"] }),
        policy("allow", { precedence: 2, action: "allow", destinations: ["10.0.0.0/24"] }),
      ],
      [],
      1_000_000,
    );
    expect(findings.ok && findings.value.map((f) => [f.code, "by" in f ? f.by : null])).toEqual([
      ["allow-partly-blocked", ["block"]],
    ]);
  });

  it("is refused past its work budget", ({ expect }) => {
    // The count stops at its first value past the budget (ranges cut, atoms, evaluations).
    expect(analysePolicies([policy("a", { groups: ["G"] })], [], 5)).toEqual({
      ok: false,
      error: { code: "work-budget-exceeded", budget: 5, work: 8 },
    });
  });

  it("reports limit use from 80% and above the limit", ({ expect }) => {
    expect(
      analysePolicies(
        [],
        [
          { resource: "network_policies", used: 399, limit: 500 },
          { resource: "routes", used: 800, limit: 1000 },
          { resource: "tunnels", used: 1001, limit: 1000 },
        ],
        0,
      ),
    ).toEqual({
      ok: true,
      value: [
        {
          code: "limit-near",
          severity: "warning",
          resource: "routes",
          used: 800,
          limit: 1000,
          message: "800 of Cloudflare's 1000 routes are used",
        },
        {
          code: "limit-exceeded",
          severity: "error",
          resource: "tunnels",
          used: 1001,
          limit: 1000,
          message: "1001 tunnels exceed Cloudflare's limit of 1000",
        },
      ],
    });
  });
});

describe("explain over a view", () => {
  const view: NetworkView = {
    splitTunnel: {
      profile: "default",
      mode: "include",
      entries: [
        { address: "10.0.0.0/8", description: "" },
        { address: "10.1.0.0/16", description: "narrower" },
        { host: "wiki.internal", description: "" },
      ],
      assumedDefault: false,
    },
    virtualNetwork: { id: "default", cloudflareId: null, name: "default" },
    hostnameRoutes: [],
    initialResolvedIpv4: "172.64.128.0/20",
    localFallback: { suffixes: ["corp", "home.arpa", "example.internal"], assumedDefault: false },
    routes: [
      { id: "r1", network: "10.0.0.0/8", tunnel: { id: "t1", name: "dc1", health: "healthy" } },
      { id: "r2", network: "10.1.2.0/24", tunnel: { id: "t2", name: "dc2", health: "down" } },
    ],
    proxy: { tcp: true, udp: false, icmp: false },
    policies: [],
    unevaluable: [],
  };
  const request = {
    email: "a@x.test",
    groups: [],
    passedPostureChecks: [],
    port: 22,
    protocol: null,
  };

  it("Include mode: the most specific include entry and route decide; health is reported", ({
    expect,
  }) => {
    const e = explain(view, { ...request, destinationIp: "10.1.2.3" });
    expect([
      e.verdict,
      e.splitTunnel.entry,
      e.route.route?.id,
      e.route.route?.tunnel.health,
    ]).toEqual(["allowed", { address: "10.1.0.0/16", description: "narrower" }, "r2", "down"]);
  });

  it("Include mode: an address in no include entry is excluded_from_warp with no entry", ({
    expect,
  }) => {
    const e = explain(view, { ...request, destinationIp: "192.168.1.1" });
    expect([e.verdict, e.splitTunnel.entry, e.summary]).toEqual([
      "excluded_from_warp",
      null,
      "192.168.1.1 is in no Include entry of the default profile, so it does not go through WARP",
    ]);
  });

  it.for([
    ["the suffix itself", "corp", "corp"],
    ["a name below a one-label suffix", "wiki.eng.corp", "corp"],
    ["a two-label suffix", "nas.home.arpa", "home.arpa"],
    ["the longest of two suffixes", "db.example.internal", "example.internal"],
    ["a name only ending in the same letters", "wiki.mycorp", null],
    ["a name under none", "wiki.apps.acme.internal", null],
  ] as const)("Local Domain Fallback: %s -> %s", ([, host, suffix], { expect }) => {
    const routed = {
      ...view,
      hostnameRoutes: [],
      proxy: { tcp: true, udp: true, icmp: false },
    };
    const e = explain(routed, { ...request, destinationIp: "", destinationHost: host });
    expect([e.localFallback, e.verdict]).toEqual([
      { profile: "default", suffix, assumedDefault: false },
      suffix === null ? "not_routed" : "resolved_locally",
    ]);
  });

  it("a name under a fallback suffix is resolved by the device, whatever the hostname route", ({
    expect,
  }) => {
    const routed: NetworkView = {
      ...view,
      localFallback: { suffixes: ["intranet", "internal"], assumedDefault: true },
      hostnameRoutes: [
        {
          id: "h1",
          hostname: "*.apps.acme.internal",
          tunnel: { id: "t1", name: "dc1", health: "healthy" },
        },
      ],
      proxy: { tcp: true, udp: true, icmp: false },
    };
    const e = explain(routed, {
      ...request,
      destinationIp: "",
      destinationHost: "wiki.apps.acme.internal",
    });
    expect([e.verdict, e.localFallback, e.route.hostname?.route?.id, e.summary]).toEqual([
      "resolved_locally",
      { profile: "default", suffix: "internal", assumedDefault: true },
      "h1",
      "wiki.apps.acme.internal is under internal, which the Local Domain Fallback of the default profile lists (Cloudflare's default list): the device resolves it with its own DNS, so the query never reaches Gateway or a hostname route",
    ]);
    expect(explain(routed, { ...request, destinationIp: "10.1.2.3" }).localFallback).toBe(null);
  });

  it("an unmanaged proxy is Cloudflare's default: off", ({ expect }) => {
    const e = explain({ ...view, proxy: null }, { ...request, destinationIp: "10.1.2.3" });
    expect([e.verdict, e.proxy, e.summary]).toEqual([
      "proxy_off",
      { protocol: "tcp", enabled: false, managed: false },
      "the Gateway TCP proxy is off (not managed by tunnelplane; Cloudflare's default)",
    ]);
  });
});
