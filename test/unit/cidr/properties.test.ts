import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, it } from "vitest";
import {
  ADDRESS_BITS,
  canonicalCidr,
  decodeCanonicalNetwork,
  difference,
  formatAddress,
  formatPrefix,
  type IpFamily,
  intersection,
  minimalCover,
  type Prefix,
  parseCidr,
  parseNetwork,
  rangeOfPrefix,
  subtractPrefixes,
  union,
} from "../../../src/domain/cidr";
import { effectiveSplitTunnel, WARP_DEFAULT_EXCLUDES } from "../../../src/domain/split-tunnels";

// Every generated prefix lies in a small universe per family (a /24 and a /120, 256 addresses
// each), so the oracle can enumerate every address.
const UNIVERSE_SIZE = 256;
const UNIVERSE_BASE: Record<IpFamily, bigint> = { 4: 0x0a010200n, 6: 0xfdn << 120n };
const FAMILIES: IpFamily[] = [4, 6];

const smallPrefix = fc
  .record({
    family: fc.constantFrom<IpFamily>(4, 6),
    hostBits: fc.integer({ min: 0, max: 8 }),
    offset: fc.integer({ min: 0, max: UNIVERSE_SIZE - 1 }),
  })
  .map(({ family, hostBits, offset }): Prefix => {
    const aligned = offset - (offset % 2 ** hostBits);
    return {
      family,
      address: UNIVERSE_BASE[family] + BigInt(aligned),
      prefixLength: ADDRESS_BITS[family] - hostBits,
    };
  });
const prefixList = fc.array(smallPrefix, { maxLength: 12 });

type Members = Record<IpFamily, boolean[]>;

function emptyMembers(): Members {
  return { 4: new Array(UNIVERSE_SIZE).fill(false), 6: new Array(UNIVERSE_SIZE).fill(false) };
}

/** Marks every address of every prefix or range, one by one. */
function membersOf(
  items: readonly ({ family: IpFamily } & ({ first: bigint; last: bigint } | Prefix))[],
): Members {
  const members = emptyMembers();
  for (const item of items) {
    const range = "prefixLength" in item ? rangeOfPrefix(item) : item;
    for (let address = range.first; address <= range.last; address++) {
      const offset = Number(address - UNIVERSE_BASE[range.family]);
      if (offset < 0 || offset >= UNIVERSE_SIZE) {
        throw new Error("generated address outside the universe");
      }
      members[range.family][offset] = true;
    }
  }
  return members;
}

function combine(a: Members, b: Members, op: (x: boolean, y: boolean) => boolean): Members {
  const result = emptyMembers();
  for (const family of FAMILIES) {
    for (let i = 0; i < UNIVERSE_SIZE; i++) {
      result[family][i] = op(a[family][i] === true, b[family][i] === true);
    }
  }
  return result;
}

/**
 * The brute-force minimal cover: a block fully inside the set is one prefix, an empty block is
 * none, a mixed block must be split, since no prefix can cover part of it exactly.
 */
function bruteForceCover(members: Members): Prefix[] {
  const cover: Prefix[] = [];
  const visit = (family: IpFamily, start: number, size: number) => {
    const block = members[family].slice(start, start + size);
    if (block.every(Boolean)) {
      cover.push({
        family,
        address: UNIVERSE_BASE[family] + BigInt(start),
        prefixLength: ADDRESS_BITS[family] - Math.log2(size),
      });
    } else if (block.some(Boolean)) {
      visit(family, start, size / 2);
      visit(family, start + size / 2, size / 2);
    }
  };
  for (const family of FAMILIES) {
    visit(family, 0, UNIVERSE_SIZE);
  }
  return cover;
}

describe("set algebra against a brute-force oracle", () => {
  it("union, intersection and difference agree with address-by-address sets", ({ expect }) => {
    fc.assert(
      fc.property(prefixList, prefixList, (a, b) => {
        const left = membersOf(a);
        const right = membersOf(b);
        expect(membersOf(union(a, b))).toEqual(combine(left, right, (x, y) => x || y));
        expect(membersOf(intersection(a, b))).toEqual(combine(left, right, (x, y) => x && y));
        expect(membersOf(difference(a, b))).toEqual(combine(left, right, (x, y) => x && !y));
      }),
      { numRuns: 300 },
    );
  });

  it("the cover of A minus B is exactly A minus B with the fewest prefixes", ({ expect }) => {
    fc.assert(
      fc.property(prefixList, prefixList, (a, b) => {
        const expected = combine(membersOf(a), membersOf(b), (x, y) => x && !y);
        const cover = minimalCover(difference(a, b));
        expect(membersOf(cover)).toEqual(expected);
        expect(cover).toEqual(bruteForceCover(expected));
      }),
      { numRuns: 300 },
    );
  });

  it("results are normalised: sorted, disjoint, never adjacent, IPv4 first", ({ expect }) => {
    fc.assert(
      fc.property(prefixList, prefixList, (a, b) => {
        for (const set of [union(a, b), intersection(a, b), difference(a, b)]) {
          for (let i = 1; i < set.length; i++) {
            const previous = set[i - 1];
            const current = set[i];
            const isOrdered =
              previous !== undefined &&
              current !== undefined &&
              (previous.family < current.family ||
                (previous.family === current.family && previous.last + 1n < current.first));
            expect(isOrdered).toEqual(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("canonical form properties", () => {
  const anyPrefix = fc.oneof(
    fc.record({
      family: fc.constant<IpFamily>(4),
      address: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
      prefixLength: fc.integer({ min: 0, max: 32 }),
    }),
    fc.record({
      family: fc.constant<IpFamily>(6),
      address: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      prefixLength: fc.integer({ min: 0, max: 128 }),
    }),
  );

  function networkOf(value: { family: IpFamily; address: bigint; prefixLength: number }): Prefix {
    const hostBits = BigInt(ADDRESS_BITS[value.family] - value.prefixLength);
    return { ...value, address: (value.address >> hostBits) << hostBits };
  }

  function isMapped(value: { family: IpFamily; address: bigint; prefixLength: number }): boolean {
    return value.family === 6 && value.prefixLength >= 96 && value.address >> 32n === 0xffffn;
  }

  /** The uncompressed, zero-padded, upper-case spelling of an IPv6 address. */
  function longIpv6(address: bigint): string {
    return address.toString(16).padStart(32, "0").toUpperCase().match(/.{4}/g)?.join(":") ?? "";
  }

  it("rejects host bits and names the network; accepts the network itself", ({ expect }) => {
    fc.assert(
      fc.property(
        anyPrefix.filter((value) => !isMapped(value)),
        (value) => {
          const network = networkOf(value);
          const text = formatPrefix(value);
          const canonical = formatPrefix(network);
          if (network.address === value.address) {
            expect(parseCidr(text)).toEqual({ ok: true, value: network });
          } else {
            expect(parseCidr(text)).toEqual({
              ok: false,
              error: { code: "host-bits-set", input: text, canonical },
            });
          }
          expect(parseCidr(canonical)).toEqual({ ok: true, value: network });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("prints IPv6 exactly as ipaddr.js's RFC 5952 printer does", ({ expect }) => {
    // Sparse addresses exercise zero runs of every length and position.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (parts) => {
        const address = parts.reduce((value, part) => (value << 16n) | BigInt(part), 0n);
        fc.pre(address >> 32n !== 0xffffn);
        expect(formatAddress(6, address)).toEqual(new ipaddr.IPv6(parts).toRFC5952String());
      }),
      { numRuns: 1000 },
    );
  });

  it("every spelling of an IPv6 network has one canonical form, stable under re-canonicalising", ({
    expect,
  }) => {
    fc.assert(
      fc.property(
        anyPrefix.filter((value) => value.family === 6 && !isMapped(value)).map(networkOf),
        (network) => {
          const canonical = formatPrefix(network);
          const long = `${longIpv6(network.address)}/${network.prefixLength}`;
          expect(canonicalCidr(long)).toEqual({ ok: true, value: canonical });
          expect(canonicalCidr(canonical)).toEqual({ ok: true, value: canonical });
          expect(canonical).toEqual(canonical.toLowerCase());
          expect(canonical.includes(":::")).toEqual(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("effective split tunnel properties", () => {
  // Routes inside the default excludes 10.0.0.0/8, 172.16.0.0/12 and fd00::/8, so they carve.
  const routeInDefaults = fc
    .record({
      parent: fc.constantFrom<[IpFamily, bigint, number]>(
        [4, 0x0a000000n, 8],
        [4, 0xac100000n, 12],
        [6, 0xfdn << 120n, 8],
      ),
      extraBits: fc.integer({ min: 0, max: 20 }),
      seed: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    })
    .map(({ parent: [family, base, length], extraBits, seed }) => {
      const prefixLength = length + extraBits;
      const hostBits = BigInt(ADDRESS_BITS[family] - prefixLength);
      const inside = (seed % (1n << BigInt(extraBits))) << hostBits;
      return formatPrefix({ family, address: base + inside, prefixLength });
    });

  it("Exclude + auto is exactly the defaults minus the routes, whatever the route order", ({
    expect,
  }) => {
    fc.assert(
      fc.property(fc.array(routeInDefaults, { maxLength: 20 }), (routes) => {
        const spec = { mode: "exclude" as const, auto: true, entries: [] };
        const result = effectiveSplitTunnel(spec, routes);
        expect(effectiveSplitTunnel(spec, [...routes].reverse())).toEqual(result);
        const entryPrefixes = result.entries.map((entry) => {
          const parsed = "address" in entry ? parseCidr(entry.address) : undefined;
          if (!parsed?.ok) {
            throw new Error("computed entries are canonical CIDRs");
          }
          return parsed.value;
        });
        const routePrefixes = routes.map((route) => {
          const parsed = parseCidr(route);
          if (!parsed.ok) {
            throw new Error("generated routes are canonical CIDRs");
          }
          return parsed.value;
        });
        const defaults = WARP_DEFAULT_EXCLUDES.map((entry) => {
          const parsed = parseCidr(entry.address);
          if (!parsed.ok) {
            throw new Error("defaults are canonical CIDRs");
          }
          return parsed.value;
        });
        expect(union(entryPrefixes, [])).toEqual(difference(defaults, routePrefixes));
        expect(intersection(entryPrefixes, routePrefixes)).toEqual([]);
        expect(result.entries.map((entry) => ("address" in entry ? entry.address : ""))).toEqual(
          WARP_DEFAULT_EXCLUDES.flatMap((entry) => subtractPrefixes([entry.address], routes)),
        );
        expect(result.problems).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("split tunnel route index against the bigint algebra", () => {
  // Routes of any length around the defaults: some inside them, some containing them
  // (`0.0.0.0/0`, `fc00::/7`), some the same network twice or siblings that merge.
  const ANCHORS: [IpFamily, bigint][] = [
    [4, 0x0a000000n],
    [4, 0xac100000n],
    [4, 0xa9fe0000n],
    [4, 0xffffffffn],
    [6, 0xfdn << 120n],
    [6, 0xfe8n << 116n],
  ];
  const anyRoute = fc
    .record({
      anchor: fc.constantFrom(...ANCHORS),
      prefixLength: fc.integer({ min: 0, max: 128 }),
      seed: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      nearby: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ anchor: [family, base], prefixLength, seed, nearby }) => {
      const bits = ADDRESS_BITS[family];
      const length = Math.min(prefixLength, bits);
      const hostBits = BigInt(bits - length);
      // Most routes stay within a few blocks of the anchor, so neighbours meet and merge.
      const offset = nearby === 0 ? seed % (1n << BigInt(bits)) : BigInt(nearby) << hostBits;
      const address = (((base + offset) % (1n << BigInt(bits))) >> hostBits) << hostBits;
      return formatPrefix({ family, address, prefixLength: length });
    });

  function prefixOf(network: string): Prefix {
    const parsed = parseCidr(network);
    if (!parsed.ok) {
      throw new Error(`not a CIDR: ${network}`);
    }
    return parsed.value;
  }

  /** The distinct routes sharing an address with `network`, in the index's order. */
  function overlappingOracle(routes: readonly string[], network: string): string[] {
    const target = rangeOfPrefix(prefixOf(network));
    return [...new Set(routes)]
      .map(prefixOf)
      .filter((route) => {
        const range = rangeOfPrefix(route);
        return (
          range.family === target.family && range.first <= target.last && target.first <= range.last
        );
      })
      .sort(
        (a, b) =>
          a.family - b.family ||
          (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) ||
          a.prefixLength - b.prefixLength,
      )
      .map(formatPrefix);
  }

  it("Exclude + auto carves every default and names exactly the routes that carve it", ({
    expect,
  }) => {
    fc.assert(
      fc.property(fc.array(anyRoute, { maxLength: 25 }), (routes) => {
        const spec = { mode: "exclude" as const, auto: true, entries: [] };
        const { entries } = effectiveSplitTunnel(spec, routes);
        const expected = WARP_DEFAULT_EXCLUDES.flatMap((fallback) => {
          const carvedBy = overlappingOracle(routes, fallback.address);
          if (carvedBy.length === 0) {
            return [{ ...fallback, source: { kind: "warp-default" } }];
          }
          const source = { kind: "warp-default-remainder", parent: fallback.address, carvedBy };
          return subtractPrefixes([fallback.address], routes).map((address) => ({
            address,
            description: fallback.description,
            source,
          }));
        });
        expect(entries).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("Include + auto is the union's minimal cover, each entry naming the routes it carries", ({
    expect,
  }) => {
    fc.assert(
      fc.property(fc.array(anyRoute, { maxLength: 25 }), (routes) => {
        const spec = { mode: "include" as const, auto: true, entries: [] };
        const { entries } = effectiveSplitTunnel(spec, routes);
        const expected = routes.length === 0 ? [] : minimalCover(routes.map(prefixOf));
        expect(entries).toEqual(
          expected.map(formatPrefix).map((address) => ({
            address,
            description: "",
            source: { kind: "route", routes: overlappingOracle(routes, address) },
          })),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("decoding stored canonical networks", () => {
  // Any prefix of either family, so every zero-run shape and word boundary comes up.
  const anyPrefix = fc
    .record({
      family: fc.constantFrom<IpFamily>(4, 6),
      value: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      zeroGroups: fc.nat(0xff),
      length: fc.nat(128),
    })
    .map(({ family, value, zeroGroups, length }): Prefix => {
      const bits = ADDRESS_BITS[family];
      let address = value % (1n << BigInt(bits));
      for (let group = 0; group < 8; group++) {
        if (zeroGroups & (1 << group)) {
          address &= ~(0xffffn << BigInt(16 * group));
        }
      }
      const prefixLength = length % (bits + 1);
      const hostBits = BigInt(bits - prefixLength);
      return { family, address: (address >> hostBits) << hostBits, prefixLength };
    });
  const canonicalText = fc.oneof(smallPrefix, anyPrefix).map(formatPrefix);
  // Text near the canonical form: one character replaced, inserted or dropped, or upper case.
  const nearCanonical = fc
    .tuple(canonicalText, fc.nat(), fc.constantFrom(..."0123456789abcdefABCDEF:./% "), fc.nat(3))
    .map(([text, at, char, edit]) => {
      const i = at % (text.length + 1);
      return [
        text.slice(0, i) + char + text.slice(i + 1),
        text.slice(0, i) + char + text.slice(i),
        text.slice(0, i) + text.slice(i + 1),
        text.toUpperCase(),
      ][edit] as string;
    });
  // IPv4-mapped IPv6 text, which tunnelplane stores as the IPv4 network it maps.
  const mappedText = fc
    .tuple(fc.nat(0xffff_ffff), fc.integer({ min: 96, max: 128 }))
    .map(([value, length]) => {
      const hostBits = 128 - length;
      const kept =
        hostBits >= 32 ? 0 : Number((BigInt(value) >> BigInt(hostBits)) << BigInt(hostBits));
      return `::ffff:${(kept >>> 16).toString(16)}:${(kept & 0xffff).toString(16)}/${length}`;
    });
  const noise = fc.string({ unit: fc.constantFrom(..."0123456789abcdef:./"), maxLength: 24 });

  it("decodes exactly what the strict parser reads, and declines anything not canonical", ({
    expect,
  }) => {
    fc.assert(
      fc.property(fc.oneof(canonicalText, nearCanonical, noise, mappedText), (text) => {
        const decoded = decodeCanonicalNetwork(text);
        const strict = parseNetwork(text);
        const isCanonical = strict.ok && strict.value.network === text;
        expect(decoded !== undefined).toEqual(isCanonical);
        if (decoded !== undefined && strict.ok) {
          expect([decoded.family, decoded.words, decoded.prefixLength, decoded.network]).toEqual([
            strict.value.family,
            strict.value.words,
            strict.value.prefixLength,
            text,
          ]);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
