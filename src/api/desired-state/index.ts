/** `/v1/accounts/{account_id}/desired-state`: the account's desired state as one document. */
import { createRouter } from "../context";
import * as endpoints from "./desired-state.endpoints";
import * as handlers from "./desired-state.handlers";

export const desiredStateRouter = createRouter()
  .openapi(endpoints.exportDocument, handlers.exportDocument)
  .openapi(endpoints.diff, handlers.diff)
  .openapi(endpoints.apply, handlers.apply);
