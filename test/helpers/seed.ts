/** Accounts for tests: each test registers its own, so tests never share state. */
import type { ExpectStatic } from "vitest";
import { post } from "./api";
import { newAccountId } from "./emulator";

/** Registers a fresh account in tunnelplane; returns its id and the account path. */
export async function seedAccount(
  expect: ExpectStatic,
  options: {
    mode?: "enforce" | "observe";
    reconcileIntervalS?: number;
    teamDomain?: string;
    /** The account's Cloudflare API token (the emulator rate-limits per token, and a test that registers its permissions needs its own). */
    apiToken?: string;
  } = {},
): Promise<{ accountId: string; base: string }> {
  const accountId = newAccountId();
  const response = await post("/v1/accounts", {
    account_id: accountId,
    name: `test ${accountId.slice(0, 6)}`,
    api_token: options.apiToken ?? "test-cloudflare-api-token-0123456789abcdef",
    mode: options.mode ?? "enforce",
    ...(options.reconcileIntervalS === undefined
      ? {}
      : { reconcile_interval_s: options.reconcileIntervalS }),
    ...(options.teamDomain === undefined ? {} : { team_domain: options.teamDomain }),
  });
  expect(response.status).toBe(201);
  return { accountId, base: `/v1/accounts/${accountId}` };
}
