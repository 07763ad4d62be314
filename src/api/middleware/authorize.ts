/**
 * Authorization, for every request in one place: the operation's row in `authz/operations.ts`
 * names the roles allowed, and an identity scoped to other accounts gets the 404 of an account
 * that does not exist (before any role check, so it learns nothing about the account).
 */
import type { MiddlewareHandler } from "hono";
import type { OperationLookup } from "../authz/lookup";
import { OPERATIONS } from "../authz/operations";
import type { AppEnv } from "../context";
import { canReachAccount } from "../identity/identity";
import { ProblemError } from "../problem";

/** The middleware; `lookup` is read per request, so it can be filled once the routes exist. */
export function authorize(lookup: () => OperationLookup): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const operation = lookup()(c.req.method, new URL(c.req.url).pathname);
    if (operation === undefined) {
      return next();
    }
    const identity = c.get("identity");
    if (operation.accountId !== null && !canReachAccount(identity, operation.accountId)) {
      throw new ProblemError("not-found", `Account ${operation.accountId} is not registered.`);
    }
    const rule = OPERATIONS[operation.operationId];
    if (rule === undefined || !rule.roles.includes(identity.role)) {
      throw new ProblemError(
        "forbidden",
        `The ${identity.role} role may not call ${operation.operationId}.`,
      );
    }
    c.set("operation", { ...operation, audit: rule.audit });
    return next();
  };
}
