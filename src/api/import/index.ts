/**
 * `POST /v1/accounts/{account_id}/import`: adopts an unmanaged Cloudflare object, a Gateway
 * network rule or a hostname route. The object is read from Cloudflare now, turned into desired
 * state only when that loses nothing (else 422 with the reason) and stored with its Cloudflare
 * id. A reconcile run then marks it in Cloudflare (the ownership marker; for a rule, expressions
 * in tunnelplane's canonical spelling) as an ordinary planned update under the lease; when
 * another run holds the lease, the account is made due at once and the next run does it. Kinds
 * the API token may not read are skipped (`skipped`); when that is the imported kind, the answer
 * is a 502 naming the permission.
 */
import { createRoute } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import { describeTokenProblem } from "../../domain/token-permissions";
import { createReconcileDeps } from "../../reconciler/deps";
import { observeAccountNow } from "../../reconciler/observe-now";
import { requestRun } from "../../reconciler/request-run";
import { actorOf, createRouter } from "../context";
import { AccountParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { ProblemError } from "../problem";
import { toSkippedResource } from "../schemas/skipped";
import { importHostnameRoute } from "./hostname-route";
import { ImportInput, ImportResult } from "./import.schemas";
import { importPolicy } from "./network-policy";

const importRoute = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/import",
  operationId: "importObject",
  tags: ["Import"],
  security,
  summary: "Adopt an unmanaged Cloudflare object into the desired state, without loss",
  request: {
    params: AccountParams,
    body: { required: true, content: { "application/json": { schema: ImportInput } } },
  },
  responses: {
    201: {
      description:
        "Stored; a run marks it in Cloudflare (now, or next when one is under way). `before` is the object as it was found; `skipped` lists the kinds the API token may not read",
      content: { "application/json": { schema: ImportResult } },
    },
    ...problemResponses(
      "malformed-request",
      "not-found",
      "already-managed",
      "precedence-taken",
      "duplicate-route",
      "validation-failed",
      "not-importable",
      "limit-exceeded",
      "assertion-failed",
      "upstream-failed",
    ),
  },
});

export const importRouter = createRouter().openapi(importRoute, async (c) => {
  const { account_id } = c.req.valid("param");
  const { kind, cloudflare_id } = c.req.valid("json");
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, account_id);
  const outcome = await observeAccountNow(createReconcileDeps(c.env), account_id, "import");
  if (outcome.status !== "observed") {
    throw outcome.status === "not-found"
      ? new ProblemError("not-found", `Account ${account_id} is not registered.`)
      : new ProblemError("upstream-failed", outcome.message);
  }
  const unreadable = outcome.skipped.find((s) => s.kinds.includes(kind));
  if (unreadable !== undefined) {
    throw new ProblemError(
      "upstream-failed",
      `Cannot import the ${kind}: ${describeTokenProblem(unreadable.problem)}.`,
    );
  }
  const actor = actorOf(c);
  const body =
    kind === "network_policy"
      ? await importPolicy(db, account_id, outcome.observed, cloudflare_id, actor)
      : await importHostnameRoute(db, account, outcome.observed, cloudflare_id, actor);
  // Only a run writes to Cloudflare: it adds the marker as a planned update under the lease.
  await requestRun(createReconcileDeps(c.env), account_id);
  return c.json({ ...body, skipped: toSkippedResource(outcome.skipped) }, 201);
});
