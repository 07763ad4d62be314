/**
 * `/v1/accounts/{account_id}/hostname-routes`: private hostname routes (a hostname served by a
 * tunnel; Cloudflare gives them no virtual network). Hostnames follow Cloudflare's rules (see
 * domain/routes/hostname): a refused form is a 422 at `#/hostname` naming the rule. Two routes
 * whose Cloudflare form is the same (`*.apps.acme.internal` and `apps.acme.internal`) are one
 * route to Cloudflare, so the second is a 409.
 */
import { z } from "@hono/zod-openapi";
import { getObject } from "../../db/desired-objects.repo";
import {
  describeHostnameRouteProxyOff,
  findHostnameRouteConflicts,
} from "../../domain/conflicts/hostname-routes";
import type { HostnameRouteSpec, ProxySettingsSpec } from "../../domain/model";
import { MAX_HOSTNAME_LENGTH, parseHostname } from "../../domain/routes/hostname";
import type { CollectionDefinition, WriteWarning } from "../desired/collection";
import { validationProblem } from "../problem";
import { loadProfileFallbacks, localFallbackWarnings } from "./local-fallback";

const HostnameString = z
  .string()
  .superRefine((value, ctx) => {
    const parsed = parseHostname(value);
    if (!parsed.ok) {
      ctx.addIssue({
        code: "custom",
        message: `${value} is not a valid hostname route: ${parsed.error}`,
        params: { code: "invalid-hostname" },
      });
    }
  })
  .openapi({
    description: `Private hostname, under ${MAX_HOSTNAME_LENGTH + 1} characters; at most one wildcard, only as the whole leading label (\`*.apps.acme.internal\` matches exactly one label below). Leading and trailing dots are trimmed.`,
    example: "*.apps.acme.internal",
  });

const input = z
  .strictObject({
    hostname: HostnameString,
    tunnel_id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ description: "tunnelplane id of the tunnel that serves the hostname." }),
    comment: z.string().max(50).default("").openapi({
      description:
        "Free text, at most 50 characters (Cloudflare keeps 100; the ownership marker takes the rest).",
    }),
  })
  .openapi("HostnameRouteInput");

/**
 * The `hostname-route-proxy-off` errors of `routes` under `proxy` (null: unmanaged), as write
 * warnings: the write is accepted, and `conflicts` lists them until the proxy is fixed.
 */
export function hostnameRouteWarnings(
  routes: readonly { id: string; spec: HostnameRouteSpec }[],
  proxy: ProxySettingsSpec | null,
): WriteWarning[] {
  return findHostnameRouteConflicts(
    routes.map((r) => ({ id: r.id, hostname: r.spec.hostname })),
    proxy,
  ).map((conflict) => ({ code: conflict.code, message: describeHostnameRouteProxyOff(conflict) }));
}

/** The hostname as stored: trimmed and lower case, wildcard kept (`*.apps.acme.internal`). */
function userForm(hostname: string): string {
  const parsed = parseHostname(hostname);
  return parsed.ok ? parsed.value.hostname : hostname;
}

/** The form Cloudflare stores, which makes two routes one. */
function cloudflareForm(hostname: string): string {
  const parsed = parseHostname(hostname);
  return parsed.ok ? parsed.value.cloudflareForm : hostname;
}

export const hostnameRoutes: CollectionDefinition<
  "hostname_route",
  typeof input,
  {
    hostname: z.ZodString;
    cloudflare_hostname: z.ZodString;
    tunnel_id: z.ZodString;
    comment: z.ZodString;
  }
> = {
  kind: "hostname_route",
  path: "hostname-routes",
  tag: "Routes",
  singular: "HostnameRoute",
  plural: "HostnameRoutes",
  input,
  output: {
    hostname: z.string().openapi({ description: "Trimmed, lower case, wildcard kept." }),
    cloudflare_hostname: z.string().openapi({
      description: "The form Cloudflare stores and answers (`*.` dropped).",
      example: "apps.acme.internal",
    }),
    tunnel_id: z.string(),
    comment: z.string(),
  },
  async toSpec(body, ctx) {
    const tunnel = await getObject(ctx.db, ctx.accountId, "tunnel", body.tunnel_id);
    if (tunnel === undefined) {
      throw validationProblem("The route refers to objects that do not exist.", [
        {
          pointer: "#/tunnel_id",
          detail: `no tunnel ${body.tunnel_id} in this account`,
          code: "unknown-reference",
        },
      ]);
    }
    return { hostname: userForm(body.hostname), tunnelId: body.tunnel_id, comment: body.comment };
  },
  toWire: (spec) => ({
    hostname: spec.hostname,
    cloudflare_hostname: cloudflareForm(spec.hostname),
    tunnel_id: spec.tunnelId,
    comment: spec.comment,
  }),
  naturalKey: (spec) => cloudflareForm(spec.hostname),
  async warnings(spec, ctx) {
    const [proxy, fallbacks] = await Promise.all([
      getObject(ctx.db, ctx.accountId, "proxy_settings", "default"),
      loadProfileFallbacks(ctx.db, ctx.accountId),
    ]);
    return [
      ...hostnameRouteWarnings([{ id: ctx.id, spec }], proxy?.spec ?? null),
      ...localFallbackWarnings([{ id: ctx.id, hostname: spec.hostname }], fallbacks),
    ];
  },
  conflict: {
    slug: "duplicate-route",
    detail: (spec) => {
      const stored = cloudflareForm(spec.hostname);
      const note =
        stored === spec.hostname ? "" : ` (Cloudflare stores ${spec.hostname} as ${stored})`;
      return `${stored} is already routed${note}; *.x and x are one route to Cloudflare.`;
    },
  },
};
