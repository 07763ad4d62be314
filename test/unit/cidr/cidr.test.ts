import { describe, it } from "vitest";
import {
  type AddressWords,
  canonicalCidr,
  compareWords,
  difference,
  findReservedRange,
  formatPrefix,
  hasHostBits,
  type IpFamily,
  intersectPrefixes,
  isReservedRange,
  isSuccessor,
  longestPrefixMatch,
  minimalCover,
  parseCidr,
  prefixBound,
  reservedRangesFor,
  stepWords,
  subtractPrefixes,
  union,
  unionPrefixes,
} from "../../../src/domain/cidr";
import { parseHostname } from "../../../src/domain/routes/hostname";

describe("canonicalCidr", () => {
  it.for<[string, string, string]>([
    ["a bare IPv4 address is a /32", "10.1.2.3", "10.1.2.3/32"],
    ["a bare IPv6 address is a /128", "2001:db8::1", "2001:db8::1/128"],
    [
      "RFC 5952 §4.2.3: the first of equal zero runs is compressed",
      "2001:DB8:0:0:1:0:0:1",
      "2001:db8::1:0:0:1/128",
    ],
    [
      "RFC 5952 §4.2.1: the longest zero run is compressed",
      "2001:db8:0:0:0:0:2:1/128",
      "2001:db8::2:1/128",
    ],
    ["RFC 5952 §4.1: leading zeros go", "2001:0db8::0001/128", "2001:db8::1/128"],
    [
      "RFC 5952 §4.2.2: a single zero group stays",
      "2001:db8:0:1:1:1:1:1",
      "2001:db8:0:1:1:1:1:1/128",
    ],
    [
      "RFC 5952 §4.2.3: the longer run wins over the earlier",
      "2001:0:0:1:0:0:0:1",
      "2001:0:0:1::1/128",
    ],
    ["RFC 5952 §4.3: hex digits are lower case", "2001:DB8::AAAA/128", "2001:db8::aaaa/128"],
    ["the whole IPv4 space", "0.0.0.0/0", "0.0.0.0/0"],
    ["the whole IPv6 space", "0:0:0:0:0:0:0:0/0", "::/0"],
    ["an IPv4-mapped host becomes IPv4", "::ffff:192.0.2.1", "192.0.2.1/32"],
    ["an IPv4-mapped prefix becomes IPv4", "::FFFF:10.0.0.0/104", "10.0.0.0/8"],
    ["an IPv4-mapped prefix in hex becomes IPv4", "::ffff:a00:0/104", "10.0.0.0/8"],
    ["the mapped block itself is the IPv4 space", "::ffff:0:0/96", "0.0.0.0/0"],
    ["a prefix wider than the mapped block stays IPv6", "::fffe:0:0/95", "::fffe:0:0/95"],
    ["an IPv4-compatible tail is read as its value", "::1.2.3.4", "::102:304/128"],
    ["surrounding whitespace is ignored", " 172.16.0.0/12\n", "172.16.0.0/12"],
  ])("%s", ([_reason, input, expected], { expect }) => {
    expect(canonicalCidr(input)).toEqual({ ok: true, value: expected });
  });

  it.for<[string, string, string]>([
    ["IPv4 host bits", "10.1.2.3/8", "10.0.0.0/8"],
    ["IPv4 one host bit", "192.168.1.1/31", "192.168.1.0/31"],
    ["IPv6 host bits", "2001:db8::1/64", "2001:db8::/64"],
    ["IPv6 host bits, upper case input", "FD00:1234:5678::/24", "fd00:1200::/24"],
    ["IPv4-mapped host bits name the IPv4 network", "::ffff:10.1.2.3/120", "10.1.2.0/24"],
    ["the whole space with an address", "1.2.3.4/0", "0.0.0.0/0"],
  ])("rejects %s and names the canonical form", ([_reason, input, canonical], { expect }) => {
    expect(canonicalCidr(input)).toEqual({
      ok: false,
      error: { code: "host-bits-set", input, canonical },
    });
  });

  it.for<[string, string]>([
    ["", "empty"],
    ["10.0.0.0/33", "the prefix length 33 exceeds 32 for IPv4"],
    ["::/129", "the prefix length 129 exceeds 128 for IPv6"],
    ["10.0.0.0/08", "the prefix length must be a decimal number without leading zeros"],
    ["10.0.0.0/", "the prefix length must be a decimal number without leading zeros"],
    ["10.0.0.0/-1", "the prefix length must be a decimal number without leading zeros"],
    ["10.0.0.0/8/8", "more than one '/'"],
    ["010.0.0.1", "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)"],
    ["10.1", "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)"],
    ["256.0.0.0/8", "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)"],
    ["0x0a.0.0.0/8", "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)"],
    ["example.com", "not a valid IPv4 address (four decimal octets 0-255, no leading zeros)"],
    ["fe80::1%eth0", "IPv6 zone identifiers (%...) are not allowed in a network"],
    ["1::2::3", "not a valid IPv6 address"],
    ["1:2:3:4:5:6:7:8:9", "not a valid IPv6 address"],
    ["12345::/16", "not a valid IPv6 address"],
    ["::ffff:1.2.3.256", "the embedded IPv4 address must be four decimal octets"],
  ])("refuses %j: %s", ([input, reason], { expect }) => {
    expect(canonicalCidr(input)).toEqual({
      ok: false,
      error: { code: "invalid-cidr", input, reason },
    });
  });

  it("parses into family, integer address and prefix length", ({ expect }) => {
    expect([parseCidr("10.0.0.0/8"), parseCidr("fd00::/8"), parseCidr("255.255.255.255")]).toEqual([
      { ok: true, value: { family: 4, address: 0x0a000000n, prefixLength: 8 } },
      { ok: true, value: { family: 6, address: 0xfdn << 120n, prefixLength: 8 } },
      { ok: true, value: { family: 4, address: 0xffffffffn, prefixLength: 32 } },
    ]);
    expect(formatPrefix({ family: 6, address: (1n << 128n) - 1n, prefixLength: 128 })).toEqual(
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
    );
  });
});

describe("prefix set algebra", () => {
  it("routes 172.31.0.0/16 by splitting the RFC 1918 exclude", ({ expect }) => {
    expect(subtractPrefixes(["172.16.0.0/12"], ["172.31.0.0/16"])).toEqual([
      "172.16.0.0/13",
      "172.24.0.0/14",
      "172.28.0.0/15",
      "172.30.0.0/16",
    ]);
  });

  it("carves 10.20.0.0/16 out of 10.0.0.0/8", ({ expect }) => {
    expect(subtractPrefixes(["10.0.0.0/8"], ["10.20.0.0/16"])).toEqual([
      "10.0.0.0/12",
      "10.16.0.0/14",
      "10.21.0.0/16",
      "10.22.0.0/15",
      "10.24.0.0/13",
      "10.32.0.0/11",
      "10.64.0.0/10",
      "10.128.0.0/9",
    ]);
  });

  it("carves fd00:1234::/32 out of fd00::/8", ({ expect }) => {
    expect(subtractPrefixes(["fd00::/8"], ["fd00:1234::/32"])).toEqual([
      "fd00::/20",
      "fd00:1000::/23",
      "fd00:1200::/27",
      "fd00:1220::/28",
      "fd00:1230::/30",
      "fd00:1235::/32",
      "fd00:1236::/31",
      "fd00:1238::/29",
      "fd00:1240::/26",
      "fd00:1280::/25",
      "fd00:1300::/24",
      "fd00:1400::/22",
      "fd00:1800::/21",
      "fd00:2000::/19",
      "fd00:4000::/18",
      "fd00:8000::/17",
      "fd01::/16",
      "fd02::/15",
      "fd04::/14",
      "fd08::/13",
      "fd10::/12",
      "fd20::/11",
      "fd40::/10",
      "fd80::/9",
    ]);
  });

  it("carves several routes and a covering route at once", ({ expect }) => {
    expect(
      subtractPrefixes(
        ["10.0.0.0/8", "172.16.0.0/12", "fd00::/8"],
        ["10.0.0.0/9", "10.128.0.0/10", "172.16.0.0/12", "fd00::/9"],
      ),
    ).toEqual(["10.192.0.0/10", "fd80::/9"]);
  });

  it("covers the whole spaces exactly", ({ expect }) => {
    expect(unionPrefixes(["::/1", "8000::/1", "0.0.0.0/1", "128.0.0.0/1"])).toEqual([
      "0.0.0.0/0",
      "::/0",
    ]);
    expect(subtractPrefixes(["0.0.0.0/0", "::/0"], ["0.0.0.0/0", "::/0"])).toEqual([]);
    expect(subtractPrefixes(["::/0"], ["::/1"])).toEqual(["8000::/1"]);
    expect(subtractPrefixes(["0.0.0.0/0"], ["0.0.0.0/32"])).toEqual([
      "0.0.0.1/32",
      "0.0.0.2/31",
      "0.0.0.4/30",
      "0.0.0.8/29",
      "0.0.0.16/28",
      "0.0.0.32/27",
      "0.0.0.64/26",
      "0.0.0.128/25",
      "0.0.1.0/24",
      "0.0.2.0/23",
      "0.0.4.0/22",
      "0.0.8.0/21",
      "0.0.16.0/20",
      "0.0.32.0/19",
      "0.0.64.0/18",
      "0.0.128.0/17",
      "0.1.0.0/16",
      "0.2.0.0/15",
      "0.4.0.0/14",
      "0.8.0.0/13",
      "0.16.0.0/12",
      "0.32.0.0/11",
      "0.64.0.0/10",
      "0.128.0.0/9",
      "1.0.0.0/8",
      "2.0.0.0/7",
      "4.0.0.0/6",
      "8.0.0.0/5",
      "16.0.0.0/4",
      "32.0.0.0/3",
      "64.0.0.0/2",
      "128.0.0.0/1",
    ]);
    expect(subtractPrefixes(["::/0"], ["::/1", "8000::/2", "c000::/3", "e000::/4"])).toEqual([
      "f000::/4",
    ]);
    expect(
      subtractPrefixes(
        ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/126"],
        ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
      ),
    ).toEqual([
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc/127",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128",
    ]);
  });

  it("sorts IPv4 before IPv6 and merges adjacent and nested prefixes", ({ expect }) => {
    expect(
      unionPrefixes(["fd00::/9", "10.0.1.0/24", "fd80::/9", "10.0.0.0/24", "10.0.0.128/25", "::1"]),
    ).toEqual(["10.0.0.0/23", "::1/128", "fd00::/8"]);
  });

  it("intersects across families without mixing them", ({ expect }) => {
    expect(
      intersectPrefixes(["10.0.0.0/8", "fd00::/8"], ["10.1.0.0/16", "0.0.0.0/0", "fd00:1::/32"]),
    ).toEqual(["10.0.0.0/8", "fd00:1::/32"]);
    expect(intersectPrefixes(["10.0.0.0/8"], ["::/0"])).toEqual([]);
  });

  it("keeps ranges as inclusive bigint bounds", ({ expect }) => {
    const tenSlashEight = { family: 4 as const, address: 0x0a000000n, prefixLength: 8 };
    const host = { family: 4 as const, address: 0x0a000005n, prefixLength: 32 };
    expect(difference([tenSlashEight], [host])).toEqual([
      { family: 4, first: 0x0a000000n, last: 0x0a000004n },
      { family: 4, first: 0x0a000006n, last: 0x0affffffn },
    ]);
    expect(union([host], [{ family: 4, first: 0x0a000006n, last: 0x0a000007n }])).toEqual([
      { family: 4, first: 0x0a000005n, last: 0x0a000007n },
    ]);
    expect(minimalCover([{ family: 4, first: 0x0a000005n, last: 0x0a000007n }])).toEqual([
      { family: 4, address: 0x0a000005n, prefixLength: 32 },
      { family: 4, address: 0x0a000006n, prefixLength: 31 },
    ]);
  });
});

describe("longestPrefixMatch", () => {
  const routes = [
    { network: "10.0.0.0/8", tunnel: "a" },
    { network: "10.1.0.0/16", tunnel: "b" },
    { network: "10.1.2.0/24", tunnel: "c" },
    { network: "10.1.0.0/16", tunnel: "d" },
    { network: "fd00::/8", tunnel: "e" },
    { network: "fd00:1::/32", tunnel: "f" },
  ];

  it.for<[string, string, string]>([
    ["the most specific route wins", "10.1.2.3", "c"],
    ["a /16 wins over the /8", "10.1.3.4", "b"],
    ["the broad route catches the rest", "10.200.0.1", "a"],
    ["IPv6 uses its own routes", "fd00:1::5", "f"],
    ["an IPv4-mapped address matches IPv4 routes", "::ffff:10.1.2.3", "c"],
  ])("%s", ([_reason, address, tunnel], { expect }) => {
    expect(longestPrefixMatch(address, routes)?.tunnel).toEqual(tunnel);
  });

  it("returns undefined when nothing contains the address", ({ expect }) => {
    expect(longestPrefixMatch("192.168.1.1", routes)).toEqual(undefined);
    expect(longestPrefixMatch("2001:db8::1", routes)).toEqual(undefined);
  });

  it("throws on an address that is not one", ({ expect }) => {
    expect(() => longestPrefixMatch("10.0.0.256", routes)).toThrow(
      'not a valid CIDR: "10.0.0.256": not a valid IPv4 address',
    );
  });
});

describe("Cloudflare reserved ranges", () => {
  it.for<[string, string, string, string, string]>([
    ["a subset of the device IPs", "100.96.1.0/24", "100.96.0.0/12", "Device IPs", "inside"],
    [
      "the source IPs themselves",
      "100.64.0.0/12",
      "100.64.0.0/12",
      "Cloudflare source IPs",
      "inside",
    ],
    [
      "a host in the load balancer IPs",
      "100.112.0.9/32",
      "100.112.0.0/16",
      "Private Load Balancer IPs",
      "inside",
    ],
    [
      "an IPv6 device address",
      "2606:4700:cf1:1000::42/128",
      "2606:4700:cf1:1000::/64",
      "Device IPs",
      "inside",
    ],
    [
      "the IPv6 source range in long form",
      "2606:4700:0cf1:5000::/64",
      "2606:4700:cf1:5000::/64",
      "Cloudflare source IPs",
      "inside",
    ],
    [
      "the CGNAT block contains the first one",
      "100.64.0.0/10",
      "100.64.0.0/12",
      "Cloudflare source IPs",
      "contains",
    ],
    [
      "the default route contains them",
      "0.0.0.0/0",
      "100.64.0.0/12",
      "Cloudflare source IPs",
      "contains",
    ],
  ])("%s", ([_reason, network, reserved, purpose, relation], { expect }) => {
    expect(findReservedRange(network)).toEqual({ range: { network: reserved, purpose }, relation });
    expect(isReservedRange(network)).toEqual(relation === "inside");
  });

  it.for<[string, string, string, string | undefined]>([
    ["the default range holds 172.64.130.0/24", "172.64.128.0/20", "172.64.130.0/24", "inside"],
    ["the default range leaves 100.80.5.0/24 alone", "172.64.128.0/20", "100.80.5.0/24", undefined],
    ["a superset of the default range is allowed", "172.64.128.0/20", "172.64.0.0/13", "contains"],
    ["an older account's range holds 100.80.5.0/24", "100.80.0.0/16", "100.80.5.0/24", "inside"],
    [
      "an older account's range leaves 172.64.130.0/24",
      "100.80.0.0/16",
      "172.64.130.0/24",
      undefined,
    ],
    ["a custom range holds its subnets", "10.200.0.0/16", "10.200.7.0/24", "inside"],
  ])(
    "the account's initial resolved range: %s",
    ([_reason, range, network, relation], { expect }) => {
      const match = findReservedRange(network, reservedRangesFor(range));
      expect(match?.relation).toEqual(relation);
      expect(isReservedRange(network, reservedRangesFor(range))).toBe(relation === "inside");
    },
  );

  it("finds nothing for ordinary private ranges", ({ expect }) => {
    expect(
      ["10.0.0.0/8", "100.81.0.0/16", "100.128.0.0/16", "2606:4700:cf1:2000::/64"].map((n) =>
        findReservedRange(n),
      ),
    ).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("address words", () => {
  const ONES = 0xffff_ffff;
  it.for<[string, IpFamily, AddressWords, number, boolean, AddressWords]>([
    ["the whole IPv4 space ends at 255.255.255.255", 4, [0, 0, 0, 0], 0, true, [0, 0, 0, ONES]],
    ["the whole IPv6 space ends at all ones", 6, [0, 0, 0, 0], 0, true, [ONES, ONES, ONES, ONES]],
    ["a host route is its own last address", 6, [1, 2, 3, 4], 128, true, [1, 2, 3, 4]],
    [
      "a /33 keeps the top word and one bit",
      6,
      [7, ONES, ONES, 9],
      33,
      false,
      [7, 0x8000_0000, 0, 0],
    ],
    [
      "a /20 of IPv4 fills twelve bits",
      4,
      [0, 0, 0, 0x0a_10_00_00],
      20,
      true,
      [0, 0, 0, 0x0a_10_0f_ff],
    ],
  ])("%s", ([, family, words, prefixLength, fill, bound], { expect }) => {
    expect(prefixBound(family, words, prefixLength, fill)).toEqual(bound);
  });

  it("steps and recognises successors across word boundaries", ({ expect }) => {
    expect(stepWords([0, 0, 0, ONES], 1)).toEqual([0, 0, 1, 0]);
    expect(stepWords([1, 0, 0, 0], -1)).toEqual([0, ONES, ONES, ONES]);
    expect(isSuccessor([0, 0, 0, ONES], [0, 0, 1, 0])).toEqual(true);
    expect(isSuccessor([0, 0, 0, ONES], [0, 1, 1, 0])).toEqual(false);
    expect(isSuccessor([ONES, ONES, ONES, ONES], [0, 0, 0, 0])).toEqual(false);
    expect(compareWords([0, 1, 0, 0], [0, 0, ONES, ONES])).toBeGreaterThan(0);
  });

  it("finds host bits in any word", ({ expect }) => {
    expect(hasHostBits(6, [0xfd00_0000, 0, 0, 1], 64)).toEqual(true);
    expect(hasHostBits(6, [0xfd00_0000, 0, 1, 0], 64)).toEqual(true);
    expect(hasHostBits(6, [0xfd00_0000, 1, 0, 0], 64)).toEqual(false);
    expect(hasHostBits(4, [0, 0, 0, 0x0a01_0203], 8)).toEqual(true);
    expect(hasHostBits(4, [0, 0, 0, 0x0a00_0000], 8)).toEqual(false);
  });
});

describe("hostname route format (Cloudflare's rules)", () => {
  it("keeps the wildcard for the user and drops it in Cloudflare's form; refuses the rest", ({
    expect,
  }) => {
    const table = [
      "*.apps.acme.internal",
      ".Wiki.Acme.Internal.",
      "..*.apps.acme.internal..",
      `${"a".repeat(250)}.io`,
      `${"a".repeat(251)}.io`,
      "*-dev.acme.internal",
      "dev-*.acme.internal",
      "foo.*.acme.internal",
      "foo*bar.acme.internal",
      "*.*.acme.internal",
      "*",
      "a..b",
      "...",
    ].map((input) => {
      const parsed = parseHostname(input);
      return parsed.ok
        ? [
            input.length,
            parsed.value.hostname.length > 40 ? "long" : parsed.value.hostname,
            parsed.value.cloudflareForm.length > 40 ? "long" : parsed.value.cloudflareForm,
          ]
        : [input.length, parsed.error];
    });
    expect(table).toEqual([
      [20, "*.apps.acme.internal", "apps.acme.internal"],
      [20, "wiki.acme.internal", "wiki.acme.internal"],
      [24, "*.apps.acme.internal", "apps.acme.internal"],
      [253, "long", "long"],
      [254, "long", "long"],
      [19, "a wildcard that is not the whole leading label"],
      [19, "a wildcard that is not the whole leading label"],
      [19, "a wildcard that is not the whole leading label"],
      [21, "a wildcard that is not the whole leading label"],
      [17, "more than one wildcard"],
      [1, "a wildcard that is not the whole leading label"],
      [4, "empty or with an empty label"],
      [3, "empty or with an empty label"],
    ]);
    expect(parseHostname(`${"a".repeat(252)}.io`)).toEqual({
      ok: false,
      error: "255 characters or longer",
    });
  });
});
