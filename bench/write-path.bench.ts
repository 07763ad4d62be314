/**
 * What a desired-state write and `plan` cost at scale, measured on the Worker as it runs: the
 * bundled `src/index.ts` in workerd (Miniflare) with a local D1, the AccountLock Durable Object
 * and the emulator Worker behind `CLOUDFLARE_API`, as in `npm start`. Bulk state is inserted in
 * D1 directly (each kind's stored spec copied from one written through the API), then:
 * - route create at 100, 1,000 and 10,000 routes (each account also holds 200 assertions and a
 *   default `auto` Exclude list), 20 creates each: server time per create (the request's wall
 *   time seen from Node, loopback included) and workerd CPU per create (Worker and local D1,
 *   10 ms ticks from /proc); then one create over an assertion's destination, which re-runs it;
 * - `plan` with 1,000 routes + 500 policies + 200 assertions: wall and workerd CPU.
 * Goals (issue 11): route create 10,000 : 100 ≤ 2; plan ≤ 250 ms CPU.
 */
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { createDb } from "../src/db/client";
import { loadDesiredState } from "../src/db/desired-objects.repo";
import { EMPTY_OBSERVED } from "../src/domain/model";
import { planAccount } from "../src/domain/plan/plan";

const ADMIN_KEY = "tp_bench_admin_key_0123456789";
const TOKEN_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const ARTIFACTS = path.join(tmpdir(), "tunnelplane-bench");
const ASSERTIONS = 200;
const CREATES = 20;

async function bundle(entry: string, name: string): Promise<string> {
  const outfile = path.join(ARTIFACTS, `${name}.mjs`);
  await build({
    entryPoints: [path.resolve(entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:*", "node:*"],
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
  return outfile;
}

/** The wrangler.toml vars, which readConfig needs. */
const VARS = {
  CLOUDFLARE_API_BASE_URL: "",
  MAX_SUBREQUESTS_PER_RUN: "900",
  LEASE_TTL_MS: "120000",
  DEFAULT_RECONCILE_INTERVAL_S: "300",
  CALLBACK_ATTEMPT_TIMEOUT_MS: "5000",
  CLOUDFLARE_API_RATE_LIMIT: "1200",
  CLOUDFLARE_API_RATE_WINDOW_S: "300",
  CLOUDFLARE_API_BUDGET_SHARE: "0.5",
  CLOUDFLARE_API_DEFAULT_RETRY_AFTER_S: "300",
  RUN_RETENTION_DAYS: "90",
  RUN_RETENTION_PER_ACCOUNT: "1000",
  AUDIT_RETENTION_DAYS: "90",
};

async function startWorkers(): Promise<Miniflare> {
  const [tunnelplane, emulator] = await Promise.all([
    bundle("src/index.ts", "tunnelplane"),
    bundle("emulator/src/index.ts", "emulator"),
  ]);
  return new Miniflare({
    workers: [
      {
        name: "tunnelplane",
        modules: true,
        modulesRoot: ARTIFACTS,
        scriptPath: tunnelplane,
        compatibilityDate: "2026-04-26",
        compatibilityFlags: ["nodejs_compat"],
        bindings: { ...VARS, ADMIN_API_KEY: ADMIN_KEY, TOKEN_ENCRYPTION_KEY: TOKEN_KEY },
        d1Databases: ["DB"],
        durableObjects: { ACCOUNT_LOCK: { className: "AccountLock", useSQLite: true } },
        serviceBindings: { CLOUDFLARE_API: "emulator" },
      },
      {
        name: "emulator",
        modules: true,
        modulesRoot: ARTIFACTS,
        scriptPath: emulator,
        compatibilityDate: "2026-04-26",
        compatibilityFlags: ["nodejs_compat"],
        durableObjects: { STATE: { className: "EmulatorState", useSQLite: true } },
      },
    ],
  });
}

async function applyMigrations(db: D1Database): Promise<void> {
  const dir = path.resolve("migrations");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const statements = readFileSync(path.join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const statement of statements) {
      await db.prepare(statement).run();
    }
  }
}

/** CPU seconds (user + system) of every workerd process Miniflare runs, from /proc. */
function workerdCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/stat`, "utf8");
      const parent = Number(status.slice(status.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (parent === process.pid && cmd.includes("workerd")) {
        const fields = status.slice(status.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]);
      }
    } catch {
      // A process that ended while /proc was read is not ours to count.
    }
  }
  return ticks * 10;
}

interface Bench {
  mf: Miniflare;
  db: D1Database;
}

async function send(
  { mf }: Bench,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; ms: number }> {
  const start = performance.now();
  const response = await mf.dispatchFetch(`http://tunnelplane${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const ms = performance.now() - start;
  return { status: response.status, json: text === "" ? {} : JSON.parse(text), ms };
}

async function must(bench: Bench, method: string, url: string, body?: unknown) {
  const result = await send(bench, method, url, body);
  if (result.status >= 300) {
    throw new Error(`${method} ${url}: ${result.status} ${JSON.stringify(result.json)}`);
  }
  return result.json;
}

/** The i-th /24 of 10.0.0.0/8 (i < 65,536). */
const slash24 = (i: number) => `10.${i >> 8}.${i & 255}.0/24`;

/** Copies the stored row of `id` `count` times with `vary(i)`'s spec, id and natural key. */
async function cloneRows(
  bench: Bench,
  accountId: string,
  id: string,
  count: number,
  vary: (spec: Record<string, unknown>, i: number) => { spec: unknown; naturalKey: string | null },
): Promise<void> {
  const row = await bench.db
    .prepare("SELECT kind, spec_json FROM desired_objects WHERE account_id = ? AND id = ?")
    .bind(accountId, id)
    .first<{ kind: string; spec_json: string }>();
  if (row === null) {
    throw new Error(`no row ${id}`);
  }
  const template = JSON.parse(row.spec_json) as Record<string, unknown>;
  const perStatement = 14;
  const statements = [];
  const nowMs = Date.now();
  for (let start = 0; start < count; start += perStatement) {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = start; i < Math.min(count, start + perStatement); i++) {
      const { spec, naturalKey } = vary(structuredClone(template), i);
      tuples.push("(?, ?, ?, ?, ?, 1, 'pending', ?, ?)");
      values.push(accountId, row.kind, crypto.randomUUID(), naturalKey);
      values.push(JSON.stringify(spec), nowMs - count + i, nowMs - count + i);
    }
    statements.push(
      bench.db
        .prepare(
          `INSERT INTO desired_objects (account_id, kind, id, natural_key, spec_json, version, sync_state, created_at_ms, updated_at_ms) VALUES ${tuples.join(", ")}`,
        )
        .bind(...values),
    );
  }
  for (let start = 0; start < statements.length; start += 50) {
    await bench.db.batch(statements.slice(start, start + 50));
  }
}

/** An account with `routes` routes, `policies` policies and 200 assertions; its path. */
async function seedAccount(bench: Bench, routes: number, policies: number): Promise<string> {
  const accountId = crypto.randomUUID().replaceAll("-", "");
  await must(bench, "POST", "/v1/accounts", {
    account_id: accountId,
    name: `bench ${routes}`,
    api_token: "bench-cloudflare-api-token-0123456789abcdef",
    mode: "enforce",
  });
  const base = `/v1/accounts/${accountId}`;
  await must(bench, "PATCH", base, {
    limits: { routes: 50_000, network_policies: 5000 },
  });
  const tunnel = (await must(bench, "POST", `${base}/tunnels`, { name: "dc1" })).id as string;
  await must(bench, "PUT", `${base}/split-tunnels/default`, { mode: "exclude", auto: true });
  await must(bench, "PUT", `${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
  const route = await must(bench, "POST", `${base}/routes`, {
    network: slash24(0),
    tunnel_id: tunnel,
  });
  await cloneRows(bench, accountId, route.id as string, routes - 1, (spec, i) => ({
    spec: { ...spec, network: slash24(i + 1) },
    naturalKey: `default|${slash24(i + 1)}`,
  }));
  if (policies > 0) {
    const policy = await must(bench, "POST", `${base}/policies`, {
      name: "p0",
      action: "allow",
      precedence: 10,
      destinations: [slash24(0)],
      ports: [22, 443],
      emails: ["user0@example.com"],
    });
    await cloneRows(bench, accountId, policy.id as string, policies - 1, (spec, i) => ({
      spec: {
        ...spec,
        name: `p${i + 1}`,
        action: i % 3 === 0 ? "block" : "allow",
        precedence: 20 + i * 10,
        destinations: [slash24((i * 7) % routes)],
        emails: [`user${i % 50}@example.com`],
      },
      naturalKey: `${20 + i * 10}`,
    }));
  }
  const assertion = await must(bench, "POST", `${base}/assertions`, {
    name: "a0",
    email: "user0@example.com",
    destination_ip: "10.0.0.7",
    port: 22,
    expect: "allow",
  });
  await cloneRows(bench, accountId, assertion.id as string, ASSERTIONS - 1, (spec, i) => ({
    spec: {
      ...spec,
      name: `a${i + 1}`,
      email: `user${i % 50}@example.com`,
      destinationIp: slash24((i * 13) % routes).replace(".0/24", ".7"),
    },
    naturalKey: null,
  }));
  // Any one-off work a first write does on this account (filling indexes) is not timed.
  await must(bench, "POST", `${base}/routes`, { network: "10.255.255.0/24", tunnel_id: tunnel });
  return base;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function benchRouteCreates(bench: Bench, routes: number): Promise<number> {
  const base = await seedAccount(bench, routes, 0);
  const tunnel = ((await must(bench, "GET", `${base}/tunnels`)).items as { id: string }[])[0]?.id;
  const times: number[] = [];
  const cpuStart = workerdCpuMs();
  for (let k = 0; k < CREATES; k++) {
    const created = await send(bench, "POST", `${base}/routes`, {
      network: `10.250.${k}.0/24`,
      tunnel_id: tunnel,
    });
    if (created.status !== 201) {
      throw new Error(`route create: ${created.status} ${JSON.stringify(created.json)}`);
    }
    times.push(created.ms);
  }
  const cpuMs = (workerdCpuMs() - cpuStart) / CREATES;
  const p50 = median(times);
  // A route over an assertion's destination (a0's 10.0.0.7) re-runs it on the whole state.
  const reachingCpuStart = workerdCpuMs();
  const reaching = await send(bench, "POST", `${base}/routes`, {
    network: "10.0.0.7/32",
    tunnel_id: tunnel,
  });
  const reachingCpuMs = workerdCpuMs() - reachingCpuStart;
  console.log(
    `route create at ${routes} routes (+${ASSERTIONS} assertions): p50 ${p50.toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms, workerd CPU ${cpuMs.toFixed(1)} ms/create; one over an assertion's destination: ${reaching.status} in ${reaching.ms.toFixed(0)} ms, CPU ${reachingCpuMs} ms`,
  );
  return p50;
}

async function benchPlan(bench: Bench): Promise<void> {
  const base = await seedAccount(bench, 1000, 500);
  await must(bench, "POST", `${base}/plan`);
  const runs = 3;
  const times: number[] = [];
  const cpuStart = workerdCpuMs();
  let size = 0;
  for (let k = 0; k < runs; k++) {
    const planned = await send(bench, "POST", `${base}/plan`);
    if (planned.status !== 200) {
      throw new Error(`plan: ${planned.status} ${JSON.stringify(planned.json).slice(0, 500)}`);
    }
    size = JSON.stringify(planned.json).length;
    times.push(planned.ms);
  }
  const cpuMs = (workerdCpuMs() - cpuStart) / runs;
  console.log(
    `plan, 1,000 routes + 500 policies + ${ASSERTIONS} assertions: p50 ${median(times).toFixed(0)} ms wall, workerd CPU ${cpuMs.toFixed(0)} ms/plan (emulator observe included), answer ${size} bytes`,
  );
  // The planner alone on the same state, in Node: what is left of the plan once the access
  // delta is taken out.
  const desired = await loadDesiredState(createDb(bench.db), base.slice("/v1/accounts/".length));
  const planned: number[] = [];
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    planAccount(desired, EMPTY_OBSERVED);
    planned.push(performance.now() - start);
  }
  console.log(
    `  of which planAccount over the same desired state: ${median(planned).toFixed(0)} ms`,
  );
}

/** Prints route create times at 100, 1,000 and 10,000 routes, and the time of one `plan`. */
export async function runWritePathBench(): Promise<void> {
  console.log("\n== write path and plan on the bundled Worker in workerd (Miniflare, local D1) ==");
  const mf = await startWorkers();
  try {
    const db = await mf.getD1Database("DB", "tunnelplane");
    await applyMigrations(db);
    const bench = { mf, db };
    const at100 = await benchRouteCreates(bench, 100);
    await benchRouteCreates(bench, 1000);
    const at10k = await benchRouteCreates(bench, 10_000);
    console.log(`route create 10,000 : 100 = ${(at10k / at100).toFixed(2)} (goal <= 2)`);
    await benchPlan(bench);
  } finally {
    await mf.dispose();
  }
}
