/** Wire shapes of account conflicts and client LAN checks, and the mappers to them. */
import { z } from "@hono/zod-openapi";
import { parseCidr } from "../../domain/cidr/parse";
import type { AccountConflict } from "../../domain/conflicts/account";
import type { ClientLanCheck } from "../../domain/conflicts/client-lan";
import { describeConflict } from "../../domain/conflicts/describe";
import type { RouteRef } from "../../domain/routes/conflicts";
import { describeCidrError } from "../fields";
import { EntryOutput, entryToWire } from "../split-tunnels/split-tunnel.schemas";

const ObjectRef = z
  .object({
    kind: z.enum([
      "tunnel_route",
      "hostname_route",
      "split_tunnel",
      "device_profile",
      "proxy_settings",
      "private_app",
    ]),
    id: z.string().openapi({ description: "tunnelplane id (`default` for the default profile)." }),
  })
  .openapi("ConflictObject");

const common = {
  severity: z.enum(["error", "warning"]).openapi({
    description:
      "error: tunnelplane or Cloudflare refuses it; warning: accepted, but users lose reach.",
  }),
  message: z.string().openapi({ description: "One sentence, safe to show." }),
  objects: z.array(ObjectRef).openapi({ description: "The desired objects involved." }),
};

const RouteSide = z.object({
  route_id: z.string(),
  network: z.string(),
  tunnel_id: z.string(),
  virtual_network_id: z.string().nullable(),
});

const Networks = z.array(z.string()).openapi({ description: "Canonical CIDRs (minimal cover)." });

/** One conflict; `code` is stable and selects the fields that follow. */
export const Conflict = z
  .discriminatedUnion("code", [
    z.object({
      code: z.literal("duplicate-route"),
      ...common,
      virtual_network_id: z.string().nullable(),
      network: z.string(),
      route_ids: z.array(z.string()),
    }),
    z.object({
      code: z.literal("route-overlap"),
      ...common,
      virtual_network_id: z.string().nullable(),
      specific: RouteSide,
      general: RouteSide,
      winner: z
        .object({ route_id: z.string(), tunnel_id: z.string(), range: z.string() })
        .openapi({ description: "The longest prefix wins: which route carries which range." }),
    }),
    z.object({
      code: z.literal("reserved-range"),
      ...common,
      route_id: z.string(),
      network: z.string(),
      reserved_range: z.string(),
      purpose: z.string(),
    }),
    z.object({
      code: z.literal("home-lan-overlap"),
      ...common,
      route_id: z.string(),
      network: z.string(),
      lan_range: z.string(),
      shadowed: Networks,
    }),
    z.object({
      code: z.literal("route-excluded"),
      ...common,
      profile_id: z.string(),
      route_network: z.string(),
      route_ids: z.array(z.string()),
      entry: EntryOutput.openapi({
        description: "The Exclude entry that sends the route around WARP.",
      }),
      unreachable: Networks,
    }),
    z.object({
      code: z.literal("route-not-included"),
      ...common,
      profile_id: z.string(),
      route_network: z.string(),
      route_ids: z.array(z.string()),
      unreachable: Networks,
    }),
    z.object({
      code: z.literal("local-default-routed"),
      ...common,
      profile_id: z.string(),
      route_network: z.string(),
      route_ids: z.array(z.string()),
      entry: EntryOutput.openapi({
        description:
          "The WARP default Exclude entry the route carves: one that keeps the device's own link traffic (DHCP, link-local, local multicast) off WARP.",
      }),
      purpose: z
        .string()
        .openapi({ description: "What a device uses the default's addresses for." }),
      unreachable: Networks.openapi({
        description:
          "The default's addresses that now go through WARP instead of the device's link (canonical CIDRs).",
      }),
    }),
    z.object({
      code: z.literal("team-domain-not-included"),
      ...common,
      profile_id: z.string(),
      team_domain: z.string().openapi({ description: "The team domain no Include entry covers." }),
    }),
    z.object({
      code: z.literal("team-domain-unknown"),
      ...common,
      profile_id: z.string(),
    }),
    z.object({
      code: z.literal("hostname-route-proxy-off"),
      ...common,
      route_id: z.string(),
      hostname: z.string(),
      missing: z.array(z.enum(["tcp", "udp"])).openapi({
        description: "The proxies that are off; hostname routes need TCP and UDP (DNS).",
      }),
      proxy_managed: z.boolean().openapi({
        description:
          "False when tunnelplane does not manage the proxy (Cloudflare's default: off).",
      }),
    }),
    z.object({
      code: z.literal("hostname-route-local-fallback"),
      ...common,
      route_id: z.string(),
      hostname: z.string(),
      profile_id: z.string().openapi({
        description:
          "`default`, a device profile's tunnelplane id, or `cloudflare:<policy_id>` for one tunnelplane does not own.",
      }),
      suffix: z.string().openapi({
        description:
          "The profile's Local Domain Fallback entry that covers every name of the route: devices resolve them with their own DNS, so the query never reaches Gateway.",
      }),
      assumed_default: z.boolean().openapi({
        description:
          "True when no run has observed the profile's list yet and Cloudflare's default list is assumed.",
      }),
    }),
    ...(["private-app-not-routed", "private-app-excluded"] as const).map((code) =>
      z.object({
        code: z.literal(code),
        ...common,
        app_id: z.string(),
        destination: z.string(),
        entry: EntryOutput.nullable().openapi({
          description:
            "For private-app-excluded: the default profile's Exclude entry; null for an Include list that lacks the destination.",
        }),
        unreachable: Networks,
      }),
    ),
  ])
  .openapi("Conflict");

export const ConflictList = z
  .object({
    items: z.array(Conflict),
    counts: z.object({ errors: z.number().int(), warnings: z.number().int() }),
  })
  .openapi("ConflictList");

/** A LAN as a client reports it: an address or CIDR; host bits may be set. */
const LanString = z
  .string()
  .max(64, { abort: true })
  .superRefine((value, ctx) => {
    const parsed = parseCidr(value);
    if (!parsed.ok && parsed.error.code === "invalid-cidr") {
      const { message, code } = describeCidrError(parsed.error);
      ctx.addIssue({ code: "custom", message, params: { code } });
    }
  })
  .openapi({
    description:
      "The client's LAN: an address or CIDR, host bits allowed (`192.168.1.23/24` is read as 192.168.1.0/24).",
    example: "10.0.0.0/24",
  });

export const ClientLanInput = z.strictObject({ lan: LanString }).openapi("ClientLanInput");

export const ClientLanResult = z
  .object({
    lan: z.string().openapi({ description: "The LAN as a canonical CIDR." }),
    routes: z.array(
      RouteSide.extend({
        shadowed: Networks.openapi({
          description: "The route's addresses the LAN hides from the user (minimal cover).",
        }),
        wholly_shadowed: z
          .boolean()
          .openapi({ description: "True when the whole route is hidden." }),
      }),
    ),
  })
  .openapi("ClientLanResult");

function routeSide(route: RouteRef) {
  return {
    route_id: route.id,
    network: route.network,
    tunnel_id: route.tunnelId,
    virtual_network_id: route.virtualNetworkId,
  };
}

const routeObject = (id: string) => ({ kind: "tunnel_route" as const, id });

/** The wire form of one conflict. */
export function toConflictResource(conflict: AccountConflict): z.input<typeof Conflict> {
  const base = { severity: conflict.severity, message: describeConflict(conflict) };
  switch (conflict.code) {
    case "duplicate-route":
      return {
        code: conflict.code,
        ...base,
        objects: conflict.routeIds.map(routeObject),
        virtual_network_id: conflict.virtualNetworkId,
        network: conflict.network,
        route_ids: conflict.routeIds,
      };
    case "route-overlap":
      return {
        code: conflict.code,
        ...base,
        objects: [routeObject(conflict.specific.id), routeObject(conflict.general.id)],
        virtual_network_id: conflict.virtualNetworkId,
        specific: routeSide(conflict.specific),
        general: routeSide(conflict.general),
        winner: {
          route_id: conflict.winner.routeId,
          tunnel_id: conflict.winner.tunnelId,
          range: conflict.winner.range,
        },
      };
    case "reserved-range":
      return {
        code: conflict.code,
        ...base,
        objects: [routeObject(conflict.routeId)],
        route_id: conflict.routeId,
        network: conflict.network,
        reserved_range: conflict.reservedRange,
        purpose: conflict.purpose,
      };
    case "home-lan-overlap":
      return {
        code: conflict.code,
        ...base,
        objects: [routeObject(conflict.routeId)],
        route_id: conflict.routeId,
        network: conflict.network,
        lan_range: conflict.lanRange,
        shadowed: conflict.shadowed,
      };
    case "route-excluded":
    case "route-not-included":
    case "local-default-routed": {
      const shared = {
        ...base,
        objects: [conflict.profile, ...conflict.routeIds.map(routeObject)],
        profile_id: conflict.profile.id,
        route_network: conflict.routeNetwork,
        route_ids: conflict.routeIds,
        unreachable: conflict.unreachable,
      };
      if (conflict.code === "route-not-included") {
        return { code: conflict.code, ...shared };
      }
      const entry = entryToWire(conflict.entry);
      return conflict.code === "route-excluded"
        ? { code: conflict.code, ...shared, entry }
        : { code: conflict.code, ...shared, entry, purpose: conflict.purpose };
    }
    case "team-domain-not-included":
      return {
        code: conflict.code,
        ...base,
        objects: [conflict.profile],
        profile_id: conflict.profile.id,
        team_domain: conflict.teamDomain,
      };
    case "team-domain-unknown":
      return {
        code: conflict.code,
        ...base,
        objects: [conflict.profile],
        profile_id: conflict.profile.id,
      };
    case "private-app-not-routed":
    case "private-app-excluded":
      return {
        code: conflict.code,
        ...base,
        objects: [{ kind: "private_app", id: conflict.appId }],
        app_id: conflict.appId,
        destination: conflict.destination,
        entry: conflict.entry === null ? null : entryToWire(conflict.entry),
        unreachable: conflict.unreachable,
      };
    case "hostname-route-local-fallback":
      return {
        code: conflict.code,
        ...base,
        objects: [
          { kind: "hostname_route", id: conflict.routeId },
          ...(conflict.profileId === "default"
            ? [{ kind: "split_tunnel" as const, id: "default" }]
            : conflict.profileId.startsWith("cloudflare:")
              ? []
              : [{ kind: "device_profile" as const, id: conflict.profileId }]),
        ],
        route_id: conflict.routeId,
        hostname: conflict.hostname,
        profile_id: conflict.profileId,
        suffix: conflict.suffix,
        assumed_default: conflict.assumedDefault,
      };
    case "hostname-route-proxy-off":
      return {
        code: conflict.code,
        ...base,
        objects: [
          { kind: "hostname_route", id: conflict.routeId },
          ...(conflict.proxyManaged ? [{ kind: "proxy_settings" as const, id: "default" }] : []),
        ],
        route_id: conflict.routeId,
        hostname: conflict.hostname,
        missing: conflict.missing,
        proxy_managed: conflict.proxyManaged,
      };
  }
}

/** The wire form of a client LAN check. */
export function toClientLanResource(check: ClientLanCheck): z.input<typeof ClientLanResult> {
  return {
    lan: check.lan,
    routes: check.routes.map((r) => ({
      ...routeSide(r.route),
      shadowed: r.shadowed,
      wholly_shadowed: r.isWhollyShadowed,
    })),
  };
}
