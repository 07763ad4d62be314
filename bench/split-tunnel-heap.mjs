#!/usr/bin/env node
/**
 * The control plane isolate's V8 heap inside workerd at 10,000 routes spread over 10.0.0.0/8
 * (`node bench/split-tunnel-heap.mjs`): a `wrangler dev` of its own on 127.0.0.1:8797 with its
 * inspector on 9239 and local state in a temporary directory, so it runs beside `npm start`.
 *
 * An account is registered through the API, the routes are written straight into the local D1
 * (10,000 route writes through the API would take minutes), an Exclude + auto default profile and
 * an Include + auto device profile are written, then every split tunnel answer is asked for
 * while the heap is sampled through the inspector (`Runtime.getHeapUsage` every few ms), and read
 * again after a full collection (`HeapProfiler.takeHeapSnapshot` collects first). Prints MB;
 * goal: under 64 (peak used). "Peak heap size" is what V8 had reserved at the peak.
 * Nothing here calls Cloudflare: the API's `CLOUDFLARE_API_BASE_URL` names port 8798, where no
 * emulator runs, and the account is in `observe` mode.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";

const API_PORT = 8797;
const INSPECTOR_PORT = 9239;
const API = `http://127.0.0.1:${API_PORT}`;
const ROUTES = 10_000;
const ACCOUNT = "5ea5ea5ea5ea5ea5ea5ea5ea5ea5ea5e";
const BASE = `${API}/v1/accounts/${ACCOUNT}`;
const AUTH = { authorization: "Bearer bench-admin-key", "content-type": "application/json" };
const wrangler = new URL("../node_modules/.bin/wrangler", import.meta.url).pathname;
const quietEnv = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
const state = mkdtempSync(join(tmpdir(), "tunnelplane-heap-"));
/** The running `wrangler dev`, stopped on the way out whatever happens. */
let api = null;

function run(args) {
  const result = spawnSync(wrangler, args, { env: quietEnv, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stderr}`);
  }
}

/** Starts the API's `wrangler dev`; resolves once it answers /healthz. */
async function startApi() {
  const child = spawn(
    wrangler,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      `${API_PORT}`,
      "--inspector-port",
      `${INSPECTOR_PORT}`,
      "--persist-to",
      state,
      "--var",
      `CLOUDFLARE_API_BASE_URL:http://127.0.0.1:8798/client/v4`,
      "--var",
      "ADMIN_API_KEY:bench-admin-key",
      "--var",
      "TOKEN_ENCRYPTION_KEY:YmVuY2gtb25seS1rZXktZG8tbm90LXVzZS1ldmVyISE=",
    ],
    { env: quietEnv, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  for (let i = 0; i < 240; i++) {
    const health = await fetch(`${API}/healthz`).catch(() => null);
    if (health?.status === 200) {
      return child;
    }
    if (child.exitCode !== null) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill("SIGINT");
  throw new Error(`the API did not start on ${API}:\n${stderr}`);
}

async function stopApi(child) {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
  }
}

async function call(method, path, body) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: AUTH,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    bytes: text.length,
    body: text === "" ? null : JSON.parse(text),
  };
}

/** SQL inserting `count` /24 routes spread over 10.0.0.0/8, one every 65,536 / count /24s. */
function spreadRoutesSql(count) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    const slot = Math.floor((i * 65_536) / count);
    const network = `10.${slot >> 8}.${slot & 255}.0/24`;
    const spec = JSON.stringify({ network, tunnelId: "t", virtualNetworkId: null, comment: "" });
    rows.push(
      `('${ACCOUNT}', 'tunnel_route', 'r${i}', 'default|${network}', '${spec}', 1, 'pending', 0, 0)`,
    );
  }
  const statements = [];
  for (let at = 0; at < rows.length; at += 500) {
    statements.push(
      `INSERT INTO desired_objects (account_id, kind, id, natural_key, spec_json, version, sync_state, created_at_ms, updated_at_ms) VALUES ${rows.slice(at, at + 500).join(", ")};`,
    );
  }
  return statements.join("\n");
}

/**
 * One inspector session on the Worker's isolate, through wrangler's inspector proxy (which holds
 * workerd's one session per isolate); each command answers within `timeoutMs` or fails.
 */
async function openInspector() {
  const socket = new WebSocket(`ws://127.0.0.1:${INSPECTOR_PORT}/ws`);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  return {
    send(method, timeoutMs = 30_000) {
      id++;
      const sent = id;
      socket.send(JSON.stringify({ id: sent, method }));
      return new Promise((resolve, reject) => {
        pending.set(sent, resolve);
        setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), timeoutMs).unref();
      });
    },
    close: () => socket.close(),
  };
}

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);

try {
  run(["d1", "migrations", "apply", "tunnelplane", "--local", "--persist-to", state]);
  api = await startApi();
  const created = await call("POST", "/v1/accounts", {
    account_id: ACCOUNT,
    name: "Heap bench",
    api_token: "token-for-the-local-emulator-0123456789ab",
    mode: "observe",
    reconcile_interval_s: 86_400,
  });
  if (created.status !== 201) {
    throw new Error(`registering the account: ${created.status} ${JSON.stringify(created.body)}`);
  }
  await call("PATCH", `/v1/accounts/${ACCOUNT}`, { limits: { routes: 100_000 } });
  await stopApi(api);
  const sql = join(state, "routes.sql");
  writeFileSync(sql, spreadRoutesSql(ROUTES));
  run(["d1", "execute", "tunnelplane", "--local", "--persist-to", state, "--file", sql]);
  api = await startApi();

  const inspector = await openInspector();
  const idle = await inspector.send("Runtime.getHeapUsage");
  let peakUsed = idle.usedSize;
  let peakTotal = idle.totalSize;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const usage = await inspector.send("Runtime.getHeapUsage");
      peakUsed = Math.max(peakUsed, usage.usedSize);
      peakTotal = Math.max(peakTotal, usage.totalSize);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  const answers = [];
  const ask = async (label, method, path, body) => {
    const answer = await call(method, path, body);
    answers.push([label, answer.status, answer.bytes]);
    return answer;
  };
  const rel = (path) => `${BASE}${path}`.slice(API.length);
  await ask("PUT split-tunnels/default", "PUT", rel("/split-tunnels/default"), {
    mode: "exclude",
    auto: true,
  });
  const profile = await ask("POST device-profiles", "POST", rel("/device-profiles"), {
    name: "Everyone",
    match: 'identity.email == "c@example.com"',
    precedence: 1,
    split_tunnel: { mode: "include", auto: true },
  });
  const read = await ask("GET split-tunnels/default", "GET", rel("/split-tunnels/default"));
  const id = profile.body.id;
  const first = encodeURIComponent(read.body.effective[0].address);
  await ask("GET split-tunnels/{profile}", "GET", rel(`/split-tunnels/${id}`));
  await ask("GET default/entries", "GET", rel("/split-tunnels/default/entries"));
  await ask("GET {profile}/entries", "GET", rel(`/split-tunnels/${id}/entries`));
  await ask(
    "GET default/entries?expand",
    "GET",
    rel("/split-tunnels/default/entries?expand=routes"),
  );
  await ask("GET default/entries/{first}", "GET", rel(`/split-tunnels/default/entries/${first}`));
  await ask("GET conflicts", "GET", rel("/conflicts"));
  sampling = false;
  await sampler;
  // A snapshot collects garbage first; a large one can take long on a busy machine.
  const collected = await inspector.send("HeapProfiler.takeHeapSnapshot", 180_000).then(
    () => true,
    () => false,
  );
  const after = await inspector.send("Runtime.getHeapUsage");
  inspector.close();
  await stopApi(api);

  console.log(
    `split tunnel answers at ${ROUTES.toLocaleString("en-US")} routes spread over 10.0.0.0/8, inside workerd (wrangler dev)`,
  );
  console.log("answer | status | bytes");
  for (const [label, status, bytes] of answers) {
    console.log(`${label} | ${status} | ${bytes.toLocaleString("en-US")}`);
  }
  console.log(
    `isolate heap MB: idle ${mb(idle.usedSize)}, peak used while answering ${mb(peakUsed)} (sampled every ~5 ms), peak heap size ${mb(peakTotal)}, ${collected ? "after a full collection" : "after the answers (no collection)"} ${mb(after.usedSize)} (goal: under 64)`,
  );
} finally {
  if (api !== null) {
    await stopApi(api);
  }
  rmSync(state, { recursive: true, force: true });
}
