/** Router of `GET split-tunnels/{profile}`, mounted after the default profile's singleton. */
import { createRouter } from "../context";
import * as endpoints from "./profile.endpoints";
import * as handlers from "./profile.handlers";

export const profileSplitTunnelRouter = createRouter().openapi(
  endpoints.getProfileSplitTunnel,
  handlers.getProfileSplitTunnel,
);
