/**
 * The token `cloudflared tunnel run --token` needs, fetched from Cloudflare on request. It is a
 * secret: never stored by tunnelplane, never logged.
 */
import { SubrequestBudget } from "../cloudflare/client";
import { toUpstreamError } from "../cloudflare/errors";
import { getTunnelToken } from "../cloudflare/tunnels.adapter";
import type { ReconcileDeps } from "./deps";
import { clientFor } from "./reconcile-account";
import { defaultRetryPolicy, withRetry } from "./retry";

/** What became of a token request. */
export type TunnelTokenOutcome =
  | { status: "ok"; token: string }
  | { status: "not-found" }
  | { status: "upstream-failed"; message: string };

/** Fetches the run token of the Cloudflare tunnel `tunnelCloudflareId` (3 requests at most). */
export async function fetchTunnelToken(
  deps: ReconcileDeps,
  accountId: string,
  tunnelCloudflareId: string,
): Promise<TunnelTokenOutcome> {
  const client = await clientFor(deps, accountId, new SubrequestBudget(3));
  if (client === undefined) {
    return { status: "not-found" };
  }
  try {
    const token = await withRetry(defaultRetryPolicy(deps.sleep), () =>
      getTunnelToken(client, accountId, tunnelCloudflareId),
    );
    return { status: "ok", token };
  } catch (error) {
    return { status: "upstream-failed", message: toUpstreamError(error).message };
  }
}
