/**
 * The Cloudflare v4 wire conventions: the response envelope, error bodies, query parsing
 * (repeated or comma-separated arrays, `true`/`false` booleans) and page/per_page paging.
 * Handlers abort with `ApiFailure`; the dispatcher renders it as a Cloudflare error envelope,
 * so every refusal in the emulator has one status, one code and one stable message.
 */

/** One `errors[]` / `messages[]` item of the envelope. */
export interface ResponseMessage {
  /** Cloudflare error code (>= 1000, except 971 for rate limiting). */
  code: number;
  message: string;
}

/** A refusal: rendered as `{success:false, errors:[{code,message}], messages:[], result:null}`. */
export class ApiFailure extends Error {
  constructor(
    /** HTTP status, 4xx or 5xx. */
    readonly status: number,
    /** Cloudflare error code. */
    readonly code: number,
    message: string,
    /** Extra response headers, e.g. `retry-after`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * `result_info` of a paged list, the `tunnel_result_info` / `access_result_info` schemas:
 * `count` is the number of items on this page, `total_count` the number of matching items.
 * Those schemas have no `total_pages` (only the API-wide common schema has one), so it is not sent.
 */
export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
}

/** What a handler returns on success (status 200 unless stated). */
export interface ApiSuccess {
  result: unknown;
  resultInfo?: ResultInfo;
}

/** A JSON response with `content-type: application/json`. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The success envelope; `result_info` only on paged lists. */
export function successResponse(success: ApiSuccess): Response {
  const body: Record<string, unknown> = {
    success: true,
    errors: [],
    messages: [],
    result: success.result,
  };
  if (success.resultInfo !== undefined) {
    body.result_info = success.resultInfo;
  }
  return jsonResponse(200, body);
}

/** The failure envelope for an `ApiFailure`. */
export function failureResponse(failure: ApiFailure): Response {
  return jsonResponse(
    failure.status,
    {
      success: false,
      errors: [{ code: failure.code, message: failure.message }],
      messages: [],
      result: null,
    },
    failure.headers,
  );
}

/** Default `per_page` of the paged lists (tunnels, routes, Access apps and policies). */
export const DEFAULT_PER_PAGE = 20;
/**
 * Largest `per_page` accepted (inclusive): the `tunnel_per_page` schema (tunnels, all tunnel
 * types, routes) says 1..1000; the Access lists document none, so they take the same.
 */
export const MAX_PER_PAGE = 1000;

/** Reads query parameters the way Cloudflare's v4 API accepts them. */
export class Query {
  /**
   * `ignorePage`: answer the first page whatever `page` asks; `listDeleted`: show deleted objects
   * even when `is_deleted=false` (per-account behaviours).
   */
  constructor(
    private readonly params: URLSearchParams,
    readonly ignorePage = false,
    readonly listDeleted = false,
  ) {}

  /** The last value of a scalar parameter; an empty value counts as absent. */
  string(name: string): string | undefined {
    const values = this.params.getAll(name);
    const value = values[values.length - 1];
    return value === undefined || value === "" ? undefined : value;
  }

  /** An array parameter: repeated keys (`a=1&a=2`) and comma-separated values (`a=1,2`). */
  list(name: string): string[] | undefined {
    const values = this.params
      .getAll(name)
      .flatMap((value) => value.split(","))
      .map((value) => value.trim())
      .filter((value) => value !== "");
    return values.length === 0 ? undefined : values;
  }

  /** `true` or `false`; anything else is 400/1001. */
  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) {
      return undefined;
    }
    if (value === "true" || value === "false") {
      return value === "true";
    }
    throw new ApiFailure(400, 1001, `${name} must be true or false`);
  }

  /** An integer in [min, max] (both inclusive); anything else is 400/1001. */
  integer(name: string, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) {
      return undefined;
    }
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      throw new ApiFailure(400, 1001, `${name} must be an integer from ${min} to ${max}`);
    }
    return parsed;
  }
}

/**
 * One page of `items` by 1-based `page` and `per_page` (1..1000, default 20). A page past the
 * end is `[]`: the SDK stops paging only on an empty page.
 */
export function paginate<T>(items: T[], query: Query): { page: T[]; resultInfo: ResultInfo } {
  const page = query.integer("page", 1, Number.MAX_SAFE_INTEGER) ?? 1;
  const perPage = query.integer("per_page", 1, MAX_PER_PAGE) ?? DEFAULT_PER_PAGE;
  const first = query.ignorePage ? 0 : (page - 1) * perPage;
  const slice = items.slice(first, first + perPage);
  return {
    page: slice,
    resultInfo: {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
    },
  };
}

/** A JSON object body (not an array or a scalar). */
export type JsonObject = Record<string, unknown>;

/** The body as an object, or 400/1001. */
export function objectBody(body: unknown): JsonObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiFailure(400, 1001, "The request body must be a JSON object");
  }
  return body as JsonObject;
}

/** Field readers: a wrong type is 400/`code`, an absent field is undefined. */
export class Fields {
  constructor(
    private readonly body: JsonObject,
    /** Cloudflare error code used for every refusal of this resource. */
    private readonly code: number,
  ) {}

  has(name: string): boolean {
    return this.body[name] !== undefined;
  }

  /** The refusal to throw for this resource: 400 with its code. */
  failure(message: string): ApiFailure {
    return new ApiFailure(400, this.code, message);
  }

  fail(message: string): never {
    throw this.failure(message);
  }

  string(name: string, maxLength = Number.MAX_SAFE_INTEGER): string | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value !== "string") {
      this.fail(`${name} must be a string`);
    }
    if (value.length > maxLength) {
      this.fail(`${name} must be at most ${maxLength} characters`);
    }
    return value;
  }

  requiredString(name: string, maxLength?: number): string {
    const value = this.string(name, maxLength);
    if (value === undefined || value.trim() === "") {
      this.fail(`${name} is required`);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value !== "boolean") {
      this.fail(`${name} must be a boolean`);
    }
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) {
      return undefined;
    }
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(`${name} must be one of ${allowed.join(", ")}`);
    }
    return value as T;
  }

  raw(name: string): unknown {
    return this.body[name];
  }
}
