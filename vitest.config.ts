import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { build } from "esbuild";
import { configDefaults, defineConfig } from "vitest/config";

/** Test-only secrets: the admin key the helpers send and a fixed AES-256 key (base64). */
export const TEST_ADMIN_API_KEY = "tp_test_admin_key";
/** Cloudflare Access settings; the certs Worker (test/fixtures/access-certs.ts) holds the keys. */
const TEST_ACCESS_TEAM_DOMAIN = "tunnelplane-test.cloudflareaccess.com";
const TEST_ACCESS_AUD = "tunnelplane-test-aud";
const TEST_TOKEN_ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

// The emulator is a separate Worker; it is bundled when the config loads so the tests always run
// its current source next to the control plane.
async function bundleEmulator(): Promise<string> {
  const outfile = path.resolve("test/artifacts/emulator.mjs");
  await build({
    entryPoints: [path.resolve("emulator/src/index.ts")],
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

// Test fixtures served as Workers (the callback receiver, bound as CALLBACK_FETCH; the Access
// certs, bound as ACCESS_CERTS_FETCH); bundled like the emulator.
async function bundleFixture(name: string): Promise<string> {
  const outfile = path.resolve(`test/artifacts/${name}.mjs`);
  await build({
    entryPoints: [path.resolve(`test/fixtures/${name}.ts`)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "warning",
  });
  return outfile;
}

/** The browser test (headless Chromium against `wrangler dev`): plain Node, no Workers pool. */
const BROWSER_TESTS = "test/browser/**/*.test.ts";

// Two projects: the Workers tests in workerd (the pool below), and the browser test in Node.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.resolve("migrations"));
  const emulatorScript = await bundleEmulator();
  const receiverScript = await bundleFixture("callback-receiver");
  const accessCertsScript = await bundleFixture("access-certs");
  const workers = {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_API_KEY: TEST_ADMIN_API_KEY,
            TOKEN_ENCRYPTION_KEY: TEST_TOKEN_ENCRYPTION_KEY,
            // Short, so a receiver that never answers costs the tests a quarter of a second.
            CALLBACK_ATTEMPT_TIMEOUT_MS: "250",
            // Event webhooks retry after 1 s, then 2 s, and give up after 3 attempts.
            EVENT_DELIVERY_MAX_ATTEMPTS: "3",
            EVENT_FIRST_RETRY_AFTER_S: "1",
            ACCESS_TEAM_DOMAIN: TEST_ACCESS_TEAM_DOMAIN,
            ACCESS_AUD: TEST_ACCESS_AUD,
          },
          serviceBindings: {
            CLOUDFLARE_API: "emulator",
            CALLBACK_FETCH: "callback-receiver",
            ACCESS_CERTS_FETCH: "access-certs",
          },
          workers: [
            {
              name: "emulator",
              modules: true,
              scriptPath: emulatorScript,
              compatibilityDate: "2026-04-26",
              compatibilityFlags: ["nodejs_compat"],
              durableObjects: { STATE: { className: "EmulatorState", useSQLite: true } },
            },
            {
              name: "callback-receiver",
              modules: true,
              scriptPath: receiverScript,
              compatibilityDate: "2026-04-26",
            },
            {
              name: "access-certs",
              modules: true,
              scriptPath: accessCertsScript,
              compatibilityDate: "2026-04-26",
            },
          ],
        },
      }),
    ],
    test: {
      name: "workers",
      include: ["test/**/*.test.ts"],
      exclude: [...configDefaults.exclude, BROWSER_TESTS],
      setupFiles: ["./test/setup/apply-migrations.ts"],
      sequence: { groupOrder: 0 },
    },
  };
  const browser = {
    test: {
      name: "browser",
      include: [BROWSER_TESTS],
      environment: "node",
      // After the Workers tests, not beside them: both are CPU-bound on a two-core machine.
      sequence: { groupOrder: 1 },
      // Starting two `wrangler dev` and a browser takes tens of seconds on a busy machine.
      hookTimeout: 180_000,
      testTimeout: 60_000,
    },
  };
  return { test: { projects: [workers, browser] } };
});
