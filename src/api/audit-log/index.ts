/**
 * The audit log of an account (`/v1/accounts/{account_id}/audit-log`) and of identity writes
 * (`/v1/audit-log`: API keys, Access role bindings), newest first, and the check of each hash
 * chain (`.../verify`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  type AuditEntry as AuditEntryRecord,
  GLOBAL_AUDIT_SCOPE,
  listAuditEntries,
  sealAuditChain,
  verifyAuditChain,
} from "../../db/audit-log.repo";
import { createDb } from "../../db/client";
import { toPage } from "../../db/pagination";
import { type AppEnv, createRouter } from "../context";
import { AccountParams, PageQuery, pageOf, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { cursorPosition } from "../paging";

const AuditEntry = z
  .object({
    id: z.string(),
    at: z.string().openapi({ description: "RFC 3339." }),
    actor: z.string().openapi({
      description: "`key:<name>`, `access:<email>` or `bootstrap-admin` (ADMIN_API_KEY).",
      example: "key:ci-pipeline",
    }),
    request_id: z.string().nullable().openapi({ description: "The request that made the write." }),
    action: z.string().openapi({ example: "update" }),
    kind: z.string().openapi({ example: "tunnel_route" }),
    object_id: z.string(),
    before: z
      .unknown()
      .openapi({ description: "Before the write (null for a create); secrets redacted." }),
    after: z
      .unknown()
      .openapi({ description: "After the write (null for a delete); secrets redacted." }),
    prev_hash: z.string().nullable().openapi({ description: "SHA-256 hex of the previous entry." }),
    hash: z
      .string()
      .nullable()
      .openapi({ description: "SHA-256 hex of prev_hash and this entry." }),
  })
  .openapi("AuditEntry");

const AuditVerification = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().openapi({ description: "Entries whose hash was recomputed." }),
    first_entry_id: z.string().nullable().openapi({
      description: "The oldest retained entry, where the walk starts (older ones may be pruned).",
    }),
    last_hash: z
      .string()
      .nullable()
      .openapi({ description: "Hash of the newest entry that verified." }),
    break: z
      .object({
        entry_id: z.string(),
        reason: z.enum(["unsealed", "prev-hash-mismatch", "hash-mismatch"]).openapi({
          description:
            "hash-mismatch: the entry was changed. prev-hash-mismatch: an entry before it was removed or replaced. unsealed: it has no hash.",
        }),
      })
      .nullable(),
  })
  .openapi("AuditVerification");

const ListQuery = PageQuery.extend({
  object_id: z.string().max(64).optional().openapi({ description: "Only this object's entries." }),
});
const tags = ["Audit log"];
const json = <S extends z.ZodTypeAny>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const endpoints = {
  list: createRoute({
    method: "get",
    path: "/v1/accounts/{account_id}/audit-log",
    operationId: "listAuditLog",
    tags,
    security,
    summary: "List the account's writes and secret reads, newest first",
    request: { params: AccountParams, query: ListQuery },
    responses: {
      200: json(pageOf(AuditEntry, "AuditEntryPage"), "A page of entries"),
      ...problemResponses("not-found", "validation-failed"),
    },
  }),
  verify: createRoute({
    method: "get",
    path: "/v1/accounts/{account_id}/audit-log/verify",
    operationId: "verifyAuditLog",
    tags,
    security,
    summary: "Check the account's audit hash chain; says where it breaks",
    request: { params: AccountParams },
    responses: {
      200: json(AuditVerification, "The outcome"),
      ...problemResponses("not-found", "validation-failed"),
    },
  }),
  listGlobal: createRoute({
    method: "get",
    path: "/v1/audit-log",
    operationId: "listGlobalAuditLog",
    tags,
    security,
    summary: "List writes to API keys and Access role bindings, newest first",
    request: { query: ListQuery },
    responses: {
      200: json(pageOf(AuditEntry, "AuditEntryPage"), "A page of entries"),
      ...problemResponses("validation-failed"),
    },
  }),
  verifyGlobal: createRoute({
    method: "get",
    path: "/v1/audit-log/verify",
    operationId: "verifyGlobalAuditLog",
    tags,
    security,
    summary: "Check the hash chain of identity writes; says where it breaks",
    responses: { 200: json(AuditVerification, "The outcome"), ...problemResponses() },
  }),
};

function toEntry(e: AuditEntryRecord) {
  return {
    id: e.id,
    at: new Date(e.atMs).toISOString(),
    actor: e.actor,
    request_id: e.requestId,
    action: e.action,
    kind: e.kind,
    object_id: e.objectId,
    before: e.before,
    after: e.after,
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

async function page(c: Context<AppEnv>, scope: string, query: z.output<typeof ListQuery>) {
  const db = createDb(c.env.DB);
  const rows = await listAuditEntries(
    db,
    scope,
    { objectId: query.object_id },
    cursorPosition(query.cursor),
    query.limit,
  );
  const result = toPage(rows, query.limit, (e) => ({ atMs: e.seq, id: e.id }));
  return { items: result.items.map(toEntry), next_cursor: result.nextCursor };
}

/** Seals what a background writer left unsealed, then walks the whole chain. */
async function verify(c: Context<AppEnv>, scope: string) {
  const db = createDb(c.env.DB);
  await sealAuditChain(db, scope);
  const outcome = await verifyAuditChain(db, scope);
  return {
    ok: outcome.chainBreak === null,
    checked: outcome.checked,
    first_entry_id: outcome.firstEntryId,
    last_hash: outcome.lastHash,
    break:
      outcome.chainBreak === null
        ? null
        : { entry_id: outcome.chainBreak.entryId, reason: outcome.chainBreak.reason },
  };
}

export const auditLogRouter = createRouter()
  .openapi(endpoints.list, async (c) => {
    const { account_id } = c.req.valid("param");
    await requireAccount(createDb(c.env.DB), account_id);
    return c.json(await page(c, account_id, c.req.valid("query")), 200);
  })
  .openapi(endpoints.verify, async (c) => {
    const { account_id } = c.req.valid("param");
    await requireAccount(createDb(c.env.DB), account_id);
    return c.json(await verify(c, account_id), 200);
  })
  .openapi(endpoints.listGlobal, async (c) =>
    c.json(await page(c, GLOBAL_AUDIT_SCOPE, c.req.valid("query")), 200),
  )
  .openapi(endpoints.verifyGlobal, async (c) => c.json(await verify(c, GLOBAL_AUDIT_SCOPE), 200));
