/**
 * Event subscription handlers. The signing secret is sealed for the subscription and never read
 * back; a generated one is returned once, in the create response (redacted in the audit log).
 * The URL may itself be a credential (a Slack incoming webhook): only admins read it whole, and
 * the audit log, which viewers read, keeps only its scheme and host.
 */
import { createDb, type Db } from "../../db/client";
import { listEventDeliveries } from "../../db/event-deliveries.repo";
import {
  countSubscriptions,
  deleteSubscription,
  getSubscription,
  insertSubscription,
  listSubscriptions,
  type SubscriptionFields,
  type SubscriptionRecord,
  updateSubscription,
} from "../../db/event-subscriptions.repo";
import { getGrantSettings } from "../../db/grant-settings.repo";
import { toPage } from "../../db/pagination";
import { checkCallbackUrl, describeCallbackUrlError } from "../../domain/grants/callback-url";
import { checkQuota, effectiveQuotas } from "../../domain/quotas";
import { toBase64Url } from "../../lib/base64";
import { loadKeyRing, sealSecret } from "../../lib/key-ring";
import { redactUrl } from "../../lib/redact";
import { subscriptionSealContext } from "../../reconciler/events/deliver";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import type { Identity } from "../identity/identity";
import { checkIfMatch, etagOf } from "../middleware/etag";
import { cursorPosition } from "../paging";
import { ProblemError, validationProblem } from "../problem";
import { quotaProblem } from "../quotas";
import type * as endpoints from "./event-subscriptions.endpoints";
import { toDeliveryResource, toSubscriptionResource } from "./event-subscriptions.schemas";

/** Bytes of a generated signing secret (256 bits), base64url after a `whsec_` prefix. */
const GENERATED_SECRET_BYTES = 32;

async function findSubscription(db: Db, accountId: string, id: string) {
  const found = await getSubscription(db, accountId, id);
  if (found === undefined) {
    throw new ProblemError("not-found", `No event subscription ${id} in account ${accountId}.`);
  }
  return found;
}

/** The URL's port against the account's allowed callback ports (422 at `#/url`). */
async function checkPort(db: Db, accountId: string, url: string): Promise<void> {
  const settings = await getGrantSettings(db, accountId);
  const checked = checkCallbackUrl(url, settings?.callbackAllowedPorts ?? []);
  if (!checked.ok) {
    throw validationProblem("The subscription cannot be accepted.", [
      {
        pointer: "#/url",
        detail: describeCallbackUrlError(checked.error),
        code: checked.error.code,
      },
    ]);
  }
}

/** Whether the caller reads subscription URLs whole: admins only. */
const seesFullUrl = (identity: Identity) => identity.role === "admin";

async function sealed(env: Env, accountId: string, id: string, secret: string): Promise<string> {
  return sealSecret(await loadKeyRing(env), secret, subscriptionSealContext(accountId, id));
}

export const list: AppHandler<typeof endpoints.list> = async (c) => {
  const { account_id } = c.req.valid("param");
  const { cursor, limit } = c.req.valid("query");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const rows = await listSubscriptions(db, account_id, cursorPosition(cursor), limit);
  const page = toPage(rows, limit, (s) => ({ atMs: s.createdAtMs, id: s.id }));
  return c.json(
    {
      items: page.items.map((s) => toSubscriptionResource(s, seesFullUrl(c.get("identity")))),
      next_cursor: page.nextCursor,
    },
    200,
  );
};

export const create: AppHandler<typeof endpoints.create> = async (c) => {
  const { account_id } = c.req.valid("param");
  const { secret, ...fields } = c.req.valid("json");
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, account_id);
  await checkPort(db, account_id, fields.url);
  // Every event is stored and queued once per matching subscription: their number is bounded.
  const current = await countSubscriptions(db, account_id);
  const quota = checkQuota(
    effectiveQuotas(account.limits),
    "event_subscriptions",
    current,
    current + 1,
  );
  if (!quota.ok) {
    throw quotaProblem(account_id, quota.error);
  }
  const id = crypto.randomUUID();
  const generated =
    secret === undefined
      ? `whsec_${toBase64Url(crypto.getRandomValues(new Uint8Array(GENERATED_SECRET_BYTES)))}`
      : undefined;
  const seal = await sealed(c.env, account_id, id, secret ?? generated ?? "");
  const created = await insertSubscription(db, account_id, id, fields, seal, Date.now());
  c.header("ETag", etagOf(created.version));
  c.header("Location", `/v1/accounts/${account_id}/event-subscriptions/${id}`);
  const resource = toSubscriptionResource(created, true);
  const body = generated === undefined ? resource : { ...resource, secret: generated };
  c.set("auditAfter", { ...body, url: redactUrl(created.url) });
  return c.json(body, 201);
};

export const get: AppHandler<typeof endpoints.get> = async (c) => {
  const { account_id, id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const found = await findSubscription(db, account_id, id);
  c.header("ETag", etagOf(found.version));
  return c.json(toSubscriptionResource(found, seesFullUrl(c.get("identity"))), 200);
};

const stale = () =>
  new ProblemError(
    "version-mismatch",
    "The subscription changed while it was being written; re-read.",
  );

export const update: AppHandler<typeof endpoints.update> = async (c) => {
  const { account_id, id } = c.req.valid("param");
  const { secret, ...patch } = c.req.valid("json");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const current: SubscriptionRecord = await findSubscription(db, account_id, id);
  checkIfMatch(c.req.valid("header")["if-match"], current.version);
  c.set("auditBefore", toSubscriptionResource(current, false));
  const fields: SubscriptionFields = {
    url: patch.url ?? current.url,
    events: patch.events ?? current.events,
    format: patch.format ?? current.format,
    description: patch.description === undefined ? current.description : patch.description,
    enabled: patch.enabled ?? current.enabled,
  };
  if (patch.url !== undefined) {
    await checkPort(db, account_id, patch.url);
  }
  const seal = secret === undefined ? undefined : await sealed(c.env, account_id, id, secret);
  const updated = await updateSubscription(
    db,
    account_id,
    id,
    current.version,
    fields,
    seal,
    Date.now(),
  );
  if (updated === undefined) {
    throw stale();
  }
  c.header("ETag", etagOf(updated.version));
  c.set("auditAfter", toSubscriptionResource(updated, false));
  return c.json(toSubscriptionResource(updated, true), 200);
};

export const remove: AppHandler<typeof endpoints.remove> = async (c) => {
  const { account_id, id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const current = await findSubscription(db, account_id, id);
  const ifMatch = c.req.valid("header")["if-match"];
  checkIfMatch(ifMatch, current.version);
  c.set("auditBefore", toSubscriptionResource(current, false));
  if (!(await deleteSubscription(db, account_id, id, current.version))) {
    throw stale();
  }
  return c.body(null, 204);
};

export const deliveries: AppHandler<typeof endpoints.deliveries> = async (c) => {
  const { account_id, id } = c.req.valid("param");
  const { cursor, limit } = c.req.valid("query");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  await findSubscription(db, account_id, id);
  const rows = await listEventDeliveries(db, account_id, id, cursorPosition(cursor), limit);
  const page = toPage(rows, limit, (d) => ({ atMs: d.createdAtMs, id: d.id }));
  return c.json({ items: page.items.map(toDeliveryResource), next_cursor: page.nextCursor }, 200);
};
