/** Router of the reconcile queue's dead letters. */
import { createRouter } from "../context";
import * as endpoints from "./dead-letters.endpoints";
import * as handlers from "./dead-letters.handlers";

export const deadLettersRouter = createRouter()
  .openapi(endpoints.list, handlers.list)
  .openapi(endpoints.redrive, handlers.redrive);
