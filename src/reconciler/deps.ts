/** Builds a run's dependencies from the Worker environment. */
import { readConfig } from "../config";
import { createDb } from "../db/client";
import { createLockClient } from "../lock/lock-client";
import type { ReconcileDeps } from "./reconcile-account";

/** Real clock, real sleep, the emulator service binding when bound, else the configured URL. */
export function createReconcileDeps(env: Env): ReconcileDeps {
  const config = readConfig(env as unknown as Record<string, unknown>);
  return {
    db: createDb(env.DB),
    config,
    endpoint: {
      baseUrl: env.CLOUDFLARE_API ? "http://emulator/client/v4" : config.cloudflareApiBaseUrl,
      fetcher: env.CLOUDFLARE_API,
    },
    lock: createLockClient(env.ACCOUNT_LOCK),
    tokenKey: env.TOKEN_ENCRYPTION_KEY,
    nowMs: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
