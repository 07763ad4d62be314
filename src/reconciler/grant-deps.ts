/** What grant work needs beyond a reconcile run: a way to reach callback receivers. */

import { createReconcileDeps } from "./deps";
import type { ReconcileDeps } from "./reconcile-account";

/** A run's dependencies plus the fetch that delivers callbacks. */
export interface GrantDeps extends ReconcileDeps {
  /** Sends one callback request; global fetch in production. */
  callbackFetch: (request: Request) => Promise<Response>;
}

/**
 * From the Worker environment. Callbacks go through the optional CALLBACK_FETCH service binding
 * when it is bound (the tests bind a receiver Worker there), else through the global fetch.
 */
export function createGrantDeps(env: Env): GrantDeps {
  const binding = env.CALLBACK_FETCH;
  return {
    ...createReconcileDeps(env),
    callbackFetch: (request) => (binding ? binding.fetch(request) : fetch(request)),
  };
}
