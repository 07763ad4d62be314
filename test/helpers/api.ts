/** Calls the control plane Worker through its real fetch handler, as an HTTP client would. */
import { exports } from "cloudflare:workers";

/** The admin key vitest.config.ts binds as ADMIN_API_KEY. */
export const ADMIN_KEY = "tp_test_admin_key";

/** A parsed response. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Sends one request. `body` is JSON-encoded unless it is a string (sent as is, for malformed
 * JSON tests). `key` null sends no Authorization header.
 */
export async function call<T = unknown>(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...options.headers,
  };
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key !== null) {
    headers.authorization = `Bearer ${key}`;
  }
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const response = await exports.default.fetch(
    new Request(`http://tunnelplane${path}`, { method, headers, body }),
  );
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === "" ? null : JSON.parse(text)) as T,
  };
}

/** Shorthands. */
export const get = <T = unknown>(path: string) => call<T>("GET", path);
export const post = <T = unknown>(path: string, body?: unknown) => call<T>("POST", path, { body });
export const put = <T = unknown>(path: string, body: unknown, headers?: Record<string, string>) =>
  call<T>("PUT", path, { body, headers });
export const del = <T = unknown>(path: string, headers?: Record<string, string>) =>
  call<T>("DELETE", path, { headers });
