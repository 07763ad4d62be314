/**
 * tunnelplane as a person runs it, for the browser test: the emulator and the control plane each
 * in its own `wrangler dev` on free loopback ports (never `npm start`'s 8787/8788/9229/9230), with
 * a fresh local D1 under a temporary directory that is deleted on stop.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The admin key the stack is started with (sent as `Authorization: Bearer …`). */
export const ADMIN_KEY = "browser-test-admin-key";
/** A fixed AES-256 key (base64) sealing the demo account's token in the temporary D1. */
const TOKEN_ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/** How long each Worker may take to answer after `wrangler dev` is spawned, ms. */
const START_TIMEOUT_MS = 90_000;

const root = fileURLToPath(new URL("../..", import.meta.url));
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  // Offline, wrangler would print a DNS stack trace fetching its Request.cf placeholder.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

/** A running stack: the control plane's and the emulator's base URLs, and how to stop both. */
export interface Stack {
  api: string;
  emulator: string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** Spawns `wrangler <args>` in its own process group, keeping its output for error messages. */
function startWrangler(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(wrangler, args, { cwd: root, env, detached: true, stdio: "pipe" });
  let output = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      output = (output + chunk).slice(-4000);
    });
  }
  return { child, output: () => output };
}

/** Runs `command args` to its end; resolves with its exit code and output. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: "pipe" });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("close", (code) => resolve({ code, output }));
  });
}

async function waitFor(url: string, label: string, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status < 500) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${label} did not answer on ${url}:\n${output()}`);
}

/** Stops a process group started by `startWrangler` (wrangler and its workerd). */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGINT");
  const timeout = setTimeout(
    () => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"),
    5000,
  );
  await exited;
  clearTimeout(timeout);
}

/**
 * Applies the migrations to a fresh local D1, starts both Workers (the control plane with
 * `--test-scheduled`) and resolves once both answer. Throws with wrangler's output when either
 * does not start within 90 s.
 */
export async function startStack(): Promise<Stack> {
  const state = mkdtempSync(path.join(tmpdir(), "tunnelplane-browser-"));
  const [apiPort, emulatorPort, apiInspector, emulatorInspector] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const api = `http://127.0.0.1:${apiPort}`;
  const emulator = `http://127.0.0.1:${emulatorPort}`;
  const common = [
    "--ip",
    "127.0.0.1",
    "--persist-to",
    state,
    "--show-interactive-dev-session=false",
  ];
  const emulatorProcess = startWrangler([
    "dev",
    "--config",
    "emulator/wrangler.toml",
    "--port",
    `${emulatorPort}`,
    "--inspector-port",
    `${emulatorInspector}`,
    ...common,
  ]);
  // The emulator starts while the control plane's D1 is migrated (it needs no D1 of its own).
  const migrate = await run(wrangler, [
    "d1",
    "migrations",
    "apply",
    "tunnelplane",
    "--local",
    "--persist-to",
    state,
  ]);
  if (migrate.code !== 0) {
    await stopGroup(emulatorProcess.child);
    rmSync(state, { recursive: true, force: true });
    throw new Error(`wrangler d1 migrations apply failed:\n${migrate.output}`);
  }
  const apiProcess = startWrangler([
    "dev",
    "--port",
    `${apiPort}`,
    "--inspector-port",
    `${apiInspector}`,
    "--test-scheduled",
    "--var",
    `CLOUDFLARE_API_BASE_URL:${emulator}/client/v4`,
    "--var",
    `ADMIN_API_KEY:${ADMIN_KEY}`,
    "--var",
    `TOKEN_ENCRYPTION_KEY:${TOKEN_ENCRYPTION_KEY}`,
    ...common,
  ]);
  const stop = async () => {
    await Promise.all([stopGroup(apiProcess.child), stopGroup(emulatorProcess.child)]);
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await Promise.all([
      waitFor(`${emulator}/__emulator/calls?since=0`, "the emulator", emulatorProcess.output),
      waitFor(`${api}/healthz`, "the control plane", apiProcess.output),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { api, emulator, stop };
}
