/**
 * The desired-state document: every desired object of an account in one value, objects naming
 * each other by name instead of id, so one document can be applied to another account. Each
 * entry is the kind's own API input schema (the same zod schemas, so the same rules and the same
 * JSON pointers) with id references replaced by names. Grants and secrets are not part of it.
 */
import { z } from "@hono/zod-openapi";
import { assertions } from "../assertions";
import { deviceProfiles } from "../device-profiles";
import { enrollmentRules } from "../enrollment-rules";
import { GrantApprovalRuleInput } from "../grant-approval-rules";
import { hostnameRoutes } from "../hostname-routes";
import { networkPolicies } from "../policies";
import { privateApps } from "../private-apps";
import { ProxySettingsInput } from "../proxy-settings";
import { SplitTunnelInput } from "../split-tunnels/split-tunnel.schemas";
import { tunnelRoutes } from "../tunnel-routes";
import { tunnels } from "../tunnels";
import { virtualNetworks } from "../virtual-networks";

/** The format tag every document carries; a new tag means an incompatible change of shape. */
export const DOCUMENT_FORMAT = "tunnelplane.desired-state/v1";

/** Most entries of one kind a document may hold (the account's quotas are usually lower). */
export const MAX_DOCUMENT_ENTRIES = 100_000;

const PRECEDENCE = z.number().int().min(1).max(2_147_483_647);

const TunnelName = z
  .string()
  .min(1)
  .max(200)
  .openapi({ description: "Name of a tunnel in the document (or kept in the account)." });

const VirtualNetworkName = z.string().min(1).max(256).openapi({
  description: "Name of a virtual network in the document (or kept in the account).",
});

const RouteEntry = tunnelRoutes.input.omit({ tunnel_id: true, virtual_network_id: true }).extend({
  tunnel: TunnelName,
  virtual_network: VirtualNetworkName.nullable()
    .default(null)
    .openapi({ description: "null: the account's default virtual network." }),
});

const HostnameRouteEntry = hostnameRoutes.input.omit({ tunnel_id: true }).extend({
  tunnel: TunnelName,
});

const DeviceProfileEntry = deviceProfiles.input.omit({ virtual_network_ids: true }).extend({
  virtual_networks: z.array(VirtualNetworkName).max(100).nullable().default(null).openapi({
    description:
      "Virtual networks whose routes an auto list follows, by name; `default` is the account's default virtual network; null: every virtual network.",
  }),
});

const PolicyEntry = z
  .strictObject({ ...networkPolicies.input.shape, precedence: PRECEDENCE })
  .omit({ position: true });

const PrivateAppEntry = privateApps.input.safeExtend({
  precedence: PRECEDENCE.openapi({
    description: "Precedence of the app's first policy; the app holds 2 per destination group.",
  }),
});

const list = <S extends z.ZodType>(entry: S, description: string) =>
  z.array(entry).max(MAX_DOCUMENT_ENTRIES).default([]).openapi({ description });

/** The document as sent to diff and apply, and as exported. */
export const DesiredStateDocument = z
  .strictObject({
    format: z.literal(DOCUMENT_FORMAT),
    version: z.string().max(128).optional().openapi({
      description:
        "SHA-256 (hex) of the document's content as exported; ignored on input (If-Match carries the version a PUT expects).",
    }),
    virtual_networks: list(virtualNetworks.input, "Virtual networks; a name is unique."),
    tunnels: list(tunnels.input, "Tunnels; a name is unique."),
    routes: list(RouteEntry, "Tunnel routes; a network is unique in its virtual network."),
    hostname_routes: list(HostnameRouteEntry, "Private hostname routes."),
    split_tunnel: SplitTunnelInput.nullable().default(null).openapi({
      description: "The default device profile's split tunnel; null leaves the account's as it is.",
    }),
    device_profiles: list(DeviceProfileEntry, "Custom device profiles."),
    proxy_settings: ProxySettingsInput.nullable()
      .default(null)
      .openapi({ description: "null leaves the account's proxy settings as they are." }),
    policies: list(PolicyEntry, "Gateway network policies; a precedence is unique."),
    private_apps: list(PrivateAppEntry, "Private-network applications; a name is unique."),
    enrollment_rules: list(enrollmentRules.input, "Device enrollment rules; a name is unique."),
    grant_approval_rules: list(
      GrantApprovalRuleInput,
      "Grant approval rules, matched by name (the n-th of a repeated name to the n-th); their order carries no meaning. Only an admin may change them.",
    ),
    assertions: list(assertions.input, "Policy tests run before anything is stored."),
  })
  .openapi("DesiredStateDocument");

/** A document after validation (defaults filled). */
export type DesiredStateDocumentValue = z.output<typeof DesiredStateDocument>;

/** The collections of a document, by field. */
export type DocumentLists = Omit<
  DesiredStateDocumentValue,
  "format" | "version" | "split_tunnel" | "proxy_settings"
>;

/** The JSON Schema (draft 2020-12) of a document as written, from the same zod schemas. */
export function desiredStateJsonSchema(): Record<string, unknown> {
  return {
    $id: "/schemas/desired-state.json",
    title: "tunnelplane desired-state document",
    ...z.toJSONSchema(DesiredStateDocument, { io: "input", unrepresentable: "any" }),
  };
}
