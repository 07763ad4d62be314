/** Router of plan, reconcile and run history. */
import { createRouter } from "../context";
import * as endpoints from "./runs.endpoints";
import * as handlers from "./runs.handlers";

export const runsRouter = createRouter()
  .openapi(endpoints.plan, handlers.plan)
  .openapi(endpoints.reconcile, handlers.reconcile)
  .openapi(endpoints.list, handlers.list)
  .openapi(endpoints.get, handlers.get);
