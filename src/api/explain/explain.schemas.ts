/** Wire shapes of explain: the request, the step-by-step explanation, and their mappers. */
import { z } from "@hono/zod-openapi";
import type { Explanation } from "../../domain/explain/explain";
import type { PolicyTraceEntry } from "../../domain/policies/evaluate";
import { IpAddressString } from "../fields";
import { SharedRulesObservedAt, SkippedList } from "../schemas/skipped";

/** Re-exported for the assertions contract, which takes the same address field. */
export { IpAddressString };

export const ExplainInput = z
  .strictObject({
    email: z.email().max(254).openapi({
      description: "The user's email (case-insensitive).",
      example: "user@example.com",
    }),
    groups: z
      .array(z.string().min(1).max(256))
      .max(100)
      .default([])
      .openapi({ description: "The user's identity provider group names." }),
    device_profile: z.string().min(1).max(64).default("default").openapi({
      description:
        "Whose split tunnel applies: `default`, or the tunnelplane id of a custom device profile.",
    }),
    device_posture_checks: z
      .array(z.string().min(1).max(64))
      .max(100)
      .default([])
      .openapi({ description: "Ids of the device posture checks the device passes." }),
    destination_ip: IpAddressString.optional(),
    destination_host: z
      .string()
      .max(254)
      // A fully qualified name (`wiki.acme.internal.`) names the same host, as for hostname routes.
      .overwrite((host) => host.replace(/\.$/, ""))
      .max(253)
      .regex(
        /^([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)*[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?$/,
        "a hostname such as wiki.acme.internal (no wildcard)",
      )
      .optional()
      .openapi({
        description:
          "A private hostname to reach instead of destination_ip: explain looks up the hostname route (a `*.x` route serves exactly one label below x), then follows the connection to an address of the account's initial resolved range.",
        example: "wiki.apps.acme.internal",
      }),
    virtual_network_id: z.string().min(1).max(64).default("default").openapi({
      description:
        "The virtual network the device has selected in WARP: `default` (the account's default) or a virtual network id. Routes are looked up in it only, and Gateway's `net.vnet_id` compares it.",
    }),
    port: z.number().int().min(1).max(65535).nullable().default(null).openapi({ example: 22 }),
    protocol: z
      .enum(["tcp", "udp", "icmp"])
      .nullable()
      .default(null)
      .openapi({ description: "Layer 4 protocol; null or absent means tcp." }),
  })
  .superRefine((body, ctx) => {
    if ((body.destination_ip === undefined) === (body.destination_host === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["destination_ip"],
        message: "give exactly one of destination_ip and destination_host",
        params: { code: "one-destination" },
      });
    }
  })
  .openapi("ExplainInput");

export const ExplainQuery = z.object({
  state: z.enum(["desired", "observed"]).default("desired").openapi({
    description:
      "desired: the state tunnelplane will write (default), with the shared rules as last read from Cloudflare. observed: Cloudflare as it is now (read at once, shared rules included; hand-written policies are parsed; kinds the API token may not read are skipped and listed in `skipped`).",
  }),
});

const Entry = z
  .object({
    address: z.string().optional(),
    host: z.string().optional(),
    description: z.string(),
  })
  .openapi("ExplainSplitTunnelEntry");

const PolicyRef = z.object({
  id: z
    .string()
    .openapi({ description: "tunnelplane id, or `cloudflare:<id>` for an unmanaged rule." }),
  name: z.string(),
  action: z.enum(["allow", "block"]),
  precedence: z.number().int(),
  shared_from: z.string().optional().openapi({
    description:
      "For a read-only rule shared from a parent account (Cloudflare Organizations): that account's id. Gateway evaluates shared rules before every rule of this account, whatever the precedences.",
    example: "0123456789abcdef0123456789abcdef",
  }),
});

/** The wire form of a policy reference (trace head or deciding policy). */
function policyRefToWire(ref: {
  id: string;
  name: string;
  action: "allow" | "block";
  precedence: number;
  sharedFrom?: string;
}): z.infer<typeof PolicyRef> {
  const { sharedFrom, ...head } = ref;
  return sharedFrom === undefined ? head : { ...head, shared_from: sharedFrom };
}

const TraceEntry = PolicyRef.extend({
  outcome: z.enum(["matched", "not-matched", "disabled"]),
  reason: z
    .object({
      part: z.enum(["traffic", "identity", "device_posture"]),
      clause: z.string().openapi({ example: "net.dst.port in {22}" }),
    })
    .optional()
    .openapi({ description: "For not-matched: the first clause that fails, in canonical text." }),
}).openapi("PolicyTraceEntry");

export const ExplanationSchema = z
  .object({
    verdict: z.enum([
      "resolved_locally",
      "allowed",
      "blocked_by_policy",
      "not_routed",
      "excluded_from_warp",
      "proxy_off",
    ]),
    summary: z.string(),
    split_tunnel: z.object({
      profile: z.string(),
      mode: z.enum(["exclude", "include"]),
      through_warp: z.boolean(),
      entry: Entry.nullable().openapi({
        description:
          "The most specific address entry containing the destination (the deciding one).",
      }),
      assumed_default: z.boolean().openapi({
        description:
          "True when nobody manages the list and Cloudflare's default Exclude list is assumed.",
      }),
    }),
    route: z
      .object({
        route_id: z.string(),
        network: z.string(),
        tunnel: z.object({
          id: z.string(),
          name: z.string(),
          health: z
            .string()
            .openapi({ description: "As last observed; `unknown` before any run." }),
        }),
      })
      .nullable()
      .openapi({
        description: "The longest-prefix route in the default virtual network, or null.",
      }),
    virtual_network: z.object({ id: z.string(), name: z.string() }).optional().openapi({
      description: "The device's selected virtual network, when the request names one.",
    }),
    hostname_route: z
      .object({
        route_id: z.string(),
        hostname: z.string(),
        tunnel: z.object({ id: z.string(), name: z.string(), health: z.string() }),
      })
      .nullable()
      .optional()
      .openapi({
        description:
          "For destination_host: the hostname route that serves it, or null (then `route` is null too).",
      }),
    local_domain_fallback: z
      .object({
        profile: z.string(),
        suffix: z.string().nullable().openapi({
          description:
            "The profile's Local Domain Fallback entry the name is under (the longest), or null when none: a name under one is resolved by the device's own DNS, never reaches Gateway and no hostname route serves it (verdict resolved_locally).",
        }),
        assumed_default: z.boolean().openapi({
          description:
            "True when no run has observed the profile's list yet and Cloudflare's default list (intranet, internal, private, localdomain, domain, lan, home, host, corp, local, localhost, home.arpa, invalid, test) is assumed.",
        }),
      })
      .optional()
      .openapi({
        description: "For destination_host: the device profile's Local Domain Fallback.",
      }),
    resolved_range: z.string().optional().openapi({
      description:
        "For destination_host: the initial resolved range Gateway answers the name from; the split tunnel and the policies are looked at for its first address.",
    }),
    proxy: z.object({
      protocol: z.enum(["tcp", "udp", "icmp"]),
      enabled: z.boolean(),
      managed: z.boolean(),
    }),
    policy: z.object({
      decision: z.enum(["allow", "block"]),
      decided_by: PolicyRef.nullable().openapi({
        description: "The first matching policy; null when none matches (Gateway allows).",
      }),
      trace: z.array(TraceEntry).openapi({
        description:
          "Every policy up to the deciding one, in evaluation order: shared rules first, then ascending precedence.",
      }),
      unevaluable: z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          precedence: z.number().int(),
          reason: z.string(),
        }),
      ),
    }),
  })
  .openapi("Explanation");

export const ExplainResult = ExplanationSchema.extend({
  state: z.enum(["desired", "observed"]),
  verdict: z
    .enum([
      "resolved_locally",
      "allowed",
      "blocked_by_policy",
      "not_routed",
      "excluded_from_warp",
      "proxy_off",
      "unknown",
    ])
    .openapi({
      description:
        "The first stage that stops the connection, else allowed. unknown (state=observed only): a stage up to the deciding one could not be read, as the API token lacks its permission (see `skipped`).",
    }),
  skipped: SkippedList,
  shared_rules_observed_at: SharedRulesObservedAt,
}).openapi("ExplainResult");

function traceToWire(entry: PolicyTraceEntry) {
  const head = { ...policyRefToWire(entry), outcome: entry.outcome };
  return entry.outcome === "not-matched" ? { ...head, reason: entry.reason } : head;
}

/**
 * The wire form of an explanation; `virtual_network` only when `showNetwork` (the request named
 * one), `hostname_route`, `resolved_range` and `local_domain_fallback` only for a hostname.
 */
export function toExplanationResource(
  e: Explanation,
  showNetwork = false,
): z.infer<typeof ExplanationSchema> {
  const entry = e.splitTunnel.entry;
  const named = e.route.hostname;
  return {
    ...(showNetwork
      ? { virtual_network: { id: e.virtualNetwork.id, name: e.virtualNetwork.name } }
      : {}),
    ...(named === undefined
      ? {}
      : {
          hostname_route:
            named.route === null
              ? null
              : {
                  route_id: named.route.id,
                  hostname: named.route.hostname,
                  tunnel: named.route.tunnel,
                },
          resolved_range: named.resolvedRange,
        }),
    ...(e.localFallback === null
      ? {}
      : {
          local_domain_fallback: {
            profile: e.localFallback.profile,
            suffix: e.localFallback.suffix,
            assumed_default: e.localFallback.assumedDefault,
          },
        }),
    verdict: e.verdict,
    summary: e.summary,
    split_tunnel: {
      profile: e.splitTunnel.profile,
      mode: e.splitTunnel.mode,
      through_warp: e.splitTunnel.throughWarp,
      entry:
        entry === null
          ? null
          : "address" in entry
            ? { address: entry.address, description: entry.description }
            : { host: entry.host, description: entry.description },
      assumed_default: e.splitTunnel.assumedDefault,
    },
    route:
      e.route.route === null
        ? null
        : {
            route_id: e.route.route.id,
            network: e.route.route.network,
            tunnel: e.route.route.tunnel,
          },
    proxy: e.proxy,
    policy: {
      decision: e.policy.decision,
      decided_by: e.policy.decidedBy === null ? null : policyRefToWire(e.policy.decidedBy),
      trace: e.policy.trace.map(traceToWire),
      unevaluable: e.policy.unevaluable,
    },
  };
}
