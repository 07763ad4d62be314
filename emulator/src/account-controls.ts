/**
 * Test controls of what Cloudflare leaves open or varies per account: answer styles
 * (`/__emulator/behaviour`), token permission groups (`/__emulator/tokens`) and Gateway rules
 * shared from a parent account (`/__emulator/shared-rules`). See emulator/README.md.
 */
import { readBehaviour } from "./behaviour";
import type { Clock } from "./clock";
import { ApiFailure, type JsonObject, jsonResponse } from "./http";
import { readTokenGrant, type TokenBook } from "./permissions";
import { hashCredential } from "./rate-limit";
import { addSharedRule } from "./resources/gateway-rules";
import type { Store } from "./store";

const ACCOUNT_ID = /^[0-9a-f]{32}$/;

function readAccountId(value: unknown): string {
  if (typeof value !== "string" || !ACCOUNT_ID.test(value)) {
    throw new ApiFailure(400, 1001, "account_id must be a 32-character lower-case hex id");
  }
  return value;
}

/** `PUT` registers a token with its permission groups; `DELETE` forgets every token. */
export async function grantToken(
  method: string,
  body: unknown,
  tokens: TokenBook,
): Promise<Response> {
  if (method === "DELETE") {
    tokens.clear();
    return jsonResponse(200, { ok: true });
  }
  if (method !== "PUT") {
    throw new ApiFailure(405, 10405, "Method not allowed for this route");
  }
  const { token, groups } = readTokenGrant(body);
  const tokenHash = await hashCredential(token);
  tokens.set(tokenHash, groups);
  return jsonResponse(200, { token_hash: tokenHash, permission_groups: groups });
}

/** Serves `/__emulator/behaviour` and `/__emulator/shared-rules`; undefined for other paths. */
export function serveAccountControls(
  method: string,
  url: URL,
  body: unknown,
  store: Store,
  clock: Clock,
): Response | undefined {
  const path = url.pathname.replace(/\/+$/, "");
  const input = (typeof body === "object" && body !== null ? body : {}) as JsonObject;
  if (path === "/__emulator/shared-rules" && method === "POST") {
    const account = store.account(readAccountId(input.account_id));
    return jsonResponse(200, { rule: addSharedRule(account, input.rule, clock.next()) });
  }
  if (path !== "/__emulator/behaviour") {
    return undefined;
  }
  const accountId = readAccountId(
    method === "GET" ? url.searchParams.get("account_id") : input.account_id,
  );
  const account = store.account(accountId);
  if (method === "PUT") {
    account.setBehaviour(readBehaviour(input.behaviour));
  } else if (method !== "GET") {
    throw new ApiFailure(405, 10405, "Method not allowed for this route");
  }
  return jsonResponse(200, { account_id: accountId, behaviour: account.behaviour() });
}
