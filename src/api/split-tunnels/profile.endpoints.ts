/**
 * Contracts of `GET split-tunnels/{profile}` (any profile's effective split tunnel) and of its
 * entries: the whole list page by page, and one entry with the routes behind it.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AccountIdParam, pageOf, problemResponses, security } from "../contract";
import { objectEnvelope } from "../desired/object.schemas";
import { splitTunnelOutput } from "./index";
import { EffectiveEntry } from "./split-tunnel.schemas";

export const ProfileSplitTunnel = z
  .object({ ...objectEnvelope, ...splitTunnelOutput })
  .openapi("ProfileSplitTunnel");

const ProfileParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({ param: { name: "profile", in: "path" }, example: "default" });

const ProfileParams = z.object({ account_id: AccountIdParam, profile: ProfileParam });

/** Routes each entry names at most with expand=routes. */
export const MAX_ROUTES_EXPANDED = 100;

/** Routes one page of entries names at most with expand=routes (limit × routes_limit). */
export const MAX_ROUTES_PER_PAGE = 10_000;

const routesFields = {
  routes: z.array(z.string()).openapi({
    description:
      "A page of the routes behind the entry, canonical and sorted: those carving its WARP default (warp-default-remainder), or those it carries (route); empty for the other kinds. The counts are in `source`.",
  }),
  routes_next_cursor: z.string().nullable().openapi({
    description:
      "`routes_cursor` of GET split-tunnels/{profile}/entries/{address} for the next routes, or null when `routes` ends the list.",
  }),
};

const ExpandedEntry = EffectiveEntry.extend({
  routes: routesFields.routes.optional(),
  routes_next_cursor: routesFields.routes_next_cursor.optional(),
}).openapi("SplitTunnelEntryExpandable");

export const getProfileSplitTunnel = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/split-tunnels/{profile}",
  operationId: "getProfileSplitTunnel",
  tags: ["Split tunnels"],
  security,
  summary: "Get a device profile's effective split tunnel",
  description:
    "`{profile}` is a device profile id, or `default` for the default profile (answered by getSplitTunnel with the same fields). The envelope is the profile's; `effective` is the list tunnelplane writes (its first page), with the reason for each entry, computed from the routes of the virtual networks the profile follows.",
  request: { params: ProfileParams },
  responses: {
    200: {
      description: "The profile's split tunnel; ETag is the profile's version",
      content: { "application/json": { schema: ProfileSplitTunnel } },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const listSplitTunnelEntries = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/split-tunnels/{profile}/entries",
  operationId: "listSplitTunnelEntries",
  tags: ["Split tunnels"],
  security,
  summary: "Page through a profile's effective split tunnel list",
  description:
    "The list tunnelplane writes, in its order, `limit` entries at a time. A cursor names a place in the list as it was; once routes change, it is refused (422) and paging starts again. With `expand=routes` each entry names its first routes; a page names at most 10,000 routes in all (422 at `routes_limit` past that).",
  request: {
    params: ProfileParams,
    query: z.object({
      cursor: z.string().max(400).optional().openapi({
        description: "`next_cursor` of the previous page, or `effective_next_cursor` of a read.",
      }),
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(1000)
        .openapi({ description: "Entries per page, 1..1000 (default 1000)." }),
      expand: z.enum(["routes"]).optional().openapi({
        description:
          "`routes`: each entry also names the first `routes_limit` routes behind it (`routes`), with the cursor of the rest for GET split-tunnels/{profile}/entries/{address} (`routes_next_cursor`).",
      }),
      routes_limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(MAX_ROUTES_EXPANDED)
        .default(10)
        .openapi({
          description: `Routes per entry with expand=routes, 1..${MAX_ROUTES_EXPANDED} (default 10); limit × routes_limit at most ${MAX_ROUTES_PER_PAGE.toLocaleString("en-US")}.`,
        }),
    }),
  },
  responses: {
    200: {
      description: "A page of the list",
      content: {
        "application/json": { schema: pageOf(ExpandedEntry, "SplitTunnelEntryPage") },
      },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const SplitTunnelEntryDetail =
  EffectiveEntry.extend(routesFields).openapi("SplitTunnelEntryDetail");

export const getSplitTunnelEntry = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/split-tunnels/{profile}/entries/{address}",
  operationId: "getSplitTunnelEntry",
  tags: ["Split tunnels"],
  security,
  summary: "Get one effective split tunnel entry with the routes behind it",
  description:
    "`{address}` is the entry's CIDR with its `/` written `%2F` (`10.0.0.0%2F12`); any spelling of the network finds it. The routes behind it come `routes_limit` at a time; a cursor is refused (422) once the routes change.",
  request: {
    params: ProfileParams.extend({
      address: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: "address", in: "path" }, example: "10.0.0.0%2F12" }),
    }),
    query: z.object({
      routes_cursor: z.string().max(400).optional().openapi({
        description: "`routes_next_cursor` of the previous answer (or of an expanded entry).",
      }),
      routes_limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(1000)
        .openapi({ description: "Routes per answer, 1..1000 (default 1000)." }),
    }),
  },
  responses: {
    200: {
      description: "The entry",
      content: { "application/json": { schema: SplitTunnelEntryDetail } },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});
