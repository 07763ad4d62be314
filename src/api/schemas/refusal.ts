/**
 * The fields every answer shares when it names a permission Cloudflare refused the account's API
 * token (403 / 10000): the account's `token_problems` and the `skipped` list of plan, explain and
 * import. Each adds its own `permission` description and fields.
 */
import { z } from "@hono/zod-openapi";
import { describeTokenProblem, type TokenProblem } from "../../domain/token-permissions";

/** The wire fields of a refusal after `permission`. */
export const RefusalFields = {
  permission_groups: z.array(z.string()).openapi({
    description: "API permission groups, any one of which grants it.",
    example: ["Zero Trust Write"],
  }),
  request: z.string().openapi({
    description:
      "The request Cloudflare refused with 403 / 10000 (method and path after the account).",
    example: "GET gateway/rules",
  }),
  detail: z.string().openapi({
    example:
      "the API token lacks Zero Trust: Edit (Cloudflare answered 403 / 10000 to GET gateway/rules)",
  }),
};

/** The wire form of a refusal: the permission, its groups, the request and a sentence. */
export function toRefusalResource(problem: TokenProblem) {
  return {
    permission: problem.permission,
    permission_groups: problem.permissionGroups,
    request: problem.request,
    detail: describeTokenProblem(problem),
  };
}
