/** Router of the account endpoints. */
import { createRouter } from "../context";
import * as endpoints from "./accounts.endpoints";
import * as handlers from "./accounts.handlers";

export const accountsRouter = createRouter()
  .openapi(endpoints.create, handlers.create)
  .openapi(endpoints.get, handlers.get)
  .openapi(endpoints.update, handlers.update);
