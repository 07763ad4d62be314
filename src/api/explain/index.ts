/**
 * `POST /v1/accounts/{account_id}/explain`: can this user reach this address, and if not, why?
 * Works on the desired state by default, on Cloudflare as observed now with `?state=observed`
 * (kinds the API token may not read skipped, and the verdict `unknown` when one of them could
 * have decided it).
 */
import { createRoute } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import { explain } from "../../domain/explain/explain";
import { verdictWithUnread } from "../../domain/explain/unread";
import { evaluationUnits } from "../../domain/policies/access-delta";
import { requestWork } from "../../domain/quotas";
import { createRouter } from "../context";
import { AccountParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { enforceWorkBudget } from "../quotas";
import { sharedRulesObservedAt, toSkippedResource } from "../schemas/skipped";
import {
  ExplainInput,
  ExplainQuery,
  ExplainResult,
  toExplanationResource,
} from "./explain.schemas";
import { desiredNetworkView, observedNetworkView } from "./network";

const explainRoute = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/explain",
  operationId: "explainAccess",
  tags: ["Explain"],
  security,
  summary: "Explain whether a user can reach an address: split tunnel, route, proxy, policy",
  request: {
    params: AccountParams,
    query: ExplainQuery,
    body: { required: true, content: { "application/json": { schema: ExplainInput } } },
  },
  responses: {
    200: {
      description: "The verdict and every step that led to it",
      content: { "application/json": { schema: ExplainResult } },
    },
    ...problemResponses(
      "malformed-request",
      "not-found",
      "validation-failed",
      "limit-exceeded",
      "upstream-failed",
    ),
  },
});

export const explainRouter = createRouter().openapi(explainRoute, async (c) => {
  const { account_id } = c.req.valid("param");
  const { state } = c.req.valid("query");
  const body = c.req.valid("json");
  const account = await requireAccount(createDb(c.env.DB), account_id);
  const selection = { profile: body.device_profile, virtualNetwork: body.virtual_network_id };
  const { view, sharedRulesObservedAtMs, skipped } =
    state === "observed"
      ? await observedNetworkView(c.env, account_id, selection, account.initialResolvedIpv4)
      : await desiredNetworkView(createDb(c.env.DB), account_id, selection);
  enforceWorkBudget(account, requestWork("explain", evaluationUnits(view.policies), 1));
  const explanation = explain(view, {
    email: body.email.toLowerCase(),
    groups: body.groups,
    passedPostureChecks: body.device_posture_checks,
    destinationIp: body.destination_ip ?? "",
    destinationHost: body.destination_host?.toLowerCase() ?? null,
    port: body.port,
    protocol: body.protocol,
  });
  const showNetwork = c.req.valid("json").virtual_network_id !== "default";
  const unread = skipped.map((s) => ({
    kinds: s.kinds,
    reason: `the API token lacks ${s.problem.permission}`,
  }));
  return c.json(
    {
      state,
      ...toExplanationResource(explanation, showNetwork),
      ...verdictWithUnread(explanation, unread, body.destination_host !== undefined),
      skipped: toSkippedResource(skipped),
      shared_rules_observed_at: sharedRulesObservedAt(sharedRulesObservedAtMs),
    },
    200,
  );
});
