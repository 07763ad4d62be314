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
    "The list tunnelplane writes, in its order, `limit` entries at a time. A cursor names a place in the list as it was; once routes change, it is refused (422) and paging starts again.",
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
    }),
  },
  responses: {
    200: {
      description: "A page of the list",
      content: {
        "application/json": { schema: pageOf(EffectiveEntry, "SplitTunnelEntryPage") },
      },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const SplitTunnelEntryDetail = EffectiveEntry.extend({
  routes: z.array(z.string()).openapi({
    description:
      "The routes behind the entry, canonical and sorted: those carving its WARP default (warp-default-remainder), or those it carries (route); empty for the other kinds.",
  }),
}).openapi("SplitTunnelEntryDetail");

export const getSplitTunnelEntry = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/split-tunnels/{profile}/entries/{address}",
  operationId: "getSplitTunnelEntry",
  tags: ["Split tunnels"],
  security,
  summary: "Get one effective split tunnel entry with the routes behind it",
  description:
    "`{address}` is the entry's CIDR with its `/` written `%2F` (`10.0.0.0%2F12`); any spelling of the network finds it.",
  request: {
    params: ProfileParams.extend({
      address: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: "address", in: "path" }, example: "10.0.0.0%2F12" }),
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
