import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";

/** Test-only secrets: the admin key the helpers send and a fixed AES-256 key (base64). */
export const TEST_ADMIN_API_KEY = "tp_test_admin_key";
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

// Receives grant callbacks in the tests (bound as CALLBACK_FETCH); bundled like the emulator.
async function bundleCallbackReceiver(): Promise<string> {
  const outfile = path.resolve("test/artifacts/callback-receiver.mjs");
  await build({
    entryPoints: [path.resolve("test/fixtures/callback-receiver.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    logLevel: "warning",
  });
  return outfile;
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.resolve("migrations"));
  const emulatorScript = await bundleEmulator();
  const receiverScript = await bundleCallbackReceiver();
  return {
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
          },
          serviceBindings: { CLOUDFLARE_API: "emulator", CALLBACK_FETCH: "callback-receiver" },
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
          ],
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup/apply-migrations.ts"],
    },
  };
});
