/**
 * The audit trail of every request whose operation is audited (see `authz/operations.ts`): after
 * a successful `request`-mode operation it records the response (or the handler's `auditAfter`)
 * with secrets redacted (and the handler's `auditBefore`), then seals the scope's hash chain, so each entry is chained before
 * the caller gets the answer.
 */
import type { Context, MiddlewareHandler } from "hono";
import { appendAuditEntry, GLOBAL_AUDIT_SCOPE, sealAuditChain } from "../../db/audit-log.repo";
import { createDb } from "../../db/client";
import { redactSecrets } from "../../lib/redact";
import { type AppEnv, actorOf } from "../context";

async function responseJson(c: Context<AppEnv>): Promise<unknown> {
  if (!(c.res.headers.get("content-type") ?? "").includes("json")) {
    return null;
  }
  return c.res.clone().json();
}

/** The object a request entry is about: the created id, the path's id, or the account. */
export function objectIdOf(params: Record<string, string>, body: unknown): string {
  const created = (body as { id?: unknown } | null)?.id;
  const fromPath = params.id ?? params.run_id;
  if (fromPath !== undefined) {
    return fromPath;
  }
  return typeof created === "string" ? created : (params.account_id ?? "");
}

/** The resource a path template names: `grants` in `/v1/accounts/{account_id}/grants/{id}`. */
export function kindOf(path: string): string {
  const segments = path.split("/").filter((s) => s !== "" && s !== "v1" && !s.startsWith("{"));
  return segments[segments[0] === "accounts" && segments.length > 1 ? 1 : 0] ?? "";
}

export const auditTrail: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const operation = c.get("operation");
  if (operation === undefined || operation.audit === "none" || c.res.status >= 300) {
    return;
  }
  const scope = operation.accountId ?? GLOBAL_AUDIT_SCOPE;
  const db = createDb(c.env.DB);
  try {
    if (operation.audit === "request") {
      const after = redactSecrets(c.get("auditAfter") ?? (await responseJson(c)));
      await appendAuditEntry(db, {
        scope,
        actor: actorOf(c),
        action: operation.operationId,
        kind: kindOf(operation.path),
        objectId: objectIdOf(operation.params, after),
        before: redactSecrets(c.get("auditBefore") ?? null),
        after,
        atMs: Date.now(),
      });
    }
    await sealAuditChain(db, scope);
  } catch (error) {
    // The write itself landed; losing its audit entry is logged loudly rather than turned into
    // a failure the caller would retry.
    console.error(
      JSON.stringify({
        request_id: c.get("requestId"),
        audit_failed: operation.operationId,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
};
