/** Assertions shared by every endpoint's tests: the auth cases and problem bodies. */
import type { ExpectStatic } from "vitest";
import { type ApiResponse, call } from "./api";

/** The fields of a problem body that do not vary between runs. */
export function problemOf(response: ApiResponse): Record<string, unknown> {
  const { request_id: _id, ...rest } = response.body as Record<string, unknown>;
  return rest;
}

/**
 * Every endpoint answers 401 without a key and with a wrong key, as problem+json, and changes
 * nothing. `path` must be one that would otherwise succeed or fail for another reason.
 */
export async function expectAuthRequired(
  expect: ExpectStatic,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  const details = [
    [null, "Send `Authorization: Bearer <api key>` or log in through Cloudflare Access."],
    ["not-the-admin-key", "The API key is unknown, revoked or expired."],
  ] as const;
  for (const [key, detail] of details) {
    const response = await call(method, path, { body, key });
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(problemOf(response)).toEqual({
      type: "http://tunnelplane/problems/unauthorized",
      title: "Missing or invalid API key",
      status: 401,
      detail,
      instance: new URL(path, "http://x").pathname,
    });
  }
}
