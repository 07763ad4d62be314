/** The Hono environment shared by every router, and the router factory with the shared hook. */
import { OpenAPIHono, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import { ProblemError, zodIssuesToFields } from "./problem";

/** Per-request variables set by middleware. */
export interface AppVariables {
  /** The request id (from `cf-ray` or generated), echoed in `X-Request-Id`. */
  requestId: string;
  /** Who is calling, for the audit log (e.g. `api-key:admin`). */
  actor: string;
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
