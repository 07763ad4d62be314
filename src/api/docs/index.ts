/**
 * `/docs`: Scalar's interactive API reference over `/openapi.json`, served whole by the Worker.
 * The page's script is Scalar's standalone browser bundle from npm (`@scalar/api-reference`,
 * pinned), served at a versioned path so it can be cached for a year, and the page asks nothing of
 * other origins (no fonts, no telemetry): the reference works without the internet. (Opened on
 * a loopback address, Scalar 1.44 adds its "Ask AI" assistant, which calls Scalar's servers; a
 * deployed Worker's page has none.)
 * Public: it describes the API, not an account.
 */
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";

/** The pinned `@scalar/api-reference` version; must equal the one in package.json. */
const SCALAR_VERSION = "1.44.3";

/** Where the page loads Scalar's script from; the version in the path makes it immutable. */
export const SCALAR_SCRIPT_PATH = `/docs/scalar-${SCALAR_VERSION}.js`;

/**
 * The script's text, imported on first request so that Node tools that load the app (the
 * OpenAPI script) never read it. wrangler bundles it as a Text module (see `rules` in
 * wrangler.toml).
 */
async function scalarScript(): Promise<string> {
  const module = await import("@scalar/api-reference/browser/standalone.js");
  return module.default;
}

export const docsRouter = new Hono();

docsRouter.get(
  "/docs",
  Scalar({
    url: "/openapi.json",
    pageTitle: "tunnelplane API",
    cdn: SCALAR_SCRIPT_PATH,
    withDefaultFonts: false,
    telemetry: false,
  }),
);

docsRouter.get(SCALAR_SCRIPT_PATH, async (c) =>
  c.body(await scalarScript(), 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=31536000, immutable",
  }),
);
