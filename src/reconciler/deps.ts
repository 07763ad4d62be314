/** Builds a run's dependencies from the Worker environment. */
import { readConfig } from "../config";
import { createDb } from "../db/client";
import { loadKeyRing } from "../lib/key-ring";
import { createLockClient } from "../lock/lock-client";
import type { ReconcileDeps } from "./reconcile-account";

/**
 * Real clock, real sleep, the emulator service binding when bound, else the configured URL.
 * Grant callbacks go through the CALLBACK_FETCH service binding when bound (the tests bind a
 * receiver Worker there), else through the global fetch.
 */
export function createReconcileDeps(env: Env): ReconcileDeps {
  const config = readConfig(env as unknown as Record<string, unknown>);
  const callbacks = env.CALLBACK_FETCH;
  return {
    db: createDb(env.DB),
    config,
    endpoint: {
      baseUrl: env.CLOUDFLARE_API ? "http://emulator/client/v4" : config.cloudflareApiBaseUrl,
      fetcher: env.CLOUDFLARE_API,
    },
    lock: createLockClient(env.ACCOUNT_LOCK),
    keyRing: () => loadKeyRing(env),
    nowMs: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    callbackFetch: (request) => (callbacks ? callbacks.fetch(request) : fetch(request)),
  };
}
