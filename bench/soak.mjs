#!/usr/bin/env node
/**
 * Soak benchmark (`npm run bench:soak`): 5,000 mixed writes and reads against the control plane
 * that `npm start` runs on 127.0.0.1:8787, in a soak account of its own. It prints the memory of
 * the two workerd processes of the control plane's `wrangler dev` (the one serving port 8787 and
 * the one running the Worker) every 500 requests, their peaks (sampled every 250 ms), then once
 * more after 10 s idle and a full collection of every isolate, and exits 1 when any request failed
 * or when either process ends more than 64 MB above where it started (after a first collection).
 *
 * Memory is each process's resident set (RSS, from /proc, so Linux only) and the control plane
 * isolate's V8 heap (from the inspector workerd exposes on loopback). `npm start` itself collects
 * the isolates of both processes as their heaps grow (scripts/collect-garbage.mjs, README "Memory
 * of the local runtime"); the bench's collections at the start and end are its own. Bounded: at most
 * `--requests` requests (default 5,000) and `--minutes` minutes (default 30); loopback only.
 *
 * Usage: node bench/soak.mjs [--requests N] [--minutes M] [--concurrency C] [--mix routes]
 * (`--mix routes`: route creates only, e.g. `--requests 10000` for 10,000 routes in one run).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { findWorkerd } from "../scripts/workerd-processes.mjs";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "5000" },
    minutes: { type: "string", default: "30" },
    concurrency: { type: "string", default: "4" },
    mix: { type: "string", default: "mixed" },
  },
});
const REQUESTS = Number(args.requests);
const DEADLINE_MS = Date.now() + Number(args.minutes) * 60_000;
const CONCURRENCY = Number(args.concurrency);
/** `mixed` (the default mix below) or `routes` (route creates only). */
const ROUTES_ONLY = args.mix === "routes";
const REPORT_EVERY = 500;
const MAX_GROWTH_MB = 64;

const API = "http://127.0.0.1:8787";
/** The proxy's inspector, which `npm start` opens for its collector (scripts/start.mjs). */
const PROXY_INSPECTOR_PORT = 9231;
const AUTH = { authorization: "Bearer dev-admin-key", "content-type": "application/json" };
const ACCOUNT = "50a650a650a650a650a650a650a650a6";
const BASE = `${API}/v1/accounts/${ACCOUNT}`;
const SOAK_LIMITS = { routes: 100_000, network_policies: 100_000, virtual_networks: 100_000 };

const rssMb = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(line[1]) / 1024;
};

/**
 * Sends one inspector command and waits for its answer. `HeapProfiler.takeHeapSnapshot` makes V8
 * run a full, compacting collection first (the chunks are discarded): that is what the isolate
 * would do under the memory pressure of a deployed 128 MB Worker. (`HeapProfiler.collectGarbage`
 * would be cheaper, but V8 runs it as a task that workerd starts only at the isolate's next
 * event, so an idle isolate does not answer it.)
 */
function inspectOnce(url, method) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on("open", () => socket.send(JSON.stringify({ id: 1, method })));
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      // workerd answers takeHeapSnapshot by echoing the command, after the last chunk.
      if (message.id === 1) {
        socket.close();
        resolve(message.result);
      }
    });
    socket.on("error", () => reject(new Error(`inspector ${url} failed`)));
    // workerd allows one session per isolate: a second client connecting (ours, or `npm start`'s
    // collector reopening its session) closes both, without an answer, which would otherwise
    // leave the await pending forever.
    socket.on("close", (code) =>
      reject(new Error(`inspector ${url} closed (${code}) on ${method}`)),
    );
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

/**
 * A full collection of every isolate in the Worker's process (the control plane's and those of
 * the local runtime, the D1 simulator's above all, which holds each query's garbage) and, when
 * `npm start` gave it an inspector, in the proxy's. The first one makes each process allocate
 * 60–70 MB to serialize its snapshots, which the allocator keeps: the baseline is taken after it.
 */
async function collectAll() {
  for (const port of [target.inspectorPort, PROXY_INSPECTOR_PORT]) {
    const isolates = await fetch(`http://127.0.0.1:${port}/json/list`).then(
      (response) => response.json(),
      () => [],
    );
    // `…#PROXY_CONTROLLER` isolates (service bindings to wrangler's Node side) cannot be reached.
    for (const isolate of isolates.filter((i) => !i.webSocketDebuggerUrl.includes("#"))) {
      await inspect(isolate.webSocketDebuggerUrl, "HeapProfiler.takeHeapSnapshot");
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

/** The soak account, its tunnel and default profile (created once; reused on later runs). */
async function prepare() {
  const existing = await call("GET", `/v1/accounts/${ACCOUNT}`);
  if (existing.status === 404) {
    const created = await call("POST", "/v1/accounts", {
      account_id: ACCOUNT,
      name: "Soak",
      api_token: "token-for-the-local-emulator-0123456789ab",
      mode: "observe",
      reconcile_interval_s: 300,
    });
    if (created.status !== 201) {
      throw new Error(
        `registering the soak account: ${created.status} ${JSON.stringify(created.body)}`,
      );
    }
  }
  // Past Cloudflare's default account limits (1,000 routes, 500 policies), as an Enterprise
  // account may be: the soak writes thousands of each, run after run.
  const raised = await call("PATCH", `/v1/accounts/${ACCOUNT}`, { limits: SOAK_LIMITS });
  if (raised.status !== 200) {
    throw new Error(
      `raising the soak account's limits: ${raised.status} ${JSON.stringify(raised.body)}`,
    );
  }
  const name = `soak-${Date.now()}`;
  const tunnel = await call("POST", `${BASE}/tunnels`.slice(API.length), { name });
  await call("PUT", `${BASE}/split-tunnels/default`.slice(API.length), {
    mode: "exclude",
    auto: true,
  });
  return { tunnelId: tunnel.body.id, stamp: Date.now() % 1_000_000 };
}

/** Request `i` of the mix: 40% route creates, 20% policy writes, 10% virtual networks, 30% reads. */
function request(i, ctx) {
  const path = (p) => `/v1/accounts/${ACCOUNT}${p}`;
  const slot = ROUTES_ONLY ? 0 : i % 10;
  if (slot < 4) {
    const n = ctx.stamp * 8 + i;
    const network = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/32`;
    return ["POST", path("/routes"), { network, tunnel_id: ctx.tunnelId }, 201];
  }
  if (slot < 6) {
    return [
      "POST",
      path("/policies"),
      {
        name: `soak ${ctx.stamp}-${i}`,
        action: "allow",
        precedence: 100_000 + ((ctx.stamp * 10 + i) % 900_000),
        destinations: [`10.250.${(i >> 8) & 255}.${i & 255}`],
        emails: [`user${i}@example.com`],
      },
      201,
    ];
  }
  if (slot === 6) {
    return ["POST", path("/virtual-networks"), { name: `soak-${ctx.stamp}-${i}` }, 201];
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
 * at the start and the end: reading it opens an inspector session, which closes the one of
 * `npm start`'s collector on that isolate for a few seconds.
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
const uncollected = await memory(false);
await collectAll();
const before = await memory(true);
console.log(`workerd pids: port 8787 ${target.proxyPid}, Worker ${target.workerPid}`);
console.log(`uncollected  ${show(uncollected)}`);
console.log(`start        ${show(before)}  (after a first full collection)`);

const peak = { proxy: before.proxy, worker: before.worker };
const sampler = setInterval(() => {
  peak.proxy = Math.max(peak.proxy, rssMb(target.proxyPid));
  peak.worker = Math.max(peak.worker, rssMb(target.workerPid));
}, 250);
const ctx = await prepare();
let sent = 0;
let failed = 0;
const startedAt = Date.now();
async function worker() {
  while (sent < REQUESTS && Date.now() < DEADLINE_MS) {
    const i = sent++;
    const [method, path, body, expected] = request(i, ctx);
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
    if ((i + 1) % REPORT_EVERY === 0) {
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
      console.log(
        `${String(i + 1).padStart(5)}        ${show(await memory())}  ${seconds} s  failed ${failed}`,
      );
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));

clearInterval(sampler);
const busy = await memory();
await new Promise((resolve) => setTimeout(resolve, 10_000));
await collectAll();
const idle = await memory(true);
console.log(`end (busy)   ${show(busy)}`);
console.log(`peak         ${show(peak)}`);
console.log(`end (idle)   ${show(idle)}  (10 s idle, then a full collection of every isolate)`);
const growth = { proxy: idle.proxy - before.proxy, worker: idle.worker - before.worker };
console.log(
  `${sent} requests in ${((Date.now() - startedAt) / 1000).toFixed(0)} s, ${failed} failed; growth: port-8787 process ${growth.proxy.toFixed(0)} MB, Worker process ${growth.worker.toFixed(0)} MB, Worker heap ${(idle.heap - before.heap).toFixed(1)} MB (limit ${MAX_GROWTH_MB} MB a process)`,
);
const passed = failed === 0 && growth.proxy <= MAX_GROWTH_MB && growth.worker <= MAX_GROWTH_MB;
console.log(passed ? "PASS" : "FAIL");
process.exit(passed ? 0 : 1);
