/**
 * `POST /v1/accounts/{account_id}/import`: adopts an unmanaged Gateway network rule. The rule is
 * read from Cloudflare now, turned into a structured policy only when that loses nothing (else
 * 422 with the reason) and stored with its Cloudflare id. A reconcile run then marks it in
 * Cloudflare (description + ownership marker, expressions in tunnelplane's canonical spelling)
 * as an ordinary planned update under the lease; when another run holds the lease, the account
 * is made due at once and the next run does it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import { insertObject } from "../../db/desired-objects.repo";
import { newObject } from "../../domain/model";
import { readMarker } from "../../domain/plan/ownership";
import { importNetworkPolicy } from "../../domain/policies/import";
import { createReconcileDeps } from "../../reconciler/deps";
import { observeAccountNow } from "../../reconciler/observe-now";
import { requestRun } from "../../reconciler/request-run";
import { guardAssertions } from "../assertions/guard";
import { actorOf, createRouter } from "../context";
import { AccountParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { objectEnvelope, toEnvelope } from "../desired/object.schemas";
import { toPolicyWire } from "../policies";
import { holderOf, loadPrecedenceState } from "../policies/precedence";
import { ProblemError } from "../problem";

const ImportInput = z
  .strictObject({
    kind: z.enum(["network_policy"]).openapi({ description: "What to import." }),
    cloudflare_id: z.string().min(1).max(64).openapi({ description: "The Gateway rule's id." }),
  })
  .openapi("ImportInput");

const ImportResult = z
  .object({
    kind: z.literal("network_policy"),
    cloudflare_id: z.string(),
    policy: z.object(objectEnvelope).passthrough().openapi({
      description: "The stored network policy, as GET …/policies/{id} shows it.",
    }),
    before: z.object({ traffic: z.string(), identity: z.string(), device_posture: z.string() }),
  })
  .openapi("ImportResult");

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
        "Stored; a run marks it in Cloudflare (now, or next when one is under way). `before` is the rule as it was found",
      content: { "application/json": { schema: ImportResult } },
    },
    ...problemResponses(
      "malformed-request",
      "not-found",
      "already-managed",
      "precedence-taken",
      "validation-failed",
      "not-importable",
      "assertion-failed",
      "upstream-failed",
    ),
  },
});

export const importRouter = createRouter().openapi(importRoute, async (c) => {
  const { account_id } = c.req.valid("param");
  const { cloudflare_id } = c.req.valid("json");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const outcome = await observeAccountNow(createReconcileDeps(c.env), account_id);
  if (outcome.status !== "observed") {
    throw outcome.status === "not-found"
      ? new ProblemError("not-found", `Account ${account_id} is not registered.`)
      : new ProblemError("upstream-failed", outcome.message);
  }
  const rule = outcome.observed.networkPolicies.find((r) => r.cloudflareId === cloudflare_id);
  if (rule === undefined) {
    throw new ProblemError(
      "not-found",
      `No Gateway rule ${cloudflare_id} in account ${account_id}.`,
    );
  }
  const owner = readMarker(rule.description).ownerId;
  if (owner !== null) {
    throw new ProblemError(
      "already-managed",
      `Gateway rule ${cloudflare_id} is owned by ${owner}.`,
    );
  }
  const imported = importNetworkPolicy(rule);
  if (!imported.ok) {
    throw new ProblemError(
      "not-importable",
      `Gateway rule ${cloudflare_id} cannot be imported without loss: ${imported.error.reason}.`,
      {
        errors: [
          { pointer: "#/cloudflare_id", detail: imported.error.reason, code: "not-importable" },
        ],
      },
    );
  }
  const spec = imported.value;
  const holder = holderOf(await loadPrecedenceState(db, account_id), spec.precedence);
  if (holder !== undefined) {
    throw new ProblemError(
      "precedence-taken",
      `Precedence ${spec.precedence} is desired for ${holder.id}; move it before importing.`,
    );
  }
  const id = crypto.randomUUID();
  await guardAssertions(db, account_id, [
    { op: "put", object: newObject("network_policy", id, spec) },
  ]);
  const actor = actorOf(c);
  const stored = await insertObject(
    db,
    account_id,
    {
      kind: "network_policy",
      id,
      spec,
      naturalKey: `${spec.precedence}`,
      cloudflareId: rule.cloudflareId,
    },
    actor,
    Date.now(),
  );
  // Only a run writes to Cloudflare: it adds the marker as a planned update under the lease.
  await requestRun(createReconcileDeps(c.env), account_id);
  return c.json(
    {
      kind: "network_policy" as const,
      cloudflare_id: rule.cloudflareId,
      policy: { ...toEnvelope(stored), ...toPolicyWire(spec) },
      before: {
        traffic: rule.traffic,
        identity: rule.identity,
        device_posture: rule.devicePosture,
      },
    },
    201,
  );
});
