/** Account handlers: the API token is sealed before it is stored and never read back here. */
import { readConfig } from "../../config";
import { getAccount, insertAccount, updateAccount } from "../../db/accounts.repo";
import { createDb, isUniqueViolation } from "../../db/client";
import { loadKeyRing, sealSecret } from "../../lib/key-ring";
import { type AppHandler, actorOf } from "../context";
import { requireAccount } from "../desired/account-guard";
import { checkIfMatch, etagOf } from "../middleware/etag";
import { ProblemError } from "../problem";
import type * as endpoints from "./accounts.endpoints";
import { toAccountResource } from "./accounts.schemas";

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
  const { api_token, name, mode, reconcile_interval_s, team_domain, limits, api_budget_share } =
    c.req.valid("json");
  const db = createDb(c.env.DB);
  const current = await requireAccount(db, account_id);
  checkIfMatch(c.req.valid("header")["if-match"], current.version);
  const nowMs = Date.now();
  const changes = {
    ...(name === undefined ? {} : { name }),
    ...(mode === undefined ? {} : { mode }),
    ...(team_domain === undefined ? {} : { teamDomain: team_domain }),
    ...(api_budget_share === undefined ? {} : { apiBudgetShare: api_budget_share }),
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
