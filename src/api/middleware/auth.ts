/**
 * Authentication: who is calling. `Authorization: Bearer <key>` is the bootstrap ADMIN_API_KEY or
 * an API key from `api_keys` (looked up by SHA-256, usable until revoked or expired); without
 * it, a Cloudflare Access JWT (`Cf-Access-Jwt-Assertion`) when ACCESS_TEAM_DOMAIN and ACCESS_AUD
 * are set, whose email must have a role binding. Anything else is 401; an unset ADMIN_API_KEY
 * matches nothing. What the identity may do is decided by `authorize.ts`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { findAccessRoleBinding } from "../../db/access-role-bindings.repo";
import { findUsableApiKey } from "../../db/api-keys.repo";
import { createDb } from "../../db/client";
import { timingSafeEqual } from "../../lib/crypto";
import { sha256Hex } from "../../lib/hmac";
import type { AppEnv } from "../context";
import { verifyAccessJwt } from "../identity/access-jwt";
import { BOOTSTRAP_ADMIN, type Identity } from "../identity/identity";
import { ProblemError } from "../problem";

function unauthorized(detail: string): ProblemError {
  return new ProblemError("unauthorized", detail, {
    headers: { "WWW-Authenticate": 'Bearer realm="tunnelplane"' },
  });
}

async function fromApiKey(c: Context<AppEnv>, header: string): Promise<Identity> {
  const secret = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (secret === undefined) {
    throw unauthorized("Send `Authorization: Bearer <api key>`.");
  }
  const bootstrap = c.env.ADMIN_API_KEY ?? "";
  if (bootstrap !== "" && (await timingSafeEqual(secret, bootstrap))) {
    return BOOTSTRAP_ADMIN;
  }
  const key = await findUsableApiKey(createDb(c.env.DB), await sha256Hex(secret), Date.now());
  if (key === undefined) {
    throw unauthorized("The API key is unknown, revoked or expired.");
  }
  return {
    actor: `key:${key.name}`,
    role: key.role,
    accounts: key.accounts,
    ticketSystem: key.ticketSystem,
  };
}

async function fromAccess(c: Context<AppEnv>, token: string): Promise<Identity> {
  const teamDomain = c.env.ACCESS_TEAM_DOMAIN ?? "";
  const audience = c.env.ACCESS_AUD ?? "";
  const certs = c.env.ACCESS_CERTS_FETCH;
  const email = await verifyAccessJwt(token, {
    teamDomain,
    audience,
    fetchCerts: (url) => (certs === undefined ? fetch(url) : certs.fetch(url)),
    nowMs: Date.now(),
  });
  if (email === null) {
    throw unauthorized("The Cloudflare Access token is not valid for this application.");
  }
  const binding = await findAccessRoleBinding(createDb(c.env.DB), email);
  if (binding === undefined) {
    throw new ProblemError("forbidden", `${email} has no role in tunnelplane.`);
  }
  return {
    actor: `access:${email}`,
    role: binding.role,
    accounts: binding.accounts,
    ticketSystem: null,
  };
}

function accessEnabled(env: Env): boolean {
  return (env.ACCESS_TEAM_DOMAIN ?? "") !== "" && (env.ACCESS_AUD ?? "") !== "";
}

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("authorization");
  const assertion = c.req.header("cf-access-jwt-assertion");
  let identity: Identity;
  if (header !== undefined) {
    identity = await fromApiKey(c, header);
  } else if (assertion !== undefined && accessEnabled(c.env)) {
    identity = await fromAccess(c, assertion);
  } else {
    throw unauthorized(
      "Send `Authorization: Bearer <api key>` or log in through Cloudflare Access.",
    );
  }
  c.set("identity", identity);
  c.set("actor", identity.actor);
  await next();
};
