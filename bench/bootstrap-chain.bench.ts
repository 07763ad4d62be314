/**
 * A bootstrap measured, not computed: the bundled Worker in workerd with its reconcile queue, the
 * emulator enforcing Cloudflare's real limit (1,200 calls per sliding window, lockout past it) on
 * a clock sped up BENCH_TIME_SCALE times (default 50: the 300 s window and the 300 s default
 * Retry-After become 6 s, on both sides). One account per size, its desired state bulk-loaded in
 * D1 (one route and one policy written through the API, then copied), the account's and the
 * emulator's object limits raised. One queue message starts the chain, as a cron tick would;
 * every continued run's follow-up is the queue message it sends itself (its `delaySeconds`), and
 * nothing else drives it. Printed per size:
 * - the chain: runs, API calls (the runs' subrequests, and the emulator's log), outcomes;
 * - the emulator's 429s (its rate model's, not injected) and calls sent during a lockout;
 * - the most calls any sliding window ever held (the emulator's count) against the share;
 * - the run after convergence: its writes, and its list calls per path against
 *   ceil(objects / per_page) per paged kind plus the single-page lists and singletons;
 * - wall time, and the same scaled back to Cloudflare's clock.
 * Sizes: BENCH_BOOTSTRAP_SIZES, "routes/policies" comma-separated (default "1000/100,10000/1000").
 */
import { createHash } from "node:crypto";
import { MAX_PER_PAGE } from "../src/cloudflare/tunnels.adapter";
import {
  applyMigrations,
  type Bench,
  emulatorControl,
  must,
  seedNetwork,
  startWorkers,
} from "./workerd";

const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 50);
const LIMIT = 1200;
const SHARE = 0.5;
const WINDOW_S = 300 / SCALE;
/** Longest a chain may take before the bench gives up, ms of wall time. */
const CHAIN_TIMEOUT_MS = 30 * 60_000;

interface RunWire {
  id: string;
  trigger: string;
  outcome: string;
  continued: boolean;
  started_at: string;
  finished_at: string | null;
  counts: { applied: number; failed: number; deferred: number; subrequests: number };
  errors: { message: string }[];
}

interface CallWire {
  seq: number;
  method: string;
  path: string;
  status: number;
}

/** An account with one tunnel, `routes` routes, `policies` policies, split tunnel and proxy. */
async function seed(bench: Bench, routes: number, policies: number) {
  const accountId = crypto.randomUUID().replaceAll("-", "");
  const token = `bench-chain-token-${accountId}`;
  await must(bench, "POST", "/v1/accounts", {
    account_id: accountId,
    name: `chain ${routes}`,
    api_token: token,
    mode: "enforce",
  });
  const base = `/v1/accounts/${accountId}`;
  await must(bench, "PATCH", base, { limits: { routes: 50_000, network_policies: 5000 } });
  await emulatorControl(bench, "/limits", "PUT", {
    account_id: accountId,
    limits: { routes: 50_000, gateway_rules: 5000 },
  });
  await seedNetwork(bench, accountId, routes, policies);
  return { accountId, token, base };
}

/** Every run of the account, oldest first. */
async function runsOf(bench: Bench, base: string): Promise<RunWire[]> {
  const runs: RunWire[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await must(bench, "GET", `${base}/runs?limit=200${query}`);
    runs.push(...(page.items as RunWire[]));
    cursor = (page.next_cursor as string | null) ?? null;
  } while (cursor !== null);
  return runs.reverse();
}

/** The account's newest run, or null before its first. */
async function newestRun(bench: Bench, base: string): Promise<RunWire | null> {
  const page = await must(bench, "GET", `${base}/runs?limit=1`);
  return (page.items as RunWire[])[0] ?? null;
}

/**
 * Sends one reconcile message and waits until a run newer than `after` ends not continued; polls
 * the newest run only (a run record of 900 applied actions is large), then reads the chain once.
 */
async function driveChain(bench: Bench, accountId: string, base: string, known: number) {
  const queue = await bench.mf.getQueueProducer<{ account_id: string }>(
    "RECONCILE_QUEUE",
    "tunnelplane",
  );
  const before = await newestRun(bench, base);
  await queue.send({ account_id: accountId });
  const started = performance.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const last = await newestRun(bench, base);
    if (last !== null && last.id !== before?.id && !last.continued) {
      const wallMs = performance.now() - started;
      return { runs: (await runsOf(bench, base)).slice(known), wallMs };
    }
    if (performance.now() - started > CHAIN_TIMEOUT_MS) {
      throw new Error(`no end of the chain after ${CHAIN_TIMEOUT_MS} ms`);
    }
  }
}

async function callsSince(bench: Bench, accountId: string, since: number): Promise<CallWire[]> {
  const body = (await emulatorControl(bench, `/calls?account_id=${accountId}&since=${since}`)) as {
    calls: CallWire[];
  };
  return body.calls;
}

/** `GET cfd_tunnel`, `GET teamnet/routes`…: the path after the account id. */
function listOf(call: CallWire): string {
  return `${call.method} ${call.path.replace(/^\/client\/v4\/accounts\/[0-9a-f]{32}\//, "")}`;
}

async function measure(bench: Bench, routes: number, policies: number): Promise<void> {
  const { accountId, token, base } = await seed(bench, routes, policies);
  const chain = await driveChain(bench, accountId, base, 0);
  const calls = await callsSince(bench, accountId, 0);
  const lastSeq = calls[calls.length - 1]?.seq ?? 0;
  const limiter = (await emulatorControl(bench, "/rate-limit")) as {
    tokens: {
      token_hash: string;
      max_calls_in_any_window: number;
      rate_limited_calls: number;
      calls_during_lockout: number;
    }[];
  };
  const hash = createHash("sha256").update(token).digest("hex");
  const counters = limiter.tokens.find((t) => t.token_hash === hash);
  const subrequests = chain.runs.reduce((sum, r) => sum + r.counts.subrequests, 0);
  const applied = chain.runs.reduce((sum, r) => sum + r.counts.applied, 0);
  const failed = chain.runs.reduce((sum, r) => sum + r.counts.failed, 0);
  const statuses = new Map<number, number>();
  for (const call of calls) {
    statuses.set(call.status, (statuses.get(call.status) ?? 0) + 1);
  }
  const first = chain.runs[0];
  const last = chain.runs[chain.runs.length - 1];
  const spanMs =
    first === undefined || last?.finished_at == null
      ? Number.NaN
      : Date.parse(last.finished_at) - Date.parse(first.started_at);
  console.log(
    `\n-- ${routes.toLocaleString("en")} routes + ${policies.toLocaleString("en")} policies --`,
  );
  console.log(
    `chain: ${chain.runs.length} runs (${chain.runs.filter((r) => r.continued).length} continued, triggers ${[...new Set(chain.runs.map((r) => r.trigger))].join("/")}), outcomes ${JSON.stringify(countBy(chain.runs.map((r) => r.outcome)))}`,
  );
  console.log(
    `calls: ${subrequests} by the runs' records, ${calls.length} in the emulator's log (statuses ${JSON.stringify(Object.fromEntries(statuses))}); actions applied ${applied}, failed ${failed}`,
  );
  console.log(
    `emulator: ${counters?.rate_limited_calls} calls answered 429, ${counters?.calls_during_lockout} sent during a lockout; most calls in any sliding ${WINDOW_S} s window (300 s scaled) ${counters?.max_calls_in_any_window} vs share ${Math.floor(LIMIT * SHARE)} (limit ${LIMIT})`,
  );
  console.log(
    `wall: ${(chain.wallMs / 1000).toFixed(1)} s from the first message to the last run's record (first start to last finish ${(spanMs / 1000).toFixed(1)} s) = ${((spanMs * SCALE) / 60_000).toFixed(1)} min on Cloudflare's clock (x${SCALE})`,
  );
  console.log(
    `  per run: ${chain.runs.map((r) => `${r.counts.subrequests}${r.continued ? "c" : ""}`).join(" ")} (calls; c = continued)`,
  );
  await measureConverged(bench, accountId, base, chain.runs.length, lastSeq, routes, policies);
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) {
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

/** The run after convergence: its writes and list calls against the bound. */
async function measureConverged(
  bench: Bench,
  accountId: string,
  base: string,
  known: number,
  since: number,
  routes: number,
  policies: number,
): Promise<void> {
  const next = await driveChain(bench, accountId, base, known);
  const calls = await callsSince(bench, accountId, since);
  const writes = calls.filter((c) => c.method !== "GET");
  const lists = countBy(calls.filter((c) => c.method === "GET").map(listOf));
  const paged: Record<string, number> = {
    "GET cfd_tunnel": Math.max(1, Math.ceil(1 / MAX_PER_PAGE)),
    "GET teamnet/routes": Math.max(1, Math.ceil(routes / MAX_PER_PAGE)),
  };
  const boundPaged = Object.values(paged).reduce((a, b) => a + b, 0);
  const others = Object.entries(lists).filter(([path]) => !(path in paged));
  const otherCalls = others.reduce((sum, [, n]) => sum + n, 0);
  console.log(
    `next run: ${next.runs.length} run(s), outcome ${next.runs.map((r) => r.outcome).join("/")}, ${writes.length} writes, ${calls.length - writes.length} GETs (${policies} policies live as Gateway rules)`,
  );
  console.log(
    `  paged lists: ${Object.keys(paged)
      .map((p) => `${p} ${lists[p] ?? 0} (ceil(n/${MAX_PER_PAGE}) = ${paged[p]})`)
      .join(", ")}; bound ${boundPaged}`,
  );
  console.log(
    `  single-page lists and singletons, one call each: ${others.map(([p, n]) => `${p} ${n}`).join(", ")} (${otherCalls} calls)`,
  );
}

/** Prints the measured bootstrap chain for each size. */
export async function runBootstrapChainBench(): Promise<void> {
  const sizes = (process.env.BENCH_BOOTSTRAP_SIZES ?? "1000/100,10000/1000")
    .split(",")
    .map((s) => s.split("/").map(Number) as [number, number]);
  console.log(
    `\n== bootstrap chain, measured: workerd + queue + emulator at Cloudflare's limit, clock x${SCALE} (window ${WINDOW_S} s), share ${SHARE} ==`,
  );
  const mf = await startWorkers({
    queue: true,
    vars: {
      CLOUDFLARE_API_RATE_WINDOW_S: String(WINDOW_S),
      CLOUDFLARE_API_DEFAULT_RETRY_AFTER_S: String(WINDOW_S),
      CLOUDFLARE_API_BUDGET_SHARE: String(SHARE),
    },
  });
  try {
    const db = await mf.getD1Database("DB", "tunnelplane");
    await applyMigrations(db);
    const bench = { mf, db };
    await emulatorControl(bench, "/rate-limit", "PUT", {
      limit: LIMIT,
      window_s: WINDOW_S,
      lockout_s: WINDOW_S,
    });
    for (const [routes, policies] of sizes) {
      await measure(bench, routes, policies);
    }
  } finally {
    await mf.dispose();
  }
}
