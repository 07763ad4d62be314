/**
 * Audit log retention, run by the Cron Trigger: entries older than the configured retention
 * (AUDIT_RETENTION_DAYS, default 90) are deleted from the chains of the accounts a tick hands
 * out and from the global chain (API keys, Access role bindings). Pruning deletes only a prefix
 * of each chain and keeps its newest entry, so what remains still verifies (see audit-log.repo).
 */
import { GLOBAL_AUDIT_SCOPE, pruneAuditLog } from "../db/audit-log.repo";
import type { ReconcileDeps } from "./deps";

/**
 * Prunes the audit chains of `accountIds` and the global chain of entries written before
 * `nowMs - config.auditRetentionMs`. @returns how many entries were deleted.
 */
export async function pruneAuditLogs(
  deps: ReconcileDeps,
  accountIds: readonly string[],
  nowMs: number,
): Promise<number> {
  const beforeMs = nowMs - deps.config.auditRetentionMs;
  let deleted = 0;
  for (const scope of [...accountIds, GLOBAL_AUDIT_SCOPE]) {
    deleted += await pruneAuditLog(deps.db, scope, beforeMs);
  }
  return deleted;
}
