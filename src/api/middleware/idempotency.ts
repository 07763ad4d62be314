/**
 * `Idempotency-Key` for POSTs, scoped by account, route and caller. The key is reserved before the
 * handler runs, so of concurrent retries exactly one executes; a 2xx response is stored and a
 * retry with the same key and the same body gets it again (status 200, `Idempotent-Replayed:
 * true`); the same key with another body is a 409 `idempotency-key-reused`. A failed request
 * frees its key. Keys are honoured 24 hours (then purged by the scheduler); a reservation whose
 * request died is taken over after one minute.
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
 */
import type { MiddlewareHandler } from "hono";
import { createDb } from "../../db/client";
import {
  completeIdempotencyKey,
  getIdempotencyKey,
  IDEMPOTENCY_KEY_TTL_MS,
  type IdempotencyScope,
  releaseIdempotencyKey,
  reserveIdempotencyKey,
} from "../../db/idempotency.repo";
import { sha256Hex } from "../../lib/hmac";
import type { AppEnv } from "../context";
import { ProblemError } from "../problem";

/** After this long, ms, a reservation without a response is assumed dead. */
const RESERVATION_TTL_MS = 60_000;
/** Response headers replayed with the stored body. */
const REPLAYED_HEADERS = ["location", "etag"];
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted, so whitespace and key order do not make two bodies differ. */
function canonicalJson(text: string): string {
  const sortKeys = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sortKeys)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
          )
        : value;
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    return text;
  }
}

/**
 * The middleware for one route; `route` is its pattern (e.g. `/v1/accounts/:account_id/grants`).
 * Requests without the header pass through unchanged.
 */
export function idempotent(route: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (c.req.method !== "POST" || key === undefined) {
      await next();
      return undefined;
    }
    if (!KEY_PATTERN.test(key)) {
      throw new ProblemError("validation-failed", "The Idempotency-Key header is not valid.", {
        errors: [
          {
            parameter: "idempotency-key",
            detail: "1..255 visible ASCII characters",
            code: "invalid-idempotency-key",
          },
        ],
      });
    }
    const db = createDb(c.env.DB);
    const scope: IdempotencyScope = {
      accountId: c.req.param("account_id") ?? "",
      // Per caller: two ticketing systems that pick the same key never see each other's grant.
      scope: `POST ${route} by ${c.get("actor")}`,
      key,
    };
    const hash = await sha256Hex(canonicalJson(await c.req.text()));
    const nowMs = Date.now();
    if (!(await reserveIdempotencyKey(db, scope, hash, nowMs, nowMs - IDEMPOTENCY_KEY_TTL_MS))) {
      const stored = await getIdempotencyKey(db, scope);
      if (stored !== undefined && stored.requestHash !== hash) {
        throw new ProblemError(
          "idempotency-key-reused",
          "This Idempotency-Key was used with a different request body; use a new key.",
        );
      }
      if (stored?.response == null) {
        const stale = stored !== undefined && stored.createdAtMs < nowMs - RESERVATION_TTL_MS;
        if (stale) {
          await releaseIdempotencyKey(db, scope);
        }
        throw new ProblemError(
          "idempotency-key-in-progress",
          "A request with this Idempotency-Key is still running; retry shortly.",
          { headers: { "Retry-After": "1" } },
        );
      }
      return new Response(stored.response.body, {
        status: 200,
        headers: {
          ...stored.response.headers,
          "Content-Type": "application/json",
          "Idempotent-Replayed": "true",
        },
      });
    }
    await next();
    const response = c.res;
    if (response.status < 200 || response.status > 299) {
      await releaseIdempotencyKey(db, scope);
      return undefined;
    }
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((h) => {
        const value = response.headers.get(h);
        return value === null ? [] : [[h, value]];
      }),
    );
    await completeIdempotencyKey(db, scope, {
      status: response.status,
      body: await response.clone().text(),
      headers,
    });
    return undefined;
  };
}
