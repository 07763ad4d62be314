/**
 * Test controls of the rate-limit model and the per-account object limits:
 * `GET/PUT /__emulator/rate-limit` and `GET/PUT /__emulator/limits`. Like every control they need
 * no token, carry no rate-limit headers and are never logged or counted as calls.
 */
import { ApiFailure, type JsonObject, jsonResponse } from "./http";
import { readLimits } from "./limits";
import { CLOUDFLARE_RATE_LIMIT, type RateLimitConfig, type RateLimiter } from "./rate-limit";
import type { Store } from "./store";

const ACCOUNT_ID = /^[0-9a-f]{32}$/;
/** Longest window or lockout accepted, seconds (inclusive): one day. */
const MAX_DURATION_S = 86_400;
/** Largest call limit accepted (inclusive). */
const MAX_CALLS = 1_000_000_000;

/** The Worker vars that lower (or raise) the model's defaults for `npm start`. */
export interface RateLimitVars {
  /** Calls per window, e.g. "300". */
  RATE_LIMIT_CALLS?: string;
  /** Window in seconds, decimals allowed. */
  RATE_LIMIT_WINDOW_S?: string;
  /** Lockout in seconds, decimals allowed. */
  RATE_LIMIT_LOCKOUT_S?: string;
}

/** Cloudflare's settings with the vars applied; throws on a var that is not a valid value. */
export function rateLimitDefaults(vars: RateLimitVars): RateLimitConfig {
  const parse = (name: keyof RateLimitVars, key: "limit" | "window_s" | "lockout_s") => {
    const text = vars[name];
    if (text === undefined || text.trim() === "") {
      return {};
    }
    try {
      return readConfigChange({ [key]: Number(text) });
    } catch (error) {
      throw new Error(`${name}=${text}: ${(error as Error).message}`);
    }
  };
  return {
    ...CLOUDFLARE_RATE_LIMIT,
    ...parse("RATE_LIMIT_CALLS", "limit"),
    ...parse("RATE_LIMIT_WINDOW_S", "window_s"),
    ...parse("RATE_LIMIT_LOCKOUT_S", "lockout_s"),
  };
}

/**
 * A `PUT /__emulator/rate-limit` body: `limit` an integer 1..1e9, `window_s` a number in
 * (0, 86400], `lockout_s` a number in [0, 86400], `omit_retry_after` a boolean; all optional.
 * 400/1001 otherwise.
 */
export function readConfigChange(body: unknown): Partial<RateLimitConfig> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiFailure(400, 1001, "the rate-limit settings must be a JSON object");
  }
  const input = body as JsonObject;
  const known = ["limit", "window_s", "lockout_s", "omit_retry_after"];
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new ApiFailure(400, 1001, `unknown setting ${unknown.join(", ")}; known: ${known}`);
  }
  const change: Partial<RateLimitConfig> = {};
  const seconds = (name: "window_s" | "lockout_s", min: number, inclusive: boolean) => {
    const value = input[name];
    if (value === undefined) {
      return;
    }
    if (
      typeof value !== "number" ||
      !Number.isFinite(value) ||
      (inclusive ? value < min : value <= min) ||
      value > MAX_DURATION_S
    ) {
      const range = inclusive ? `[${min}, ${MAX_DURATION_S}]` : `(${min}, ${MAX_DURATION_S}]`;
      throw new ApiFailure(400, 1001, `${name} must be a number of seconds in ${range}`);
    }
    change[name] = value;
  };
  if (input.limit !== undefined) {
    const limit = input.limit;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_CALLS) {
      throw new ApiFailure(400, 1001, `limit must be an integer from 1 to ${MAX_CALLS}`);
    }
    change.limit = limit;
  }
  seconds("window_s", 0, false);
  seconds("lockout_s", 0, true);
  if (input.omit_retry_after !== undefined) {
    if (typeof input.omit_retry_after !== "boolean") {
      throw new ApiFailure(400, 1001, "omit_retry_after must be a boolean");
    }
    change.omit_retry_after = input.omit_retry_after;
  }
  return change;
}

/** Serves the two limit controls; undefined when the path is not one of them. */
export function serveLimitControls(
  method: string,
  path: string,
  url: URL,
  body: unknown,
  limiter: RateLimiter,
  store: Store,
): Response | undefined {
  if (path === "/__emulator/rate-limit") {
    if (method === "GET") {
      return jsonResponse(200, { config: limiter.config(), tokens: limiter.report(Date.now()) });
    }
    if (method === "PUT") {
      return jsonResponse(200, { config: limiter.configure(readConfigChange(body)) });
    }
  }
  if (path === "/__emulator/limits") {
    if (method === "GET") {
      const accountId = readAccountId(url.searchParams.get("account_id"));
      return jsonResponse(200, {
        account_id: accountId,
        limits: store.account(accountId).limits(),
      });
    }
    if (method === "PUT") {
      const input = typeof body === "object" && body !== null ? (body as JsonObject) : {};
      const accountId = readAccountId(input.account_id);
      const account = store.account(accountId);
      account.setLimits(readLimits(input.limits));
      return jsonResponse(200, { account_id: accountId, limits: account.limits() });
    }
  }
  return undefined;
}

function readAccountId(value: unknown): string {
  if (typeof value !== "string" || !ACCOUNT_ID.test(value)) {
    throw new ApiFailure(400, 1001, "account_id must be a 32-character lower-case hex id");
  }
  return value;
}
