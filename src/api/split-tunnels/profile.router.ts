/** Router of `GET split-tunnels/{profile}` and its entries, mounted after the default profile's singleton. */
import { createRouter } from "../context";
import * as endpoints from "./profile.endpoints";
import * as handlers from "./profile.handlers";

export const profileSplitTunnelRouter = createRouter()
  .openapi(endpoints.listSplitTunnelEntries, handlers.listSplitTunnelEntries)
  .openapi(endpoints.getSplitTunnelEntry, handlers.getSplitTunnelEntry)
  .openapi(endpoints.getProfileSplitTunnel, handlers.getProfileSplitTunnel);
