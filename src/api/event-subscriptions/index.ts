/** Router of event subscriptions and their deliveries. */
import { createRouter } from "../context";
import * as endpoints from "./event-subscriptions.endpoints";
import * as handlers from "./event-subscriptions.handlers";

export const eventSubscriptionsRouter = createRouter()
  .openapi(endpoints.list, handlers.list)
  .openapi(endpoints.create, handlers.create)
  .openapi(endpoints.get, handlers.get)
  .openapi(endpoints.update, handlers.update)
  .openapi(endpoints.remove, handlers.remove)
  .openapi(endpoints.deliveries, handlers.deliveries);
