/** Gives every request an id (Cloudflare's `cf-ray` when present) echoed in `X-Request-Id`. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const id = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.set("requestId", id);
  await next();
  c.header("X-Request-Id", id);
};
