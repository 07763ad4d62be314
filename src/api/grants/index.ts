/** Router of grants, their decisions, audit trail and callback settings. */
import { createRouter } from "../context";
import { idempotent } from "../middleware/idempotency";
import * as settings from "./grant-settings.handlers";
import * as endpoints from "./grants.endpoints";
import * as handlers from "./grants.handlers";
import * as receiverEndpoints from "./receivers.endpoints";
import * as receivers from "./receivers.handlers";

const GRANTS_ROUTE = "/v1/accounts/:account_id/grants";

export const grantsRouter = createRouter();
grantsRouter.use(GRANTS_ROUTE, idempotent(GRANTS_ROUTE));
grantsRouter
  .openapi(endpoints.create, handlers.create)
  .openapi(endpoints.list, handlers.list)
  .openapi(endpoints.get, handlers.get)
  .openapi(endpoints.events, handlers.events)
  .openapi(endpoints.approve, handlers.approve)
  .openapi(endpoints.reject, handlers.reject)
  .openapi(endpoints.revoke, handlers.revoke)
  .openapi(endpoints.cancel, handlers.cancel)
  .openapi(endpoints.getSettings, settings.getSettings)
  .openapi(endpoints.putSettings, settings.putSettings)
  .openapi(receiverEndpoints.listReceivers, receivers.listReceivers)
  .openapi(receiverEndpoints.putReceiver, receivers.putReceiver)
  .openapi(receiverEndpoints.deleteReceiver, receivers.deleteReceiver);
