/**
 * What the caches kept across requests cost, in bytes of V8 heap, measured against the estimates
 * their byte bounds use: per entry (`KNOWN_NETWORKS_MAX_BYTES`, `COMPILED_REGEX_MAX_BYTES`), and
 * each cache filled to its bound (those two, `COMPILED_CONDITIONS_MAX_BYTES`,
 * `CLASS_TABLES_MAX_BYTES`), the estimate it counts beside the heap it grew by.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { RE2JS } from "re2js";
import {
  CLASS_TABLES_MAX_BYTES,
  classTablesBytes,
  clearClassTables,
} from "../src/domain/access/class-cache";
import {
  COMPILED_CONDITIONS_MAX_BYTES,
  clearCompiledConditions,
  compiledConditionsBytes,
  prepareLists,
} from "../src/domain/access/prepare";
import { whoCanReach } from "../src/domain/access/reach";
import { clearKnownCidrCache, parseKnownNetwork } from "../src/domain/cidr";
import { KNOWN_NETWORKS_MAX_BYTES, knownNetworksBytes } from "../src/domain/cidr/known";
import { rangeOfPrefix } from "../src/domain/cidr/ranges";
import type { NetworkPolicySpec } from "../src/domain/model";
import {
  COMPILED_REGEX_MAX_BYTES,
  clearCompiledRegexes,
  compiledRegexBytes,
  compileRegex,
} from "../src/domain/policies/email-regex";
import { conditionsFromSelectors, type EvaluablePolicy } from "../src/domain/policies/evaluate";

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

/** One cache as the fill sees it. */
interface FilledCache {
  label: string;
  maxBytes: number;
  /** Empties the cache (and any cache `add` fills on the side). */
  clear: () => void;
  /** The estimated bytes it holds now. */
  bytes: () => number;
  /** Adds the i-th distinct entry, keeping nothing else alive. */
  add: (i: number) => void;
}

/**
 * Fills `cache` from empty until one more entry would pass its bound; returns the entries, the
 * estimate it counts, and the heap it grew by, read after `clearSides` empties the other caches
 * the fill touched and a collection.
 */
function fillToBound(cache: FilledCache, clearSides: () => void) {
  cache.clear();
  collect();
  const before = process.memoryUsage().heapUsed;
  let entries = 0;
  for (;;) {
    const was = cache.bytes();
    cache.add(entries);
    entries++;
    const now = cache.bytes();
    if (now <= was || now + (now - was) > cache.maxBytes) {
      break;
    }
  }
  clearSides();
  collect();
  const grown = process.memoryUsage().heapUsed - before;
  const estimate = cache.bytes();
  cache.clear();
  return { entries, estimate, grown };
}

function policy(i: number, spec: Partial<NetworkPolicySpec>): EvaluablePolicy {
  const full: NetworkPolicySpec = {
    name: `p${i}`,
    action: "allow",
    precedence: 1000 + i,
    enabled: true,
    destinations: [],
    ports: [],
    protocols: [],
    emails: [],
    emailRegex: null,
    groups: [],
    ...spec,
  };
  return {
    id: `p${i}`,
    name: full.name,
    action: full.action,
    precedence: full.precedence,
    enabled: true,
    ...conditionsFromSelectors(full),
  };
}

const TARGET = { destination: rangeOfPrefix(parseKnownNetwork("10.0.0.0/24").prefix), port: 22 };

/** The caches, each filled with entries of a typical size. */
const FILLED: FilledCache[] = [
  {
    label: "parsed networks (IPv4 addresses)",
    maxBytes: KNOWN_NETWORKS_MAX_BYTES,
    clear: clearKnownCidrCache,
    bytes: knownNetworksBytes,
    add: (i) => parseKnownNetwork(`10.${(i >> 8) & 255}.${i & 255}.${(i >> 16) & 255}/32`),
  },
  {
    label: "compiled regexes (~20 characters)",
    maxBytes: COMPILED_REGEX_MAX_BYTES,
    clear: clearCompiledRegexes,
    bytes: compiledRegexBytes,
    add: (i) => compileRegex(`.*@example${i}\\.com`),
  },
  {
    label: "compiled regexes (~1,000 characters)",
    maxBytes: COMPILED_REGEX_MAX_BYTES,
    clear: clearCompiledRegexes,
    bytes: compiledRegexBytes,
    add: (i) => compileRegex(`^(${alternation(90, i)})@example\\.com$`),
  },
  {
    label: "compiled conditions (3 /24s, 2 ports, 3 emails, 1 group)",
    maxBytes: COMPILED_CONDITIONS_MAX_BYTES,
    clear: clearCompiledConditions,
    bytes: compiledConditionsBytes,
    add: (i) =>
      prepareLists([
        [
          policy(i, {
            destinations: [0, 1, 2].map((k) => `10.${k}.${i & 255}.0/24`),
            ports: [
              { from: 22, to: 22 },
              { from: 8000 + (i % 1000), to: 8100 + (i % 1000) },
            ],
            emails: [0, 1, 2].map((k) => `user${k}x${i}@corp.test`),
            groups: [`group-${i}`],
          }),
        ],
      ]),
  },
  {
    label: "class tables (4 policies: 6 emails, 2 groups)",
    maxBytes: CLASS_TABLES_MAX_BYTES,
    clear: clearClassTables,
    bytes: classTablesBytes,
    add: (i) =>
      whoCanReach(
        [0, 1, 2, 3].map((k) =>
          policy(4 * i + k, {
            action: k === 3 ? "block" : "allow",
            destinations: ["10.0.0.0/24"],
            emails: k < 3 ? [`a${k}x${i}@corp.test`, `b${k}x${i}@corp.test`] : [],
            groups: k === 3 ? [`g${i}`, `h${i}`] : [],
          }),
        ),
        TARGET,
        1_000_000,
      ),
  },
];

/** Prints, for each cache filled to its bound, the estimate it counts beside the heap it grew. */
function printFilledCaches(): void {
  console.log(
    "\nEach cache filled to its bound: the estimate its bound counts vs the heap it grew by",
  );
  console.log("| cache | bound | entries | estimate | measured heap | measured / estimate |");
  console.log("|---|---|---|---|---|---|");
  for (const cache of FILLED) {
    // Side caches a fill touches (parsed networks, compiled conditions) are emptied before the
    // heap is read, so only the cache under test is counted.
    const sides = () => {
      for (const other of FILLED) {
        if (other.bytes !== cache.bytes) {
          other.clear();
        }
      }
    };
    sides();
    const { entries, estimate, grown } = fillToBound(cache, sides);
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
    console.log(
      `| ${cache.label} | ${mib(cache.maxBytes)} | ${entries.toLocaleString("en")} | ${mib(estimate)} | ${mib(grown)} | ${(grown / estimate).toFixed(2)} |`,
    );
  }
}

/** Prints the measured bytes per entry beside each cache's estimate, then each cache filled. */
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
  printFilledCaches();
}
