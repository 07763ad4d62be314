/**
 * The OpenAPI 3.1 document as served at /openapi.json and written to openapi/openapi.json: what
 * the routes register, with an example added to every body that lacks one.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { PACKAGE_VERSION } from "../health";
import { addExamples } from "./examples";

/** The OpenAPI document's top-level fields. */
export const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "tunnelplane",
    version: PACKAGE_VERSION,
    description:
      "Control plane for Cloudflare Zero Trust private networking: desired state over REST, reconciled into Cloudflare. Errors are RFC 9457 problem details; every problem `type` resolves to its entry in the catalogue at `/problems`.",
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
  },
  servers: [{ url: "/", description: "This tunnelplane" }],
};

/** Builds the whole document from the routes registered on `app`. */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>) {
  return addExamples(app.getOpenAPI31Document(OPENAPI_INFO));
}
