/**
 * `/v1/accounts/{account_id}/device-profiles`: custom WARP device profiles, each with its own
 * split tunnel. WARP applies the first enabled profile (ascending precedence) whose `match` fits;
 * the default profile (`split-tunnels/default`) comes last. `match` is checked and stored in its
 * canonical text, which is also what Cloudflare gets. An `auto` list follows the routes of
 * the virtual networks in `virtual_network_ids` (null: all). A list that would make one of those
 * routes unreachable is refused (422) when `auto` is on, reported as a warning otherwise.
 */

import { z } from "@hono/zod-openapi";
import { listAllObjects } from "../../db/desired-objects.repo";
import {
  canonicalDeviceProfileMatch,
  MATCH_MAX_LENGTH,
  type MatchError,
  OS_NAMES,
} from "../../domain/device-profiles/match";
import type { DeviceProfileSpec } from "../../domain/model";
import { DEFAULT_MAX_ENTRIES } from "../../domain/split-tunnels/budget";
import { effectiveSplitTunnel } from "../../domain/split-tunnels/effective";
import {
  DEFAULT_VIRTUAL_NETWORK,
  routedNetworksFor,
} from "../../domain/split-tunnels/profile-routes";
import type { CollectionDefinition, WriteContext } from "../desired/collection";
import { type InvalidField, validationProblem } from "../problem";
import { loadSplitTunnelSettings } from "../split-tunnels/account-settings";
import {
  EntryOutput,
  entryToWire,
  refuseSplitTunnelErrors,
  SplitTunnelInput,
  splitTunnelWarnings,
  toSplitTunnelSpec,
} from "../split-tunnels/split-tunnel.schemas";

/** A refused `match` as the sentence and code of its `errors[]` entry. */
function describeMatchError(error: MatchError): { message: string; code: string } {
  switch (error.code) {
    case "invalid-expression":
      return {
        code: error.code,
        message: `not a device profile match expression at offset ${error.offset}: ${error.message}`,
      };
    case "match-too-long":
      return {
        code: error.code,
        message: `the expression is ${error.length} characters in canonical form; Cloudflare takes at most ${error.maxLength}`,
      };
  }
}

/** `match` as written in, its canonical text out; a refused one is an issue at `#/match`. */
const MatchExpression = z
  .string()
  .trim()
  .min(1)
  .max(4000)
  .transform((value, ctx) => {
    const canonical = canonicalDeviceProfileMatch(value);
    if (!canonical.ok) {
      const { message, code } = describeMatchError(canonical.error);
      ctx.addIssue({ code: "custom", message, params: { code } });
      return z.NEVER;
    }
    return canonical.value;
  })
  .openapi({
    description: `Cloudflare's wirefilter expression choosing the devices the profile applies to. Fields: identity.email, identity.groups.id / .name / .email (arrays: \`any(identity.groups.name[*] in {"eng"})\`), identity.service_token_uuid, network (a managed network's name), os.name (${OS_NAMES.map((name) => `"${name}"`).join(", ")}) and os.version; operators \`==\` and \`in {…}\` (space-separated strings); and, or, not and parentheses. identity.saml_attributes is refused: Cloudflare documents no single syntax for it. tunnelplane stores and sends the canonical text (single spaces, word operators, parentheses only where needed; at most ${MATCH_MAX_LENGTH} characters, Cloudflare's limit), which responses show; it selects the same devices as the text written. An invalid expression is a 422 naming the offset.`,
    example: 'any(identity.groups.name[*] in {"engineers"}) and os.name in {"mac" "linux"}',
  });

const input = z
  .strictObject({
    name: z.string().trim().min(1).max(100).openapi({ example: "Engineers" }),
    description: z.string().max(200).default("").openapi({
      description: "Free text; tunnelplane appends its ownership marker in Cloudflare.",
    }),
    match: MatchExpression,
    precedence: z.number().int().min(1).max(2_147_483_647).openapi({
      description: "Ascending order among device profiles, unique in the account.",
    }),
    enabled: z.boolean().default(true),
    virtual_network_ids: z
      .array(z.string().min(1).max(64))
      .max(100)
      .nullable()
      .default(null)
      .openapi({
        description:
          "Virtual networks whose routes an auto list follows: tunnelplane ids, or `default` for the account's default virtual network. null: every virtual network.",
      }),
    split_tunnel: SplitTunnelInput,
  })
  .openapi("DeviceProfileInput");

const output = {
  name: z.string(),
  description: z.string(),
  match: z.string().openapi({ description: "Canonical text, as sent to Cloudflare." }),
  precedence: z.number().int(),
  enabled: z.boolean(),
  virtual_network_ids: z.array(z.string()).nullable(),
  split_tunnel: z
    .object({
      mode: z.enum(["exclude", "include"]),
      auto: z.boolean(),
      max_entries: z.number().int(),
      entries: z.array(EntryOutput),
    })
    .openapi({
      description: "As written; GET split-tunnels/{id} shows the effective list and its reasons.",
    }),
};

async function evaluate(spec: DeviceProfileSpec, ctx: WriteContext) {
  const [routes, vnets, settings] = await Promise.all([
    listAllObjects(ctx.db, ctx.accountId, "tunnel_route"),
    listAllObjects(ctx.db, ctx.accountId, "virtual_network"),
    loadSplitTunnelSettings(ctx.db, ctx.accountId),
  ]);
  const defaultId = vnets.find((v) => v.spec.isDefault)?.id ?? null;
  const networks = routedNetworksFor(
    spec.virtualNetworkIds,
    routes.map((r) => r.spec),
    defaultId,
  );
  const effective = effectiveSplitTunnel(spec.splitTunnel, networks, settings);
  return { vnets, effective };
}

export const deviceProfiles: CollectionDefinition<"device_profile", typeof input, typeof output> = {
  kind: "device_profile",
  path: "device-profiles",
  tag: "Device profiles",
  singular: "DeviceProfile",
  plural: "DeviceProfiles",
  input,
  output,
  async toSpec(body, ctx) {
    const spec: DeviceProfileSpec = {
      name: body.name,
      description: body.description,
      match: body.match,
      precedence: body.precedence,
      enabled: body.enabled,
      splitTunnel: toSplitTunnelSpec(body.split_tunnel),
      virtualNetworkIds:
        body.virtual_network_ids === null ? null : [...new Set(body.virtual_network_ids)],
    };
    const { vnets, effective } = await evaluate(spec, ctx);
    const known = new Set([DEFAULT_VIRTUAL_NETWORK, ...vnets.map((v) => v.id)]);
    const unknown: InvalidField[] = (body.virtual_network_ids ?? []).flatMap((id, index) =>
      known.has(id)
        ? []
        : [
            {
              pointer: `#/virtual_network_ids/${index}`,
              detail: `no virtual network ${id} in this account`,
              code: "unknown-reference",
            },
          ],
    );
    if (unknown.length > 0) {
      throw validationProblem("The profile refers to objects that do not exist.", unknown);
    }
    refuseSplitTunnelErrors(spec.splitTunnel, effective, "#/split_tunnel/entries");
    return spec;
  },
  toWire: (spec) => ({
    name: spec.name,
    description: spec.description,
    match: spec.match,
    precedence: spec.precedence,
    enabled: spec.enabled,
    virtual_network_ids: spec.virtualNetworkIds,
    split_tunnel: {
      mode: spec.splitTunnel.mode,
      auto: spec.splitTunnel.auto,
      max_entries: spec.splitTunnel.maxEntries ?? DEFAULT_MAX_ENTRIES,
      entries: spec.splitTunnel.entries.map(entryToWire),
    },
  }),
  naturalKey: (spec) => `${spec.precedence}`,
  conflict: {
    slug: "profile-precedence-taken",
    detail: (spec) =>
      `Another device profile has precedence ${spec.precedence}; precedences are unique.`,
  },
  async warnings(spec, ctx) {
    return splitTunnelWarnings((await evaluate(spec, ctx)).effective);
  },
};
