/**
 * How the Exclude + auto split tunnel computation scales with the number of routes, against the
 * obvious approach of subtracting the routes from the list one at a time. Routes come from a
 * fixed-seed generator, half IPv4 and half IPv6, all inside WARP default excludes so each carves.
 */
import {
  difference,
  formatPrefix,
  type IpFamily,
  minimalCover,
  type Prefix,
  parseKnownCidr,
  prefixesOverlap,
} from "../src/domain/cidr";
import type { SplitTunnelProfileSpec } from "../src/domain/model";
import { effectiveSplitTunnel, WARP_DEFAULT_EXCLUDES } from "../src/domain/split-tunnels";

/** Node's CPU clock, when the runtime has one (tsx does); microseconds of user + system time. */
type CpuUsage = (previous?: { user: number; system: number }) => { user: number; system: number };
const cpuUsage = (globalThis as { process?: { cpuUsage?: CpuUsage } }).process?.cpuUsage;

/** mulberry32: a small deterministic generator, so every run measures the same routes. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

interface Timing {
  medianMs: number;
  p95Ms: number;
  medianCpuMs: number | null;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

function measure(work: () => unknown, warmups: number, iterations: number): Timing {
  for (let i = 0; i < warmups; i++) {
    work();
  }
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const cpuStart = cpuUsage?.();
    const start = performance.now();
    work();
    wallMs.push(performance.now() - start);
    if (cpuUsage && cpuStart) {
      const used = cpuUsage(cpuStart);
      cpuMs.push((used.user + used.system) / 1000);
    }
  }
  wallMs.sort((a, b) => a - b);
  cpuMs.sort((a, b) => a - b);
  return {
    medianMs: percentile(wallMs, 0.5),
    p95Ms: percentile(wallMs, 0.95),
    medianCpuMs: cpuMs.length > 0 ? percentile(cpuMs, 0.5) : null,
  };
}

const SIZES = [100, 1_000, 10_000];
const SEED = 20_240_611;
const spec: SplitTunnelProfileSpec = { mode: "exclude", auto: true, entries: [] };

function format(value: number | null, digits = 2): string {
  return value === null ? "n/a" : value.toFixed(digits);
}

/** Runs the benchmark and prints one table row per size. */
export function runSplitTunnelBench(): void {
  console.log("split tunnel Exclude + auto: effectiveSplitTunnel vs one-by-one subtraction");
  console.log(
    `seed ${SEED}; routes half IPv4 (/20../28 in RFC 1918), half IPv6 (/56../64 in four /48s of fd00::/8)`,
  );
  const header = [
    "routes",
    "entries",
    "median ms",
    "p95 ms",
    "median cpu ms",
    "parsing alone ms",
    "naive median ms",
    "speed-up",
  ];
  console.log(header.join(" | "));
  const medians: number[] = [];
  for (const size of SIZES) {
    const routes = randomRoutes(size, SEED + size);
    const result = effectiveSplitTunnel(spec, routes);
    const fast = result.entries.map((entry) => ("address" in entry ? entry.address : entry.host));
    const naive = naiveExcludes(routes);
    if (JSON.stringify([...fast].sort()) !== JSON.stringify([...naive].sort())) {
      throw new Error(`the two approaches disagree for ${size} routes`);
    }
    const iterations = size >= 10_000 ? 40 : 200;
    const timing = measure(() => effectiveSplitTunnel(spec, routes), 5, iterations);
    const baseline =
      size >= 10_000
        ? measure(() => naiveExcludes(routes), 0, 1)
        : measure(() => naiveExcludes(routes), 1, 10);
    const parsing = measure(() => routes.map(parseKnownCidr), 5, iterations);
    // CPU time when the runtime reports it: wall time also counts waiting on a busy machine.
    medians.push(timing.medianCpuMs ?? timing.medianMs);
    console.log(
      [
        size.toLocaleString("en-US"),
        result.entries.length.toLocaleString("en-US"),
        format(timing.medianMs),
        format(timing.p95Ms),
        format(timing.medianCpuMs),
        format(parsing.medianMs),
        format(baseline.medianMs),
        `${format(baseline.medianMs / timing.medianMs, 1)}x`,
      ].join(" | "),
    );
  }
  const first = medians[0] ?? Number.NaN;
  const last = medians[medians.length - 1] ?? Number.NaN;
  console.log(
    `growth 100 -> 10,000 routes (100x input): ${format(last / first, 1)}x median CPU time`,
  );
}
