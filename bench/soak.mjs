#!/usr/bin/env node
/**
 * Soak benchmark (`npm run bench:soak`): 5,000 writes, with reads between them (3 requests of
 * every 10), against the control plane that `npm start` runs on 127.0.0.1:8787, in a soak account
 * of its own. It measures the two workerd processes of the control plane's `wrangler dev` (the one
 * serving port 8787, wrangler's proxy, and the one running the Worker):
 *
 * 1. as found (fresh, on a fresh `npm start`): where it started, the reading the verdict uses;
 * 2. after a warm-up of 500 requests of the same mix and a settle (10 s idle, then five
 *    `GET /healthz` a second apart, so that every isolate on a request's way runs the collection
 *    `npm start`'s collector asked it for): the first requests of a fresh process fill its code
 *    caches, SQLite's page cache and the allocator's pools for good, so the growth from here is
 *    printed too, as the run's own;
 * 3. every 500 requests of the run, and its peak (sampled every 250 ms);
 * 4. after the run and the same settle.
 *
 * It exits 1 when fewer writes than asked were made (the `--minutes` bound), when any request
 * failed, or when either process ends more than 64 MB above where it was found. Memory is each
 * process's resident set (RSS, from /proc, so Linux only) and the control plane isolate's V8 heap
 * (from workerd's inspector on loopback, read only after the warm-up and at the end: a second
 * inspector session on an isolate closes both, the collector's for a few seconds). The bench collects
 * nothing itself: it measures `npm start` as it runs (scripts/collect-garbage.mjs, README "Memory
 * of the local runtime"). Bounded: at most `--writes` writes (default 5,000) and `--minutes`
 * minutes (default 30); loopback only.
 *
 * Usage: node bench/soak.mjs [--writes N] [--warmup N] [--minutes M] [--concurrency C]
 * [--mix routes] (`--mix routes`: route creates only, e.g. `--writes 10000` for 10,000 routes in
 * one run).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { findWorkerd } from "../scripts/workerd-processes.mjs";

const { values: args } = parseArgs({
  options: {
    writes: { type: "string", default: "5000" },
    warmup: { type: "string", default: "500" },
    minutes: { type: "string", default: "30" },
    concurrency: { type: "string", default: "4" },
    mix: { type: "string", default: "mixed" },
  },
});
const WRITES = Number(args.writes);
const WARMUP = Number(args.warmup);
const DEADLINE_MS = Date.now() + Number(args.minutes) * 60_000;
const CONCURRENCY = Number(args.concurrency);
/** `mixed` (the default mix below) or `routes` (route creates only). */
const ROUTES_ONLY = args.mix === "routes";
const REPORT_EVERY = 500;
const MAX_GROWTH_MB = 64;

const API = "http://127.0.0.1:8787";
const AUTH = { authorization: "Bearer dev-admin-key", "content-type": "application/json" };
const SOAK_LIMITS = { routes: 100_000, network_policies: 100_000, virtual_networks: 100_000 };

/**
 * A process's RSS in MB.
 * @throws Error when the process is gone (wrangler restarted it mid-run)
 */
const rssMb = (pid) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return Number(line[1]) / 1024;
  } catch {
    throw new Error(`workerd process ${pid} is gone: wrangler restarted it mid-run`);
  }
};

/** Sends one inspector command and waits (at most 10 s) for its answer. */
function inspectOnce(url, method) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => socket.terminate(), 10_000);
    socket.on("open", () => socket.send(JSON.stringify({ id: 1, method })));
    socket.on("message", (data) => {
      let message;
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (message?.id === 1) {
        clearTimeout(timer);
        socket.close();
        if (message.result === undefined) {
          reject(new Error(`inspector ${url} refused ${method}: ${JSON.stringify(message)}`));
        }
        resolve(message.result);
      }
    });
    socket.on("error", () => reject(new Error(`inspector ${url} failed`)));
    // workerd allows one session per isolate: a second client connecting (ours, or `npm start`'s
    // collector reopening its session) closes both, without an answer, which would otherwise
    // leave the await pending forever.
    socket.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`inspector ${url} closed (${code}) on ${method}`));
    });
  });
}

/** inspectOnce, asked again (up to 3 times) when the session is closed under it. */
async function inspect(url, method) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inspectOnce(url, method);
    } catch (error) {
      if (attempt === 3) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function heapMb(url) {
  const usage = await inspect(url, "Runtime.getHeapUsage");
  return usage.usedSize / 1024 / 1024;
}

async function call(method, path, body) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // An answer that is not JSON (wrangler's own 503 text when the Worker restarts) is kept as text.
  let parsed = text;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    // kept as text
  }
  return { status: response.status, body: parsed };
}

/**
 * A soak account of this run's own (so that nothing a run writes can collide with an earlier
 * run's routes, names or precedences), its tunnel and default profile. Returns the request
 * context `{ account, tunnelId }`.
 */
async function prepare() {
  const account = `50a6${Date.now().toString(16).padStart(28, "0")}`;
  const created = await call("POST", "/v1/accounts", {
    account_id: account,
    name: `Soak ${new Date().toISOString()}`,
    api_token: "token-for-the-local-emulator-0123456789ab",
    mode: "observe",
    reconcile_interval_s: 300,
    // Past Cloudflare's default account limits (1,000 routes, 500 policies), as an Enterprise
    // account may be: the soak writes thousands of each.
    limits: SOAK_LIMITS,
  });
  if (created.status !== 201) {
    throw new Error(
      `registering the soak account: ${created.status} ${JSON.stringify(created.body)}`,
    );
  }
  const base = `/v1/accounts/${account}`;
  const tunnel = await call("POST", `${base}/tunnels`, { name: "soak" });
  await call("PUT", `${base}/split-tunnels/default`, { mode: "exclude", auto: true });
  return { account, tunnelId: tunnel.body.id };
}

/**
 * Leaves the run's account to a daily reconcile, so that the Cron Trigger's runs over the
 * accounts of earlier soaks do not weigh on later ones.
 */
async function retire(ctx) {
  await call("PATCH", `/v1/accounts/${ctx.account}`, { reconcile_interval_s: 86_400 });
}

/** Request `i` of the mix: 40% route creates, 20% policy writes, 10% virtual networks, 30% reads. */
function request(i, ctx) {
  const path = (p) => `/v1/accounts/${ctx.account}${p}`;
  const slot = ROUTES_ONLY ? 0 : i % 10;
  if (slot < 4) {
    const network = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
    return ["POST", path("/routes"), { network, tunnel_id: ctx.tunnelId }, 201];
  }
  if (slot < 6) {
    return [
      "POST",
      path("/policies"),
      {
        name: `soak ${i}`,
        action: "allow",
        precedence: 100_000 + i,
        destinations: [`10.250.${(i >> 8) & 255}.${i & 255}`],
        emails: [`user${i}@example.com`],
      },
      201,
    ];
  }
  if (slot === 6) {
    return ["POST", path("/virtual-networks"), { name: `soak-${i}` }, 201];
  }
  if (slot === 7) {
    return ["GET", path("/routes?limit=50"), undefined, 200];
  }
  if (slot === 8) {
    return ["GET", path("/policies?limit=50"), undefined, 200];
  }
  return ["GET", path("/split-tunnels/default"), undefined, 200];
}

const health = await fetch(`${API}/healthz`).catch(() => null);
if (health?.status !== 200) {
  console.error(`the control plane does not answer on ${API}: run \`npm start\` first`);
  process.exit(2);
}
/** The control plane's two workerd processes and the Worker isolate's inspector URL. */
const target = (() => {
  try {
    const found = findWorkerd(8787);
    return { ...found, inspector: `ws://127.0.0.1:${found.inspectorPort}/core:user:tunnelplane` };
  } catch (error) {
    console.error(`${error.message}: is \`npm start\` running?`);
    process.exit(2);
  }
})();
/**
 * Both processes' RSS, in MB, and with `heap` the Worker isolate's heap. The heap is read only
 * after the warm-up and at the end: reading it opens an inspector session, which closes both
 * itself (then retried) and the one of `npm start`'s collector on that isolate for a few seconds.
 */
async function memory(heap) {
  return {
    proxy: rssMb(target.proxyPid),
    worker: rssMb(target.workerPid),
    heap: heap ? await heapMb(target.inspector) : undefined,
  };
}
const show = (m) =>
  `port-8787 process ${m.proxy.toFixed(0)} MB  Worker process ${m.worker.toFixed(0)} MB${m.heap === undefined ? "" : `  Worker heap ${m.heap.toFixed(1)} MB`}`;
/** Waits 10 s, then sends five `GET /healthz` a second apart and waits 2 s more. */
async function settle() {
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  for (let k = 0; k < 5; k++) {
    await fetch(`${API}/healthz`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

let failed = 0;
let sent = 0;
let writes = 0;
/** Sends requests of the mix from `ctx` until `done()`, `concurrency` at a time. */
async function drive(ctx, done, report) {
  const one = async () => {
    while (!done() && Date.now() < DEADLINE_MS) {
      const i = sent++;
      const [method, path, body, expected] = request(i, ctx);
      if (method !== "GET") {
        writes++;
      }
      const answer = await call(method, path, body).catch((error) => ({
        status: 0,
        body: String(error),
      }));
      if (answer.status !== expected) {
        failed++;
        if (failed <= 5) {
          console.log(
            `  ${method} ${path} -> ${answer.status} ${JSON.stringify(answer.body).slice(0, 160)}`,
          );
        }
      }
      await report?.(i + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, one));
}

/** The soak in `ctx`'s account from memory `found`: true when it passes. */
async function soak(ctx, found) {
  await drive(ctx, () => sent >= WARMUP);
  await settle();
  const before = await memory(true);
  console.log(`warmed up    ${show(before)}  (after ${sent} requests of warm-up and a settle)`);

  const warmupSent = sent;
  const warmupWrites = writes;
  const peak = { proxy: before.proxy, worker: before.worker };
  let lost;
  const sampler = setInterval(() => {
    try {
      peak.proxy = Math.max(peak.proxy, rssMb(target.proxyPid));
      peak.worker = Math.max(peak.worker, rssMb(target.workerPid));
    } catch (error) {
      lost = error;
    }
  }, 250);
  const startedAt = Date.now();
  await drive(
    ctx,
    () => writes - warmupWrites >= WRITES,
    async (n) => {
      if ((n - warmupSent) % REPORT_EVERY === 0) {
        const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
        console.log(
          `${String(n - warmupSent).padStart(5)}        ${show(await memory())}  ${seconds} s  failed ${failed}`,
        );
      }
    },
  );
  const runSeconds = (Date.now() - startedAt) / 1000;
  clearInterval(sampler);
  if (lost) {
    throw lost;
  }
  const busy = await memory();
  await settle();
  const idle = await memory(true);
  console.log(`end (busy)   ${show(busy)}`);
  console.log(`peak         ${show(peak)}`);
  console.log(`end (idle)   ${show(idle)}  (after a settle)`);
  const growth = { proxy: idle.proxy - found.proxy, worker: idle.worker - found.worker };
  const mb = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(0)} MB`;
  console.log(
    `${sent - warmupSent} requests (${writes - warmupWrites} writes) in ${runSeconds.toFixed(0)} s after ${warmupSent} of warm-up, ${failed} failed in all`,
  );
  console.log(
    `growth after the warm-up: port-8787 process ${mb(idle.proxy - before.proxy)}, Worker process ${mb(idle.worker - before.worker)}, Worker heap ${(idle.heap - before.heap).toFixed(1)} MB`,
  );
  console.log(
    `growth from as found: port-8787 process ${mb(growth.proxy)}, Worker process ${mb(growth.worker)} (limit ${MAX_GROWTH_MB} MB a process)`,
  );
  const complete = writes - warmupWrites >= WRITES;
  if (!complete) {
    console.log(`incomplete: the --minutes deadline came after ${writes - warmupWrites} writes`);
  }
  return (
    complete && failed === 0 && growth.proxy <= MAX_GROWTH_MB && growth.worker <= MAX_GROWTH_MB
  );
}

const found = await memory(false);
console.log(`workerd pids: port 8787 ${target.proxyPid}, Worker ${target.workerPid}`);
console.log(`as found     ${show(found)}`);
const ctx = await prepare();
let passed = false;
try {
  passed = await soak(ctx, found);
} catch (error) {
  console.error(error.message);
} finally {
  await retire(ctx);
}
console.log(passed ? "PASS" : "FAIL");
process.exit(passed ? 0 : 1);
