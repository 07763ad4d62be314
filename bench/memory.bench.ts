/**
 * What the caches kept across requests cost, in bytes of V8 heap per entry, measured against the
 * estimates their byte bounds use (`KNOWN_NETWORKS_MAX_BYTES`, `COMPILED_REGEX_MAX_BYTES`).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { RE2JS } from "re2js";
import { clearKnownCidrCache, parseKnownNetwork } from "../src/domain/cidr";

setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

/** Average heap bytes one value made by `make` keeps alive, over `count` values. */
function bytesEach(count: number, make: (i: number) => unknown): number {
  collect();
  const before = process.memoryUsage().heapUsed;
  const kept: unknown[] = [];
  for (let i = 0; i < count; i++) {
    kept.push(make(i));
  }
  collect();
  const after = process.memoryUsage().heapUsed;
  return Math.round((after - before) / count - 8 * (kept.length / count));
}

const alternation = (n: number, i: number) =>
  Array.from({ length: n }, (_, k) => `user${k}x${i}`).join("|");

/** Prints the measured bytes per entry beside each cache's estimate. */
export function runMemoryBench(): void {
  clearKnownCidrCache();
  const rows: Array<[string, number, number]> = [
    [
      "parsed IPv4 network (10.a.b.0/24)",
      bytesEach(20_000, (i) => parseKnownNetwork(`10.${(i >> 8) & 255}.${i & 255}.0/24`)),
      256 + 2 * 13,
    ],
    [
      "parsed IPv6 network (fd00:x::/48)",
      bytesEach(20_000, (i) => parseKnownNetwork(`fd00:${i.toString(16)}::/48`)),
      256 + 2 * 14,
    ],
    [
      "compiled regex, 20 chars",
      bytesEach(200, (i) => RE2JS.compile(`.*@example${i}\\.com`)),
      8192 + 320 * 20,
    ],
    [
      "compiled regex, ~110 chars",
      bytesEach(100, (i) => RE2JS.compile(`^(${alternation(9, i)})@example\\.com$`)),
      8192 + 320 * 110,
    ],
    [
      "compiled regex, ~1,000 chars",
      bytesEach(20, (i) => RE2JS.compile(`^(${alternation(90, i)})@example\\.com$`)),
      8192 + 320 * 1000,
    ],
  ];
  clearKnownCidrCache();
  console.log(
    "\nCaches kept across requests: heap bytes per entry, measured vs the estimate the bound uses",
  );
  console.log("| entry | measured | estimate |");
  console.log("|---|---|---|");
  for (const [label, measured, estimate] of rows) {
    console.log(
      `| ${label} | ${measured.toLocaleString("en")} | ${estimate.toLocaleString("en")} |`,
    );
  }
}
