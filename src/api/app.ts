/**
 * createApp(): the REST API. Every error leaves as RFC 9457 problem+json; unknown errors become a
 * generic 500 whose cause is logged with the request id, never returned.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { accessRouter } from "./access";
import { accountsRouter } from "./accounts";
import { allowedMethods } from "./allowed-methods";
import { apiKeysRouter } from "./api-keys";
import { assertions, assertionsRunRouter } from "./assertions";
import { auditLogRouter } from "./audit-log";
import { createOperationLookup, type OperationLookup } from "./authz/lookup";
import { conflictsRouter } from "./conflicts";
import type { AppEnv } from "./context";
import { createRouter } from "./context";
import { dashboardRouter } from "./dashboard";
import { deadLettersRouter } from "./dead-letters";
import { mountCollection } from "./desired/collection";
import { mountSingleton } from "./desired/singleton";
import { desiredStateRouter } from "./desired-state";
import { desiredStateJsonSchema } from "./desired-state/document.schemas";
import { deviceProfiles } from "./device-profiles";
import { docsRouter } from "./docs";
import { enrollmentRules } from "./enrollment-rules";
import { eventSubscriptionsRouter } from "./event-subscriptions";
import { explainRouter } from "./explain";
import { grantApprovalRulesRouter } from "./grant-approval-rules";
import { grantsRouter } from "./grants";
import { healthRouter } from "./health";
import { hostnameRoutes } from "./hostname-routes";
import { importRouter } from "./import";
import { auditTrail } from "./middleware/audit";
import { authenticate } from "./middleware/auth";
import { authorize } from "./middleware/authorize";
import { desiredStateEvents } from "./middleware/desired-state-events";
import { requestId } from "./middleware/request-id";
import { requireWellFormedText } from "./middleware/well-formed-text";
import { buildOpenApiDocument } from "./openapi/document";
import { networkPolicies } from "./policies";
import { policyAnalysisRouter } from "./policies/analysis";
import { policyMoveRouter } from "./policies/move";
import { privateApps } from "./private-apps";
import { ProblemError } from "./problem";
import { problemsRouter, problemTypeUrl } from "./problems";
import { proxySettings } from "./proxy-settings";
import { runsRouter } from "./runs";
import { splitTunnels } from "./split-tunnels";
import { profileSplitTunnelRouter } from "./split-tunnels/profile.router";
import { tunnelRoutes } from "./tunnel-routes";
import { tunnels } from "./tunnels";
import { tunnelTokenRouter } from "./tunnels/token";
import { virtualNetworks } from "./virtual-networks";

/** Largest request body accepted, in bytes: far above any valid document, far below a DoS. */
const MAX_BODY_BYTES = 1_048_576;

/**
 * Largest desired-state document accepted, in bytes: a whole account (10,000 routes and 500
 * policies take about 1.5 MB of JSON) with room to spare, while parsing the largest one stays
 * within seconds of CPU (a 30 MB YAML document took 17 s to parse before its refusal).
 */
const MAX_DOCUMENT_BYTES = 8 * 1_048_576;

const isDocumentPath = (path: string) => /\/desired-state(\/diff)?$/.test(path);

function limitBodies(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ProblemError(
        "payload-too-large",
        `Request bodies are limited to ${maxSize} bytes.`,
      );
    },
  });
}

function problemFor(error: unknown): ProblemError {
  if (error instanceof ProblemError) {
    return error;
  }
  if (error instanceof HTTPException && error.status === 400) {
    return new ProblemError(
      "malformed-request",
      "The body must be a JSON document (Content-Type: application/json).",
    );
  }
  if (error instanceof HTTPException && error.status === 415) {
    return new ProblemError(
      "unsupported-media-type",
      "Send the body with Content-Type: application/json.",
    );
  }
  return new ProblemError(
    "internal-error",
    "Something went wrong on our side; quote the request id when reporting it.",
  );
}

/** Builds the whole API. Importable from Node (no `cloudflare:*` value imports). */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestId);
  app.use("/v1/*", authenticate);
  // Filled once every router is mounted, from the same registry the OpenAPI document comes from.
  let lookupOperation: OperationLookup = () => undefined;
  app.use(
    "/v1/*",
    authorize(() => lookupOperation),
  );
  const bodies = limitBodies(MAX_BODY_BYTES);
  const documents = limitBodies(MAX_DOCUMENT_BYTES);
  app.use("/v1/*", (c, next) => (isDocumentPath(c.req.path) ? documents : bodies)(c, next));
  app.use("/v1/*", requireWellFormedText);
  app.use("/v1/*", auditTrail);
  app.use("/v1/*", desiredStateEvents);

  const desired = createRouter();
  mountCollection(desired, virtualNetworks);
  mountCollection(desired, tunnels);
  mountCollection(desired, tunnelRoutes);
  mountCollection(desired, hostnameRoutes);
  mountCollection(desired, networkPolicies);
  mountCollection(desired, assertions);
  mountCollection(desired, privateApps);
  mountCollection(desired, enrollmentRules);
  mountCollection(desired, deviceProfiles);
  mountSingleton(desired, splitTunnels);
  mountSingleton(desired, proxySettings);

  app.route("/", apiKeysRouter);
  app.route("/", accountsRouter);
  app.route("/", assertionsRunRouter);
  app.route("/", explainRouter);
  app.route("/", accessRouter);
  app.route("/", policyMoveRouter);
  app.route("/", policyAnalysisRouter);
  app.route("/", importRouter);
  app.route("/", desired);
  // After `desired`: its split-tunnels/default singleton answers `default` (with the same body).
  app.route("/", profileSplitTunnelRouter);
  app.route("/", conflictsRouter);
  app.route("/", runsRouter);
  app.route("/", deadLettersRouter);
  app.route("/", grantsRouter);
  app.route("/", grantApprovalRulesRouter);
  app.route("/", eventSubscriptionsRouter);
  app.route("/", auditLogRouter);
  app.route("/", desiredStateRouter);
  app.route("/", tunnelTokenRouter);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key (`POST /v1/api-keys`) or the bootstrap ADMIN_API_KEY.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "cloudflareAccess", {
    type: "apiKey",
    in: "header",
    name: "Cf-Access-Jwt-Assertion",
    description:
      "A Cloudflare Access JWT (when ACCESS_TEAM_DOMAIN and ACCESS_AUD are set); the email needs an access role binding.",
  });
  const routes = app.openAPIRegistry.definitions.flatMap((d) =>
    d.type === "route" && d.route.operationId !== undefined
      ? [{ method: d.route.method, path: d.route.path, operationId: d.route.operationId }]
      : [],
  );
  lookupOperation = createOperationLookup(routes);
  // Built on first request, once every route is registered; the same for every request after.
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  app.get("/openapi.json", (c) => {
    document ??= buildOpenApiDocument(app);
    return c.json(document);
  });
  app.route("/", docsRouter);
  app.route("/", problemsRouter);
  app.route("/", healthRouter);
  app.route("/", dashboardRouter);
  let documentSchema: Record<string, unknown> | undefined;
  app.get("/schemas/desired-state.json", (c) => {
    documentSchema ??= desiredStateJsonSchema();
    return c.json(documentSchema, 200, { "Content-Type": "application/schema+json" });
  });

  // Runs after the `/v1/*` middleware, so a caller without a valid key gets 401 before learning
  // which methods a path has.
  const methodsOf = allowedMethods(
    app.openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [d.route] : [])),
  );
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = methodsOf(path);
    if (allowed.length > 0) {
      throw new ProblemError(
        "method-not-allowed",
        `${path} does not answer ${c.req.method}; it answers ${allowed.join(", ")}.`,
        { headers: { Allow: allowed.join(", ") } },
      );
    }
    throw new ProblemError("not-found", `No endpoint ${c.req.method} ${path}.`);
  });
  app.onError((error, c) => {
    const problem = problemFor(error);
    const id = c.get("requestId") ?? crypto.randomUUID();
    if (problem.status >= 500) {
      console.error(
        JSON.stringify({
          request_id: id,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          stack: error instanceof Error ? error.stack : undefined,
        }),
      );
    }
    const body = {
      type: problemTypeUrl(new URL(c.req.url).origin, problem.slug),
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: new URL(c.req.url).pathname,
      request_id: id,
      ...(problem.errors === undefined ? {} : { errors: problem.errors }),
      ...problem.options.extensions,
    };
    return new Response(JSON.stringify(body), {
      status: problem.status,
      headers: {
        "Content-Type": "application/problem+json",
        "X-Request-Id": id,
        ...problem.options.headers,
      },
    });
  });
  return app;
}
