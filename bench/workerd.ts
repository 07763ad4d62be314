/**
 * The Worker as benchmarks run it: the bundled `src/index.ts` in workerd (Miniflare) with a
 * local D1, the AccountLock Durable Object and the emulator Worker behind `CLOUDFLARE_API`, as in
 * `npm start`; optionally the reconcile queue (producer and consumer) as wrangler.toml binds it.
 * Also: REST calls with the admin key, and bulk desired state copied row by row in D1.
 */
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const ADMIN_KEY = "tp_bench_admin_key_0123456789";
const TOKEN_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const ARTIFACTS = path.join(tmpdir(), "tunnelplane-bench");
/** The reconcile queue's name in wrangler.toml. */
export const RECONCILE_QUEUE = "tunnelplane-reconcile";

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
export const VARS: Readonly<Record<string, string>> = {
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

/** How the Worker is started: vars over VARS, and whether the reconcile queue is bound. */
export interface WorkerOptions {
  vars?: Record<string, string>;
  /** Binds RECONCILE_QUEUE and its consumer (max_batch_size and retries of wrangler.toml). */
  queue?: boolean;
  /**
   * The URL of an emulator started on its own (`startEmulator`), reached over HTTP as production
   * reaches Cloudflare, so its CPU is spent in another workerd process; absent, the emulator runs
   * beside tunnelplane behind the `CLOUDFLARE_API` service binding.
   */
  emulatorUrl?: string;
}

const emulatorWorker = (scriptPath: string) => ({
  name: "emulator",
  modules: true,
  modulesRoot: ARTIFACTS,
  scriptPath,
  compatibilityDate: "2026-04-26",
  compatibilityFlags: ["nodejs_compat"],
  durableObjects: { STATE: { className: "EmulatorState", useSQLite: true } },
});

/** Starts the emulator alone in its own workerd process, on a free local port. */
export async function startEmulator(): Promise<{ mf: Miniflare; url: string }> {
  const mf = new Miniflare({
    workers: [emulatorWorker(await bundle("emulator/src/index.ts", "emulator"))],
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { mf, url };
}

/** Starts tunnelplane and the emulator in workerd. */
export async function startWorkers(options: WorkerOptions = {}): Promise<Miniflare> {
  const [tunnelplane, emulator] = await Promise.all([
    bundle("src/index.ts", "tunnelplane"),
    options.emulatorUrl === undefined ? bundle("emulator/src/index.ts", "emulator") : undefined,
  ]);
  const queue = options.queue
    ? {
        queueProducers: { RECONCILE_QUEUE: RECONCILE_QUEUE },
        queueConsumers: {
          [RECONCILE_QUEUE]: { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 3 },
        },
      }
    : {};
  return new Miniflare({
    workers: [
      {
        name: "tunnelplane",
        modules: true,
        modulesRoot: ARTIFACTS,
        scriptPath: tunnelplane,
        compatibilityDate: "2026-04-26",
        compatibilityFlags: ["nodejs_compat"],
        bindings: {
          ...VARS,
          ...(options.emulatorUrl === undefined
            ? {}
            : { CLOUDFLARE_API_BASE_URL: `${options.emulatorUrl}/client/v4` }),
          ...options.vars,
          ADMIN_API_KEY: ADMIN_KEY,
          TOKEN_ENCRYPTION_KEY: TOKEN_KEY,
        },
        d1Databases: ["DB"],
        durableObjects: { ACCOUNT_LOCK: { className: "AccountLock", useSQLite: true } },
        ...(emulator === undefined ? {} : { serviceBindings: { CLOUDFLARE_API: "emulator" } }),
        ...queue,
      },
      ...(emulator === undefined ? [] : [emulatorWorker(emulator)]),
    ],
  });
}

/** Applies every migration in migrations/, in order. */
export async function applyMigrations(db: D1Database): Promise<void> {
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

/** A started Worker and its D1. */
export interface Bench {
  mf: Miniflare;
  db: D1Database;
}

/** One REST call to tunnelplane with the admin key; `ms` is its wall time seen from Node. */
export async function send(
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

/** Like send, but throws on any status >= 300; returns the body. */
export async function must(bench: Bench, method: string, url: string, body?: unknown) {
  const result = await send(bench, method, url, body);
  if (result.status >= 300) {
    throw new Error(`${method} ${url}: ${result.status} ${JSON.stringify(result.json)}`);
  }
  return result.json;
}

/** A call to the emulator's `/__emulator` control API; returns the parsed body. */
export async function emulatorControl(
  { mf }: Bench,
  controlPath: string,
  method = "GET",
  body?: unknown,
): Promise<unknown> {
  const emulator = await mf.getWorker("emulator");
  const response = await emulator.fetch(`http://emulator/__emulator${controlPath}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return response.json();
}

/** The i-th /24 of 10.0.0.0/8 (i < 65,536). */
export const slash24 = (i: number) => `10.${i >> 8}.${i & 255}.0/24`;

/** Copies the stored row of `id` `count` times with `vary(i)`'s spec, id and natural key. */
export async function cloneRows(
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

/**
 * Seeds the account at `base` (`/v1/accounts/{accountId}`) with a tunnel `dc1`, an `auto`
 * Exclude default split tunnel, the proxy on, `routes` /24 routes and `policies` policies (the
 * first of each through the API, the rest cloned in D1); returns the tunnel's id.
 */
export async function seedNetwork(
  bench: Bench,
  accountId: string,
  routes: number,
  policies: number,
): Promise<string> {
  const base = `/v1/accounts/${accountId}`;
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
  return tunnel;
}
