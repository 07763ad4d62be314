/**
 * Audit log retention, run by the Cron Trigger: entries older than the configured retention
 * (AUDIT_RETENTION_DAYS, default 90) are deleted from the chains of the accounts a tick hands
 * out and from the global chain (API keys, Access role bindings). Pruning deletes only a prefix
 * of each chain and keeps its newest entry, so what remains still verifies (see audit-log.repo).
 */
import { GLOBAL_AUDIT_SCOPE, pruneAuditLog } from "../db/audit-log.repo";
import type { ReconcileDeps } from "./deps";

/**
 * Account chains one tick prunes at most (about five D1 queries each): a tick hands out up to
 * 1,000 accounts, and entries only need to go within days of their 90, not at every run.
 */
export const MAX_AUDIT_SCOPES_PRUNED_PER_TICK = 20;

/**
 * Prunes the audit chains of the first MAX_AUDIT_SCOPES_PRUNED_PER_TICK of `accountIds` (handed
 * out oldest-due first, so every account comes round) and the global chain of entries written
 * before `nowMs - config.auditRetentionMs`. @returns how many entries were deleted.
 */
export async function pruneAuditLogs(
  deps: ReconcileDeps,
  accountIds: readonly string[],
  nowMs: number,
): Promise<number> {
  const beforeMs = nowMs - deps.config.auditRetentionMs;
  let deleted = 0;
  for (const scope of [
    ...accountIds.slice(0, MAX_AUDIT_SCOPES_PRUNED_PER_TICK),
    GLOBAL_AUDIT_SCOPE,
  ]) {
    deleted += await pruneAuditLog(deps.db, scope, beforeMs);
  }
  return deleted;
}
