/**
 * The one place a Cloudflare SDK client is made. SDK retries are off: the reconciler owns retries
 * (it honours Retry-After inside its budget), and every HTTP call goes through `countingFetch` so
 * a run can stay within the Workers subrequest limit and the account's Cloudflare API budget.
 */
import Cloudflare from "cloudflare";

/** How the control plane reaches the Cloudflare API (or the emulator). */
export interface CloudflareEndpoint {
  /** API base URL ending in `/client/v4`; empty for the real API. */
  baseUrl: string;
  /** A service binding that answers instead of the network (the emulator in tests), or undefined. */
  fetcher: Fetcher | undefined;
}

/**
 * Counts the HTTP requests a client sends and refuses to send more than `limit`, nor more than
 * a `shared` budget has left (the Worker invocation's, spent by every run of a queue batch).
 */
export class SubrequestBudget {
  used = 0;
  constructor(
    readonly limit: number,
    private readonly shared?: SubrequestBudget,
  ) {}

  /** Requests left before this limit or the shared one. */
  get remaining(): number {
    const own = Math.max(0, this.limit - this.used);
    return this.shared === undefined ? own : Math.min(own, this.shared.remaining);
  }

  /** Counts one request here and in the shared budget. */
  spend(): void {
    this.used += 1;
    this.shared?.spend();
  }

  /** Why no request is left: the budget that is spent (the run's own first). */
  spentReason(): string {
    if (this.used >= this.limit || this.shared === undefined) {
      return `subrequest budget of ${this.limit} spent`;
    }
    return `the invocation's ${this.shared.spentReason()}`;
  }
}

/** Thrown before a request that would exceed the run's subrequest budget; nothing is sent. */
export class BudgetExhaustedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "BudgetExhaustedError";
  }
}

/**
 * Thrown before a call while the account's calls are held (Cloudflare answered 429, or reported
 * few calls left, or tunnelplane's share of the budget is spent); nothing is sent.
 */
export class CallsHeldError extends Error {
  constructor(
    /** When calls may go out again, epoch ms. */
    readonly retryAtMs: number,
    /** How long that is from the moment of the throw, ms. */
    readonly waitMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = "CallsHeldError";
  }
}

/**
 * Thrown before a call of a sweep that must yield to a revocation waiting for the account's
 * lease: the run ends continued (at `retryAtMs`) instead of waiting, so the lease is freed.
 */
export class RunPreemptedError extends CallsHeldError {
  constructor(retryAtMs: number, waitMs: number, reason: string) {
    super(retryAtMs, waitMs, reason);
    this.name = "RunPreemptedError";
  }
}

/** Decides when a call may go out, and learns from each answer (429, rate-limit headers). */
export interface CallGate {
  /** Resolves when one call may be sent. @throws CallsHeldError while calls are held. */
  beforeCall(): Promise<void>;
  /**
   * Reads an answer's status and headers before the SDK sees it; null when the call got no
   * answer (a network failure).
   */
  afterResponse(response: Response | null): Promise<void>;
}

/**
 * Header the client adds to a 403 answer: the refused request (`GET gateway/rules`, the path
 * after the account), which the SDK's error does not keep (errors.ts reads it back).
 */
export const REFUSED_REQUEST_HEADER = "x-tunnelplane-refused-request";

/**
 * A 403 answer with the refused request in REFUSED_REQUEST_HEADER: the SDK's error keeps the
 * answer's headers but not the request, and the missing permission is read off the path.
 */
function tagRefused(response: Response, input: RequestInfo | URL, init?: RequestInit): Response {
  const url = input instanceof Request ? input.url : String(input);
  const method = init?.method ?? (input instanceof Request ? input.method : "GET");
  const headers = new Headers(response.headers);
  const path = new URL(url).pathname.replace(/^.*?\/accounts\/[^/]+\//, "");
  headers.set(REFUSED_REQUEST_HEADER, `${method.toUpperCase()} ${path}`);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

const REAL_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/**
 * Creates the SDK client for one account's API token.
 * @param apiToken the account's decrypted API token; never logged.
 * @param gate the account's rate gate; without one (read-only answers to API requests) calls
 *   are only counted.
 */
export function createCloudflareClient(
  apiToken: string,
  endpoint: CloudflareEndpoint,
  budget: SubrequestBudget,
  gate?: CallGate,
): Cloudflare {
  const send = endpoint.fetcher
    ? (input: RequestInfo | URL, init?: RequestInit) =>
        (endpoint.fetcher as Fetcher).fetch(input as RequestInfo, init)
    : (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init);
  const countingFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    if (budget.remaining === 0) {
      throw new BudgetExhaustedError(budget.spentReason());
    }
    await gate?.beforeCall();
    budget.spend();
    let response: Response;
    try {
      response = await send(input, init);
    } catch (error) {
      await gate?.afterResponse(null);
      throw error;
    }
    await gate?.afterResponse(response);
    return response.status === 403 ? tagRefused(response, input, init) : response;
  };
  return new Cloudflare({
    apiToken,
    baseURL: endpoint.baseUrl === "" ? REAL_API_BASE_URL : endpoint.baseUrl,
    maxRetries: 0,
    fetch: countingFetch as typeof fetch,
  });
}
