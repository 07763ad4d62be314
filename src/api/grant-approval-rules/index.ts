/**
 * `/v1/accounts/{account_id}/grant-approval-rules`: what grants are approved at once
 * (`auto_approve`) and what may be asked at all (`hard_limit`). See domain/grants/approval.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import {
  type ApprovalRuleRecord,
  deleteApprovalRule,
  getApprovalRule,
  insertApprovalRule,
  listApprovalRules,
  updateApprovalRule,
} from "../../db/grant-approval-rules.repo";
import { decodeCursor, toPage } from "../../db/pagination";
import type { GrantApprovalRule } from "../../domain/grants/approval";
import { checkRegexSyntax } from "../../domain/policies/email-regex";
import { createRouter } from "../context";
import {
  AccountParams,
  IfMatchHeaders,
  ObjectParams,
  PageQuery,
  pageOf,
  problemResponses,
  security,
} from "../contract";
import { requireAccount } from "../desired/account-guard";
import { CidrString, canonical } from "../fields";
import { checkIfMatch, etagOf } from "../middleware/etag";
import { ProblemError, validationProblem } from "../problem";

/** The body of an approval rule write, and a rule's entry in the desired-state document. */
export const GrantApprovalRuleInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200).openapi({ example: "Contractors to db, 4 h" }),
    effect: z.enum(["auto_approve", "hard_limit"]).openapi({
      description:
        "auto_approve: requests inside are approved at once. hard_limit: when any exist, a request outside all of them is rejected.",
    }),
    max_duration_s: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .nullable()
      .default(null),
    allowed_destinations: z
      .array(CidrString)
      .max(1000)
      .default([])
      .openapi({ description: "Every destination must lie inside these; empty for any." }),
    allowed_systems: z
      .array(z.string().trim().toLowerCase().min(1).max(64))
      .max(100)
      .default([])
      .openapi({ description: "Requester systems admitted; empty for any." }),
    subject_email_pattern: z
      .string()
      .min(1)
      .max(1024, { abort: true })
      .superRefine((value, ctx) => {
        const checked = checkRegexSyntax(value);
        if (!checked.ok) {
          ctx.addIssue({
            code: "custom",
            message: checked.error.message,
            params: { code: checked.error.code },
          });
        }
      })
      .nullable()
      .default(null)
      .openapi({
        description: "RE2 regex the whole subject email must match (implicitly anchored).",
        example: "[^@]+@example\\.com",
      }),
  })
  .openapi("GrantApprovalRuleInput");

const Resource = z
  .object({
    id: z.string(),
    version: z.number().int(),
    name: z.string(),
    effect: z.enum(["auto_approve", "hard_limit"]),
    max_duration_s: z.number().int().nullable(),
    allowed_destinations: z.array(z.string()),
    allowed_systems: z.array(z.string()),
    subject_email_pattern: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("GrantApprovalRule");

function toResource(r: ApprovalRuleRecord): z.input<typeof Resource> {
  return {
    id: r.id,
    version: r.version,
    name: r.name,
    effect: r.effect,
    max_duration_s: r.maxDurationS,
    allowed_destinations: r.allowedDestinations,
    allowed_systems: r.allowedSystems,
    subject_email_pattern: r.subjectEmailPattern,
    created_at: new Date(r.createdAtMs).toISOString(),
    updated_at: new Date(r.updatedAtMs).toISOString(),
  };
}

/** The rule a validated body describes: destinations canonical, lists without repeats. */
export function approvalRuleOf(
  id: string,
  body: z.output<typeof GrantApprovalRuleInput>,
): GrantApprovalRule {
  return {
    id,
    name: body.name,
    effect: body.effect,
    maxDurationS: body.max_duration_s,
    allowedDestinations: [...new Set(body.allowed_destinations.map(canonical))],
    allowedSystems: [...new Set(body.allowed_systems)],
    subjectEmailPattern: body.subject_email_pattern,
  };
}

const tags = ["Grant approval rules"];
const base = "/v1/accounts/{account_id}/grant-approval-rules";
const json = <S extends z.ZodTypeAny>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const body = {
  body: { required: true, content: { "application/json": { schema: GrantApprovalRuleInput } } },
};

const endpoints = {
  list: createRoute({
    method: "get",
    path: base,
    operationId: "listGrantApprovalRules",
    tags,
    security,
    summary: "List approval rules, oldest first (the order auto-approve rules are tried in)",
    request: { params: AccountParams, query: PageQuery },
    responses: {
      200: json(pageOf(Resource, "GrantApprovalRulePage"), "A page"),
      ...problemResponses("not-found", "validation-failed"),
    },
  }),
  create: createRoute({
    method: "post",
    path: base,
    operationId: "createGrantApprovalRule",
    tags,
    security,
    summary: "Create an approval rule",
    request: { params: AccountParams, ...body },
    responses: {
      201: json(Resource, "Created"),
      ...problemResponses("malformed-request", "not-found", "validation-failed"),
    },
  }),
  get: createRoute({
    method: "get",
    path: `${base}/{id}`,
    operationId: "getGrantApprovalRule",
    tags,
    security,
    summary: "Get an approval rule",
    request: { params: ObjectParams },
    responses: {
      200: json(Resource, "The rule; ETag is its version"),
      ...problemResponses("not-found", "validation-failed"),
    },
  }),
  replace: createRoute({
    method: "put",
    path: `${base}/{id}`,
    operationId: "replaceGrantApprovalRule",
    tags,
    security,
    summary: "Replace an approval rule",
    request: { params: ObjectParams, headers: IfMatchHeaders, ...body },
    responses: {
      200: json(Resource, "Replaced"),
      ...problemResponses(
        "malformed-request",
        "not-found",
        "version-mismatch",
        "validation-failed",
      ),
    },
  }),
  remove: createRoute({
    method: "delete",
    path: `${base}/{id}`,
    operationId: "deleteGrantApprovalRule",
    tags,
    security,
    summary: "Delete an approval rule",
    request: { params: ObjectParams, headers: IfMatchHeaders },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("not-found", "version-mismatch", "validation-failed"),
    },
  }),
};

async function findRule(db: ReturnType<typeof createDb>, accountId: string, id: string) {
  const rule = await getApprovalRule(db, accountId, id);
  if (rule === undefined) {
    throw new ProblemError("not-found", `No approval rule ${id} in account ${accountId}.`);
  }
  return rule;
}

const stale = () =>
  new ProblemError("version-mismatch", "The rule changed while it was being written; re-read.");

export const grantApprovalRulesRouter = createRouter()
  .openapi(endpoints.list, async (c) => {
    const { account_id } = c.req.valid("param");
    const { cursor, limit } = c.req.valid("query");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && after === undefined) {
      throw validationProblem("The cursor is not one this API returned.", [
        { parameter: "cursor", detail: "unknown cursor", code: "invalid-cursor" },
      ]);
    }
    const rows = await listApprovalRules(db, account_id, after, limit);
    const page = toPage(rows, limit, (r) => ({ atMs: r.createdAtMs, id: r.id }));
    return c.json({ items: page.items.map(toResource), next_cursor: page.nextCursor }, 200);
  })
  .openapi(endpoints.create, async (c) => {
    const { account_id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const rule = approvalRuleOf(crypto.randomUUID(), c.req.valid("json"));
    const created = await insertApprovalRule(db, account_id, rule, Date.now());
    c.header("ETag", etagOf(created.version));
    c.header("Location", `/v1/accounts/${account_id}/grant-approval-rules/${rule.id}`);
    return c.json(toResource(created), 201);
  })
  .openapi(endpoints.get, async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const rule = await findRule(db, account_id, id);
    c.header("ETag", etagOf(rule.version));
    return c.json(toResource(rule), 200);
  })
  .openapi(endpoints.replace, async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const current = await findRule(db, account_id, id);
    checkIfMatch(c.req.valid("header")["if-match"], current.version);
    c.set("auditBefore", toResource(current));
    const rule = approvalRuleOf(id, c.req.valid("json"));
    const updated = await updateApprovalRule(db, account_id, rule, current.version, Date.now());
    if (updated === undefined) {
      throw stale();
    }
    c.header("ETag", etagOf(updated.version));
    return c.json(toResource(updated), 200);
  })
  .openapi(endpoints.remove, async (c) => {
    const { account_id, id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    await requireAccount(db, account_id);
    const current = await findRule(db, account_id, id);
    checkIfMatch(c.req.valid("header")["if-match"], current.version);
    c.set("auditBefore", toResource(current));
    if (!(await deleteApprovalRule(db, account_id, id, current.version))) {
      throw stale();
    }
    return c.body(null, 204);
  });
