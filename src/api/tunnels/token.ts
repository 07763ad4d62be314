/**
 * `GET /v1/accounts/{account_id}/tunnels/{id}/token`: the token to run the tunnel's connector
 * (`cloudflared tunnel run --token <token>`), fetched from Cloudflare once the tunnel exists there.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import { getObject } from "../../db/desired-objects.repo";
import { createReconcileDeps } from "../../reconciler/deps";
import { fetchTunnelToken } from "../../reconciler/tunnel-token";
import { createRouter } from "../context";
import { ObjectParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { ProblemError } from "../problem";

const TunnelToken = z
  .object({
    token: z.string().openapi({ description: "Secret. Pass to `cloudflared tunnel run --token`." }),
    command: z.string().openapi({ example: "cloudflared tunnel run --token eyJhIjoi…" }),
  })
  .openapi("TunnelToken");

const getToken = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/tunnels/{id}/token",
  operationId: "getTunnelToken",
  tags: ["Tunnels"],
  security,
  summary: "Get the token that runs the tunnel's connector",
  request: { params: ObjectParams },
  responses: {
    200: {
      description: "The token (a secret)",
      content: { "application/json": { schema: TunnelToken } },
    },
    ...problemResponses("not-found", "tunnel-not-created", "validation-failed", "upstream-failed"),
  },
});

export const tunnelTokenRouter = createRouter().openapi(getToken, async (c) => {
  const { account_id, id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const tunnel = await getObject(db, account_id, "tunnel", id);
  if (tunnel === undefined) {
    throw new ProblemError("not-found", `No Tunnel ${id} in account ${account_id}.`);
  }
  if (tunnel.cloudflareId === null) {
    throw new ProblemError(
      "tunnel-not-created",
      "The tunnel does not exist in Cloudflare yet; reconcile the account first.",
    );
  }
  const outcome = await fetchTunnelToken(
    createReconcileDeps(c.env),
    account_id,
    tunnel.cloudflareId,
  );
  switch (outcome.status) {
    case "not-found":
      throw new ProblemError("not-found", `Account ${account_id} is not registered.`);
    case "upstream-failed":
      throw new ProblemError("upstream-failed", outcome.message);
    case "ok":
      c.header("Cache-Control", "no-store");
      return c.json(
        { token: outcome.token, command: `cloudflared tunnel run --token ${outcome.token}` },
        200,
      );
  }
});
