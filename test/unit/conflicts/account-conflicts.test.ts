import fc from "fast-check";
import { describe, it } from "vitest";
import { parseKnownCidr, prefixesOverlap } from "../../../src/domain/cidr";
import {
  type AccountConflict,
  findAccountConflicts,
  type ProfileSplitTunnelRef,
  routeProfileProblems,
} from "../../../src/domain/conflicts/account";
import { checkClientLan } from "../../../src/domain/conflicts/client-lan";
import { describeConflict } from "../../../src/domain/conflicts/describe";
import type { DesiredObject, SplitTunnelProfileSpec } from "../../../src/domain/model";
import {
  observedDeviceProfile,
  profileSplitTunnels,
  renderDeviceProfile,
} from "../../../src/domain/plan/device-profiles";
import { planAccount } from "../../../src/domain/plan/plan";
import {
  findRouteConflicts,
  type RouteConflict,
  type RouteRef,
} from "../../../src/domain/routes/conflicts";
import { enclosingFirstKeys, rangeKeysOf } from "../../../src/domain/routes/range-key";
import { routedNetworksFor, selectRoutes } from "../../../src/domain/split-tunnels/profile-routes";

const route = (
  id: string,
  network: string,
  tunnelId: string,
  virtualNetworkId: string | null = null,
): RouteRef => ({ id, network, tunnelId, virtualNetworkId });

const ROUTES = [
  route("r-null", "10.1.0.0/16", "t1"),
  route("r-prod", "10.2.0.0/16", "t1", "prod"),
  route("r-lab", "10.3.0.0/16", "t1", "lab"),
];

describe("selectRoutes", () => {
  it.for<[string, string[] | null, string | null, string[]]>([
    ["null follows every virtual network", null, "prod", ["r-null", "r-prod", "r-lab"]],
    ["default names the routes without a virtual network", ["default"], null, ["r-null"]],
    [
      "default also names the desired default virtual network",
      ["default"],
      "prod",
      ["r-null", "r-prod"],
    ],
    [
      "the desired default's id also carries the routes without one",
      ["prod"],
      "prod",
      ["r-null", "r-prod"],
    ],
    ["a plain id selects its own routes", ["lab"], "prod", ["r-lab"]],
    ["an unknown id selects nothing", ["gone"], null, []],
  ])("%s", ([, selection, defaultId, expected], { expect }) => {
    expect(selectRoutes(selection, ROUTES, defaultId).map((r) => r.id)).toEqual(expected);
  });

  it("routedNetworksFor gives the networks of the selection in input order", ({ expect }) => {
    expect(routedNetworksFor(["lab", "default"], ROUTES, null)).toEqual([
      "10.1.0.0/16",
      "10.3.0.0/16",
    ]);
  });
});

describe("findAccountConflicts", () => {
  it("lists route conflicts, then each profile's problems naming its routes", ({ expect }) => {
    const routes = [
      route("wide", "10.0.0.0/8", "t1"),
      route("narrow", "10.20.0.0/16", "t2"),
      route("twin-a", "172.20.0.0/16", "t1", "lab"),
      route("twin-b", "172.20.0.0/16", "t2", "lab"),
      route("reserved", "100.96.1.0/24", "t1", "lab"),
    ];
    const conflicts = findAccountConflicts(
      routes,
      [
        {
          kind: "split_tunnel",
          id: "default",
          spec: {
            mode: "exclude",
            auto: true,
            entries: [{ address: "172.20.0.0/14", description: "lab" }],
          },
          virtualNetworkIds: null,
        },
        {
          kind: "device_profile",
          id: "p1",
          spec: {
            mode: "include",
            auto: false,
            entries: [{ address: "10.20.0.0/16", description: "" }],
          },
          virtualNetworkIds: ["default"],
        },
      ],
      null,
      { teamDomain: "acme.cloudflareaccess.com" },
    );
    expect(conflicts).toEqual([
      {
        code: "duplicate-route",
        severity: "error",
        virtualNetworkId: "lab",
        network: "172.20.0.0/16",
        routeIds: ["twin-a", "twin-b"],
      },
      {
        code: "route-overlap",
        severity: "warning",
        virtualNetworkId: null,
        specific: routes[1],
        general: routes[0],
        winner: { routeId: "narrow", tunnelId: "t2", range: "10.20.0.0/16" },
      },
      {
        code: "reserved-range",
        severity: "error",
        routeId: "reserved",
        network: "100.96.1.0/24",
        reservedRange: "100.96.0.0/12",
        purpose: "Device IPs",
      },
      {
        code: "home-lan-overlap",
        severity: "warning",
        routeId: "wide",
        network: "10.0.0.0/8",
        lanRange: "10.0.0.0/24",
        shadowed: ["10.0.0.0/24"],
      },
      {
        code: "route-excluded",
        severity: "error",
        routeNetwork: "172.20.0.0/16",
        entry: { address: "172.20.0.0/14", description: "lab" },
        unreachable: ["172.20.0.0/16"],
        profile: { kind: "split_tunnel", id: "default" },
        routeIds: ["twin-a", "twin-b"],
      },
      {
        code: "route-not-included",
        severity: "warning",
        routeNetwork: "10.0.0.0/8",
        entry: null,
        unreachable: [
          "10.0.0.0/12",
          "10.16.0.0/14",
          "10.21.0.0/16",
          "10.22.0.0/15",
          "10.24.0.0/13",
          "10.32.0.0/11",
          "10.64.0.0/10",
          "10.128.0.0/9",
        ],
        profile: { kind: "device_profile", id: "p1" },
        routeIds: ["wide"],
      },
      {
        code: "team-domain-not-included",
        severity: "warning",
        teamDomain: "acme.cloudflareaccess.com",
        profile: { kind: "device_profile", id: "p1" },
        routeIds: [],
      },
    ]);
    expect(conflicts.map(describeConflict)).toEqual([
      "172.20.0.0/16 is routed 2 times in virtual network lab (routes twin-a, twin-b)",
      "10.20.0.0/16 (tunnel t2) lies inside 10.0.0.0/8 (tunnel t1); the longest prefix wins, so 10.20.0.0/16 goes to tunnel t2",
      "100.96.1.0/24 is inside Cloudflare's reserved range 100.96.0.0/12 (Device IPs)",
      "10.0.0.0/8 overlaps the common home LAN 10.0.0.0/24; users on such a LAN cannot reach 10.0.0.0/24",
      "In the default device profile, route 172.20.0.0/16 is unreachable through WARP: the Exclude entry 172.20.0.0/14 sends 172.20.0.0/16 around it",
      "In device profile p1, route 10.0.0.0/8 is unreachable through WARP: no Include entry covers 10.0.0.0/12, 10.16.0.0/14, 10.21.0.0/16, 10.22.0.0/15, 10.24.0.0/13, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9",
      "In device profile p1, the team domain acme.cloudflareaccess.com is not in the Include list: device enrolment, posture checks and Access sessions need it to go through WARP",
    ]);
  });

  it("names every route that carves a local WARP default out of an auto Exclude list", ({
    expect,
  }) => {
    const exclude: SplitTunnelProfileSpec = { mode: "exclude", auto: true, entries: [] };
    const conflicts = findAccountConflicts(
      [
        route("link-lab", "fe80::/10", "t1", "lab"),
        route("corp", "10.20.0.0/16", "t1"),
        route("link-default", "fe80::/10", "t2"),
      ],
      [
        { kind: "split_tunnel", id: "default", spec: exclude, virtualNetworkIds: null },
        { kind: "device_profile", id: "p1", spec: exclude, virtualNetworkIds: ["lab"] },
      ],
      null,
      { teamDomain: null },
    );
    const linkLocal = {
      code: "local-default-routed",
      severity: "warning",
      routeNetwork: "fe80::/10",
      entry: { address: "fe80::/10", description: "IPv6 Link Local" },
      purpose: "IPv6 link-local addresses: neighbour discovery, router advertisements",
      unreachable: ["fe80::/10"],
    };
    expect(conflicts).toEqual([
      {
        ...linkLocal,
        profile: { kind: "split_tunnel", id: "default" },
        routeIds: ["link-lab", "link-default"],
      },
      { ...linkLocal, profile: { kind: "device_profile", id: "p1" }, routeIds: ["link-lab"] },
    ]);
    expect(conflicts.map(describeConflict)).toEqual([
      "In the default device profile, route fe80::/10 sends fe80::/10 through WARP instead of the device's own link: it carves fe80::/10 (IPv6 link-local addresses: neighbour discovery, router advertisements) out of the WARP default Exclude list",
      "In device profile p1, route fe80::/10 sends fe80::/10 through WARP instead of the device's own link: it carves fe80::/10 (IPv6 link-local addresses: neighbour discovery, router advertisements) out of the WARP default Exclude list",
    ]);
  });

  it("an account without routes or profiles has no conflict", ({ expect }) => {
    expect(findAccountConflicts([], [], null, { teamDomain: null })).toEqual([]);
  });
});

describe("checkClientLan", () => {
  const routes = [
    route("wide", "10.0.0.0/8", "t1"),
    route("narrow", "10.20.0.0/16", "t2"),
    route("lab", "192.168.1.0/24", "t1", "lab"),
    route("v6", "fd00:1234::/32", "t1"),
  ];

  it("names each route the LAN shadows and the shadowed part, host bits cleared", ({ expect }) => {
    expect(checkClientLan("10.20.7.9/15", routes)).toEqual({
      ok: true,
      value: {
        lan: "10.20.0.0/15",
        routes: [
          { route: routes[0], shadowed: ["10.20.0.0/15"], isWhollyShadowed: false },
          { route: routes[1], shadowed: ["10.20.0.0/16"], isWhollyShadowed: true },
        ],
      },
    });
  });

  it("takes a bare address as a /32 and IPv6 LANs alike", ({ expect }) => {
    expect(checkClientLan("192.168.1.1", routes)).toEqual({
      ok: true,
      value: {
        lan: "192.168.1.1/32",
        routes: [{ route: routes[2], shadowed: ["192.168.1.1/32"], isWhollyShadowed: false }],
      },
    });
    expect(checkClientLan("FD00:1234:5::/48", routes)).toEqual({
      ok: true,
      value: {
        lan: "fd00:1234:5::/48",
        routes: [{ route: routes[3], shadowed: ["fd00:1234:5::/48"], isWhollyShadowed: false }],
      },
    });
  });

  it("a LAN clear of every route shadows nothing", ({ expect }) => {
    expect(checkClientLan("172.16.0.0/24", routes)).toEqual({
      ok: true,
      value: { lan: "172.16.0.0/24", routes: [] },
    });
  });

  it("refuses what is not an address or CIDR", ({ expect }) => {
    const result = checkClientLan("10.0.0.0/33", routes);
    expect(result.ok ? null : result.error.code).toBe("invalid-cidr");
  });
});

const profile = (
  id: string,
  overrides: Partial<DesiredObject<"device_profile">["spec"]> = {},
): DesiredObject<"device_profile"> => ({
  kind: "device_profile",
  id,
  version: 1,
  cloudflareId: null,
  syncedVersion: null,
  createRequestedAtMs: null,
  deletedAtMs: null,
  spec: {
    name: "Engineers",
    description: "",
    match: 'any(identity.groups.name[*] in {"engineers"})',
    precedence: 10,
    enabled: true,
    splitTunnel: { mode: "include", auto: true, entries: [] },
    virtualNetworkIds: null,
    ...overrides,
  },
});

describe("device profiles in the plan", () => {
  it("renders the marker, the normalised match and the effective list in canonical order", ({
    expect,
  }) => {
    const object = profile("p1", {
      description: "eng laptops",
      match: '  any(identity.groups.name[*]   in {"engineers"}) ',
      splitTunnel: {
        mode: "include",
        auto: true,
        entries: [{ host: "wiki.example.com", description: "wiki" }],
      },
      virtualNetworkIds: ["lab"],
    });
    const effective = profileSplitTunnels([object], ROUTES, null, {
      teamDomain: "acme.cloudflareaccess.com",
    }).get("p1");
    expect(effective && renderDeviceProfile(object, effective)).toEqual({
      name: "Engineers",
      description: "eng laptops tunnelplane:p1",
      match: 'any(identity.groups.name[*] in {"engineers"})',
      precedence: 10,
      enabled: true,
      mode: "include",
      entries: [
        { address: "10.3.0.0/16", description: "" },
        {
          host: "acme.cloudflareaccess.com",
          description: "Zero Trust team domain: enrolment, posture and Access sessions",
        },
        { host: "wiki.example.com", description: "wiki" },
      ],
    });
  });

  it("an observed profile equal to the desired one plans nothing; an unmarked one is unmanaged", ({
    expect,
  }) => {
    const object = profile("p1");
    const observed = {
      cloudflareId: "cf-1",
      name: "Engineers",
      description: "tunnelplane:p1",
      match: 'any(identity.groups.name[*] in {"engineers"})',
      precedence: 10,
      enabled: true,
      mode: "include" as const,
      entries: [],
    };
    expect(observedDeviceProfile(observed)).toEqual(
      renderDeviceProfile(object, { entries: [], problems: [] }),
    );
    const plan = planAccount(
      { accountId: "a", objects: [object] },
      {
        virtualNetworks: [],
        tunnels: [],
        tunnelRoutes: [],
        hostnameRoutes: [],
        splitTunnels: [],
        deviceProfiles: [
          observed,
          { ...observed, cloudflareId: "cf-2", description: "hand made", precedence: 20 },
        ],
        proxySettings: { tcp: false, udp: false, icmp: false },
        networkPolicies: [],
      },
    );
    expect(plan).toEqual({
      actions: [],
      bindings: [{ kind: "device_profile", key: "p1", cloudflareId: "cf-1" }],
      unmanaged: [{ kind: "device_profile", cloudflareId: "cf-2", label: "Engineers" }],
      warnings: [
        {
          code: "team-domain-unknown",
          kind: "device_profile",
          key: "p1",
          message:
            "Include mode needs the team domain (<team>.cloudflareaccess.com) in the list: set team_domain on the account so tunnelplane can add or check it",
        },
      ],
    });
  });
});

describe("hostname routes in the plan", () => {
  const object = <K extends "tunnel" | "hostname_route">(
    kind: K,
    id: string,
    spec: DesiredObject<K>["spec"],
    cloudflareId: string | null = null,
  ): DesiredObject<K> => ({
    kind,
    id,
    version: 1,
    spec,
    cloudflareId,
    syncedVersion: 1,
    createRequestedAtMs: null,
    deletedAtMs: null,
  });
  const empty = {
    virtualNetworks: [],
    tunnelRoutes: [],
    splitTunnels: [],
    deviceProfiles: [],
    proxySettings: { tcp: false, udp: false, icmp: false },
    networkPolicies: [],
  };
  const desired = {
    accountId: "a",
    objects: [
      object("tunnel", "t1", { name: "apps" }, "cf-t"),
      object("hostname_route", "h1", {
        hostname: "*.apps.acme.internal",
        tunnelId: "t1",
        comment: "apps",
      }),
    ],
  };
  const tunnels = [{ cloudflareId: "cf-t", name: "apps", status: "healthy", createdAtMs: 1 }];

  it("plans against Cloudflare's initial resolved range and says it adopts it", ({ expect }) => {
    const observed = { ...empty, tunnels, hostnameRoutes: [] };
    const stored = { ...desired, initialResolvedIpv4: "172.64.128.0/20" };
    const adopted = planAccount(stored, { ...observed, initialResolvedIpv4: "100.80.0.0/16" });
    expect(adopted.warnings).toEqual([
      {
        code: "initial-resolved-range-adopted",
        kind: "hostname_route",
        key: "initial_resolved_ip/v4",
        message:
          "Cloudflare's initial resolved range is 100.80.0.0/16, not 172.64.128.0/20 as stored: tunnelplane adopts 100.80.0.0/16 for reserved ranges and split tunnels",
      },
    ]);
    expect(
      planAccount(stored, { ...observed, initialResolvedIpv4: "172.64.128.0/20" }).warnings,
    ).toEqual([]);
    expect(planAccount(stored, observed).warnings).toEqual([]);
  });

  it("warns per profile whose observed Local Domain Fallback covers a route's names", ({
    expect,
  }) => {
    const profile = {
      cloudflareId: "cf-p",
      name: "eng",
      description: "tunnelplane:p1",
      match: "",
      precedence: 10,
      enabled: true,
      mode: "exclude" as const,
      entries: [],
    };
    const plan = planAccount(desired, {
      ...empty,
      tunnels,
      hostnameRoutes: [],
      splitTunnels: [
        { profileId: "default", mode: "exclude", entries: [], fallbackDomains: ["internal"] },
      ],
      deviceProfiles: [
        { ...profile, fallbackDomains: ["lan"] },
        { ...profile, cloudflareId: "cf-q", description: "", fallbackDomains: ["acme.internal"] },
      ],
    });
    const message = (profileText: string, suffix: string) =>
      `hostname route *.apps.acme.internal cannot work for ${profileText}: its Local Domain Fallback lists ${suffix}, so devices resolve those names with their own DNS and the query never reaches Gateway; remove ${suffix} from that list`;
    expect(plan.warnings).toEqual([
      {
        code: "hostname-route-local-fallback",
        kind: "hostname_route",
        key: "h1",
        message: message("the default device profile", "internal"),
      },
      {
        code: "hostname-route-local-fallback",
        kind: "hostname_route",
        key: "h1",
        message: message("device profile cloudflare:cf-q", "acme.internal"),
      },
    ]);
  });

  it("compares in Cloudflare's form: the answer apps.acme.internal is converged", ({ expect }) => {
    const landed = {
      cloudflareId: "cf-h",
      hostname: "apps.acme.internal",
      tunnelCloudflareId: "cf-t",
      comment: "apps tunnelplane:h1",
    };
    const plan = planAccount(desired, { ...empty, tunnels, hostnameRoutes: [landed] });
    expect([plan.actions, plan.bindings]).toEqual([
      [],
      [
        { kind: "tunnel", key: "t1", cloudflareId: "cf-t" },
        { kind: "hostname_route", key: "h1", cloudflareId: "cf-h" },
      ],
    ]);
    const handMade = { ...landed, cloudflareId: "cf-x", hostname: "db.internal", comment: "" };
    const missing = planAccount(desired, { ...empty, tunnels, hostnameRoutes: [handMade] });
    expect(
      missing.actions.map((a) => [a.op, a.kind, a.key, "desired" in a ? a.desired : null]),
    ).toEqual([
      [
        "create",
        "hostname_route",
        "h1",
        { hostname: "apps.acme.internal", tunnelKey: "t1", comment: "apps tunnelplane:h1" },
      ],
    ]);
    expect(missing.unmanaged).toEqual([
      { kind: "hostname_route", cloudflareId: "cf-x", label: "db.internal" },
    ]);
  });
});

// Networks that nest and overlap in many ways (home LANs, link-local, both families), so random
// accounts built from them have every kind of conflict and split tunnel problem.
const NETWORKS = [
  "10.0.0.0/8",
  "10.0.0.0/24",
  "10.20.0.0/16",
  "10.20.30.0/24",
  "10.20.30.40/32",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.1.0/24",
  "0.0.0.0/0",
  "fd00::/8",
  "fd00:1::/32",
  "fd00:1::5/128",
];

const randomRoutes = fc
  .array(
    fc.record({
      network: fc.constantFrom(...NETWORKS),
      tunnelId: fc.constantFrom("t1", "t2"),
      virtualNetworkId: fc.constantFrom<string | null>(null, "prod", "lab"),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((routes) => routes.map((r, i): RouteRef => ({ id: `r${i}`, ...r })));

const randomSpec = fc.record({
  mode: fc.constantFrom<"exclude" | "include">("exclude", "include"),
  auto: fc.boolean(),
  entries: fc.array(
    fc.constantFrom(...NETWORKS).map((address) => ({ address, description: "" })),
    { maxLength: 3 },
  ),
});

const randomProfiles = fc
  .array(
    fc.record({
      spec: randomSpec,
      virtualNetworkIds: fc.constantFrom<string[] | null>(null, ["default"], ["lab"], ["prod"]),
    }),
    { maxLength: 3 },
  )
  .map((profiles) =>
    profiles.map(
      (p, i): ProfileSplitTunnelRef => ({
        kind: i === 0 ? "split_tunnel" : "device_profile",
        id: i === 0 ? "default" : `p${i}`,
        spec: p.spec,
        virtualNetworkIds: i === 0 ? null : p.virtualNetworkIds,
      }),
    ),
  );

function involves(conflict: RouteConflict, id: string): boolean {
  switch (conflict.code) {
    case "route-overlap":
      return conflict.specific.id === id || conflict.general.id === id;
    case "home-lan-overlap":
    case "reserved-range":
      return conflict.routeId === id;
    case "duplicate-route":
      return conflict.routeIds.includes(id);
  }
}

const isProfileProblem = (c: AccountConflict) => "profile" in c;

describe("route writes checked from the route and its neighbours alone", () => {
  it("routeProfileProblems gives what the whole account's check says about the route", ({
    expect,
  }) => {
    fc.assert(
      fc.property(
        randomRoutes,
        randomProfiles,
        fc.constantFrom<string | null>(null, "prod"),
        (routes, profiles, defaultId) => {
          const all = findAccountConflicts(routes, profiles, defaultId, { teamDomain: null });
          for (const r of routes) {
            const expected = all
              .filter((c) => isProfileProblem(c) && "routeIds" in c && c.routeIds.includes(r.id))
              .map((c) => ({ ...c, routeIds: [r.id] }));
            expect(routeProfileProblems(r, profiles, defaultId)).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the routes nesting with a route give its conflicts as every route does", ({ expect }) => {
    fc.assert(
      fc.property(randomRoutes, (routes) => {
        const all = findRouteConflicts(routes);
        for (const r of routes) {
          const mine = parseKnownCidr(r.network);
          const nested = routes.filter((o) => prefixesOverlap(parseKnownCidr(o.network), mine));
          const withR = (list: RouteConflict[]) =>
            list.filter((c) => c.code !== "duplicate-route" && involves(c, r.id));
          expect(withR(findRouteConflicts(nested))).toEqual(withR(all));
        }
      }),
      { numRuns: 300 },
    );
  });

  it.for<[string, string, { first: string; last: string }]>([
    [
      "an IPv4 /8",
      "10.0.0.0/8",
      { first: `4${"0".repeat(24)}0a000000`, last: `4${"0".repeat(24)}0affffff` },
    ],
    [
      "an IPv6 /128 is one address",
      "fd00:1::5/128",
      { first: "6fd000001000000000000000000000005", last: "6fd000001000000000000000000000005" },
    ],
    [
      "everything IPv4",
      "0.0.0.0/0",
      { first: `4${"0".repeat(32)}`, last: `4${"0".repeat(24)}ffffffff` },
    ],
  ])("rangeKeysOf %s", ([, network, expected], { expect }) => {
    expect(rangeKeysOf(network)).toEqual(expected);
  });

  it("enclosingFirstKeys lists where each broader network starts, once", ({ expect }) => {
    const key = (hex: string) => `4${"0".repeat(24)}${hex}`;
    // 10.20 is 00001010.00010100: the prefix grows a set bit at /5, /7, /12 and /14.
    expect(enclosingFirstKeys("10.20.0.0/16")).toEqual([
      key("00000000"),
      key("08000000"),
      key("0a000000"),
      key("0a100000"),
      key("0a140000"),
    ]);
    expect(enclosingFirstKeys("0.0.0.0/0")).toEqual([]);
    // A key per set bit above the last one: fd00:1::5 has 9, so 10 keys with 0::.
    expect(enclosingFirstKeys("fd00:1::5/128")).toHaveLength(10);
  });

  it("the range conditions of listNestedRoutes find exactly the networks that overlap", ({
    expect,
  }) => {
    fc.assert(
      fc.property(fc.constantFrom(...NETWORKS), fc.constantFrom(...NETWORKS), (other, mine) => {
        const o = rangeKeysOf(other);
        const m = rangeKeysOf(mine);
        const startsInside = o.first >= m.first && o.first <= m.last;
        const encloses = enclosingFirstKeys(mine).includes(o.first) && o.last >= m.last;
        expect(startsInside || encloses).toBe(
          prefixesOverlap(parseKnownCidr(other), parseKnownCidr(mine)),
        );
      }),
    );
  });
});
