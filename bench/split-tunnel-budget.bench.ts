/**
 * Split tunnel lists under the default `max_entries` budget, with routes spread across
 * `10.0.0.0/8` the way data centres and VPCs number them: one /24 every so often. Prints, per
 * mode and size, the exact list's length, the list's length under the budget, the unrouted
 * addresses the budget sends through WARP, the compute time and the heap the result holds.
 */
import { formatPrefix } from "../src/domain/cidr";
import type { SplitTunnelProfileSpec } from "../src/domain/model";
import { DEFAULT_MAX_ENTRIES, effectiveSplitTunnel } from "../src/domain/split-tunnels";
import { seededRandom } from "./seeded-random";

type CpuUsage = (previous?: { user: number; system: number }) => { user: number; system: number };
interface NodeProcess {
  cpuUsage?: CpuUsage;
  memoryUsage?: () => { heapUsed: number };
}
const nodeProcess = (globalThis as { process?: NodeProcess }).process;
const collectGarbage = (globalThis as { gc?: () => void }).gc;

/**
 * `count` distinct /24s of 10.0.0.0/8, one per stretch of 65,536 / `count` /24s at a random
 * place in its stretch (`count` at most 65,536).
 */
export function spreadRoutes(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const stride = 65_536 / count;
  const routes: string[] = [];
  for (let i = 0; i < count; i++) {
    const slot = Math.floor(i * stride + random() * Math.max(1, stride - 1));
    routes.push(
      formatPrefix({ family: 4, address: 0x0a000000n | (BigInt(slot) << 8n), prefixLength: 24 }),
    );
  }
  return routes;
}

/** Median milliseconds of `iterations` calls (CPU time when the runtime reports it). */
function medianMs(work: () => unknown, iterations: number): number {
  work();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const cpuStart = nodeProcess?.cpuUsage?.();
    const start = performance.now();
    work();
    const wallMs = performance.now() - start;
    const used = cpuStart === undefined ? undefined : nodeProcess?.cpuUsage?.(cpuStart);
    samples.push(used === undefined ? wallMs : (used.user + used.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/** Heap bytes the result of `work` holds, when the runtime can collect garbage on request. */
function retainedBytes(work: () => unknown): number | undefined {
  const heapUsed = nodeProcess?.memoryUsage;
  if (collectGarbage === undefined || heapUsed === undefined) {
    return undefined;
  }
  collectGarbage();
  collectGarbage();
  const before = heapUsed().heapUsed;
  const kept = work();
  collectGarbage();
  collectGarbage();
  const after = heapUsed().heapUsed;
  return kept === undefined ? undefined : after - before;
}

const SIZES = [100, 1_000, 10_000];
const SEED = 20_261_203;

/** Runs the benchmark: one row per mode and size. */
export function runSplitTunnelBudgetBench(): void {
  console.log(
    `split tunnel lists under max_entries ${DEFAULT_MAX_ENTRIES}: routes are /24s spread across 10.0.0.0/8 (seed ${SEED})`,
  );
  console.log(
    "mode | routes | exact entries | entries under budget | extra addresses through WARP | extra ranges | median ms | exact list alone ms | retained heap MB",
  );
  for (const mode of ["exclude", "include"] as const) {
    const spec: SplitTunnelProfileSpec = { mode, auto: true, entries: [] };
    for (const size of SIZES) {
      const routes = spreadRoutes(size, SEED + size);
      const result = effectiveSplitTunnel(spec, routes);
      const iterations = size >= 10_000 ? 20 : 50;
      const ms = medianMs(() => effectiveSplitTunnel(spec, routes), iterations);
      const unbounded = { ...spec, maxEntries: Number.MAX_SAFE_INTEGER };
      const exactMs = medianMs(() => effectiveSplitTunnel(unbounded, routes), iterations);
      const heap = retainedBytes(() => effectiveSplitTunnel(spec, routes));
      console.log(
        [
          mode,
          size.toLocaleString("en-US"),
          (result.fit?.exactEntries ?? result.entries.length).toLocaleString("en-US"),
          result.entries.length.toLocaleString("en-US"),
          (result.fit?.cost.extraAddresses ?? 0n).toLocaleString("en-US"),
          (result.fit?.cost.extraRanges.length ?? 0).toLocaleString("en-US"),
          ms.toFixed(2),
          exactMs.toFixed(2),
          heap === undefined ? "n/a (run node with --expose-gc)" : (heap / 2 ** 20).toFixed(2),
        ].join(" | "),
      );
    }
  }
  console.log("times are CPU milliseconds per call when the runtime reports CPU time, else wall");
}
