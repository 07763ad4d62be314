/**
 * tunnelplane's typed client (`tunnelplane/client`): openapi-fetch over the types openapi-typescript
 * generates from openapi/openapi.json (`client/openapi.d.ts`, rewritten by `npm run openapi`), so
 * every path, parameter, body and answer is checked by the compiler against the API as it is.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./openapi";

export type { components, operations, paths };

/** A tunnelplane client: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` typed by path. */
export type TunnelplaneClient = Client<paths>;

/** A resource as the API returns it, by component name: `Schema<"TunnelRoute">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/** Where the API is and how to call it. */
export interface TunnelplaneClientOptions {
  /** The Worker's origin, e.g. `https://tunnelplane.example.com`. */
  baseUrl: string;
  /** An API key (`POST /v1/api-keys`), sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** A fetch to send requests with (a service binding's, a test's); the global one otherwise. */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * A client for one tunnelplane. Answers are never thrown: each call resolves to
 * `{ data, error, response }`, with `error` the RFC 9457 problem body on 4xx/5xx.
 */
export function createTunnelplaneClient(options: TunnelplaneClientOptions): TunnelplaneClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${options.apiKey}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}
