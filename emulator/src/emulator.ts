/**
 * The request pipeline of the emulated `https://api.cloudflare.com/client/v4`: the rate limit,
 * faults, auth, routing, the handler, the envelope, and the call log. Handlers are synchronous,
 * so one call is applied atomically inside the Durable Object.
 */

import type { PAGED_LISTS, SOFT_DELETE_LISTS } from "./behaviour";
import { Clock } from "./clock";
import { CallLog, Controls, FaultBook, faultResponse } from "./controls";
import { ApiFailure, failureResponse, Query, successResponse } from "./http";
import { TokenBook } from "./permissions";
import {
  createRateLimitSchema,
  credentialOf,
  hashCredential,
  type RateLimitConfig,
  RateLimiter,
} from "./rate-limit";
import { accessRoutes } from "./resources/access";
import { deviceProfileRoutes } from "./resources/devices";
import { gatewayRuleRoutes } from "./resources/gateway-rules";
import { hostnameRouteRoutes } from "./resources/hostname-routes";
import { routeRoutes } from "./resources/routes";
import { settingsRoutes } from "./resources/settings";
import { subnetRoutes } from "./resources/subnets";
import { tunnelRoutes } from "./resources/tunnels";
import { virtualNetworkRoutes } from "./resources/virtual-networks";
import { type RouteDefinition, Router } from "./router";
import { createSchema, Store } from "./store";

/** Path prefix of the emulated API. */
export const API_PREFIX = "/client/v4";
const ACCOUNT_PATH = /^\/client\/v4\/accounts\/([^/]+)/;
const ACCOUNT_ID = /^[0-9a-f]{32}$/;

/** Every emulated endpoint, literal paths before parameterised ones. */
export const ROUTES: readonly RouteDefinition[] = [
  ...virtualNetworkRoutes,
  ...tunnelRoutes,
  ...routeRoutes,
  ...hostnameRouteRoutes,
  ...gatewayRuleRoutes,
  ...deviceProfileRoutes,
  ...settingsRoutes,
  ...subnetRoutes,
  ...accessRoutes,
];

/** The whole emulator over one SQLite storage. */
export class Emulator {
  private readonly clock = new Clock();
  private readonly store: Store;
  private readonly calls: CallLog;
  private readonly faults: FaultBook;
  private readonly controls: Controls;
  private readonly limiter: RateLimiter;
  private readonly tokens: TokenBook;
  private readonly router = new Router(ROUTES);
  private readonly hashes = new Map<string, string>();

  /** `rateLimit`: the model's settings after a reset (Cloudflare's unless the vars change them). */
  constructor(sql: SqlStorage, rateLimit: RateLimitConfig) {
    createSchema(sql);
    createRateLimitSchema(sql);
    this.store = new Store(sql, this.clock);
    this.calls = new CallLog(sql);
    this.faults = new FaultBook(sql);
    this.limiter = new RateLimiter(sql, rateLimit);
    this.tokens = new TokenBook(sql);
    this.controls = new Controls(
      this.store,
      this.calls,
      this.faults,
      this.clock,
      this.limiter,
      this.tokens,
    );
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__emulator/")) {
      return this.controls.handle(request, url);
    }
    const method = request.method.toUpperCase();
    // Read the body before any early answer: workerd faults when a request stream is left
    // unread after the response has been sent.
    const bodyText = method === "GET" || method === "HEAD" ? "" : await request.text();
    const tokenHash = await this.tokenHash(request.headers);
    // The limit sits in front of everything: a refused call reaches no fault and no handler.
    const admission =
      tokenHash === undefined ? undefined : this.limiter.admit(tokenHash, Date.now());
    const response =
      admission?.refusal ??
      (await this.faultOrServe(request.headers, bodyText, url, method, tokenHash));
    for (const [name, value] of Object.entries(admission?.headers ?? {})) {
      response.headers.set(name, value);
    }
    this.calls.record({
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      status: response.status,
      account_id: ACCOUNT_PATH.exec(url.pathname)?.[1] ?? null,
    });
    return response;
  }

  /** The injected fault's answer (its delay first), or the served call. */
  private async faultOrServe(
    headers: Headers,
    bodyText: string,
    url: URL,
    method: string,
    tokenHash: string | undefined,
  ): Promise<Response> {
    const fault = this.faults.take(method, url.pathname);
    if (fault !== undefined && fault.delay_ms > 0) {
      await new Promise((resolve) => setTimeout(resolve, fault.delay_ms));
    }
    if (fault?.status == null) {
      return this.serve(headers, bodyText, url, method, tokenHash);
    }
    if (fault.after_apply) {
      this.serve(headers, bodyText, url, method, tokenHash);
    }
    if (fault.status === 429 && tokenHash !== undefined) {
      this.limiter.notePendingRetry(tokenHash, Date.now(), fault.retry_after);
    }
    return faultResponse(fault);
  }

  /** Hex SHA-256 of the call's credential, remembered per credential; undefined without one. */
  private async tokenHash(headers: Headers): Promise<string | undefined> {
    const credential = credentialOf(headers);
    if (credential === undefined || credential.trim() === "") {
      return undefined;
    }
    let hash = this.hashes.get(credential);
    if (hash === undefined) {
      hash = await hashCredential(credential);
      this.hashes.set(credential, hash);
    }
    return hash;
  }

  private serve(
    headers: Headers,
    bodyText: string,
    url: URL,
    method: string,
    tokenHash: string | undefined,
  ): Response {
    try {
      assertAuthenticated(headers);
      if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
        throw new ApiFailure(404, 7003, "No route for the URI");
      }
      const match = this.router.match(method, url.pathname.slice(API_PREFIX.length));
      if (match.kind === "method-not-allowed") {
        throw new ApiFailure(405, 10405, "Method not allowed for this route");
      }
      const accountId = match.kind === "found" ? match.params.account_id : undefined;
      if (match.kind === "not-found" || accountId === undefined || !ACCOUNT_ID.test(accountId)) {
        throw new ApiFailure(404, 7003, "No route for the URI");
      }
      const rest = url.pathname.slice(`${API_PREFIX}/accounts/${accountId}/`.length);
      this.tokens.assertAllowed(tokenHash, method, rest);
      const body = parseBody(bodyText);
      const account = this.store.account(accountId);
      const behaviour = account.behaviour();
      const ignorePage =
        method === "GET" && behaviour.ignore_page.includes(rest as (typeof PAGED_LISTS)[number]);
      const listDeleted =
        method === "GET" &&
        behaviour.list_deleted.includes(rest as (typeof SOFT_DELETE_LISTS)[number]);
      return successResponse(
        match.handler({
          account,
          params: match.params,
          query: new Query(url.searchParams, ignorePage, listDeleted),
          body,
          clock: this.clock,
        }),
      );
    } catch (error) {
      if (error instanceof ApiFailure) {
        return failureResponse(error);
      }
      console.error("emulator bug", error);
      return failureResponse(new ApiFailure(500, 1000, "Internal server error"));
    }
  }
}

/**
 * Any non-empty Bearer token passes, as do `X-Auth-Email` + `X-Auth-Key` and
 * `X-Auth-User-Service-Key`; anything else is 400/6003 "Invalid request headers".
 */
function assertAuthenticated(headers: Headers): void {
  const authorization = headers.get("authorization") ?? "";
  const bearer = /^Bearer\s+\S+/i.test(authorization);
  const key = headers.get("x-auth-email") !== null && headers.get("x-auth-key") !== null;
  const serviceKey = headers.get("x-auth-user-service-key") !== null;
  if (!bearer && !key && !serviceKey) {
    throw new ApiFailure(400, 6003, "Invalid request headers");
  }
}

function parseBody(text: string): unknown {
  if (text.trim() === "") {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiFailure(400, 1002, "Malformed JSON in request body");
  }
}
