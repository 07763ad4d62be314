/**
 * The document of a set of live desired objects, and its version: the SHA-256 of its content in
 * a canonical JSON form (keys sorted), so equal desired states in any two accounts have the same
 * version, and entries are sorted by what identifies them, never by creation order.
 */
import type { GrantApprovalRule } from "../../domain/grants/approval";
import type { DesiredObject, Kind, SpecByKind } from "../../domain/model";
import { sha256Hex } from "../../lib/hmac";
import { approvalRuleEntry, sortedApprovalRules } from "./approval-rules";
import { CODECS, type Names, splitTunnelEntry } from "./codecs";
import { canonicalJson } from "./compare";
import { DOCUMENT_FORMAT } from "./document.schemas";

/** Names of the virtual networks and tunnels among `objects`. */
export function namesOf(objects: readonly DesiredObject[]): Names {
  const virtualNetwork = new Map<string, string>();
  const tunnel = new Map<string, string>();
  for (const o of objects) {
    if (o.kind === "virtual_network") {
      virtualNetwork.set(o.id, (o.spec as SpecByKind["virtual_network"]).name);
    } else if (o.kind === "tunnel") {
      tunnel.set(o.id, (o.spec as SpecByKind["tunnel"]).name);
    }
  }
  return { virtualNetwork, tunnel };
}

function singleton<K extends Kind>(objects: readonly DesiredObject[], kind: K) {
  return objects.find((o) => o.kind === kind)?.spec as SpecByKind[K] | undefined;
}

/** The document of `live` (objects without a tombstone) and `rules`, without its version. */
export function documentOf(
  live: readonly DesiredObject[],
  rules: readonly GrantApprovalRule[],
): Record<string, unknown> {
  const names = namesOf(live);
  const lists = Object.fromEntries(
    CODECS.map((c) => {
      const specs = live.filter((o) => o.kind === c.kind).map((o) => o.spec);
      specs.sort(
        (a, b) => c.compare(a, b, names) || canonicalJson(a).localeCompare(canonicalJson(b)),
      );
      return [c.field, specs.map((s) => c.toEntry(s, names))];
    }),
  );
  const split = singleton(live, "split_tunnel");
  const proxy = singleton(live, "proxy_settings");
  return {
    format: DOCUMENT_FORMAT,
    virtual_networks: lists.virtual_networks,
    tunnels: lists.tunnels,
    routes: lists.routes,
    hostname_routes: lists.hostname_routes,
    split_tunnel: split === undefined ? null : splitTunnelEntry(split),
    device_profiles: lists.device_profiles,
    proxy_settings:
      proxy === undefined ? null : { tcp: proxy.tcp, udp: proxy.udp, icmp: proxy.icmp },
    policies: lists.policies,
    private_apps: lists.private_apps,
    enrollment_rules: lists.enrollment_rules,
    grant_approval_rules: sortedApprovalRules(rules).map(approvalRuleEntry),
    assertions: lists.assertions,
  };
}

/** The version of a document without its version field: SHA-256 hex of its canonical JSON. */
export function versionOf(document: Record<string, unknown>): Promise<string> {
  return sha256Hex(canonicalJson(document));
}

/** The document of `live` and `rules` with its version first after the format. */
export async function exportDocument(
  live: readonly DesiredObject[],
  rules: readonly GrantApprovalRule[],
): Promise<Record<string, unknown> & { version: string }> {
  const { format, ...rest } = documentOf(live, rules);
  const version = await versionOf({ format, ...rest });
  return { format, version, ...rest };
}
