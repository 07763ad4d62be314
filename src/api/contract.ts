/** Contract pieces shared by every endpoint: problem responses, paging, auth, path params. */
import { z } from "@hono/zod-openapi";
import { PROBLEMS, type ProblemSlug } from "./problem";

/** The origin the document's examples use for problem `type` URLs. */
const EXAMPLE_ORIGIN = "https://tunnelplane.example.com";

const SLUGS = Object.keys(PROBLEMS) as ProblemSlug[];

/** The RFC 9457 body, as documented in OpenAPI. */
export const ProblemSchema = z
  .object({
    type: z
      .string()
      .regex(new RegExp(`^https?://[^/]+/problems/(${SLUGS.join("|")})$`))
      .openapi({
        description: `\`<origin>/problems/<slug>\`, which resolves to the problem's entry in the catalogue at \`/problems\`. Slugs: ${SLUGS.map((s) => `\`${s}\` (${PROBLEMS[s].status})`).join(", ")}.`,
        example: `${EXAMPLE_ORIGIN}/problems/validation-failed`,
      }),
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
          code: z.string().openapi({
            description: "kebab-case, e.g. `too-small`, `invalid-format`, `unknown-field`.",
            example: "cidr-host-bits-set",
          }),
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
  428: "If-Match is required",
  502: "Cloudflare API failure",
};

const EXAMPLE_INSTANCE = "/v1/accounts/0123456789abcdef0123456789abcdef/routes";

/** An example body of the problem `slug`. */
function problemExample(slug: ProblemSlug) {
  const { status, title } = PROBLEMS[slug];
  return {
    type: `${EXAMPLE_ORIGIN}/problems/${slug}`,
    title,
    status,
    detail: slug === "validation-failed" ? "1 field is invalid." : `${title}.`,
    instance: EXAMPLE_INSTANCE,
    request_id: "0b6f7c1e-2d3a-4f5b-8c9d-1e2f3a4b5c6d",
    ...(slug === "validation-failed"
      ? {
          errors: [
            {
              pointer: "#/network",
              detail: "10.1.2.3/8 has host bits set; the canonical form is 10.0.0.0/8",
              code: "cidr-host-bits-set",
            },
          ],
        }
      : {}),
  };
}

/**
 * OpenAPI responses for the given problem slugs (grouped by status), each with an example of
 * the first slug given for that status. 401, 403 (the role table) and 500 are always added.
 */
export function problemResponses(...slugs: ProblemSlug[]) {
  const all: ProblemSlug[] = [...slugs, "unauthorized", "forbidden", "internal-error"];
  const byStatus = new Map<number, ProblemSlug>();
  for (const slug of all) {
    if (!byStatus.has(PROBLEMS[slug].status)) {
      byStatus.set(PROBLEMS[slug].status, slug);
    }
  }
  return Object.fromEntries(
    [...byStatus].map(([status, slug]) => [
      status,
      {
        description: STATUS_TEXT[status] ?? "Internal error",
        content: {
          "application/problem+json": { schema: ProblemSchema, example: problemExample(slug) },
        },
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
