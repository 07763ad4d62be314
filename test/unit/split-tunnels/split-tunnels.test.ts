import fc from "fast-check";
import { describe, it } from "vitest";
import {
  activeSplitTunnel,
  type WireProfileLists,
} from "../../../src/cloudflare/split-tunnels.adapter";
import {
  difference,
  minimalCover,
  type Prefix,
  parseKnownCidr,
  wordsOfValue,
} from "../../../src/domain/cidr";
import type { SplitTunnelProfileSpec } from "../../../src/domain/model";
import {
  summariseEntriesDiff,
  summariseListChange,
  summariseRendered,
} from "../../../src/domain/plan/list-change";
import { findRouteConflicts, type RouteRef } from "../../../src/domain/routes";
import {
  type BudgetNetwork,
  clientLanShadows,
  effectiveSplitTunnel,
  fitExcludes,
  fitIncludes,
  HOME_LAN_RANGES,
  homeLanOverlaps,
  LOCAL_DEFAULT_EXCLUDES,
  networkText,
  WARP_DEFAULT_EXCLUDES,
} from "../../../src/domain/split-tunnels";

const excludeAuto: SplitTunnelProfileSpec = { mode: "exclude", auto: true, entries: [] };

const LINK_LOCAL = "IPv4 link-local addresses, which a device takes when DHCP gives it none";
const LOCAL_MULTICAST = "local network multicast: mDNS, LLMNR, routing protocols";
const BROADCAST = "limited broadcast: DHCP discovery";
const IPV6_LINK_LOCAL = "IPv6 link-local addresses: neighbour discovery, router advertisements";

/** A `local-default-routed` problem: `route` carves the WARP default `address`. */
const localRouted = (
  route: string,
  address: string,
  description: string,
  purpose: string,
  unreachable: string,
) => ({
  code: "local-default-routed",
  severity: "warning",
  routeNetwork: route,
  entry: { address, description },
  purpose,
  unreachable: [unreachable],
});

describe("WARP default excludes", () => {
  it("lists Cloudflare's 16 defaults in the table's order", ({ expect }) => {
    expect(WARP_DEFAULT_EXCLUDES).toEqual([
      { address: "10.0.0.0/8", description: "" },
      { address: "100.64.0.0/10", description: "" },
      { address: "169.254.0.0/16", description: "DHCP Unspecified" },
      { address: "172.16.0.0/12", description: "" },
      { address: "192.0.0.0/24", description: "" },
      { address: "192.168.0.0/16", description: "" },
      { address: "224.0.0.0/24", description: "" },
      { address: "240.0.0.0/4", description: "" },
      { address: "255.255.255.255/32", description: "DHCP Broadcast" },
      { address: "fe80::/10", description: "IPv6 Link Local" },
      { address: "fd00::/8", description: "" },
      { address: "ff01::/16", description: "" },
      { address: "ff02::/16", description: "" },
      { address: "ff03::/16", description: "" },
      { address: "ff04::/16", description: "" },
      { address: "ff05::/16", description: "" },
    ]);
  });

  it("marks DHCP, link-local and local multicast defaults as local, with what uses them", ({
    expect,
  }) => {
    expect(LOCAL_DEFAULT_EXCLUDES).toEqual([
      { address: "169.254.0.0/16", purpose: LINK_LOCAL },
      { address: "224.0.0.0/24", purpose: LOCAL_MULTICAST },
      { address: "255.255.255.255/32", purpose: BROADCAST },
      { address: "fe80::/10", purpose: IPV6_LINK_LOCAL },
      { address: "ff01::/16", purpose: "interface-local multicast" },
      { address: "ff02::/16", purpose: "link-local multicast: neighbour discovery, DHCPv6, mDNS" },
      { address: "ff03::/16", purpose: "realm-local multicast" },
      { address: "ff04::/16", purpose: "admin-local multicast" },
      { address: "ff05::/16", purpose: "site-local multicast: DHCPv6 servers, SSDP" },
    ]);
  });
});

describe("effectiveSplitTunnel", () => {
  it("Exclude + auto without routes is the WARP default list", ({ expect }) => {
    expect(effectiveSplitTunnel(excludeAuto, [])).toEqual({
      entries: WARP_DEFAULT_EXCLUDES.map((entry) => ({
        ...entry,
        source: { kind: "warp-default" },
      })),
      problems: [],
    });
  });

  it("routes 10.0.0.0/8 and 172.31.0.0/16 through WARP in Exclude + auto", ({ expect }) => {
    const carved = {
      kind: "warp-default-remainder",
      parent: "172.16.0.0/12",
      carvedBy: ["172.31.0.0/16"],
    };
    const kept = { kind: "warp-default" };
    expect(effectiveSplitTunnel(excludeAuto, ["172.31.0.0/16", "10.0.0.0/8"])).toEqual({
      entries: [
        { address: "100.64.0.0/10", description: "", source: kept },
        { address: "169.254.0.0/16", description: "DHCP Unspecified", source: kept },
        { address: "172.16.0.0/13", description: "", source: carved },
        { address: "172.24.0.0/14", description: "", source: carved },
        { address: "172.28.0.0/15", description: "", source: carved },
        { address: "172.30.0.0/16", description: "", source: carved },
        { address: "192.0.0.0/24", description: "", source: kept },
        { address: "192.168.0.0/16", description: "", source: kept },
        { address: "224.0.0.0/24", description: "", source: kept },
        { address: "240.0.0.0/4", description: "", source: kept },
        { address: "255.255.255.255/32", description: "DHCP Broadcast", source: kept },
        { address: "fe80::/10", description: "IPv6 Link Local", source: kept },
        { address: "fd00::/8", description: "", source: kept },
        { address: "ff01::/16", description: "", source: kept },
        { address: "ff02::/16", description: "", source: kept },
        { address: "ff03::/16", description: "", source: kept },
        { address: "ff04::/16", description: "", source: kept },
        { address: "ff05::/16", description: "", source: kept },
      ],
      problems: [],
    });
  });
});

describe("effectiveSplitTunnel in every mode", () => {
  const kept = { kind: "warp-default" };
  const user = { kind: "user" };

  it("Exclude + auto carves, keeps the user's entries last and flags a user exclude", ({
    expect,
  }) => {
    const printers = { address: "10.20.5.0/24", description: "printers" };
    const intranet = { host: "*.corp.example", description: "intranet" };
    const home = { address: "192.168.0.0/16", description: "home network" };
    const carvedTen = {
      kind: "warp-default-remainder",
      parent: "10.0.0.0/8",
      carvedBy: ["10.20.0.0/16"],
    };
    const carvedUla = {
      kind: "warp-default-remainder",
      parent: "fd00::/8",
      carvedBy: ["fd00::/9"],
    };
    expect(
      effectiveSplitTunnel({ mode: "exclude", auto: true, entries: [printers, intranet, home] }, [
        "fd00::/9",
        "10.20.0.0/16",
      ]),
    ).toEqual({
      entries: [
        { address: "10.0.0.0/12", description: "", source: carvedTen },
        { address: "10.16.0.0/14", description: "", source: carvedTen },
        { address: "10.21.0.0/16", description: "", source: carvedTen },
        { address: "10.22.0.0/15", description: "", source: carvedTen },
        { address: "10.24.0.0/13", description: "", source: carvedTen },
        { address: "10.32.0.0/11", description: "", source: carvedTen },
        { address: "10.64.0.0/10", description: "", source: carvedTen },
        { address: "10.128.0.0/9", description: "", source: carvedTen },
        { address: "100.64.0.0/10", description: "", source: kept },
        { address: "169.254.0.0/16", description: "DHCP Unspecified", source: kept },
        { address: "172.16.0.0/12", description: "", source: kept },
        { address: "192.0.0.0/24", description: "", source: kept },
        { address: "224.0.0.0/24", description: "", source: kept },
        { address: "240.0.0.0/4", description: "", source: kept },
        { address: "255.255.255.255/32", description: "DHCP Broadcast", source: kept },
        { address: "fe80::/10", description: "IPv6 Link Local", source: kept },
        { address: "fd80::/9", description: "", source: carvedUla },
        { address: "ff01::/16", description: "", source: kept },
        { address: "ff02::/16", description: "", source: kept },
        { address: "ff03::/16", description: "", source: kept },
        { address: "ff04::/16", description: "", source: kept },
        { address: "ff05::/16", description: "", source: kept },
        { ...printers, source: user },
        { ...intranet, source: user },
        { ...home, source: user },
      ],
      problems: [
        {
          code: "route-excluded",
          severity: "error",
          routeNetwork: "10.20.0.0/16",
          entry: printers,
          unreachable: ["10.20.5.0/24"],
        },
      ],
    });
  });

  it("Exclude + auto keeps descriptions on remainders and names every carving route", ({
    expect,
  }) => {
    const result = effectiveSplitTunnel(excludeAuto, [
      "10.1.0.0/16",
      "169.254.0.0/17",
      "10.0.0.0/16",
      "10.1.2.0/24",
      "10.1.0.0/16",
    ]);
    const carvedTen = {
      kind: "warp-default-remainder",
      parent: "10.0.0.0/8",
      carvedBy: ["10.0.0.0/16", "10.1.0.0/16", "10.1.2.0/24"],
    };
    expect(result.entries.slice(0, 10)).toEqual([
      { address: "10.2.0.0/15", description: "", source: carvedTen },
      { address: "10.4.0.0/14", description: "", source: carvedTen },
      { address: "10.8.0.0/13", description: "", source: carvedTen },
      { address: "10.16.0.0/12", description: "", source: carvedTen },
      { address: "10.32.0.0/11", description: "", source: carvedTen },
      { address: "10.64.0.0/10", description: "", source: carvedTen },
      { address: "10.128.0.0/9", description: "", source: carvedTen },
      { address: "100.64.0.0/10", description: "", source: kept },
      {
        address: "169.254.128.0/17",
        description: "DHCP Unspecified",
        source: {
          kind: "warp-default-remainder",
          parent: "169.254.0.0/16",
          carvedBy: ["169.254.0.0/17"],
        },
      },
      { address: "172.16.0.0/12", description: "", source: kept },
    ]);
    expect(result.entries.length).toEqual(22);
    expect(result.problems).toEqual([
      localRouted(
        "169.254.0.0/17",
        "169.254.0.0/16",
        "DHCP Unspecified",
        LINK_LOCAL,
        "169.254.0.0/17",
      ),
    ]);
  });

  it("Include + auto lists the union of the routes, then the user's entries", ({ expect }) => {
    const teamDomain = { host: "corp.cloudflareaccess.com", description: "team domain" };
    expect(
      effectiveSplitTunnel(
        { mode: "include", auto: true, entries: [teamDomain] },
        ["fd00:1::/48", "10.0.0.128/25", "10.1.0.0/16", "10.0.0.0/25", "10.1.0.0/16"],
        { teamDomain: "corp.cloudflareaccess.com" },
      ),
    ).toEqual({
      entries: [
        {
          address: "10.0.0.0/24",
          description: "",
          source: { kind: "route", routes: ["10.0.0.0/25", "10.0.0.128/25"] },
        },
        {
          address: "10.1.0.0/16",
          description: "",
          source: { kind: "route", routes: ["10.1.0.0/16"] },
        },
        {
          address: "fd00:1::/48",
          description: "",
          source: { kind: "route", routes: ["fd00:1::/48"] },
        },
        { ...teamDomain, source: user },
      ],
      problems: [],
    });
  });

  it("Exclude without auto is the user's list, with a warning per excluded route", ({ expect }) => {
    const rfc1918 = { address: "10.0.0.0/8", description: "" };
    const local = { host: "printer.local", description: "" };
    expect(
      effectiveSplitTunnel({ mode: "exclude", auto: false, entries: [rfc1918, local] }, [
        "192.168.5.0/24",
        "10.1.0.0/16",
        "8.0.0.0/6",
      ]),
    ).toEqual({
      entries: [
        { ...rfc1918, source: user },
        { ...local, source: user },
      ],
      problems: [
        {
          code: "route-excluded",
          severity: "warning",
          routeNetwork: "8.0.0.0/6",
          entry: rfc1918,
          unreachable: ["10.0.0.0/8"],
        },
        {
          code: "route-excluded",
          severity: "warning",
          routeNetwork: "10.1.0.0/16",
          entry: rfc1918,
          unreachable: ["10.1.0.0/16"],
        },
      ],
    });
  });

  it("Include without auto warns about routes the list does not cover", ({ expect }) => {
    const entries = [
      { address: "10.0.0.0/16", description: "" },
      { address: "10.1.0.0/16", description: "" },
    ];
    expect(
      effectiveSplitTunnel({ mode: "include", auto: false, entries }, [
        "10.0.0.0/15",
        "fd00::/64",
        "10.0.0.0/14",
      ]),
    ).toEqual({
      entries: entries.map((entry) => ({ ...entry, source: user })),
      problems: [
        {
          code: "route-not-included",
          severity: "warning",
          routeNetwork: "10.0.0.0/14",
          entry: null,
          unreachable: ["10.2.0.0/15"],
        },
        {
          code: "route-not-included",
          severity: "warning",
          routeNetwork: "fd00::/64",
          entry: null,
          unreachable: ["fd00::/64"],
        },
        { code: "team-domain-unknown", severity: "warning" },
      ],
    });
  });

  it("throws on a routed network that is not canonical", ({ expect }) => {
    expect(() => effectiveSplitTunnel(excludeAuto, ["10.1.2.3/8"])).toThrow(
      'not a valid CIDR: "10.1.2.3/8": host bits set (canonical 10.0.0.0/8)',
    );
  });
});

describe("effectiveSplitTunnel and the local WARP defaults", () => {
  const kept = { kind: "warp-default" };
  const ipv6Defaults = [
    { address: "fe80::/10", description: "IPv6 Link Local", source: kept },
    { address: "fd00::/8", description: "", source: kept },
    { address: "ff01::/16", description: "", source: kept },
    { address: "ff02::/16", description: "", source: kept },
    { address: "ff03::/16", description: "", source: kept },
    { address: "ff04::/16", description: "", source: kept },
    { address: "ff05::/16", description: "", source: kept },
  ];

  it("routing 0.0.0.0/0 drops every IPv4 default and warns for DHCP, link-local and local multicast", ({
    expect,
  }) => {
    expect(effectiveSplitTunnel(excludeAuto, ["0.0.0.0/0"])).toEqual({
      entries: ipv6Defaults,
      problems: [
        localRouted(
          "0.0.0.0/0",
          "169.254.0.0/16",
          "DHCP Unspecified",
          LINK_LOCAL,
          "169.254.0.0/16",
        ),
        localRouted("0.0.0.0/0", "224.0.0.0/24", "", LOCAL_MULTICAST, "224.0.0.0/24"),
        localRouted(
          "0.0.0.0/0",
          "255.255.255.255/32",
          "DHCP Broadcast",
          BROADCAST,
          "255.255.255.255/32",
        ),
      ],
    });
  });

  it("a route inside 169.254.0.0/16 warns about that route alone and carves the rest around it", ({
    expect,
  }) => {
    const carved = {
      kind: "warp-default-remainder",
      parent: "169.254.0.0/16",
      carvedBy: ["169.254.10.0/24"],
    };
    const remainder = (address: string) => ({
      address,
      description: "DHCP Unspecified",
      source: carved,
    });
    expect(effectiveSplitTunnel(excludeAuto, ["169.254.10.0/24"])).toEqual({
      entries: [
        { address: "10.0.0.0/8", description: "", source: kept },
        { address: "100.64.0.0/10", description: "", source: kept },
        remainder("169.254.0.0/21"),
        remainder("169.254.8.0/23"),
        remainder("169.254.11.0/24"),
        remainder("169.254.12.0/22"),
        remainder("169.254.16.0/20"),
        remainder("169.254.32.0/19"),
        remainder("169.254.64.0/18"),
        remainder("169.254.128.0/17"),
        { address: "172.16.0.0/12", description: "", source: kept },
        { address: "192.0.0.0/24", description: "", source: kept },
        { address: "192.168.0.0/16", description: "", source: kept },
        { address: "224.0.0.0/24", description: "", source: kept },
        { address: "240.0.0.0/4", description: "", source: kept },
        { address: "255.255.255.255/32", description: "DHCP Broadcast", source: kept },
        ...ipv6Defaults,
      ],
      problems: [
        localRouted(
          "169.254.10.0/24",
          "169.254.0.0/16",
          "DHCP Unspecified",
          LINK_LOCAL,
          "169.254.10.0/24",
        ),
      ],
    });
  });

  it("routing ::/0 drops every IPv6 default and warns for link-local and each multicast scope, not fd00::/8", ({
    expect,
  }) => {
    const scope = (address: string, purpose: string) =>
      localRouted("::/0", address, "", purpose, address);
    expect(effectiveSplitTunnel(excludeAuto, ["::/0"])).toEqual({
      entries: WARP_DEFAULT_EXCLUDES.slice(0, 9).map((entry) => ({ ...entry, source: kept })),
      problems: [
        localRouted("::/0", "fe80::/10", "IPv6 Link Local", IPV6_LINK_LOCAL, "fe80::/10"),
        scope("ff01::/16", "interface-local multicast"),
        scope("ff02::/16", "link-local multicast: neighbour discovery, DHCPv6, mDNS"),
        scope("ff03::/16", "realm-local multicast"),
        scope("ff04::/16", "admin-local multicast"),
        scope("ff05::/16", "site-local multicast: DHCPv6 servers, SSDP"),
      ],
    });
  });

  it("orders the warnings by default, then by route broadest first", ({ expect }) => {
    const problems = effectiveSplitTunnel(excludeAuto, [
      "ff02::/16",
      "224.0.0.0/28",
      "fe00::/7",
      "224.0.0.0/4",
    ]).problems;
    const multicast = "link-local multicast: neighbour discovery, DHCPv6, mDNS";
    expect(problems).toEqual([
      localRouted("224.0.0.0/4", "224.0.0.0/24", "", LOCAL_MULTICAST, "224.0.0.0/24"),
      localRouted("224.0.0.0/28", "224.0.0.0/24", "", LOCAL_MULTICAST, "224.0.0.0/28"),
      localRouted("fe00::/7", "fe80::/10", "IPv6 Link Local", IPV6_LINK_LOCAL, "fe80::/10"),
      localRouted("fe00::/7", "ff01::/16", "", "interface-local multicast", "ff01::/16"),
      localRouted("fe00::/7", "ff02::/16", "", multicast, "ff02::/16"),
      localRouted("ff02::/16", "ff02::/16", "", multicast, "ff02::/16"),
      localRouted("fe00::/7", "ff03::/16", "", "realm-local multicast", "ff03::/16"),
      localRouted("fe00::/7", "ff04::/16", "", "admin-local multicast", "ff04::/16"),
      localRouted(
        "fe00::/7",
        "ff05::/16",
        "",
        "site-local multicast: DHCPv6 servers, SSDP",
        "ff05::/16",
      ),
    ]);
  });

  it("routes carving only the private-space defaults raise no warning", ({ expect }) => {
    const carvable = [
      "10.0.0.0/8",
      "100.64.0.0/10",
      "172.16.0.0/12",
      "192.0.0.0/24",
      "192.168.0.0/16",
      "240.0.0.0/5",
      "fd00::/8",
    ];
    expect(effectiveSplitTunnel(excludeAuto, carvable)).toEqual({
      entries: [
        { address: "169.254.0.0/16", description: "DHCP Unspecified", source: kept },
        { address: "224.0.0.0/24", description: "", source: kept },
        {
          address: "248.0.0.0/5",
          description: "",
          source: {
            kind: "warp-default-remainder",
            parent: "240.0.0.0/4",
            carvedBy: ["240.0.0.0/5"],
          },
        },
        { address: "255.255.255.255/32", description: "DHCP Broadcast", source: kept },
        ...ipv6Defaults.filter((entry) => entry.address !== "fd00::/8"),
      ],
      problems: [],
    });
  });

  it("routing the whole of 240.0.0.0/4 takes the DHCP broadcast address with it", ({ expect }) => {
    expect(effectiveSplitTunnel(excludeAuto, ["240.0.0.0/4"]).problems).toEqual([
      localRouted(
        "240.0.0.0/4",
        "255.255.255.255/32",
        "DHCP Broadcast",
        BROADCAST,
        "255.255.255.255/32",
      ),
    ]);
  });

  it("Include mode and Exclude without auto never warn about local defaults", ({ expect }) => {
    const routes = ["0.0.0.0/0", "::/0"];
    const problemsOf = (spec: SplitTunnelProfileSpec) =>
      effectiveSplitTunnel(spec, routes, { teamDomain: "acme.cloudflareaccess.com" }).problems;
    const teamDomain = { host: "acme.cloudflareaccess.com", description: "" };
    expect(problemsOf({ mode: "include", auto: true, entries: [] })).toEqual([]);
    expect(
      problemsOf({
        mode: "include",
        auto: false,
        entries: [
          { address: "0.0.0.0/0", description: "" },
          { address: "::/0", description: "" },
          teamDomain,
        ],
      }),
    ).toEqual([]);
    expect(problemsOf({ mode: "exclude", auto: false, entries: [] })).toEqual([]);
  });
});

describe("effectiveSplitTunnel and the team domain", () => {
  const user = { kind: "user" };
  const acme = { teamDomain: "acme.cloudflareaccess.com" };
  const generated = {
    host: "acme.cloudflareaccess.com",
    description: "Zero Trust team domain: enrolment, posture and Access sessions",
    source: { kind: "team-domain" },
  };
  const wiki = { host: "wiki.example.com", description: "wiki" };
  const routes = ["10.20.0.0/16", "fd00:20::/48"];
  const routeEntries = [
    {
      address: "10.20.0.0/16",
      description: "",
      source: { kind: "route", routes: ["10.20.0.0/16"] },
    },
    {
      address: "fd00:20::/48",
      description: "",
      source: { kind: "route", routes: ["fd00:20::/48"] },
    },
  ];
  const unknown = { code: "team-domain-unknown", severity: "warning" };

  it("Include + auto puts the team domain after the routes and before the user's entries", ({
    expect,
  }) => {
    expect(
      effectiveSplitTunnel({ mode: "include", auto: true, entries: [wiki] }, routes, acme),
    ).toEqual({
      entries: [...routeEntries, generated, { ...wiki, source: user }],
      problems: [],
    });
  });

  it("Include + auto without a team domain lists the routes and warns", ({ expect }) => {
    expect(
      effectiveSplitTunnel({ mode: "include", auto: true, entries: [wiki] }, routes, {
        teamDomain: null,
      }),
    ).toEqual({ entries: [...routeEntries, { ...wiki, source: user }], problems: [unknown] });
    expect(effectiveSplitTunnel({ mode: "include", auto: true, entries: [] }, [])).toEqual({
      entries: [],
      problems: [unknown],
    });
  });

  it("Include + auto leaves the team domain to a user entry that covers it", ({ expect }) => {
    const exact = { host: "acme.cloudflareaccess.com", description: "ours" };
    const wildcard = { host: "*.cloudflareaccess.com", description: "all teams" };
    const deeper = { host: "*.acme.cloudflareaccess.com", description: "not the apex" };
    const listed = (entries: { host: string; description: string }[]) =>
      effectiveSplitTunnel({ mode: "include", auto: true, entries }, routes, acme);
    expect(listed([exact])).toEqual({
      entries: [...routeEntries, { ...exact, source: user }],
      problems: [],
    });
    expect(listed([wildcard])).toEqual({
      entries: [...routeEntries, { ...wildcard, source: user }],
      problems: [],
    });
    expect(listed([deeper])).toEqual({
      entries: [...routeEntries, generated, { ...deeper, source: user }],
      problems: [],
    });
  });

  it("Include without auto warns when no host entry covers the team domain", ({ expect }) => {
    const ten = { address: "10.20.0.0/16", description: "" };
    const deeper = { host: "*.acme.cloudflareaccess.com", description: "" };
    const wildcard = { host: "*.cloudflareaccess.com", description: "" };
    const manual = (entries: SplitTunnelProfileSpec["entries"], teamDomain: string | null) =>
      effectiveSplitTunnel({ mode: "include", auto: false, entries }, ["10.20.0.0/16"], {
        teamDomain,
      }).problems;
    expect(manual([ten, deeper], "acme.cloudflareaccess.com")).toEqual([
      {
        code: "team-domain-not-included",
        severity: "warning",
        teamDomain: "acme.cloudflareaccess.com",
      },
    ]);
    expect(manual([ten, wildcard], "acme.cloudflareaccess.com")).toEqual([]);
    expect(manual([ten, wildcard], null)).toEqual([unknown]);
    expect(manual([wildcard], "acme.cloudflareaccess.com")).toEqual([
      {
        code: "route-not-included",
        severity: "warning",
        routeNetwork: "10.20.0.0/16",
        entry: null,
        unreachable: ["10.20.0.0/16"],
      },
    ]);
  });

  it("Exclude mode ignores the team domain, even an entry that excludes it", ({ expect }) => {
    const excluded = { host: "acme.cloudflareaccess.com", description: "" };
    for (const auto of [true, false]) {
      const spec: SplitTunnelProfileSpec = { mode: "exclude", auto, entries: [excluded] };
      expect(effectiveSplitTunnel(spec, routes, acme)).toEqual(
        effectiveSplitTunnel(spec, routes, { teamDomain: null }),
      );
      expect(effectiveSplitTunnel(spec, routes, acme).problems).toEqual([]);
    }
  });
});

describe("findRouteConflicts", () => {
  const route = (
    id: string,
    network: string,
    tunnelId: string,
    virtualNetworkId: string | null,
  ): RouteRef => ({ id, network, tunnelId, virtualNetworkId });
  const r1 = route("r1", "10.0.0.0/8", "t1", "vn-a");
  const r2 = route("r2", "10.1.0.0/16", "t2", "vn-a");
  const r3 = route("r3", "10.1.0.0/16", "t3", "vn-a");
  const r4 = route("r4", "10.1.2.0/24", "t2", "vn-a");
  const r5 = route("r5", "10.0.0.0/8", "t9", "vn-b");
  const r6 = route("r6", "100.96.0.0/24", "t1", null);
  const r7 = route("r7", "192.168.1.0/24", "t1", null);
  const r8 = route("r8", "fd00::/8", "t1", "vn-a");
  const r9 = route("r9", "fd00:1::/32", "t2", "vn-a");
  const r10 = route("r10", "100.64.0.0/10", "t1", "vn-b");

  const overlap = (specific: RouteRef, general: RouteRef) => ({
    code: "route-overlap",
    severity: "warning",
    virtualNetworkId: specific.virtualNetworkId,
    specific,
    general,
    winner: { routeId: specific.id, tunnelId: specific.tunnelId, range: specific.network },
  });

  it("reports duplicates, cross-tunnel nesting, reserved ranges and home LANs", ({ expect }) => {
    expect(findRouteConflicts([r9, r4, r3, r1, r5, r6, r7, r8, r2, r10])).toEqual([
      {
        code: "duplicate-route",
        severity: "error",
        virtualNetworkId: "vn-a",
        network: "10.1.0.0/16",
        routeIds: ["r3", "r2"],
      },
      overlap(r3, r1),
      overlap(r2, r1),
      overlap(r4, r1),
      overlap(r4, r3),
      overlap(r9, r8),
      {
        code: "reserved-range",
        severity: "error",
        routeId: "r6",
        network: "100.96.0.0/24",
        reservedRange: "100.96.0.0/12",
        purpose: "Device IPs",
      },
      {
        code: "home-lan-overlap",
        severity: "warning",
        routeId: "r1",
        network: "10.0.0.0/8",
        lanRange: "10.0.0.0/24",
        shadowed: ["10.0.0.0/24"],
      },
      {
        code: "home-lan-overlap",
        severity: "warning",
        routeId: "r5",
        network: "10.0.0.0/8",
        lanRange: "10.0.0.0/24",
        shadowed: ["10.0.0.0/24"],
      },
      {
        code: "home-lan-overlap",
        severity: "warning",
        routeId: "r7",
        network: "192.168.1.0/24",
        lanRange: "192.168.1.0/24",
        shadowed: ["192.168.1.0/24"],
      },
    ]);
  });

  it("finds nothing among disjoint routes and same-tunnel nesting", ({ expect }) => {
    expect(
      findRouteConflicts([
        route("a", "10.10.0.0/16", "t1", null),
        route("b", "10.10.5.0/24", "t1", null),
        route("c", "10.10.0.0/16", "t1", "vn-other"),
        route("d", "2001:db8::/32", "t2", null),
      ]),
    ).toEqual([]);
  });
});

describe("home LAN", () => {
  it("lists the four common home router subnets", ({ expect }) => {
    expect(HOME_LAN_RANGES).toEqual([
      "10.0.0.0/24",
      "192.168.0.0/24",
      "192.168.1.0/24",
      "172.16.0.0/24",
    ]);
  });

  it("finds routes overlapping a home LAN in either direction", ({ expect }) => {
    expect(homeLanOverlaps(["10.0.0.0/8", "192.168.1.128/25", "10.1.0.0/16", "fd00::/8"])).toEqual([
      { routeNetwork: "10.0.0.0/8", lanRange: "10.0.0.0/24", shadowed: ["10.0.0.0/24"] },
      {
        routeNetwork: "192.168.1.128/25",
        lanRange: "192.168.1.0/24",
        shadowed: ["192.168.1.128/25"],
      },
    ]);
  });

  it("checks a client's reported LAN, host bits allowed", ({ expect }) => {
    expect(
      clientLanShadows("10.20.30.40/16", ["10.0.0.0/8", "10.20.5.0/24", "10.21.0.0/16"]),
    ).toEqual({
      ok: true,
      value: [
        { routeNetwork: "10.0.0.0/8", lanRange: "10.20.0.0/16", shadowed: ["10.20.0.0/16"] },
        { routeNetwork: "10.20.5.0/24", lanRange: "10.20.0.0/16", shadowed: ["10.20.5.0/24"] },
      ],
    });
    expect(clientLanShadows("10.20.300.0/24", [])).toEqual({
      ok: false,
      error: {
        code: "invalid-cidr",
        input: "10.20.300.0/24",
        reason: "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)",
      },
    });
  });
});

describe("lists that fit max_entries", () => {
  const exact = effectiveSplitTunnel(excludeAuto, ["172.31.0.0/16"]);

  it("keeps the list as it is when it fits, exactly at the limit too", ({ expect }) => {
    expect(exact.entries.length).toBe(19);
    expect(effectiveSplitTunnel({ ...excludeAuto, maxEntries: 19 }, ["172.31.0.0/16"])).toEqual(
      exact,
    );
  });

  it("cut to 16, joins ff02::/16 with ff03::/16 and ff04::/16 with ff05::/16 and drops 255.255.255.255/32 (inside 240.0.0.0/4), at no cost", ({
    expect,
  }) => {
    const fitted = effectiveSplitTunnel({ ...excludeAuto, maxEntries: 16 }, ["172.31.0.0/16"]);
    const joined = (address: string, parents: string[]) => ({
      address,
      description: "",
      source: { kind: "warp-defaults-joined", parents },
    });
    expect(fitted.entries).toEqual([
      ...exact.entries.filter(
        (entry) =>
          "address" in entry &&
          !["255.255.255.255/32", "ff02::/16", "ff03::/16", "ff04::/16", "ff05::/16"].includes(
            entry.address,
          ),
      ),
      joined("ff02::/15", ["ff02::/16", "ff03::/16"]),
      joined("ff04::/15", ["ff04::/16", "ff05::/16"]),
    ]);
    expect(fitted.fit).toEqual({
      exactEntries: 19,
      cost: { extraAddresses: 0n, protectedAddresses: 0n, extraRanges: [] },
    });
  });

  it("cut further, drops the smallest Exclude entries that hold no home or link-local address, and says what that costs", ({
    expect,
  }) => {
    const fitted = effectiveSplitTunnel({ ...excludeAuto, maxEntries: 14 }, ["172.31.0.0/16"]);
    expect(fitted.entries.map((e) => ("address" in e ? e.address : e.host))).toEqual([
      "10.0.0.0/8",
      "100.64.0.0/10",
      "169.254.0.0/16",
      "172.16.0.0/13",
      "172.24.0.0/14",
      "172.28.0.0/15",
      "192.168.0.0/16",
      "224.0.0.0/24",
      "240.0.0.0/4",
      "fe80::/10",
      "fd00::/8",
      "ff01::/16",
      "ff02::/15",
      "ff04::/15",
    ]);
    expect(fitted.fit && { ...fitted.fit, cost: costText(fitted.fit.cost) }).toEqual({
      exactEntries: 19,
      cost: {
        extraAddresses: 65_792n,
        protectedAddresses: 0n,
        extraRanges: ["172.30.0.0/16", "192.0.0.0/24"],
      },
    });
  });

  it("counts the user's entries against the budget", ({ expect }) => {
    const fitted = effectiveSplitTunnel(
      {
        ...excludeAuto,
        maxEntries: 15,
        entries: [{ host: "updates.example.com", description: "" }],
      },
      ["172.31.0.0/16"],
    );
    expect([fitted.entries.length, fitted.fit && costText(fitted.fit.cost).extraRanges]).toEqual([
      15,
      ["172.30.0.0/16", "192.0.0.0/24"],
    ]);
  });

  it("merges Include routes over the fewest unrouted addresses, never over a home LAN", ({
    expect,
  }) => {
    // Joining the first two pulls in 128 addresses of the home LAN 10.0.0.0/24; joining the last
    // two pulls in 512 others, which is the better list.
    const routes = ["10.0.0.0/25", "10.0.1.0/24", "10.0.4.0/24", "10.0.6.0/24"];
    const fitted = effectiveSplitTunnel(
      { mode: "include", auto: true, entries: [], maxEntries: 3 },
      routes,
      {
        teamDomain: null,
      },
    );
    expect(fitted.entries.map((e) => ["address" in e ? e.address : e.host, e.source])).toEqual([
      ["10.0.0.0/25", { kind: "route", routes: ["10.0.0.0/25"] }],
      ["10.0.1.0/24", { kind: "route", routes: ["10.0.1.0/24"] }],
      ["10.0.4.0/22", { kind: "route", routes: ["10.0.4.0/24", "10.0.6.0/24"] }],
    ]);
    expect(fitted.fit && { ...fitted.fit, cost: costText(fitted.fit.cost) }).toEqual({
      exactEntries: 4,
      cost: {
        extraAddresses: 512n,
        protectedAddresses: 0n,
        extraRanges: ["10.0.5.0/24", "10.0.7.0/24"],
      },
    });
  });

  it("keeps one Include prefix per family however small the budget", ({ expect }) => {
    const routed = ["10.1.0.0/24", "10.2.0.0/24", "fd00:0:1::/48", "fd00:0:2::/48"].map(network);
    expect(fitIncludes(routed, 1).entries.map(networkText)).toEqual(["10.0.0.0/14", "fd00::/46"]);
  });

  it("never excludes a routed address, respects the budget, and no Exclude list within it costs less (brute force over 10.0.0.0/28)", ({
    expect,
  }) => {
    fc.assert(
      fc.property(
        fc.array(smallPrefix, { minLength: 1, maxLength: 3 }),
        fc.array(smallPrefix, { maxLength: 4 }),
        fc.array(smallPrefix, { maxLength: 2 }),
        fc.integer({ min: 0, max: 4 }),
        (defaults, routes, protectedRanges, budget) => {
          const routed = maskOf(routes);
          const candidates = defaults.flatMap((d) =>
            minimalCover(difference([parseKnownCidr(d)], routes.map(parseKnownCidr))).map(
              budgetNetwork,
            ),
          );
          const wanted = maskOf(defaults) & ~routed;
          const fit = fitExcludes(candidates, budget, protectedRanges);
          const kept = fit.kept.map((group) => networkText(group.network));
          const excluded = maskOf(kept);
          const guarded = maskOf(protectedRanges);
          const cost = (x: number) => [bits(wanted & guarded & ~x), bits(wanted & ~x)] as const;
          const allowed = SPACE.filter((p) => (maskOf([p]) & ~wanted) === 0);
          const best = bestCost(allowed, Math.min(budget, allowed.length), (chosen) =>
            cost(maskOf(chosen)),
          );
          expect([excluded & routed, kept.length <= budget, cost(excluded)]).toEqual([
            0,
            true,
            best,
          ]);
          const reported = fit.cost;
          expect([reported.extraAddresses, reported.protectedAddresses]).toEqual([
            BigInt(cost(excluded)[1]),
            BigInt(cost(excluded)[0]),
          ]);
          expect(maskOf(reported.extraRanges.map(networkText))).toBe(wanted & ~excluded);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("covers every routed address, respects the budget, and no Include list within it costs less (brute force over 10.0.0.0/28)", ({
    expect,
  }) => {
    fc.assert(
      fc.property(
        fc.array(smallPrefix, { minLength: 1, maxLength: 6 }),
        fc.array(smallPrefix, { maxLength: 2 }),
        fc.integer({ min: 1, max: 4 }),
        (routes, protectedRanges, budget) => {
          const routed = maskOf(routes);
          const cover = minimalCover(routes.map(parseKnownCidr)).map(budgetNetwork);
          const fit = fitIncludes(cover, budget, protectedRanges);
          const listed = fit.entries.map(networkText);
          const included = maskOf(listed);
          const guarded = maskOf(protectedRanges);
          const cost = (x: number) =>
            (x & routed) !== routed
              ? ([Number.POSITIVE_INFINITY, 0] as const)
              : ([bits(x & guarded & ~routed), bits(x & ~routed)] as const);
          const best = bestCost(SPACE, budget, (chosen) => cost(maskOf(chosen)));
          expect([included & routed, listed.length <= budget, cost(included)]).toEqual([
            routed,
            true,
            best,
          ]);
          expect([fit.cost.extraAddresses, fit.cost.protectedAddresses]).toEqual([
            BigInt(cost(included)[1]),
            BigInt(cost(included)[0]),
          ]);
          expect(maskOf(fit.cost.extraRanges.map(networkText))).toBe(included & ~routed);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("list changes in plans and run records", () => {
  const entry = (address: string, description = "") => ({ address, description });
  const before = Array.from({ length: 30 }, (_, i) => entry(`10.${i}.0.0/16`));
  const after = [
    ...before.slice(6),
    ...Array.from({ length: 12 }, (_, i) => entry(`172.${16 + i}.0.0/16`)),
    entry("10.5.0.0/16", "renamed"),
  ];

  it("tells a change as counts and the first added and removed entries", ({ expect }) => {
    expect(summariseListChange(before, after, 3)).toEqual({
      beforeCount: 30,
      afterCount: 37,
      addedCount: 13,
      firstAdded: [entry("172.16.0.0/16"), entry("172.17.0.0/16"), entry("172.18.0.0/16")],
      removedCount: 6,
      firstRemoved: [entry("10.0.0.0/16"), entry("10.1.0.0/16"), entry("10.2.0.0/16")],
    });
  });

  it("shortens the entries field of a diff and leaves the others alone", ({ expect }) => {
    const mode = { field: "mode", observed: "include", desired: "exclude" };
    const [first, second] = summariseEntriesDiff([
      mode,
      { field: "entries", observed: before, desired: after },
    ]);
    expect(first).toEqual(mode);
    expect(second).toEqual({
      field: "entries",
      observed: { count: 30 },
      desired: summariseListChange(before, after, 10),
    });
    expect(JSON.stringify(second).length).toBeLessThan(JSON.stringify(after).length);
  });

  it("shows a long rendered list by its count and first entries", ({ expect }) => {
    expect(
      summariseRendered({ profileId: "default", mode: "exclude", entries: before }, 2),
    ).toEqual({
      profileId: "default",
      mode: "exclude",
      entries: [entry("10.0.0.0/16"), entry("10.1.0.0/16")],
      entriesCount: 30,
    });
    const short = { profileId: "default", mode: "exclude", entries: before.slice(0, 2) };
    expect(summariseRendered(short, 2)).toBe(short);
  });
});

/** Every prefix of 10.0.0.0/28, the small address space the brute-force tests search. */
const SPACE = [28, 29, 30, 31, 32].flatMap((length) =>
  Array.from(
    { length: 2 ** (length - 28) },
    (_, i) => `10.0.0.${i * 2 ** (32 - length)}/${length}`,
  ),
);

const smallPrefix = fc.constantFrom(...SPACE);

function network(text: string): BudgetNetwork {
  return budgetNetwork(parseKnownCidr(text));
}

function budgetNetwork(prefix: Prefix): BudgetNetwork {
  return {
    family: prefix.family,
    words: wordsOfValue(prefix.address),
    prefixLength: prefix.prefixLength,
  };
}

/** The addresses of 10.0.0.0/28 in `networks`, as a 16-bit mask (bit i: 10.0.0.i). */
function maskOf(networks: readonly string[]): number {
  let mask = 0;
  for (const text of networks) {
    const prefix = parseKnownCidr(text);
    const first = Number(prefix.address - 0x0a000000n);
    for (let i = 0; i < 2 ** (32 - prefix.prefixLength); i++) {
      mask |= 1 << (first + i);
    }
  }
  return mask;
}

function bits(mask: number): number {
  let count = 0;
  for (let m = mask; m !== 0; m &= m - 1) {
    count++;
  }
  return count;
}

/** The least (protected, other) cost over every list of at most `budget` of `choices`. */
function bestCost(
  choices: readonly string[],
  budget: number,
  cost: (chosen: string[]) => readonly [number, number],
): readonly [number, number] {
  let best = cost([]);
  const walk = (start: number, chosen: string[]) => {
    const value = cost(chosen);
    if (value[0] < best[0] || (value[0] === best[0] && value[1] < best[1])) {
      best = value;
    }
    if (chosen.length === budget) {
      return;
    }
    for (let i = start; i < choices.length; i++) {
      walk(i + 1, [...chosen, choices[i] as string]);
    }
  };
  walk(0, []);
  return best;
}

function costText(cost: {
  extraAddresses: bigint;
  protectedAddresses: bigint;
  extraRanges: BudgetNetwork[];
}) {
  return { ...cost, extraRanges: cost.extraRanges.map(networkText) };
}

describe("the mode a profile object shows", () => {
  const ten = [{ address: "10.0.0.0/8" }];
  const tenEntry = [{ address: "10.0.0.0/8", description: "" }];
  it.for<[string, WireProfileLists, string, unknown[]]>([
    ["Exclude, include left out", { exclude: ten }, "exclude", tenEntry],
    ["Exclude, include []", { exclude: ten, include: [] }, "exclude", tenEntry],
    ["Exclude, include null", { exclude: ten, include: null }, "exclude", tenEntry],
    ["Include, exclude left out", { include: ten }, "include", tenEntry],
    ["Include, exclude []", { include: ten, exclude: [] }, "include", tenEntry],
    ["Include, exclude null", { include: ten, exclude: null }, "include", tenEntry],
    ["an empty Include list, exclude left out", { include: [] }, "include", []],
    ["an empty Include list, exclude null", { include: [], exclude: null }, "include", []],
    ["both empty: Cloudflare's default mode", { include: [], exclude: [] }, "exclude", []],
    ["neither list", {}, "exclude", []],
    ["the profile's own mode wins", { mode: "include", include: [], exclude: ten }, "include", []],
    [
      "a mode that is not a split tunnel mode is ignored",
      { mode: "warp", exclude: ten },
      "exclude",
      tenEntry,
    ],
  ])("%s", ([, profile, mode, entries], { expect }) => {
    expect(activeSplitTunnel(profile)).toEqual({ mode, entries });
  });
});
