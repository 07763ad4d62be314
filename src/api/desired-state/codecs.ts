/**
 * Per kind, the two-way mapping between a document entry and a spec: names instead of ids on the
 * document side, the kind's canonical spec on the other. `toEntry(toSpec(entry))` is the entry in
 * canonical form, so an exported document applies to an equal state and exports unchanged.
 */
import type { z } from "@hono/zod-openapi";
import type { Db } from "../../db/client";
import type { Kind, SpecByKind } from "../../domain/model";
import { compareCidrs } from "../../domain/policies/selectors";
import { parseHostname } from "../../domain/routes/hostname";
import { DEFAULT_MAX_ENTRIES } from "../../domain/split-tunnels/budget";
import { DEFAULT_VIRTUAL_NETWORK } from "../../domain/split-tunnels/profile-routes";
import { assertions } from "../assertions";
import type { WriteContext } from "../desired/collection";
import { enrollmentRules } from "../enrollment-rules";
import { canonical } from "../fields";
import { selectorsOf, toPolicyWire } from "../policies";
import { privateAppSelectorsOf, privateApps } from "../private-apps";
import type { InvalidField } from "../problem";
import { entryToWire, toSplitTunnelSpec } from "../split-tunnels/split-tunnel.schemas";
import { tunnels } from "../tunnels";
import type { DesiredStateDocumentValue, DocumentLists } from "./document.schemas";

/** Names of the virtual networks and tunnels by tunnelplane id. */
export interface Names {
  virtualNetwork: ReadonlyMap<string, string>;
  tunnel: ReadonlyMap<string, string>;
}

/** What an entry's spec needs: ids by name, a write context, and where to report problems. */
export interface SpecContext {
  virtualNetworkId: ReadonlyMap<string, string>;
  tunnelId: ReadonlyMap<string, string>;
  /** Context for the kinds whose API mapping is reused as is (it reads nothing for them). */
  write: WriteContext;
  /** JSON pointer of the entry, `#/routes/3`. */
  at: string;
  problems: InvalidField[];
}

type Entry<F extends keyof DocumentLists> = DocumentLists[F][number];

/** How one listed kind maps between document and specs. */
export interface Codec<K extends Kind = Kind, F extends keyof DocumentLists = keyof DocumentLists> {
  kind: K;
  field: F;
  /** The spec, or undefined after pushing problems (unknown references) to `ctx.problems`. */
  toSpec(entry: Entry<F>, ctx: SpecContext): Promise<SpecByKind[K] | undefined>;
  toEntry(spec: SpecByKind[K], names: Names): Record<string, unknown>;
  /** What identifies the object across accounts: its name, or a route's network and vnet. */
  key(spec: SpecByKind[K], names: Names): string;
  /** Export order. */
  compare(a: SpecByKind[K], b: SpecByKind[K], names: Names): number;
  /** A value no two objects of the kind may share, with the problem naming a clash. */
  unique?: { value(spec: SpecByKind[K], names: Names): string; code: string; what: string };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function refer(
  ids: ReadonlyMap<string, string>,
  name: string,
  ctx: SpecContext,
  field: string,
  what: string,
): string | undefined {
  const id = ids.get(name);
  if (id === undefined) {
    ctx.problems.push({
      pointer: `${ctx.at}/${field}`,
      detail: `no ${what} named ${JSON.stringify(name)} in the document or the account`,
      code: "unknown-reference",
    });
  }
  return id;
}

function codec<K extends Kind, F extends keyof DocumentLists>(c: Codec<K, F>): Codec<K, F> {
  return c;
}

const vnetName = (names: Names, id: string | null) =>
  id === null ? null : (names.virtualNetwork.get(id) ?? id);

const virtualNetwork = codec({
  kind: "virtual_network",
  field: "virtual_networks",
  toSpec: async (e) => ({ name: e.name, comment: e.comment, isDefault: e.is_default }),
  toEntry: (s) => ({ name: s.name, comment: s.comment, is_default: s.isDefault }),
  key: (s) => s.name,
  compare: (a, b) => byText(a.name, b.name),
  unique: { value: (s) => s.name, code: "name-taken", what: "virtual network name" },
});

const tunnel = codec({
  kind: "tunnel",
  field: "tunnels",
  toSpec: (e, ctx) => tunnels.toSpec(e, ctx.write),
  toEntry: (s) => ({ name: s.name }),
  key: (s) => s.name,
  compare: (a, b) => byText(a.name, b.name),
  unique: { value: (s) => s.name, code: "name-taken", what: "tunnel name" },
});

const route = codec({
  kind: "tunnel_route",
  field: "routes",
  async toSpec(e, ctx) {
    const tunnelId = refer(ctx.tunnelId, e.tunnel, ctx, "tunnel", "tunnel");
    const vnetId =
      e.virtual_network === null
        ? null
        : refer(ctx.virtualNetworkId, e.virtual_network, ctx, "virtual_network", "virtual network");
    if (tunnelId === undefined || vnetId === undefined) {
      return undefined;
    }
    return {
      network: canonical(e.network),
      tunnelId,
      virtualNetworkId: vnetId,
      comment: e.comment,
    };
  },
  toEntry: (s, names) => ({
    network: s.network,
    tunnel: names.tunnel.get(s.tunnelId) ?? s.tunnelId,
    virtual_network: vnetName(names, s.virtualNetworkId),
    comment: s.comment,
  }),
  key: (s, names) => `${vnetName(names, s.virtualNetworkId) ?? ""}|${s.network}`,
  compare: (a, b, names) =>
    byText(vnetName(names, a.virtualNetworkId) ?? "", vnetName(names, b.virtualNetworkId) ?? "") ||
    compareCidrs(a.network, b.network),
  unique: {
    value: (s, names) => `${vnetName(names, s.virtualNetworkId) ?? ""}|${s.network}`,
    code: "duplicate-route",
    what: "network in its virtual network",
  },
});

const cloudflareHostname = (hostname: string) => {
  const parsed = parseHostname(hostname);
  return parsed.ok ? parsed.value.cloudflareForm : hostname;
};

const hostnameRoute = codec({
  kind: "hostname_route",
  field: "hostname_routes",
  async toSpec(e, ctx) {
    const tunnelId = refer(ctx.tunnelId, e.tunnel, ctx, "tunnel", "tunnel");
    const parsed = parseHostname(e.hostname);
    if (tunnelId === undefined) {
      return undefined;
    }
    return {
      hostname: parsed.ok ? parsed.value.hostname : e.hostname,
      tunnelId,
      comment: e.comment,
    };
  },
  toEntry: (s, names) => ({
    hostname: s.hostname,
    tunnel: names.tunnel.get(s.tunnelId) ?? s.tunnelId,
    comment: s.comment,
  }),
  key: (s) => cloudflareHostname(s.hostname),
  compare: (a, b) => byText(a.hostname, b.hostname),
  unique: {
    value: (s) => cloudflareHostname(s.hostname),
    code: "duplicate-route",
    what: "hostname",
  },
});

type SplitTunnelEntryWire = DesiredStateDocumentValue["device_profiles"][number]["split_tunnel"];

/** A split tunnel spec on the document. */
export function splitTunnelEntry(spec: SpecByKind["split_tunnel"]) {
  return {
    mode: spec.mode,
    auto: spec.auto,
    max_entries: spec.maxEntries ?? DEFAULT_MAX_ENTRIES,
    entries: spec.entries.map(entryToWire),
  };
}

/** The spec of a document's split tunnel. */
export function splitTunnelSpec(entry: SplitTunnelEntryWire): SpecByKind["split_tunnel"] {
  return toSplitTunnelSpec(entry);
}

const deviceProfile = codec({
  kind: "device_profile",
  field: "device_profiles",
  async toSpec(e, ctx) {
    const ids = (e.virtual_networks ?? []).map((name, index) =>
      name === DEFAULT_VIRTUAL_NETWORK
        ? name
        : refer(ctx.virtualNetworkId, name, ctx, `virtual_networks/${index}`, "virtual network"),
    );
    if (ids.some((id) => id === undefined)) {
      return undefined;
    }
    return {
      name: e.name,
      description: e.description,
      match: e.match,
      precedence: e.precedence,
      enabled: e.enabled,
      splitTunnel: splitTunnelSpec(e.split_tunnel),
      virtualNetworkIds:
        e.virtual_networks === null ? null : [...new Set(ids.filter((id) => id !== undefined))],
    };
  },
  toEntry: (s, names) => ({
    name: s.name,
    description: s.description,
    match: s.match,
    precedence: s.precedence,
    enabled: s.enabled,
    virtual_networks:
      s.virtualNetworkIds === null
        ? null
        : s.virtualNetworkIds.map((id) =>
            id === DEFAULT_VIRTUAL_NETWORK ? id : (names.virtualNetwork.get(id) ?? id),
          ),
    split_tunnel: splitTunnelEntry(s.splitTunnel),
  }),
  key: (s) => s.name,
  compare: (a, b) => a.precedence - b.precedence,
  unique: {
    value: (s) => `${s.precedence}`,
    code: "profile-precedence-taken",
    what: "device profile precedence",
  },
});

const policy = codec({
  kind: "network_policy",
  field: "policies",
  toSpec: async (e) => ({ ...selectorsOf(e), precedence: e.precedence }),
  toEntry(s) {
    const { traffic: _t, identity: _i, device_posture: _d, ...entry } = toPolicyWire(s);
    return entry;
  },
  key: (s) => s.name,
  compare: (a, b) => a.precedence - b.precedence,
});

const privateApp = codec({
  kind: "private_app",
  field: "private_apps",
  toSpec: async (e) => ({
    ...privateAppSelectorsOf(e as z.output<typeof privateApps.input>),
    precedence: e.precedence,
  }),
  toEntry(s) {
    const { policies: _p, ...entry } = privateApps.toWire(s);
    return entry;
  },
  key: (s) => s.name,
  compare: (a, b) => a.precedence - b.precedence,
  unique: { value: (s) => s.name, code: "name-taken", what: "private app name" },
});

const enrollmentRule = codec({
  kind: "enrollment_rule",
  field: "enrollment_rules",
  toSpec: (e, ctx) => enrollmentRules.toSpec(e, ctx.write),
  toEntry: (s) => enrollmentRules.toWire(s),
  key: (s) => s.name,
  compare: (a, b) => byText(a.name, b.name),
  unique: { value: (s) => s.name, code: "name-taken", what: "enrollment rule name" },
});

const assertion = codec({
  kind: "assertion",
  field: "assertions",
  toSpec: (e, ctx) => assertions.toSpec(e, ctx.write),
  toEntry: (s) => assertions.toWire(s),
  key: (s) => s.name,
  compare: (a, b) => byText(a.name, b.name),
});

/**
 * The listed kinds in dependency order: virtual networks and tunnels first, whose names the
 * others refer to.
 */
export const CODECS: readonly Codec[] = [
  virtualNetwork,
  tunnel,
  route,
  hostnameRoute,
  deviceProfile,
  policy,
  privateApp,
  enrollmentRule,
  assertion,
] as unknown as readonly Codec[];

/** A write context for the kinds whose API mapping reads nothing. */
export function mappingContext(db: Db, accountId: string): WriteContext {
  return { db, accountId, id: "", companions: [] };
}
