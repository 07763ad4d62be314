/** Finds the operation a request is for, from the routes registered in the OpenAPI registry. */
import { templatePattern } from "../allowed-methods";

/** A registered route with its operationId. */
export interface RegisteredOperation {
  method: string;
  /** OpenAPI path template, e.g. `/v1/accounts/{account_id}/grants/{id}`. */
  path: string;
  operationId: string;
}

/** The operation a request matched. */
export interface MatchedOperation {
  operationId: string;
  /** The path template matched. */
  path: string;
  /** The `{account_id}` segment of the request path, or null for top-level operations. */
  accountId: string | null;
  /** The path parameters by name (`{ account_id, id }`), as sent. */
  params: Record<string, string>;
}

/** Resolves method + pathname to an operation, or undefined (then 404/405 follow). */
export type OperationLookup = (method: string, pathname: string) => MatchedOperation | undefined;

const paramCount = (path: string) => (path.match(/\{/g) ?? []).length;

/**
 * A lookup over `routes`. Where two templates match one path (`split-tunnels/default` and
 * `split-tunnels/{profile}`), the one with fewer parameters wins, as the router's literal routes
 * do. HEAD is GET.
 */
export function createOperationLookup(routes: readonly RegisteredOperation[]): OperationLookup {
  const compiled = [...routes]
    .sort((a, b) => paramCount(a.path) - paramCount(b.path))
    .map((route) => ({
      ...route,
      method: route.method.toUpperCase(),
      pattern: templatePattern(route.path),
    }));
  return (method, pathname) => {
    const wanted = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
    const route = compiled.find((r) => r.method === wanted && r.pattern.test(pathname));
    if (route === undefined) {
      return undefined;
    }
    const segments = pathname.split("/");
    const params = Object.fromEntries(
      route.path
        .split("/")
        .flatMap((part, i) =>
          part.startsWith("{") ? [[part.slice(1, -1), segments[i] ?? ""]] : [],
        ),
    );
    return {
      operationId: route.operationId,
      path: route.path,
      accountId: params.account_id ?? null,
      params,
    };
  };
}
