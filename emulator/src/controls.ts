/**
 * Test controls under `/__emulator/` (not part of the Cloudflare API): the call log, fault
 * injection, reset, tunnel health, and (in limit-controls.ts) the rate-limit model and the
 * account limits, and (in account-controls.ts) answer styles, tokens and shared rules. They
 * need no token and are never logged or counted as calls.
 */
import { grantToken, serveAccountControls } from "./account-controls";
import type { Clock } from "./clock";
import { ApiFailure, failureResponse, type JsonObject, jsonResponse } from "./http";
import { serveLimitControls } from "./limit-controls";
import type { TokenBook } from "./permissions";
import type { RateLimiter } from "./rate-limit";
import { setTunnelStatus, TUNNEL_STATUSES } from "./resources/tunnels";
import type { Store } from "./store";
import type { TunnelStatus } from "./types";

/** One API call as `/__emulator/calls` reports it. */
export interface CallRecord {
  /** Increasing sequence number (never reused, also across resets). */
  seq: number;
  method: string;
  /** URL path, e.g. `/client/v4/accounts/<id>/teamnet/routes`. */
  path: string;
  /** Raw query string without `?` (`""` when none). */
  query: string;
  /** HTTP status answered. */
  status: number;
  /** Account id from the path, or null. */
  account_id: string | null;
}

/** A pending fault as stored and as `GET /__emulator/faults` lists it. */
export interface FaultSpec {
  id: number;
  /** Method to match (upper case), or null for any method. */
  method: string | null;
  /** Matches request paths starting with this text. */
  path_prefix: string;
  /** Status to answer, or null to only delay. */
  status: number | null;
  /** Seconds sent in `retry-after`, or null for no header. */
  retry_after: number | null;
  /** Matching calls still to fault. */
  times: number;
  /** When true the operation is performed, then the error is returned (a lost response). */
  after_apply: boolean;
  /** Milliseconds to wait before answering. */
  delay_ms: number;
  /** Sent as `x-should-retry` when not null (steers the SDK's own retries). */
  should_retry: boolean | null;
  /**
   * Share of the matching calls faulted, 0 < share <= 1, spread evenly: the k-th match (from 0)
   * is faulted when floor((k + 1) * share) > floor(k * share). A match left alone goes on to the
   * next fault, so faults of different statuses can mix.
   */
  share: number;
  /** Matching calls seen so far (for `share`). */
  seen: number;
}

/** The call log in SQLite. */
export class CallLog {
  constructor(private readonly sql: SqlStorage) {}

  record(call: Omit<CallRecord, "seq">): void {
    this.sql.exec(
      "INSERT INTO calls (method, path, query, status, account_id) VALUES (?, ?, ?, ?, ?)",
      call.method,
      call.path,
      call.query,
      call.status,
      call.account_id,
    );
  }

  list(sinceSeq: number, accountId: string | undefined): CallRecord[] {
    const rows =
      accountId === undefined
        ? this.sql.exec<Record<string, SqlStorageValue>>(
            "SELECT * FROM calls WHERE seq > ? ORDER BY seq",
            sinceSeq,
          )
        : this.sql.exec<Record<string, SqlStorageValue>>(
            "SELECT * FROM calls WHERE seq > ? AND account_id = ? ORDER BY seq",
            sinceSeq,
            accountId,
          );
    return rows.toArray().map((row) => ({
      seq: Number(row.seq),
      method: String(row.method),
      path: String(row.path),
      query: String(row.query),
      status: Number(row.status),
      account_id: row.account_id === null ? null : String(row.account_id),
    }));
  }

  clear(accountId?: string): void {
    if (accountId === undefined) {
      this.sql.exec("DELETE FROM calls");
    } else {
      this.sql.exec("DELETE FROM calls WHERE account_id = ?", accountId);
    }
  }
}

/** Pending faults in SQLite, consumed in the order they were added. */
export class FaultBook {
  constructor(private readonly sql: SqlStorage) {}

  add(spec: Omit<FaultSpec, "id">): FaultSpec {
    const row = this.sql
      .exec<{ id: number }>(
        "INSERT INTO faults (spec, remaining) VALUES (?, ?) RETURNING id",
        JSON.stringify(spec),
        spec.times,
      )
      .one();
    return { ...spec, id: row.id };
  }

  list(): FaultSpec[] {
    return this.sql
      .exec<{ id: number; spec: string; remaining: number }>(
        "SELECT id, spec, remaining FROM faults ORDER BY id",
      )
      .toArray()
      .map((row) => ({ ...(JSON.parse(row.spec) as FaultSpec), id: row.id, times: row.remaining }));
  }

  /**
   * The first fault matching the call whose `share` picks it, with one use consumed; undefined
   * when none.
   */
  take(method: string, path: string): FaultSpec | undefined {
    const fault = this.list().find((candidate) => {
      if (
        (candidate.method !== null && candidate.method !== method) ||
        !path.startsWith(candidate.path_prefix)
      ) {
        return false;
      }
      if (candidate.share >= 1) {
        return true;
      }
      const { id: _id, times: _times, ...spec } = candidate;
      this.sql.exec(
        "UPDATE faults SET spec = ? WHERE id = ?",
        JSON.stringify({ ...spec, seen: candidate.seen + 1 }),
        candidate.id,
      );
      const k = candidate.seen;
      return Math.floor((k + 1) * candidate.share) > Math.floor(k * candidate.share);
    });
    if (fault === undefined) {
      return undefined;
    }
    if (fault.times <= 1) {
      this.sql.exec("DELETE FROM faults WHERE id = ?", fault.id);
    } else {
      this.sql.exec("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", fault.id);
    }
    return fault;
  }

  clear(): void {
    this.sql.exec("DELETE FROM faults");
  }
}

/** The error a fault answers with: 429/971 with `retry-after`, 5xx/1000, others 1000 too. */
export function faultResponse(fault: FaultSpec): Response {
  const status = fault.status ?? 500;
  const headers: Record<string, string> = {};
  if (fault.retry_after !== null) {
    headers["retry-after"] = String(fault.retry_after);
  }
  if (fault.should_retry !== null) {
    headers["x-should-retry"] = String(fault.should_retry);
  }
  const failure =
    status === 429
      ? new ApiFailure(429, 971, "Please wait and consider throttling your request speed", headers)
      : new ApiFailure(status, 1000, "Internal server error (injected fault)", headers);
  return failureResponse(failure);
}

function readFault(body: unknown): Omit<FaultSpec, "id"> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiFailure(400, 1001, "fault must be a JSON object");
  }
  const input = body as JsonObject;
  const number = (name: string, min: number, max: number): number | null => {
    const value = input[name];
    if (value === undefined || value === null) {
      return null;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new ApiFailure(400, 1001, `${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  };
  const flag = (name: string): boolean | null => {
    const value = input[name];
    if (value === undefined || value === null) {
      return null;
    }
    if (typeof value !== "boolean") {
      throw new ApiFailure(400, 1001, `${name} must be a boolean`);
    }
    return value;
  };
  if (typeof input.path_prefix !== "string" || !input.path_prefix.startsWith("/")) {
    throw new ApiFailure(400, 1001, "path_prefix must be a path starting with /");
  }
  if (input.method !== undefined && typeof input.method !== "string") {
    throw new ApiFailure(400, 1001, "method must be a string");
  }
  const status = number("status", 400, 599);
  const delayMs = number("delay_ms", 0, 60_000) ?? 0;
  if (status === null && delayMs === 0) {
    throw new ApiFailure(400, 1001, "a fault needs a status, a delay_ms, or both");
  }
  return {
    method: typeof input.method === "string" ? input.method.toUpperCase() : null,
    path_prefix: input.path_prefix,
    status,
    retry_after: number("retry_after", 0, 86_400),
    times: number("times", 1, 1_000_000) ?? 1,
    after_apply: flag("after_apply") ?? false,
    delay_ms: delayMs,
    should_retry: flag("should_retry"),
    share: readShare(input.share),
    seen: 0,
  };
}

function readShare(value: JsonObject[string] | undefined): number {
  if (value === undefined || value === null) {
    return 1;
  }
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    throw new ApiFailure(400, 1001, "share must be a number above 0 and at most 1");
  }
  return value;
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiFailure(400, 1002, "Malformed JSON in request body");
  }
}

/** Serves `/__emulator/*`. */
export class Controls {
  constructor(
    private readonly store: Store,
    private readonly calls: CallLog,
    private readonly faults: FaultBook,
    private readonly clock: Clock,
    private readonly limiter: RateLimiter,
    private readonly tokens: TokenBook,
  ) {}

  async handle(request: Request, url: URL): Promise<Response> {
    try {
      const body = request.method === "GET" ? undefined : await readJson(request);
      if (url.pathname === "/__emulator/tokens") {
        return await grantToken(request.method, body, this.tokens);
      }
      return this.route(request.method, url, body);
    } catch (error) {
      if (error instanceof ApiFailure) {
        return failureResponse(error);
      }
      throw error;
    }
  }

  private route(method: string, url: URL, body: unknown): Response {
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/__emulator/calls" && method === "GET") {
      const since = Number(url.searchParams.get("since") ?? "0");
      const accountId = url.searchParams.get("account_id") ?? undefined;
      return jsonResponse(200, {
        calls: this.calls.list(Number.isFinite(since) ? since : 0, accountId),
      });
    }
    if (path === "/__emulator/reset" && method === "POST") {
      const accountId =
        typeof body === "object" && body !== null && "account_id" in body
          ? String((body as JsonObject).account_id)
          : undefined;
      this.store.reset(accountId);
      this.calls.clear(accountId);
      if (accountId === undefined) {
        this.faults.clear();
        this.limiter.reset();
        this.tokens.clear();
      }
      return jsonResponse(200, { ok: true });
    }
    if (path === "/__emulator/faults") {
      if (method === "GET") {
        return jsonResponse(200, { faults: this.faults.list() });
      }
      if (method === "POST") {
        return jsonResponse(200, { fault: this.faults.add(readFault(body)) });
      }
      if (method === "DELETE") {
        this.faults.clear();
        return jsonResponse(200, { faults: [] });
      }
    }
    const limits = serveLimitControls(method, path, url, body, this.limiter, this.store);
    if (limits !== undefined) {
      return limits;
    }
    const account = serveAccountControls(method, url, body, this.store, this.clock);
    if (account !== undefined) {
      return account;
    }
    const status = /^\/__emulator\/tunnels\/([^/]+)\/status$/.exec(path);
    if (status?.[1] !== undefined && method === "POST") {
      return this.setStatus(status[1], body);
    }
    throw new ApiFailure(404, 7003, "No route for the URI");
  }

  private setStatus(tunnelId: string, body: unknown): Response {
    const wanted =
      typeof body === "object" && body !== null ? (body as JsonObject).status : undefined;
    if (!TUNNEL_STATUSES.includes(wanted as TunnelStatus)) {
      throw new ApiFailure(400, 1001, `status must be one of ${TUNNEL_STATUSES.join(", ")}`);
    }
    const accountId = this.store.accountOfTunnel(tunnelId);
    const account = accountId === undefined ? undefined : this.store.account(accountId);
    const tunnel = account?.collections.tunnel.get(tunnelId);
    if (account === undefined || tunnel === undefined) {
      throw new ApiFailure(404, 1003, "Tunnel not found");
    }
    const updated = setTunnelStatus(account, tunnel, wanted as TunnelStatus, this.clock.next());
    return jsonResponse(200, { tunnel_id: updated.id, status: updated.status });
  }
}
