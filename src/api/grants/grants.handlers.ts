/** Grant handlers: thin; decisions live in domain/grants and reconciler/grant-requests. */

import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { listCallbackReceivers } from "../../db/callback-receivers.repo";
import { createDb, type Db } from "../../db/client";
import { listGrantDeliveries } from "../../db/grant-deliveries.repo";
import { getGrantSettings } from "../../db/grant-settings.repo";
import { type GrantRecord, getGrant, listGrantEvents, listGrants } from "../../db/grants.repo";
import { decodeCursor, toPage } from "../../db/pagination";
import { checkCallbackUrl, describeCallbackUrlError } from "../../domain/grants/callback-url";
import type { GrantPolicySource } from "../../domain/grants/grant";
import type { GrantEvent as LifecycleEvent } from "../../domain/grants/lifecycle";
import { createReconcileDeps } from "../../reconciler/deps";
import { decideGrant, type NewGrant, requestGrant } from "../../reconciler/grant-requests";
import type { TransitionFailure } from "../../reconciler/grant-transitions";
import { guardAssertionsOn, withActiveGrant } from "../assertions/guard";
import type { AppEnv, AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { canonical } from "../fields";
import type { Identity } from "../identity/identity";
import { parsePort } from "../policies";
import { type InvalidField, ProblemError, validationProblem } from "../problem";
import type * as endpoints from "./grants.endpoints";
import {
  type GrantInput,
  MAX_GRANT_DURATION_S,
  toGrantEvent,
  toGrantResource,
} from "./grants.schemas";

/**
 * The grant, or a 404 problem; also 404 when a ticketing caller asks for another system's grant
 * (it may not learn that the grant exists).
 */
async function findGrant(
  db: Db,
  accountId: string,
  id: string,
  identity?: Identity,
): Promise<GrantRecord> {
  const grant = await getGrant(db, accountId, id);
  if (grant === undefined || !isOwnSystem(identity, grant.ticket.system)) {
    throw new ProblemError("not-found", `No grant ${id} in account ${accountId}.`);
  }
  return grant;
}

/** Whether `system` is one the caller may see: a ticketing identity sees only its own. */
function isOwnSystem(identity: Identity | undefined, system: string): boolean {
  return identity?.role !== "ticketing" || identity.ticketSystem === system;
}

/** The body's ticket, with the system of a ticketing caller in place of what the body says. */
function boundTicket(identity: Identity, ticket: z.output<typeof GrantInput>["ticket"]) {
  return identity.role === "ticketing" && identity.ticketSystem !== null
    ? { ...ticket, system: identity.ticketSystem }
    : ticket;
}

/**
 * Whether the caller reads callback URLs whole: admins, and the ticket system that gave them (it
 * sees only its own grants). A callback URL may itself be a credential.
 */
function seesCallbackUrl(identity: Identity): boolean {
  return identity.role === "admin" || identity.role === "ticketing";
}

async function present(db: Db, grant: GrantRecord, identity: Identity) {
  const deliveries = await listGrantDeliveries(db, grant.accountId, grant.id);
  return toGrantResource(grant, deliveries, seesCallbackUrl(identity));
}

/** A write's answer for the caller; the audit log, read by viewers, keeps the URL redacted. */
async function presentWritten(c: Context<AppEnv>, db: Db, grant: GrantRecord) {
  const deliveries = await listGrantDeliveries(db, grant.accountId, grant.id);
  c.set("auditAfter", toGrantResource(grant, deliveries, false));
  return toGrantResource(grant, deliveries, seesCallbackUrl(c.get("identity")));
}

/** Rules that need the clock or the store: the window, the extended grant, the secret. */
async function toNewGrant(
  db: Db,
  accountId: string,
  body: z.output<typeof GrantInput>,
  nowMs: number,
): Promise<NewGrant> {
  const startsAtMs = body.starts_at === undefined ? nowMs : Date.parse(body.starts_at);
  const endsAtMs =
    body.ends_at === undefined
      ? startsAtMs + (body.duration_s ?? 0) * 1000
      : Date.parse(body.ends_at);
  const errors: InvalidField[] = [];
  const field = body.ends_at === undefined ? "#/duration_s" : "#/ends_at";
  if (endsAtMs <= startsAtMs || endsAtMs - startsAtMs > MAX_GRANT_DURATION_S * 1000) {
    errors.push({
      pointer: field,
      detail: `a grant lasts more than 0 s and at most ${MAX_GRANT_DURATION_S} s`,
      code: "invalid-window",
    });
  } else if (endsAtMs <= nowMs) {
    errors.push({
      pointer: field,
      detail: "the grant would end in the past",
      code: "ends-in-past",
    });
  }
  if (
    body.extends_grant_id !== null &&
    (await getGrant(db, accountId, body.extends_grant_id)) === undefined
  ) {
    errors.push({
      pointer: "#/extends_grant_id",
      detail: `no grant ${body.extends_grant_id} in this account`,
      code: "unknown-reference",
    });
  }
  const settings = body.callback_url === null ? undefined : await getGrantSettings(db, accountId);
  const hasSecret =
    settings !== undefined ||
    (body.callback_url !== null &&
      (await listCallbackReceivers(db, accountId)).some(
        (r) => r.ticketSystem === body.ticket.system,
      ));
  if (body.callback_url !== null && !hasSecret) {
    errors.push({
      pointer: "#/callback_url",
      detail: "set a callback secret first (PUT grant-settings, or its receivers/{ticket_system})",
      code: "callback-secret-missing",
    });
  }
  const target =
    body.callback_url === null || !hasSecret
      ? undefined
      : checkCallbackUrl(body.callback_url, settings?.callbackAllowedPorts ?? []);
  if (target?.ok === false) {
    errors.push({
      pointer: "#/callback_url",
      detail: describeCallbackUrlError(target.error),
      code: target.error.code,
    });
  }
  if (errors.length > 0) {
    throw validationProblem("The grant request cannot be accepted.", errors);
  }
  return {
    ticket: body.ticket,
    subjectEmail: body.subject_email.toLowerCase(),
    destinations: [...new Set(body.destinations.map(canonical))],
    ports: body.ports.map((p) => {
      const [from, to] = parsePort(p);
      return { from, to };
    }),
    protocols: [...new Set(body.protocols)],
    reason: body.reason,
    startsAtMs,
    endsAtMs,
    callbackUrl: body.callback_url,
    extendsGrantId: body.extends_grant_id,
  };
}

/** A grant as its policy would be derived once active (assertions see it before it is). */
function asActive(
  grant: Pick<
    GrantPolicySource,
    "id" | "version" | "ticket" | "subjectEmail" | "destinations" | "ports" | "protocols"
  >,
): GrantPolicySource {
  return { ...grant, activatedAtMs: Date.now(), policyPrecedence: null, policySyncedVersion: null };
}

export const create: AppHandler<typeof endpoints.create> = async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const body = c.req.valid("json");
  const ticket = boundTicket(c.get("identity"), body.ticket);
  const input = await toNewGrant(db, account_id, { ...body, ticket }, Date.now());
  const id = crypto.randomUUID();
  await guardAssertionsOn(db, account_id, withActiveGrant(asActive({ ...input, id, version: 1 })));
  await requestGrant(createReconcileDeps(c.env), account_id, id, input, c.get("actor"));
  c.header("Location", `/v1/accounts/${account_id}/grants/${id}`);
  return c.json(await presentWritten(c, db, await findGrant(db, account_id, id)), 201);
};

export const list: AppHandler<typeof endpoints.list> = async (c) => {
  const { account_id } = c.req.valid("param");
  const query = c.req.valid("query");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && after === undefined) {
    throw validationProblem("The cursor is not one this API returned.", [
      { parameter: "cursor", detail: "unknown cursor", code: "invalid-cursor" },
    ]);
  }
  const filters = {
    state: query.state,
    subjectEmail: query.subject_email?.toLowerCase(),
    ticketSystem:
      c.get("identity").role === "ticketing"
        ? (c.get("identity").ticketSystem ?? "")
        : query.ticket_system?.toLowerCase(),
    ticketId: query.ticket_id,
  };
  const rows = await listGrants(db, account_id, filters, after, query.limit);
  const page = toPage(rows, query.limit, (g) => ({ atMs: g.createdAtMs, id: g.id }));
  const items = await Promise.all(page.items.map((g) => present(db, g, c.get("identity"))));
  return c.json({ items, next_cursor: page.nextCursor }, 200);
};

export const get: AppHandler<typeof endpoints.get> = async (c) => {
  const { account_id, id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const grant = await findGrant(db, account_id, id, c.get("identity"));
  return c.json(await present(db, grant, c.get("identity")), 200);
};

export const events: AppHandler<typeof endpoints.events> = async (c) => {
  const { account_id, id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  await findGrant(db, account_id, id, c.get("identity"));
  const items = await listGrantEvents(db, account_id, id);
  return c.json({ items: items.map(toGrantEvent) }, 200);
};

function refusal(failure: TransitionFailure, grant: GrantRecord): ProblemError {
  switch (failure.code) {
    case "invalid-transition":
      return new ProblemError(
        "grant-transition-refused",
        `A ${failure.from} grant cannot take the ${failure.event} transition.`,
      );
    case "forbidden-actor":
      return new ProblemError("forbidden", `A ${failure.role} may not ${failure.event} a grant.`);
    case "too-early":
      return new ProblemError(
        "grant-transition-refused",
        `Too early to ${failure.event}: not before ${new Date(failure.atMs).toISOString()}.`,
      );
    case "too-late":
      return new ProblemError(
        "grant-transition-refused",
        `Too late to ${failure.event}: the grant ended at ${new Date(failure.endsAtMs).toISOString()}.`,
      );
    case "conflict":
      return new ProblemError(
        "version-mismatch",
        `Grant ${grant.id} changed while it was being decided; re-read and retry.`,
      );
  }
}

function decisionHandler(
  event: Extract<LifecycleEvent, "approve" | "reject" | "revoke" | "cancel">,
): AppHandler<typeof endpoints.approve> {
  return async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const grant = await findGrant(db, account_id, id, c.get("identity"));
    const body = (c.req.valid("json") as { reason?: string } | undefined) ?? {};
    if (event === "approve" && grant.requestedBy === c.get("actor")) {
      throw new ProblemError(
        "grant-self-approval",
        `${grant.requestedBy} requested grant ${id}; another identity must approve it.`,
      );
    }
    c.set("auditBefore", { state: grant.state, version: grant.version });
    if (event === "approve") {
      await guardAssertionsOn(db, account_id, withActiveGrant(asActive(grant)));
    }
    // The role table lets only operators and admins approve, reject and revoke; a cancel comes
    // from the requesting side.
    const role = event === "cancel" ? "requester" : "operator";
    const result = await decideGrant(
      createReconcileDeps(c.env),
      grant,
      event,
      { role, name: c.get("actor") },
      body.reason ?? null,
    );
    if (!result.ok) {
      throw refusal(result.error, grant);
    }
    return c.json(await presentWritten(c, db, await findGrant(db, account_id, id)), 200);
  };
}

export const approve = decisionHandler("approve");
export const reject = decisionHandler("reject");
export const revoke = decisionHandler("revoke");
export const cancel = decisionHandler("cancel");
