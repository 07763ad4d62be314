/** Contract of `GET split-tunnels/{profile}`: any profile's effective split tunnel. */
import { createRoute, z } from "@hono/zod-openapi";
import { AccountIdParam, problemResponses, security } from "../contract";
import { objectEnvelope } from "../desired/object.schemas";
import { splitTunnelOutput } from "./index";

export const ProfileSplitTunnel = z
  .object({ ...objectEnvelope, ...splitTunnelOutput })
  .openapi("ProfileSplitTunnel");

export const getProfileSplitTunnel = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/split-tunnels/{profile}",
  operationId: "getProfileSplitTunnel",
  tags: ["Split tunnels"],
  security,
  summary: "Get a device profile's effective split tunnel",
  description:
    "`{profile}` is a device profile id, or `default` for the default profile (answered by getSplitTunnel with the same fields). The envelope is the profile's; `effective` is the list tunnelplane writes, with the reason for each entry, computed from the routes of the virtual networks the profile follows.",
  request: {
    params: z.object({
      account_id: AccountIdParam,
      profile: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: "profile", in: "path" }, example: "default" }),
    }),
  },
  responses: {
    200: {
      description: "The profile's split tunnel; ETag is the profile's version",
      content: { "application/json": { schema: ProfileSplitTunnel } },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});
