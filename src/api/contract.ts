/** Contract pieces shared by every endpoint: problem responses, paging, auth, path params. */
import { z } from "@hono/zod-openapi";
import { PROBLEMS, type ProblemSlug } from "./problem";

/** The RFC 9457 body, as documented in OpenAPI. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://tunnelplane.dev/problems/validation-failed" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string(),
    errors: z
      .array(
        z.object({
          pointer: z.string().optional().openapi({ example: "#/network" }),
          parameter: z.string().optional(),
          detail: z.string(),
          code: z.string(),
        }),
      )
      .optional(),
  })
  .openapi("Problem");

const STATUS_TEXT: Record<number, string> = {
  400: "Malformed request",
  401: "No or bad API key",
  403: "Role forbids this",
  404: "Not found (or another account's)",
  409: "Conflict",
  412: "If-Match does not match the current version",
  422: "Invalid input",
  502: "Cloudflare API failure",
};

/**
 * OpenAPI responses for the given problem slugs (grouped by status). 401, 403 (the role table)
 * and 500 are always added.
 */
export function problemResponses(...slugs: ProblemSlug[]) {
  const statuses = new Set<number>([401, 403, 500, ...slugs.map((s) => PROBLEMS[s].status)]);
  return Object.fromEntries(
    [...statuses].map((status) => [
      status,
      {
        description: STATUS_TEXT[status] ?? "Internal error",
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}

/** Either an API key or a Cloudflare Access login; `authz/operations.ts` says which roles. */
export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cloudflareAccess: [] }];

/** `{account_id}`: a Cloudflare account id. */
export const AccountIdParam = z
  .string()
  .regex(/^[0-9a-f]{32}$/, "must be a Cloudflare account id: 32 lower-case hex characters")
  .openapi({
    param: { name: "account_id", in: "path" },
    example: "0123456789abcdef0123456789abcdef",
  });

/** Path parameters of account-scoped collections. */
export const AccountParams = z.object({ account_id: AccountIdParam });

/** The `{id}` path parameter of one object (its uuid). */
export const ObjectIdParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({
    param: { name: "id", in: "path" },
    example: "9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f",
  });

/** Path parameters of one account-scoped object. */
export const ObjectParams = z.object({
  account_id: AccountIdParam,
  id: ObjectIdParam,
});

/** `?cursor=&limit=` for every list. */
export const PageQuery = z.object({
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "Opaque cursor from `next_cursor` of the previous page." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ description: "Items per page, 1..200 (default 50)." }),
});

/** The `If-Match` header of writes: the ETag of the version read. */
export const IfMatchHeaders = z.object({
  "if-match": z.string().optional().openapi({
    description: 'ETag of the version the change is based on, e.g. `"3"`. Mismatch: 412.',
  }),
});

/** A page of items. */
export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      next_cursor: z
        .string()
        .nullable()
        .openapi({ description: "Cursor of the next page, or null on the last." }),
    })
    .openapi(name);
}

/** A warning attached to a write response. */
export const WarningSchema = z.object({ code: z.string(), message: z.string() }).openapi("Warning");
