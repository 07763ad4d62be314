/**
 * The methods each API path answers, read from the registered OpenAPI routes, so that a known
 * path asked with another method is a 405 naming the right ones, and an unknown path a 404.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.5.6
 */

/** A registered route: an HTTP method and an OpenAPI path template (`/v1/accounts/{account_id}`). */
export interface RegisteredRoute {
  method: string;
  path: string;
}

/** The regular expression matching request paths of an OpenAPI path template. */
export function templatePattern(path: string): RegExp {
  const segments = path
    .split("/")
    .map((segment) =>
      /^\{[^}]+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    );
  return new RegExp(`^${segments.join("/")}$`);
}

/**
 * A lookup from a request path to the methods registered for it, upper case and sorted. HEAD is
 * listed wherever GET is, since Hono answers HEAD with the GET handler. Several templates may
 * match one path (`split-tunnels/default` and `split-tunnels/{profile}`): their methods are
 * merged. An empty list means no route has this path.
 */
export function allowedMethods(routes: readonly RegisteredRoute[]): (pathname: string) => string[] {
  const templates = [...new Set(routes.map((r) => r.path))].map((path) => ({
    pattern: templatePattern(path),
    methods: routes.filter((r) => r.path === path).map((r) => r.method.toUpperCase()),
  }));
  return (pathname) => {
    const methods = new Set(
      templates.filter((t) => t.pattern.test(pathname)).flatMap((t) => t.methods),
    );
    if (methods.has("GET")) {
      methods.add("HEAD");
    }
    return [...methods].sort();
  };
}
