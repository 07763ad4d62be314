/** What a run needs from the outside world, and building it from the Worker environment. */
import type { CloudflareEndpoint, SubrequestBudget } from "../cloudflare/client";
import { type Config, readConfig } from "../config";
import { createDb, type Db } from "../db/client";
import { type KeyRing, loadKeyRing } from "../lib/key-ring";
import { createLockClient, type LockClient } from "../lock/lock-client";
import type { ReconcileMessage } from "./continue";
import type { EventDeliveryMessage } from "./events/emit";

/** Everything a run needs from the outside world. */
export interface ReconcileDeps {
  db: Db;
  config: Config;
  endpoint: CloudflareEndpoint;
  lock: LockClient;
  /** The key ring that opens sealed API tokens and callback secrets (see lib/key-ring). */
  keyRing: () => Promise<KeyRing>;
  /** The clock, epoch ms. */
  nowMs: () => number;
  /** Waits, for Retry-After and backoff. */
  sleep: (ms: number) => Promise<void>;
  /** Sends one grant callback request (global fetch in production). */
  callbackFetch: (request: Request) => Promise<Response>;
  /** Where a continued run's follow-up is sent (RECONCILE_QUEUE); none: the cron picks it up. */
  queue: Queue<ReconcileMessage> | undefined;
  /** Where event deliveries are sent (the same RECONCILE_QUEUE); none: they stay pending. */
  eventQueue: Queue<EventDeliveryMessage> | undefined;
  /**
   * The subrequests the whole Worker invocation may still send, shared by all its runs (a queue
   * batch of many accounts); undefined: each run is bound by its own limit only.
   */
  invocationBudget?: SubrequestBudget;
}

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
    queue: env.RECONCILE_QUEUE as Queue<ReconcileMessage> | undefined,
    eventQueue: env.RECONCILE_QUEUE as Queue<EventDeliveryMessage> | undefined,
  };
}
