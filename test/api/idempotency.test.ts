/**
 * Idempotency keys after their 24 hours: the scheduled run deletes expired keys, oldest first and
 * a bounded batch per tick, and a fresh key keeps replaying its response.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { IDEMPOTENCY_KEY_TTL_MS } from "../../src/db/idempotency.repo";
import { MAX_IDEMPOTENCY_KEYS_PURGED_PER_TICK } from "../../src/reconciler/schedule";
import { call } from "../helpers/api";
import { runCronTick } from "../helpers/cron";
import { seedAccount } from "../helpers/seed";

const grantRequest = {
  ticket: { system: "jira", id: "OPS-1" },
  subject_email: "contractor@example.com",
  destinations: ["10.128.0.7"],
  reason: "Patch the db host",
  duration_s: 3600,
};

/** The account's stored keys, oldest first. */
async function keysOf(accountId: string): Promise<string[]> {
  const rows = await env.DB.prepare(
    "SELECT key FROM idempotency_keys WHERE account_id = ? ORDER BY created_at_ms, key",
  )
    .bind(accountId)
    .all<{ key: string }>();
  return rows.results.map((r) => r.key);
}

describe("expired idempotency keys", () => {
  it("a scheduled run deletes an expired key and keeps a fresh one, which still replays", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const send = (key: string) =>
      call<{ id: string }>("POST", `${base}/grants`, {
        body: grantRequest,
        headers: { "idempotency-key": key },
      });
    const fresh = await send("fresh");
    expect([fresh.status, (await send("expired")).status]).toEqual([201, 201]);
    // A day and a millisecond older than it is: expired at any tick from now on.
    await env.DB.prepare(
      "UPDATE idempotency_keys SET created_at_ms = created_at_ms - ? WHERE account_id = ? AND key = ?",
    )
      .bind(IDEMPOTENCY_KEY_TTL_MS + 1, accountId, "expired")
      .run();

    await runCronTick(Date.now());

    expect(await keysOf(accountId)).toEqual(["fresh"]);
    const replayed = await send("fresh");
    expect([
      replayed.status,
      replayed.headers.get("idempotent-replayed"),
      replayed.body.id,
    ]).toEqual([200, "true", fresh.body.id]);
  });

  it("one tick deletes at most its batch, oldest first, and the next tick the rest", async ({
    expect,
  }) => {
    const { accountId } = await seedAccount(expect);
    const nowMs = Date.now();
    // Key k<i> expired i ms ago, for i = 1..batch + 1; k0 is fresh.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO idempotency_keys (account_id, scope, key, request_hash, state, created_at_ms)
       SELECT ?, 'POST /v1/accounts/:account_id/grants', 'k' || i, 'hash', 'completed',
              CASE i WHEN 0 THEN ? ELSE ? - i END
       FROM n`,
    )
      .bind(
        MAX_IDEMPOTENCY_KEYS_PURGED_PER_TICK + 1,
        accountId,
        nowMs,
        nowMs - IDEMPOTENCY_KEY_TTL_MS,
      )
      .run();
    expect((await keysOf(accountId)).length).toBe(MAX_IDEMPOTENCY_KEYS_PURGED_PER_TICK + 2);

    await runCronTick(nowMs);
    expect(await keysOf(accountId)).toEqual(["k1", "k0"]);

    await runCronTick(nowMs);
    expect(await keysOf(accountId)).toEqual(["k0"]);
  });
});
