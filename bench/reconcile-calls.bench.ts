/**
 * Cloudflare API calls a reconcile sends for 100, 1,000 and 10,000 objects (10 routes to every
 * network policy, behind one tunnel), against the lower bound and against Terraform's refresh
 * (one GET per object), and the wall time a bootstrap needs within the default budget.
 *
 * Node runs neither workerd nor the emulator, so nothing here is sent over HTTP. What is computed
 * from the real code paths:
 * - writes per bootstrap: the actions `planAccount` plans for the generated desired state against
 *   an empty account (every create is one request, see the adapters);
 * - list calls: `listAllPages` (the paging every paged list uses) fed pages of MAX_PER_PAGE with
 *   Cloudflare's `total_count`, counting the pages it asks for; the single-page lists (virtual
 *   networks, Gateway rules, device profiles) and the two proxy singletons are one call each,
 *   as their adapters send them;
 * - bootstrap wall time: the run chain replayed on a simulated clock through the real token
 *   bucket (`reserveCalls`, sweep lane, 50% of 1,200 calls / 300 s, chunks of 10 as the run gate
 *   asks), each run re-observing what exists, stopping at MAX_SUBREQUESTS_PER_RUN (900) or when
 *   the bucket says wait, and continuing when `continueAtOf` / `continueDelaySeconds` say.
 *   Calls are taken as instant: real latency only adds to the time, never to the calls. The
 *   bound beside it: the share's 600 calls sent at the start of each 300 s window, back to back
 *   (the sweep lane leaves 25% of the share to revocations and asked-for runs, and a bucket slot
 *   counts whole while any part of it is in the window, so the chain is slower than the bound).
 * - writes per converged run and per one-object repair: `planAccount` against the account as the
 *   renderers say Cloudflare holds it once converged, whole and with one route deleted out of band
 *   (test/reconciler/seed-scenario.test.ts checks both against the emulator at a small size).
 */

import { listAllPages } from "../src/cloudflare/paging";
import { MAX_PER_PAGE } from "../src/cloudflare/tunnels.adapter";
import {
  type DesiredObject,
  type DesiredState,
  EMPTY_OBSERVED,
  newObject,
  type ObservedState,
} from "../src/domain/model";
import { planAccount } from "../src/domain/plan/plan";
import { renderPolicy, renderTunnelRoute } from "../src/domain/plan/render";
import { FRESH_BUDGET, type RateBudgetState, reserveCalls } from "../src/domain/rate-budget";
import { continueDelaySeconds } from "../src/reconciler/continue";
import { MIN_CONTINUE_DELAY_MS } from "../src/reconciler/summarise";

const SUBREQUESTS_PER_RUN = 900;
const BUDGET = { callsPerWindow: Math.floor(1200 * 0.5), windowMs: 300_000 };
const CALLS_PER_RESERVATION = 10;
/** Lists of one page whatever their size, and the proxy settings' two singletons. */
const SINGLE_PAGE_LISTS = 3;
const SINGLETONS = 2;

/** One tunnel, then `objects` routes and policies, ten routes to a policy. */
function desiredOf(objects: number): { desired: DesiredState; routes: number; policies: number } {
  const policies = Math.floor(objects / 11);
  const routes = objects - policies;
  const list: DesiredObject[] = [newObject("tunnel", "t0", { name: "dc1" })];
  for (let i = 0; i < routes; i++) {
    const network = `10.${(i >> 8) & 255}.${i & 255}.0/24`;
    list.push(
      newObject("tunnel_route", `r${i}`, {
        network,
        tunnelId: "t0",
        virtualNetworkId: null,
        comment: "",
      }),
    );
  }
  for (let i = 0; i < policies; i++) {
    list.push(
      newObject("network_policy", `p${i}`, {
        name: `p${i}`,
        action: "block",
        precedence: 1000 + i,
        enabled: true,
        destinations: [`10.${(i >> 8) & 255}.${i & 255}.0/24`],
        ports: [],
        protocols: [],
        emails: [],
        emailRegex: null,
      }),
    );
  }
  return { desired: { accountId: "0".repeat(32), objects: list }, routes, policies };
}

/**
 * What Cloudflare holds once `desired` has converged: the tunnel (its recorded id), every route
 * and policy as tunnelplane renders it, in the default virtual network.
 */
function convergedOf(desired: DesiredState): { desired: DesiredState; observed: ObservedState } {
  const objects = desired.objects.map((o) => ({
    ...o,
    cloudflareId: `cf-${o.id}`,
    syncedVersion: 1,
  }));
  const observed: ObservedState = {
    ...EMPTY_OBSERVED,
    tunnelRoutes: [],
    networkPolicies: [],
    virtualNetworks: [{ cloudflareId: "cf-vnet", name: "default", comment: "", isDefault: true }],
    tunnels: [{ cloudflareId: "cf-t0", name: "dc1", status: "healthy", createdAtMs: 0 }],
  };
  for (const o of objects) {
    if (o.kind === "tunnel_route") {
      const rendered = renderTunnelRoute(o as DesiredObject<"tunnel_route">, null);
      observed.tunnelRoutes.push({
        cloudflareId: `cf-${o.id}`,
        network: rendered.network,
        tunnelCloudflareId: "cf-t0",
        virtualNetworkCloudflareId: "cf-vnet",
        comment: rendered.comment,
      });
    } else if (o.kind === "network_policy") {
      observed.networkPolicies.push({
        cloudflareId: `cf-${o.id}`,
        ...renderPolicy(o as DesiredObject<"network_policy">),
      });
    }
  }
  return { desired: { ...desired, objects }, observed };
}

/** Pages `listAllPages` asks for to read `count` items (Cloudflare answers with total_count). */
async function pagesToList(count: number): Promise<number> {
  let calls = 0;
  await listAllPages(
    "teamnet/routes",
    MAX_PER_PAGE,
    async (page) => {
      calls++;
      const start = (page - 1) * MAX_PER_PAGE;
      const size = Math.max(0, Math.min(MAX_PER_PAGE, count - start));
      const result = Array.from({ length: size }, (_, i) => ({ id: `${start + i}` }));
      return { result, result_info: { total_count: count } };
    },
    (item) => item.id,
  );
  return calls;
}

/** Calls one observation sends with `tunnels` tunnels and `routes` routes in Cloudflare. */
async function observeCalls(tunnels: number, routes: number): Promise<number> {
  return (
    (await pagesToList(tunnels)) + (await pagesToList(routes)) + SINGLE_PAGE_LISTS + SINGLETONS
  );
}

/**
 * Replays a bootstrap of `writes` creates (tunnel first, then routes, then policies) as a chain of
 * continued runs on a simulated clock; returns the runs, the calls sent and the ms it took.
 */
async function simulateBootstrap(writes: number, routes: number) {
  let budget: RateBudgetState = FRESH_BUDGET;
  let nowMs = 0;
  let done = 0;
  let calls = 0;
  let runs = 0;
  while (done < writes) {
    runs++;
    let sent = 0;
    let granted = 0;
    let heldUntilMs: number | null = null;
    const take = (): boolean => {
      if (sent >= SUBREQUESTS_PER_RUN) {
        return false;
      }
      if (granted === 0) {
        const { next, result } = reserveCalls(
          budget,
          BUDGET,
          "sweep",
          CALLS_PER_RESERVATION,
          nowMs,
        );
        budget = next;
        if (result.status !== "granted") {
          heldUntilMs = result.retryAtMs;
          return false;
        }
        granted = result.calls;
      }
      granted--;
      sent++;
      return true;
    };
    const tunnels = Math.min(done, 1);
    const routesThere = Math.min(Math.max(done - 1, 0), routes);
    const observe = await observeCalls(tunnels, routesThere);
    let observed = true;
    for (let i = 0; i < observe && observed; i++) {
      observed = take();
    }
    while (observed && done < writes && take()) {
      done++;
    }
    calls += sent;
    if (done >= writes) {
      break;
    }
    const continueAtMs = Math.max(nowMs + MIN_CONTINUE_DELAY_MS, heldUntilMs ?? 0);
    nowMs += continueDelaySeconds(nowMs, continueAtMs) * 1000;
  }
  return { runs, calls, ms: nowMs };
}

/** Prints the table for each size. */
export async function runReconcileCallsBench(): Promise<void> {
  console.log(
    "\n== reconcile API calls (computed from planAccount, listAllPages and reserveCalls; not sent) ==",
  );
  console.log(
    "objects | routes+policies | one bootstrap pass: writes + lists (bound: a write per object and the tunnel) | converged: writes + lists (bound) | 1-object repair: writes + lists (bound) | Terraform refresh GETs | bootstrap runs, wall time at 50% of 1,200/5 min",
  );
  for (const objects of [100, 1_000, 10_000]) {
    const { desired, routes, policies } = desiredOf(objects);
    const writes = planAccount(desired, EMPTY_OBSERVED).actions.length;
    const converged = convergedOf(desired);
    const convergedWrites = planAccount(converged.desired, converged.observed).actions.length;
    // One route deleted out of band: the repair the next run plans.
    const drifted = {
      ...converged.observed,
      tunnelRoutes: converged.observed.tunnelRoutes.slice(1),
    };
    const repairWrites = planAccount(converged.desired, drifted).actions.length;
    const emptyObserve = await observeCalls(0, 0);
    const convergedLists = await observeCalls(1, routes);
    const bound =
      Math.ceil(1 / MAX_PER_PAGE) +
      Math.ceil(routes / MAX_PER_PAGE) +
      SINGLE_PAGE_LISTS +
      SINGLETONS;
    const terraform = 1 + routes + policies + SINGLETONS;
    // The whole share spent back to back, a window after a window: the least time the calls fit in.
    const boundMinutes =
      (Math.max(0, Math.ceil((writes + emptyObserve) / BUDGET.callsPerWindow) - 1) *
        BUDGET.windowMs) /
      60_000;
    const started = performance.now();
    const chain = await simulateBootstrap(writes, routes);
    const simulatedIn = performance.now() - started;
    console.log(
      [
        objects.toLocaleString("en"),
        `${routes}+${policies}`,
        `${writes} + ${emptyObserve} = ${writes + emptyObserve} (${objects + 1} + ${emptyObserve})`,
        `${convergedWrites} + ${convergedLists} (0 + ${bound})`,
        `${repairWrites} + ${convergedLists} (1 + ${bound})`,
        `${terraform}`,
        `${chain.runs} runs, ${chain.calls} calls with re-observations, ${(chain.ms / 60_000).toFixed(1)} min (bound ${boundMinutes.toFixed(1)} min; simulated in ${simulatedIn.toFixed(0)} ms)`,
      ].join(" | "),
    );
  }
}
