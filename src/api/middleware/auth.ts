/**
 * Bearer API key authentication. For now one admin key, from the ADMIN_API_KEY secret; an unset
 * or empty secret refuses every key rather than allowing everything.
 */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "../../lib/crypto";
import type { AppEnv } from "../context";
import { ProblemError } from "../problem";

export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const expected = c.env.ADMIN_API_KEY ?? "";
  if (match?.[1] === undefined || expected === "" || !(await timingSafeEqual(match[1], expected))) {
    throw new ProblemError("unauthorized", "Send `Authorization: Bearer <api key>`.", {
      headers: { "WWW-Authenticate": 'Bearer realm="tunnelplane"' },
    });
  }
  c.set("actor", "api-key:admin");
  await next();
};
