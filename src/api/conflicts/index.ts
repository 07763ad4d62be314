/** Router of `/conflicts` and `/conflicts/check-client-lan`. */
import { createRouter } from "../context";
import * as endpoints from "./conflicts.endpoints";
import * as handlers from "./conflicts.handlers";

export const conflictsRouter = createRouter()
  .openapi(endpoints.list, handlers.list)
  .openapi(endpoints.checkClientLan, handlers.checkClientLan);
