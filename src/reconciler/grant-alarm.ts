/** When an account's grants next need its AccountLock alarm, and arming it. */
import type { Db } from "../db/client";
import { nextDeliveryDueAtMs } from "../db/grant-deliveries.repo";
import { listLiveGrants } from "../db/grants.repo";
import { nextClockEventAtMs } from "../domain/grants/lifecycle";
import type { LockClient } from "../lock/lock-client";

/**
 * The earliest start of an approved grant, end of a live grant, or due callback retry (epoch
 * ms); null when nothing is pending.
 */
export async function nextGrantTimerAtMs(
  db: Db,
  accountId: string,
  nowMs: number,
): Promise<number | null> {
  const [live, delivery] = await Promise.all([
    listLiveGrants(db, accountId),
    nextDeliveryDueAtMs(db, accountId),
  ]);
  const times = [
    ...live.flatMap((g) => nextClockEventAtMs(g, nowMs) ?? []),
    ...(delivery === null ? [] : [delivery]),
  ];
  return times.length === 0 ? null : Math.min(...times);
}

/** Arms the account's alarm for its next grant timer, if there is one. */
export async function armGrantTimer(
  deps: { db: Db; lock: LockClient; nowMs: () => number },
  accountId: string,
): Promise<void> {
  const atMs = await nextGrantTimerAtMs(deps.db, accountId, deps.nowMs());
  if (atMs !== null) {
    await deps.lock.armGrantAlarm(accountId, atMs);
  }
}
