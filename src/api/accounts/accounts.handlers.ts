/** Account handlers: the API token is sealed before it is stored and never read back here. */
import { readConfig } from "../../config";
import { getAccount, insertAccount, updateAccount } from "../../db/accounts.repo";
import { createDb, type Db, isUniqueViolation } from "../../db/client";
import { listAllObjects } from "../../db/desired-objects.repo";
import { routesInside } from "../../domain/cidr/initial-resolved";
import { loadKeyRing, sealSecret } from "../../lib/key-ring";
import { type AppHandler, actorOf } from "../context";
import { requireAccount } from "../desired/account-guard";
import { checkIfMatch, etagOf } from "../middleware/etag";
import { ProblemError, validationProblem } from "../problem";
import type * as endpoints from "./accounts.endpoints";
import { toAccountResource } from "./accounts.schemas";

/**
 * Refuses an initial resolved range that holds desired routes, as Cloudflare does.
 * @throws ProblemError validation-failed at `#/initial_resolved_ipv4`, naming each route
 */
async function refuseRoutesInside(db: Db, accountId: string, range: string): Promise<void> {
  const inside = routesInside(
    range,
    (await listAllObjects(db, accountId, "tunnel_route")).map((r) => ({
      id: r.id,
      network: r.spec.network,
    })),
  );
  if (inside.length > 0) {
    throw validationProblem(
      "Routes lie inside the initial resolved range.",
      inside.map((route) => ({
        pointer: "#/initial_resolved_ipv4",
        detail: `${range} holds the route ${route.network} (${route.id}); move or delete it first`,
        code: "reserved-range",
      })),
    );
  }
}

export const create: AppHandler<typeof endpoints.create> = async (c) => {
  const body = c.req.valid("json");
  const db = createDb(c.env.DB);
  const nowMs = Date.now();
  const sealed = await sealSecret(await loadKeyRing(c.env), body.api_token, {
    accountId: body.account_id,
    purpose: "api-token",
  });
  const interval =
    body.reconcile_interval_s ??
    readConfig(c.env as unknown as Record<string, unknown>).defaultReconcileIntervalS;
  try {
    const account = await insertAccount(
      db,
      {
        id: body.account_id,
        name: body.name,
        mode: body.mode,
        reconcileIntervalS: interval,
        nextReconcileAtMs: nowMs,
        teamDomain: body.team_domain ?? null,
        limits: body.limits ?? null,
        apiBudgetShare: body.api_budget_share ?? null,
        ...(body.initial_resolved_ipv4 === undefined
          ? {}
          : { initialResolvedIpv4: body.initial_resolved_ipv4 }),
        createdAtMs: nowMs,
      },
      sealed,
      actorOf(c),
    );
    c.header("ETag", etagOf(account.version));
    c.header("Location", `/v1/accounts/${account.id}`);
    return c.json(toAccountResource(account), 201);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ProblemError("account-exists", `Account ${body.account_id} is already registered.`);
    }
    throw error;
  }
};

export const get: AppHandler<typeof endpoints.get> = async (c) => {
  const { account_id } = c.req.valid("param");
  const account = await requireAccount(createDb(c.env.DB), account_id);
  c.header("ETag", etagOf(account.version));
  return c.json(toAccountResource(account), 200);
};

export const update: AppHandler<typeof endpoints.update> = async (c) => {
  const { account_id } = c.req.valid("param");
  const {
    api_token,
    name,
    mode,
    reconcile_interval_s,
    team_domain,
    limits,
    api_budget_share,
    initial_resolved_ipv4,
  } = c.req.valid("json");
  const db = createDb(c.env.DB);
  const current = await requireAccount(db, account_id);
  checkIfMatch(c.req.valid("header")["if-match"], current.version);
  if (initial_resolved_ipv4 !== undefined) {
    await refuseRoutesInside(db, account_id, initial_resolved_ipv4);
  }
  const nowMs = Date.now();
  const changes = {
    ...(name === undefined ? {} : { name }),
    ...(mode === undefined ? {} : { mode }),
    ...(team_domain === undefined ? {} : { teamDomain: team_domain }),
    ...(api_budget_share === undefined ? {} : { apiBudgetShare: api_budget_share }),
    ...(initial_resolved_ipv4 === undefined ? {} : { initialResolvedIpv4: initial_resolved_ipv4 }),
    ...(limits === undefined ? {} : { limits: limits && { ...current.limits, ...limits } }),
    // A shorter interval takes effect now: the next run is not left at the old, later time.
    ...(reconcile_interval_s === undefined
      ? {}
      : {
          reconcileIntervalS: reconcile_interval_s,
          nextReconcileAtMs: Math.min(
            current.nextReconcileAtMs,
            nowMs + reconcile_interval_s * 1000,
          ),
        }),
    ...(api_token === undefined
      ? {}
      : {
          apiTokenCiphertext: await sealSecret(await loadKeyRing(c.env), api_token, {
            accountId: account_id,
            purpose: "api-token",
          }),
        }),
  };
  const updated = await updateAccount(db, current, changes, actorOf(c), nowMs);
  if (updated === undefined) {
    const latest = await getAccount(db, account_id);
    throw new ProblemError(
      "version-mismatch",
      "The account changed while it was being written; re-read and retry.",
      { headers: { ETag: etagOf(latest?.version ?? 0) } },
    );
  }
  c.header("ETag", etagOf(updated.version));
  return c.json(toAccountResource(updated), 200);
};
