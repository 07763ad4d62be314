/** The Hono environment shared by every router, and the router factory with the shared hook. */
import { OpenAPIHono, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Actor } from "../db/audit-log.repo";
import type { MatchedOperation } from "./authz/lookup";
import type { AuditMode } from "./authz/operations";
import type { Identity } from "./identity/identity";
import { ProblemError, zodIssuesToFields } from "./problem";

/** Per-request variables set by middleware. */
export interface AppVariables {
  /** The request id (from `cf-ray` or generated), echoed in `X-Request-Id`. */
  requestId: string;
  /** Who is calling, for the audit log (`identity.actor`). */
  actor: string;
  /** The authenticated caller: role, account scope, ticket system. */
  identity: Identity;
  /** The operation the request matched, with its audit mode (unset for unknown paths). */
  operation?: MatchedOperation & { audit: AuditMode };
  /** What a `request`-audited handler changed, as it was before (secrets are redacted later). */
  auditBefore?: unknown;
  /** What a `request`-audited handler wants recorded instead of its response (a redacted copy). */
  auditAfter?: unknown;
}

/** Bindings and variables of the API. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}

/** A handler typed by its contract. */
export type AppHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;

/**
 * A router whose validation failures become 422 problems with one `errors[]` entry per zod issue
 * (a JSON pointer for the body, the parameter name otherwise). Nothing is written on failure.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const { errors, total } = zodIssuesToFields(result.error.issues, result.target);
        const where = result.target === "json" ? "body" : result.target;
        const listed = total > errors.length ? `; the first ${errors.length} are listed` : "";
        throw new ProblemError(
          "validation-failed",
          `The request ${where} has ${total} invalid field(s)${listed}.`,
          { errors },
        );
      }
    },
  });
}

/** The caller as the audit log records it: its name and the request id. */
export function actorOf(c: Context<AppEnv>): Actor {
  return { name: c.get("actor"), requestId: c.get("requestId") };
}
