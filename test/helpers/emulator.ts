/**
 * The emulator as tests use it: the real `cloudflare` SDK wired to the emulator service
 * binding, a fresh random account per test, raw calls, the control API and SDK error summaries.
 */
import { env } from "cloudflare:workers";
import Cloudflare from "cloudflare";

/** RFC 3339 UTC with microseconds, as the emulator writes every timestamp. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** A lower-case uuid. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The emulator Worker, bound as CLOUDFLARE_API by vitest.config.ts. */
export function emulator(): Fetcher {
  const fetcher = env.CLOUDFLARE_API;
  if (fetcher === undefined) {
    throw new Error("CLOUDFLARE_API is not bound");
  }
  return fetcher;
}

/**
 * The real SDK against the emulator, SDK retries off (as tunnelplane runs it). The emulator
 * rate-limits per token, so a test that needs counters of its own passes its own `apiToken`.
 */
export function sdk(apiToken = "test-token"): Cloudflare {
  return new Cloudflare({
    apiToken,
    baseURL: "http://emulator/client/v4",
    maxRetries: 0,
    fetch: (input, init) => emulator().fetch(input as RequestInfo, init),
  });
}

/** A random 32-hex account id, so every test has an account of its own. */
export function newAccountId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** A raw call to the emulated API with a token (or other headers). */
export function api(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return emulator().fetch(`http://emulator/client/v4${path}`, {
    method: init.method ?? "GET",
    headers: init.headers ?? { authorization: "Bearer test-token" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

/** A call to the `/__emulator` control API; returns the parsed JSON body. */
export async function control(path: string, method = "GET", body?: unknown): Promise<unknown> {
  const response = await emulator().fetch(`http://emulator/__emulator${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json();
}

/** A token of its own, registered in the emulator with only the permission `groups`. */
export async function tokenWith(groups: string[]): Promise<string> {
  const token = `scoped-${crypto.randomUUID()}-0123456789`;
  await control("/tokens", "PUT", { token, permission_groups: groups });
  return token;
}

/** One logged API call. */
export interface Call {
  seq: number;
  method: string;
  path: string;
  query: string;
  status: number;
  account_id: string | null;
}

/** The calls logged for an account, optionally after a sequence number. */
export async function callsOf(accountId: string, sinceSeq = 0): Promise<Call[]> {
  const body = (await control(`/calls?account_id=${accountId}&since=${sinceSeq}`)) as {
    calls: Call[];
  };
  return body.calls;
}

/** The sequence number of the latest call of the account (0 when none). */
export async function lastSeq(accountId: string): Promise<number> {
  const calls = await callsOf(accountId);
  return calls[calls.length - 1]?.seq ?? 0;
}

const ERROR_CLASSES = [
  ["BadRequestError", Cloudflare.BadRequestError],
  ["AuthenticationError", Cloudflare.AuthenticationError],
  ["PermissionDeniedError", Cloudflare.PermissionDeniedError],
  ["NotFoundError", Cloudflare.NotFoundError],
  ["ConflictError", Cloudflare.ConflictError],
  ["UnprocessableEntityError", Cloudflare.UnprocessableEntityError],
  ["RateLimitError", Cloudflare.RateLimitError],
  ["InternalServerError", Cloudflare.InternalServerError],
] as const;

/** What an SDK call failed with: error class, status and Cloudflare `errors[]`. */
export interface Failure {
  type: string;
  status: number | undefined;
  errors: { code: number | undefined; message: string | undefined }[];
}

/** Awaits a call that must fail and summarises the SDK error it threw. */
export async function failureOf(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    if (error instanceof Cloudflare.APIError) {
      const match = ERROR_CLASSES.find(([, errorClass]) => error instanceof errorClass);
      return {
        type: match?.[0] ?? "APIError",
        status: error.status,
        errors: error.errors.map((item) => ({ code: item.code, message: item.message })),
      };
    }
    throw error;
  }
  throw new Error("the call succeeded but was expected to fail");
}
