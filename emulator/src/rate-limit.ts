/**
 * Cloudflare's global API rate limit, per credential: a sliding window of `window_s` seconds
 * that holds at most `limit` calls. The call that goes past the limit starts a lockout of
 * `lockout_s` seconds during which every call of that credential answers 429/971. Every call
 * counts, refused ones included, so a retry storm during a lockout can fill the next window.
 * Durations are real seconds (decimals allowed), so tests speed the clock up by shrinking them.
 * Counters are written through to SQLite, so they survive the Durable Object being evicted.
 * @see https://developers.cloudflare.com/fundamentals/api/reference/limits/
 */
import { ApiFailure, failureResponse } from "./http";

/** The model's settings. */
export interface RateLimitConfig {
  /** Calls a window may hold (inclusive); Cloudflare: 1200. */
  limit: number;
  /** Length of the sliding window, seconds; Cloudflare: 300. */
  window_s: number;
  /** Lockout after the call past the limit, seconds; Cloudflare: 300. */
  lockout_s: number;
  /** Answer the lockout's 429s without `Retry-After` (to test a client's own default). */
  omit_retry_after: boolean;
}

/** Cloudflare's documented values. */
export const CLOUDFLARE_RATE_LIMIT: Readonly<RateLimitConfig> = {
  limit: 1200,
  window_s: 300,
  lockout_s: 300,
  omit_retry_after: false,
};

/** One credential's counters, as `GET /__emulator/rate-limit` reports them. */
export interface TokenReport {
  /** Hex SHA-256 of the credential (the bearer token, or the `X-Auth-Email` value). */
  token_hash: string;
  /** Calls (refused ones included) in the window that ends now. */
  calls_in_window: number;
  /** The most calls any window of `window_s` seconds ever held. */
  max_calls_in_any_window: number;
  /** Calls the model answered 429 (injected faults are not counted). */
  rate_limited_calls: number;
  /** Calls sent while a `Retry-After` (a lockout's, or an injected 429's) was pending. */
  calls_during_lockout: number;
  /** End of the current lockout (RFC 3339), or null when not locked out. */
  locked_until: string | null;
}

/** What the model decided about one call. */
export interface Admission {
  /** `Ratelimit` and `Ratelimit-Policy`, for whatever answer the call gets. */
  headers: Record<string, string>;
  /** The 429 to answer instead of serving the call, or undefined to serve it. */
  refusal: Response | undefined;
}

interface TokenState {
  /** Arrival times (epoch ms) of the calls still inside the window, oldest first. */
  calls: number[];
  maxInWindow: number;
  rateLimited: number;
  duringLockout: number;
  /** Epoch ms; 0 when never locked. */
  lockedUntil: number;
  /** Epoch ms until which a `Retry-After` is pending (lockout or injected 429). */
  pendingUntil: number;
}

const RATE_LIMITED_MESSAGE = "Please wait and consider throttling your request speed";

/** Creates the model's tables; safe to run on every start. */
export function createRateLimitSchema(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS rate_calls (token_hash TEXT NOT NULL, at_ms REAL NOT NULL)`);
  sql.exec("CREATE INDEX IF NOT EXISTS rate_calls_by_token ON rate_calls (token_hash, at_ms)");
  sql.exec(
    `CREATE TABLE IF NOT EXISTS rate_tokens (token_hash TEXT PRIMARY KEY, body TEXT NOT NULL)`,
  );
  sql.exec(`CREATE TABLE IF NOT EXISTS rate_config (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`);
}

/** The per-credential sliding-window limiter. */
export class RateLimiter {
  private readonly tokens = new Map<string, TokenState>();
  private current: RateLimitConfig;

  constructor(
    private readonly sql: SqlStorage,
    /** The settings a reset returns to (Cloudflare's, or lowered by the Worker's vars). */
    private readonly defaults: RateLimitConfig,
  ) {
    const stored = sql
      .exec<{ body: string }>("SELECT body FROM rate_config WHERE id = 1")
      .toArray();
    this.current = stored[0] === undefined ? { ...defaults } : JSON.parse(stored[0].body);
  }

  config(): RateLimitConfig {
    return { ...this.current };
  }

  /** Changes some settings (counters are kept) and stores them. */
  configure(change: Partial<RateLimitConfig>): RateLimitConfig {
    this.current = { ...this.current, ...change };
    this.sql.exec(
      "INSERT OR REPLACE INTO rate_config (id, body) VALUES (1, ?)",
      JSON.stringify(this.current),
    );
    return this.config();
  }

  /** Forgets every counter and returns to the default settings. */
  reset(): void {
    this.tokens.clear();
    this.current = { ...this.defaults };
    this.sql.exec("DELETE FROM rate_calls");
    this.sql.exec("DELETE FROM rate_tokens");
    this.sql.exec("DELETE FROM rate_config");
  }

  /** Counts one call of the credential arriving at `nowMs` and decides whether it is served. */
  admit(tokenHash: string, nowMs: number): Admission {
    const state = this.state(tokenHash);
    const windowMs = this.current.window_s * 1000;
    this.forget(tokenHash, state, nowMs - windowMs);
    state.calls.push(nowMs);
    this.sql.exec("INSERT INTO rate_calls (token_hash, at_ms) VALUES (?, ?)", tokenHash, nowMs);
    state.maxInWindow = Math.max(state.maxInWindow, state.calls.length);
    if (state.pendingUntil > nowMs) {
      state.duringLockout++;
    }
    let refusal: Response | undefined;
    let retryAfterS: number | undefined;
    if (state.lockedUntil <= nowMs && state.calls.length > this.current.limit) {
      state.lockedUntil = nowMs + this.current.lockout_s * 1000;
      state.pendingUntil = Math.max(state.pendingUntil, state.lockedUntil);
    }
    if (state.lockedUntil > nowMs) {
      state.rateLimited++;
      retryAfterS = Math.ceil((state.lockedUntil - nowMs) / 1000);
      refusal = this.refusal(retryAfterS);
    }
    this.save(tokenHash, state);
    const oldest = state.calls[0] ?? nowMs;
    const frees = retryAfterS ?? Math.ceil((oldest + windowMs - nowMs) / 1000);
    const remaining = retryAfterS === undefined ? this.current.limit - state.calls.length : 0;
    return {
      headers: {
        ratelimit: `"default";r=${Math.max(0, remaining)};t=${frees}`,
        "ratelimit-policy": `"default";q=${this.current.limit};w=${this.current.window_s}`,
      },
      refusal,
    };
  }

  /**
   * Notes an injected 429 answered at `nowMs`: a client must send nothing for `retryAfterS`
   * (the header's value, or `lockout_s` when the fault sends none, which is what a client's
   * 300 s default stands for on a sped-up clock). Does not lock the credential out.
   */
  notePendingRetry(tokenHash: string, nowMs: number, retryAfterS: number | null): void {
    const state = this.state(tokenHash);
    const seconds = retryAfterS ?? this.current.lockout_s;
    state.pendingUntil = Math.max(state.pendingUntil, nowMs + seconds * 1000);
    this.save(tokenHash, state);
  }

  /** Every credential seen since the last reset, by hash. */
  report(nowMs: number): TokenReport[] {
    for (const row of this.sql.exec<{ token_hash: string }>("SELECT token_hash FROM rate_tokens")) {
      this.state(row.token_hash);
    }
    const windowStart = nowMs - this.current.window_s * 1000;
    return [...this.tokens.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([tokenHash, state]) => ({
        token_hash: tokenHash,
        calls_in_window: state.calls.filter((at) => at > windowStart).length,
        max_calls_in_any_window: state.maxInWindow,
        rate_limited_calls: state.rateLimited,
        calls_during_lockout: state.duringLockout,
        locked_until: state.lockedUntil > nowMs ? new Date(state.lockedUntil).toISOString() : null,
      }));
  }

  private refusal(retryAfterS: number): Response {
    const headers: Record<string, string> = this.current.omit_retry_after
      ? {}
      : { "retry-after": String(retryAfterS) };
    return failureResponse(new ApiFailure(429, 971, RATE_LIMITED_MESSAGE, headers));
  }

  /** Drops the calls at or before `cutoffMs` (they left the window). */
  private forget(tokenHash: string, state: TokenState, cutoffMs: number): void {
    let index = 0;
    while (index < state.calls.length && (state.calls[index] ?? 0) <= cutoffMs) {
      index++;
    }
    if (index > 0) {
      state.calls.splice(0, index);
      this.sql.exec(
        "DELETE FROM rate_calls WHERE token_hash = ? AND at_ms <= ?",
        tokenHash,
        cutoffMs,
      );
    }
  }

  private state(tokenHash: string): TokenState {
    const cached = this.tokens.get(tokenHash);
    if (cached !== undefined) {
      return cached;
    }
    const row = this.sql
      .exec<{ body: string }>("SELECT body FROM rate_tokens WHERE token_hash = ?", tokenHash)
      .toArray()[0];
    const calls = this.sql
      .exec<{ at_ms: number }>(
        "SELECT at_ms FROM rate_calls WHERE token_hash = ? ORDER BY at_ms",
        tokenHash,
      )
      .toArray()
      .map((call) => call.at_ms);
    const counters =
      row === undefined
        ? { maxInWindow: 0, rateLimited: 0, duringLockout: 0, lockedUntil: 0, pendingUntil: 0 }
        : (JSON.parse(row.body) as Omit<TokenState, "calls">);
    const state: TokenState = { ...counters, calls };
    this.tokens.set(tokenHash, state);
    return state;
  }

  private save(tokenHash: string, state: TokenState): void {
    const { calls: _calls, ...counters } = state;
    this.sql.exec(
      "INSERT OR REPLACE INTO rate_tokens (token_hash, body) VALUES (?, ?)",
      tokenHash,
      JSON.stringify(counters),
    );
  }
}

/**
 * The credential a call is counted under: the bearer token, else the `X-Auth-Email` of a global
 * key, else the user service key; undefined when the call carries none (it is refused anyway).
 */
export function credentialOf(headers: Headers): string | undefined {
  const bearer = /^Bearer\s+(\S+)/i.exec(headers.get("authorization") ?? "")?.[1];
  return (
    bearer ?? headers.get("x-auth-email") ?? headers.get("x-auth-user-service-key") ?? undefined
  );
}

/** Hex SHA-256 of a credential. */
export async function hashCredential(credential: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(credential));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
