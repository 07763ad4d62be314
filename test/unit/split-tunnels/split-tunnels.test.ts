import { describe, it } from "vitest";
import type { SplitTunnelProfileSpec } from "../../../src/domain/model";
import {
  clientLanShadows,
  effectiveSplitTunnel,
  HOME_LAN_RANGES,
  homeLanOverlaps,
  WARP_DEFAULT_EXCLUDES,
} from "../../../src/domain/split-tunnels";

const excludeAuto: SplitTunnelProfileSpec = { mode: "exclude", auto: true, entries: [] };

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
