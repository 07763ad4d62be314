/**
 * Path matching for the emulated `/client/v4` API. Routes are tried in the order given, so a
 * literal segment (`/devices/policy/exclude`) must be listed before a parameter in the same
 * position (`/devices/policy/:policy_id`).
 */
import type { Clock } from "./clock";
import type { ApiSuccess, Query } from "./http";
import type { AccountState } from "./store";

/** Everything a handler may use for one request. */
export interface Context {
  /** The account named in the path, loaded (and seeded on first touch). */
  account: AccountState;
  /** Path parameters by name (`route_id`, …), URL-decoded. */
  params: Record<string, string>;
  query: Query;
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  clock: Clock;
}

/** A synchronous handler: it returns the result or throws `ApiFailure`. */
export type Handler = (context: Context) => ApiSuccess;

/** One endpoint: method and a path under `/client/v4` with `:name` parameters. */
export interface RouteDefinition {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  handler: Handler;
}

/** The outcome of matching a request against the routes. */
export type RouteMatch =
  | { kind: "found"; handler: Handler; params: Record<string, string> }
  | { kind: "method-not-allowed" }
  | { kind: "not-found" };

/** Matches method and path (already stripped of `/client/v4`). */
export class Router {
  private readonly compiled: { method: string; segments: string[]; handler: Handler }[];

  constructor(routes: readonly RouteDefinition[]) {
    this.compiled = routes.map((route) => ({
      method: route.method,
      segments: route.path.split("/").filter((segment) => segment !== ""),
      handler: route.handler,
    }));
  }

  match(method: string, path: string): RouteMatch {
    const segments = path.split("/").filter((segment) => segment !== "");
    let pathMatched = false;
    for (const route of this.compiled) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) {
        continue;
      }
      if (route.method === method) {
        return { kind: "found", handler: route.handler, params };
      }
      pathMatched = true;
    }
    return pathMatched ? { kind: "method-not-allowed" } : { kind: "not-found" };
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index] ?? "";
    if (part.startsWith(":")) {
      params[part.slice(1)] = safeDecode(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
