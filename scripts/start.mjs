#!/usr/bin/env node
/**
 * `npm start`: the whole control plane on this machine. Applies D1 migrations locally, starts the
 * Cloudflare API emulator (port 8788) and the control plane (port 8787) with `wrangler dev`, seeds
 * a demo account, and fires the Cron Trigger every 30 s (wrangler dev never fires schedules by
 * itself). RATE_LIMIT_CALLS (and RATE_LIMIT_WINDOW_S, RATE_LIMIT_LOCKOUT_S) lower the emulated
 * Cloudflare rate limit. Unless `TUNNELPLANE_DEVTOOLS=1`, it quiets both inspectors and collects
 * the garbage of the control plane's isolates, in the Worker's process and in wrangler's proxy, as
 * their heaps grow (collect-garbage.mjs: local workerd keeps the native memory of uncollected
 * requests otherwise). Ctrl-C stops everything.
 */
import { spawn, spawnSync } from "node:child_process";
import { lookup } from "node:dns/promises";
import { copyFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { collectGarbage } from "./collect-garbage.mjs";
import { seedDemo } from "./demo.mjs";
import { quietInspector } from "./quiet-inspector.mjs";
import { findWorkerd } from "./workerd-processes.mjs";

const API_PORT = 8787;
const EMULATOR_PORT = 8788;
const API_INSPECTOR_PORT = 9229;
const EMULATOR_INSPECTOR_PORT = 9230;
/** `TUNNELPLANE_DEVTOOLS=1` leaves the inspectors free for Chrome DevTools (and unquieted). */
const DEVTOOLS = process.env.TUNNELPLANE_DEVTOOLS === "1";
const CRON_EVERY_MS = 30_000;
/**
 * When an isolate of the control plane is collected (workerd#6894): once its heap has grown 4 MB
 * past what the last collection left, or 2 s after that collection if it has grown at all.
 */
const COLLECT = { growthBytes: 4 * 1024 * 1024, everyMs: 2_000 };
const API = `http://127.0.0.1:${API_PORT}`;
const EMULATOR = `http://127.0.0.1:${EMULATOR_PORT}`;
const wrangler = fileURLToPath(new URL("../node_modules/.bin/wrangler", import.meta.url));
const quietEnv = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };

// wrangler dev fetches the `Request.cf` placeholder from workers.cloudflare.com and, offline,
// prints a warning with a DNS stack trace for each Worker it starts. Offline, it is told not to.
const online = await lookup("workers.cloudflare.com").then(
  () => true,
  () => false,
);
if (!online) {
  quietEnv.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  console.log("offline: wrangler dev uses its built-in Request.cf placeholder");
}
/** Linux, without DevTools: the collector also reaches the proxy's isolates. */
const COLLECTING = !DEVTOOLS && process.platform === "linux";
/** The control plane's environment: with the collector, workerd through the wrapper. */
function apiEnvironment() {
  if (!COLLECTING) {
    return quietEnv;
  }
  // The binary miniflare would run (one the user chose included), so that the wrapper runs it.
  const fromMiniflare = createRequire(createRequire(import.meta.url).resolve("miniflare"));
  return {
    ...quietEnv,
    MINIFLARE_WORKERD_PATH: fileURLToPath(new URL("workerd-inspectable.sh", import.meta.url)),
    TUNNELPLANE_WORKERD: process.env.MINIFLARE_WORKERD_PATH ?? fromMiniflare("workerd").default,
  };
}
/** The commit /healthz reports, when this is a git checkout. */
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
const commitVars =
  commit.status === 0 ? ["--var", `TUNNELPLANE_COMMIT:${commit.stdout.trim()}`] : [];

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example (local secrets)");
}

console.log("applying D1 migrations to the local database…");
const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "tunnelplane", "--local"], {
  stdio: "inherit",
  env: quietEnv,
});
if (migrate.status !== 0) {
  process.exit(migrate.status ?? 1);
}

const children = [];
function start(name, args, env) {
  const child = spawn(wrangler, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (line) => `[${name}] ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      for (const line of chunk.split("\n").filter((l) => l.trim() !== "")) {
        // wrangler dev looks up workers.cloudflare.com; without internet that fails harmlessly.
        if (!line.includes("ENOTFOUND")) {
          console.log(prefix(line));
        }
      }
    });
  }
  child.on("exit", (code) => {
    console.log(prefix(`exited with ${code}`));
    shutdown(code ?? 1);
  });
  children.push(child);
}

let stopping = false;
function shutdown(code) {
  if (stopping) {
    return;
  }
  stopping = true;
  for (const child of children) {
    child.kill("SIGINT");
  }
  setTimeout(() => process.exit(code), 500);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

// RATE_LIMIT_CALLS, RATE_LIMIT_WINDOW_S and RATE_LIMIT_LOCKOUT_S in this environment lower the
// emulator's rate limit (default Cloudflare's: 1200 calls per 300 s, 300 s lockout).
const rateLimitVars = ["RATE_LIMIT_CALLS", "RATE_LIMIT_WINDOW_S", "RATE_LIMIT_LOCKOUT_S"]
  .filter((name) => (process.env[name] ?? "") !== "")
  .flatMap((name) => ["--var", `${name}:${process.env[name]}`]);

start(
  "emulator",
  [
    "dev",
    "--config",
    "emulator/wrangler.toml",
    "--ip",
    "127.0.0.1",
    "--port",
    `${EMULATOR_PORT}`,
    "--inspector-port",
    `${EMULATOR_INSPECTOR_PORT}`,
    ...rateLimitVars,
  ],
  quietEnv,
);
start(
  "api",
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    `${API_PORT}`,
    "--inspector-port",
    `${API_INSPECTOR_PORT}`,
    "--test-scheduled",
    "--var",
    `CLOUDFLARE_API_BASE_URL:${EMULATOR}/client/v4`,
    ...commitVars,
  ],
  apiEnvironment(),
);

async function waitFor(url, label) {
  for (let i = 0; i < 240; i++) {
    try {
      const response = await fetch(url);
      if (response.status < 500) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${label} did not start on ${url}`);
}

async function fireCron() {
  try {
    await fetch(`${API}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  } catch (error) {
    console.log(`[cron] ${error.message}`);
  }
}

try {
  await Promise.all([
    waitFor(`${EMULATOR}/__emulator/calls?since=0`, "emulator"),
    waitFor(`${API}/healthz`, "control plane"),
  ]);
  if (!DEVTOOLS) {
    quietInspector(API_INSPECTOR_PORT);
    quietInspector(EMULATOR_INSPECTOR_PORT);
  }
  if (COLLECTING) {
    const ports = () => {
      const found = findWorkerd(API_PORT);
      return [found.inspectorPort, found.proxyInspectorPort].filter((p) => p !== undefined);
    };
    collectGarbage(ports, COLLECT);
  }
  const demo = await seedDemo(API, "dev-admin-key");
  console.log(`
tunnelplane is running.
  API            ${API}/v1          (Authorization: Bearer dev-admin-key)
  Docs           ${API}/docs        OpenAPI: ${API}/openapi.json
  Emulator       ${EMULATOR}/client/v4   (calls: ${EMULATOR}/__emulator/calls)
  Cron           fired every ${CRON_EVERY_MS / 1000} s; by hand: curl "${API}/__scheduled?cron=*+*+*+*+*"
  DevTools       ${DEVTOOLS ? `chrome://inspect on 127.0.0.1:${API_INSPECTOR_PORT}` : "TUNNELPLANE_DEVTOOLS=1 npm start frees the inspector for Chrome DevTools"}
  Demo account   ${demo.accountId}  (${demo.note})
Ctrl-C stops everything.
`);
  await fireCron();
  setInterval(fireCron, CRON_EVERY_MS);
} catch (error) {
  console.error(error.message);
  shutdown(1);
}
