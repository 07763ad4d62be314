/**
 * `POST /v1/accounts/{account_id}/who-can-reach` and `.../reachable-by`: the reverse questions
 * of explain, answered exactly by the access engine over the desired policies.
 */
import { createRouter } from "../context";
import * as endpoints from "./access.endpoints";
import * as handlers from "./access.handlers";

export const accessRouter = createRouter()
  .openapi(endpoints.whoCanReach, handlers.whoCanReach)
  .openapi(endpoints.reachableBy, handlers.reachableBy);
