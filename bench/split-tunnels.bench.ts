/**
 * How the Exclude + auto split tunnel computation scales with the number of routes, against the
 * obvious approach of subtracting the routes from the list one at a time. Routes come from a
 * fixed-seed generator, half IPv4 and half IPv6, all inside WARP default excludes so each carves.
 */

import ipaddr from "ipaddr.js";
import {
  clearKnownCidrCache,
  difference,
  formatPrefix,
  type IpFamily,
  minimalCover,
  type Prefix,
  parseKnownCidr,
  parseKnownNetwork,
  prefixesOverlap,
} from "../src/domain/cidr";
import type { SplitTunnelProfileSpec } from "../src/domain/model";
import { effectiveSplitTunnel, WARP_DEFAULT_EXCLUDES } from "../src/domain/split-tunnels";
import { seededRandom } from "./seeded-random";

/** Node's CPU clock, when the runtime has one (tsx does); microseconds of user + system time. */
type CpuUsage = (previous?: { user: number; system: number }) => { user: number; system: number };
const cpuUsage = (globalThis as { process?: { cpuUsage?: CpuUsage } }).process?.cpuUsage;

interface Site {
  family: IpFamily;
  base: bigint;
  prefixLength: number;
}

// IPv4 sites are the RFC 1918 excludes; IPv6 sites are four /48s inside fd00::/8, the way an
// organisation numbers its ULA space (one /48 per site, /56../64 per network).
const IPV4_SITES: Site[] = [
  { family: 4, base: 0x0a000000n, prefixLength: 8 },
  { family: 4, base: 0xac100000n, prefixLength: 12 },
  { family: 4, base: 0xc0a80000n, prefixLength: 16 },
];
const IPV6_SITES: Site[] = [0x12n, 0x34n, 0x56n, 0x78n].map((site) => ({
  family: 6,
  base: (0xfdn << 120n) | (site << 96n),
  prefixLength: 48,
}));

function randomRoutes(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const routes: string[] = [];
  for (let i = 0; i < count; i++) {
    const isIpv4 = i % 2 === 0;
    const sites = isIpv4 ? IPV4_SITES : IPV6_SITES;
    const site = sites[Math.floor(random() * sites.length)] as Site;
    const bits = site.family === 4 ? 32 : 128;
    const prefixLength = isIpv4
      ? Math.max(site.prefixLength, 20 + Math.floor(random() * 9))
      : 56 + Math.floor(random() * 9);
    const slots = 2 ** (prefixLength - site.prefixLength);
    const slot = BigInt(Math.floor(random() * slots));
    const address = site.base | (slot << BigInt(bits - prefixLength));
    routes.push(formatPrefix({ family: site.family, address, prefixLength }));
  }
  return routes;
}

/** The baseline: walk the routes one by one, splitting every entry a route overlaps. */
function naiveExcludes(routes: readonly string[]): string[] {
  let entries: Prefix[] = WARP_DEFAULT_EXCLUDES.map((entry) => parseKnownCidr(entry.address));
  for (const network of routes) {
    const route = parseKnownCidr(network);
    const next: Prefix[] = [];
    for (const entry of entries) {
      if (prefixesOverlap(entry, route)) {
        next.push(...minimalCover(difference([entry], [route])));
      } else {
        next.push(entry);
      }
    }
    entries = next;
  }
  return entries.map(formatPrefix);
}

/**
 * ipaddr.js parsing the same texts, as it does every network a user sends: what a first
 * computation would cost in parsing alone if stored networks were parsed strictly too.
 */
function parseWithLibraryAlone(routes: readonly string[]): void {
  for (const route of routes) {
    if (route.includes(":")) {
      ipaddr.IPv6.parseCIDR(route);
    } else {
      ipaddr.IPv4.parseCIDR(route);
    }
  }
}

/** Milliseconds of one measured call: CPU (user + system) when the runtime reports it. */
interface Timing {
  medianMs: number;
  p95Ms: number;
  /** Whether the figures are CPU time (else wall time, which also counts waiting). */
  isCpu: boolean;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Times `work` after `warmups` untimed calls; `prepare` runs before every call, untimed, so a cold
 * figure can start each call with an empty parse cache.
 */
function measure(
  work: () => unknown,
  options: { warmups: number; iterations: number; prepare?: () => void },
): Timing {
  const prepare = options.prepare ?? (() => {});
  for (let i = 0; i < options.warmups; i++) {
    prepare();
    work();
  }
  const samples: number[] = [];
  for (let i = 0; i < options.iterations; i++) {
    prepare();
    const cpuStart = cpuUsage?.();
    const start = performance.now();
    work();
    const wallMs = performance.now() - start;
    if (cpuUsage && cpuStart) {
      const used = cpuUsage(cpuStart);
      samples.push((used.user + used.system) / 1000);
    } else {
      samples.push(wallMs);
    }
  }
  samples.sort((a, b) => a - b);
  return {
    medianMs: percentile(samples, 0.5),
    p95Ms: percentile(samples, 0.95),
    isCpu: cpuUsage !== undefined,
  };
}

const SIZES = [100, 1_000, 10_000];
const SEED = 20_240_611;
/** The exact list, never cut to a budget: what the naive subtraction computes too. */
const spec: SplitTunnelProfileSpec = {
  mode: "exclude",
  auto: true,
  entries: [],
  maxEntries: 100_000,
};

function format(value: number, digits = 2): string {
  return value.toFixed(digits);
}

/**
 * Runs the benchmark and prints one table row per size. Cold rows clear the parse cache before
 * every call (routes parsed for the first time, as after a deploy); warm rows keep it (the same
 * routes computed again, as a reconcile run does). "parse alone" is the cold reading of the
 * stored routes the computation does; the naive baseline is timed cold too.
 */
export function runSplitTunnelBench(): void {
  console.log("split tunnel Exclude + auto: effectiveSplitTunnel vs one-by-one subtraction");
  console.log(
    `seed ${SEED}; routes half IPv4 (/20../28 in RFC 1918), half IPv6 (/56../64 in four /48s of fd00::/8)`,
  );
  const header = [
    "routes",
    "entries",
    "cold median ms",
    "cold p95 ms",
    "warm median ms",
    "warm p95 ms",
    "parse alone (cold) ms",
    "ipaddr.js alone ms",
    "naive (cold) ms",
    "speed-up (cold)",
  ];
  console.log(header.join(" | "));
  const cold: number[] = [];
  const warm: number[] = [];
  let isCpu = false;
  for (const size of SIZES) {
    const routes = randomRoutes(size, SEED + size);
    const result = effectiveSplitTunnel(spec, routes);
    const fast = result.entries.map((entry) => ("address" in entry ? entry.address : entry.host));
    const naive = naiveExcludes(routes);
    if (JSON.stringify([...fast].sort()) !== JSON.stringify([...naive].sort())) {
      throw new Error(`the two approaches disagree for ${size} routes`);
    }
    const iterations = size >= 10_000 ? 40 : 200;
    const coldTiming = measure(() => effectiveSplitTunnel(spec, routes), {
      warmups: 5,
      iterations,
      prepare: clearKnownCidrCache,
    });
    const warmTiming = measure(() => effectiveSplitTunnel(spec, routes), {
      warmups: 5,
      iterations,
    });
    const parsing = measure(() => routes.map((route) => parseKnownNetwork(route)), {
      warmups: 5,
      iterations,
      prepare: clearKnownCidrCache,
    });
    const library = measure(() => parseWithLibraryAlone(routes), { warmups: 5, iterations });
    const baseline = measure(() => naiveExcludes(routes), {
      warmups: size >= 10_000 ? 0 : 1,
      iterations: size >= 10_000 ? 1 : 10,
      prepare: clearKnownCidrCache,
    });
    cold.push(coldTiming.medianMs);
    warm.push(warmTiming.medianMs);
    isCpu = coldTiming.isCpu;
    console.log(
      [
        size.toLocaleString("en-US"),
        result.entries.length.toLocaleString("en-US"),
        format(coldTiming.medianMs),
        format(coldTiming.p95Ms),
        format(warmTiming.medianMs),
        format(warmTiming.p95Ms),
        format(parsing.medianMs),
        format(library.medianMs),
        format(baseline.medianMs),
        `${format(baseline.medianMs / coldTiming.medianMs, 1)}x`,
      ].join(" | "),
    );
  }
  const clock = isCpu ? "CPU" : "wall (no CPU clock in this runtime)";
  console.log(`times are ${clock} milliseconds per call`);
  const growth = (medians: readonly number[]): string =>
    format((medians[medians.length - 1] ?? Number.NaN) / (medians[0] ?? Number.NaN), 1);
  console.log(
    `growth 100 -> 10,000 routes (100x input): ${growth(cold)}x cold, ${growth(warm)}x warm median`,
  );
}
