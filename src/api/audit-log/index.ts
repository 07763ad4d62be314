/** `GET /v1/accounts/{account_id}/audit-log`: every write to the account's desired state. */
import { createRoute, z } from "@hono/zod-openapi";
import { listAuditEntries } from "../../db/audit-log.repo";
import { createDb } from "../../db/client";
import { toPage } from "../../db/pagination";
import { createRouter } from "../context";
import { AccountParams, PageQuery, pageOf, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { cursorPosition } from "../paging";

const AuditEntry = z
  .object({
    id: z.string(),
    at: z.string().openapi({ description: "RFC 3339." }),
    actor: z.string().openapi({ example: "api-key:admin" }),
    action: z.string().openapi({ example: "update" }),
    kind: z.string().openapi({ example: "tunnel_route" }),
    object_id: z.string(),
    before: z.unknown().openapi({ description: "The spec before the write (null for a create)." }),
    after: z.unknown().openapi({ description: "The spec after the write (null for a delete)." }),
  })
  .openapi("AuditEntry");

const list = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/audit-log",
  operationId: "listAuditLog",
  tags: ["Audit log"],
  security,
  summary: "List writes to desired state, newest first",
  request: {
    params: AccountParams,
    query: PageQuery.extend({
      object_id: z
        .string()
        .max(64)
        .optional()
        .openapi({ description: "Only this object's entries." }),
    }),
  },
  responses: {
    200: {
      description: "A page of entries",
      content: { "application/json": { schema: pageOf(AuditEntry, "AuditEntryPage") } },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const auditLogRouter = createRouter().openapi(list, async (c) => {
  const { account_id } = c.req.valid("param");
  const { cursor, limit, object_id } = c.req.valid("query");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const before = cursorPosition(cursor);
  const rows = await listAuditEntries(db, account_id, { objectId: object_id }, before, limit);
  const page = toPage(rows, limit, (e) => ({ atMs: e.seq, id: e.id }));
  const items = page.items.map((e) => ({
    id: e.id,
    at: new Date(e.atMs).toISOString(),
    actor: e.actor,
    action: e.action,
    kind: e.kind,
    object_id: e.objectId,
    before: e.before,
    after: e.after,
  }));
  return c.json({ items, next_cursor: page.nextCursor }, 200);
});
