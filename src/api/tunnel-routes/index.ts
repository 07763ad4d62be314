/**
 * `/v1/accounts/{account_id}/routes`: tunnel routes (a CIDR served by a tunnel in a vnet). A route
 * that an `auto` split tunnel would send around WARP (a user Exclude entry covers it) is refused
 * with 422 at `#/network`, since tunnelplane would be writing the mistake; in a hand-written list
 * it is a warning, like overlaps with other tunnels' routes and with home LANs, and like a route
 * that carves a local WARP default (DHCP, link-local, local multicast) out of an `auto` list.
 */
import { z } from "@hono/zod-openapi";
import { getAccount } from "../../db/accounts.repo";
import { getObject } from "../../db/desired-objects.repo";
import { listNestedRoutes } from "../../db/route-ranges.repo";
import {
  DEFAULT_INITIAL_RESOLVED_IPV4,
  findReservedRange,
  INITIAL_RESOLVED_PURPOSE,
} from "../../domain/cidr/reserved";
import type { ProfileProblem } from "../../domain/conflicts/account";
import { describeConflict } from "../../domain/conflicts/describe";
import type { TunnelRouteSpec } from "../../domain/model";
import { findRouteConflicts, type RouteConflict } from "../../domain/routes/conflicts";
import { splitTunnelProblemsOf } from "../conflicts/route-impact";
import type { CollectionDefinition, WriteContext, WriteWarning } from "../desired/collection";
import { canonical, RouteNetworkString, reservedRangeMessage } from "../fields";
import { validationProblem } from "../problem";

const input = z
  .strictObject({
    network: RouteNetworkString,
    tunnel_id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ description: "tunnelplane id of the tunnel that serves the network." }),
    virtual_network_id: z.string().min(1).max(64).nullable().default(null).openapi({
      description: "tunnelplane id of the virtual network; null for the account's default.",
    }),
    comment: z.string().max(50).default("").openapi({
      description:
        "Free text, at most 50 characters (Cloudflare keeps 100; the ownership marker takes the rest).",
    }),
  })
  .openapi("TunnelRouteInput");

/** A write checks the route and warns about it with one reading of the profiles. */
const checked = new WeakMap<
  WriteContext,
  { specJson: string; result: Promise<ProfileProblem[]> }
>();

function profileProblemsOf(spec: TunnelRouteSpec, ctx: WriteContext): Promise<ProfileProblem[]> {
  const specJson = JSON.stringify(spec);
  const cached = checked.get(ctx);
  if (cached?.specJson === specJson) {
    return cached.result;
  }
  const result = splitTunnelProblemsOf(ctx.db, ctx.accountId, { id: ctx.id, ...spec });
  checked.set(ctx, { specJson, result });
  return result;
}

/**
 * Refuses a network inside the account's initial resolved range (Cloudflare answers routed
 * hostnames from it), with the same words as the fixed ranges.
 * @throws ProblemError validation-failed at `#/network`
 */
async function refuseInitialResolvedRange(ctx: WriteContext, network: string): Promise<void> {
  const account = await getAccount(ctx.db, ctx.accountId);
  const range = account?.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4;
  const match = findReservedRange(canonical(network), [
    { network: range, purpose: INITIAL_RESOLVED_PURPOSE },
  ]);
  if (match?.relation === "inside") {
    throw validationProblem("The route is inside the account's initial resolved range.", [
      {
        pointer: "#/network",
        detail: reservedRangeMessage(network, match),
        code: "reserved-range",
      },
    ]);
  }
}

function describe(conflict: RouteConflict, routeId: string): WriteWarning | undefined {
  switch (conflict.code) {
    case "route-overlap":
      if (conflict.specific.id !== routeId && conflict.general.id !== routeId) {
        return undefined;
      }
      return {
        code: conflict.code,
        message: `${conflict.specific.network} (tunnel ${conflict.specific.tunnelId}) lies inside ${conflict.general.network} (tunnel ${conflict.general.tunnelId}); the longest prefix wins, so ${conflict.winner.range} goes to tunnel ${conflict.winner.tunnelId}`,
      };
    case "home-lan-overlap":
      return conflict.routeId === routeId
        ? {
            code: conflict.code,
            message: `${conflict.network} overlaps the common home LAN ${conflict.lanRange}; users on such a LAN cannot reach ${conflict.shadowed.join(", ")}`,
          }
        : undefined;
    case "duplicate-route":
    case "reserved-range":
      return undefined;
  }
}

export const tunnelRoutes: CollectionDefinition<
  "tunnel_route",
  typeof input,
  {
    network: z.ZodString;
    tunnel_id: z.ZodString;
    virtual_network_id: z.ZodNullable<z.ZodString>;
    comment: z.ZodString;
  }
> = {
  kind: "tunnel_route",
  path: "routes",
  tag: "Routes",
  singular: "TunnelRoute",
  plural: "TunnelRoutes",
  input,
  output: {
    network: z.string().openapi({ description: "Canonical CIDR." }),
    tunnel_id: z.string(),
    virtual_network_id: z.string().nullable(),
    comment: z.string(),
  },
  async toSpec(body, ctx) {
    const [tunnel, vnet] = await Promise.all([
      getObject(ctx.db, ctx.accountId, "tunnel", body.tunnel_id),
      body.virtual_network_id === null
        ? undefined
        : getObject(ctx.db, ctx.accountId, "virtual_network", body.virtual_network_id),
    ]);
    const errors = [
      ...(tunnel === undefined
        ? [
            {
              pointer: "#/tunnel_id",
              detail: `no tunnel ${body.tunnel_id} in this account`,
              code: "unknown-reference",
            },
          ]
        : []),
      ...(body.virtual_network_id !== null && vnet === undefined
        ? [
            {
              pointer: "#/virtual_network_id",
              detail: `no virtual network ${body.virtual_network_id} in this account`,
              code: "unknown-reference",
            },
          ]
        : []),
    ];
    if (errors.length > 0) {
      throw validationProblem("The route refers to objects that do not exist.", errors);
    }
    await refuseInitialResolvedRange(ctx, body.network);
    const spec = {
      network: canonical(body.network),
      tunnelId: body.tunnel_id,
      virtualNetworkId: body.virtual_network_id,
      comment: body.comment,
    };
    const unreachable = (await profileProblemsOf(spec, ctx)).filter((p) => p.severity === "error");
    if (unreachable.length > 0) {
      throw validationProblem(
        "An auto split tunnel would send the route around WARP; change its entries first.",
        unreachable.map((p) => ({
          pointer: "#/network",
          detail: describeConflict(p),
          code: p.code,
        })),
      );
    }
    return spec;
  },
  toWire: (spec) => ({
    network: spec.network,
    tunnel_id: spec.tunnelId,
    virtual_network_id: spec.virtualNetworkId,
    comment: spec.comment,
  }),
  naturalKey: (spec) => `${spec.virtualNetworkId ?? "default"}|${spec.network}`,
  conflict: {
    slug: "duplicate-route",
    detail: (spec) =>
      `${spec.network} is already routed in ${spec.virtualNetworkId === null ? "the default virtual network" : `virtual network ${spec.virtualNetworkId}`}.`,
  },
  async warnings(spec, ctx) {
    // The route's overlap warnings involve only the routes nesting with it, and the conflict
    // check keeps their creation order, so it gives what it would over every route.
    const routes = await listNestedRoutes(ctx.db, ctx.accountId, spec.network);
    const refs = routes.map((r) => ({
      id: r.id,
      network: r.spec.network,
      tunnelId: r.spec.tunnelId,
      virtualNetworkId: r.spec.virtualNetworkId,
    }));
    const splitTunnel = await profileProblemsOf(spec, ctx);
    return [
      ...findRouteConflicts(refs).flatMap((c) => describe(c, ctx.id) ?? []),
      ...splitTunnel.map((p) => ({ code: p.code, message: describeConflict(p) })),
    ];
  },
};
