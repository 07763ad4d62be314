/** Router of the account endpoints. */
import { createRouter } from "../context";
import * as endpoints from "./accounts.endpoints";
import * as handlers from "./accounts.handlers";
import * as overview from "./overview.handlers";

export const accountsRouter = createRouter()
  .openapi(endpoints.create, handlers.create)
  .openapi(endpoints.list, overview.list)
  .openapi(endpoints.get, handlers.get)
  .openapi(endpoints.update, handlers.update);
