/**
 * The computed part of an `auto` list: WARP defaults carved by the routes (Exclude), or the
 * routed ranges (Include), as networks first so a cut to `max_entries` prints only what it keeps.
 */
import { formatNetwork, parseKnownNetwork } from "../cidr";
import { type BudgetNetwork, type ExcludeGroup, networkText } from "./budget";
import { type SplitTunnelAddressEntry, WARP_DEFAULT_EXCLUDES } from "./defaults";
import type { EffectiveEntrySource, EffectiveSplitTunnelEntry } from "./entry";
import type { RouteIndex } from "./route-index";

/** The exact Exclude list as networks, each with the WARP default it comes from. */
export interface CarvedDefaults {
  networks: BudgetNetwork[];
  /** Per network: its position in `WARP_DEFAULT_EXCLUDES`. */
  defaults: number[];
  /** Per default: the routes that carve it (canonical), empty when none do. */
  carvedBy: string[][];
}

/** WARP defaults minus the routed ranges, each default carved into its own minimal cover. */
export function carveDefaults(routes: RouteIndex): CarvedDefaults {
  const carved: CarvedDefaults = { networks: [], defaults: [], carvedBy: [] };
  WARP_DEFAULT_EXCLUDES.forEach((fallback, position) => {
    const parent = parseKnownNetwork(fallback.address);
    const carvedBy = routes.overlapping(parent).map((route) => route.network);
    carved.carvedBy.push(carvedBy);
    if (carvedBy.length === 0) {
      const { family, words, prefixLength } = parent;
      carved.networks.push({ family, words, prefixLength });
      carved.defaults.push(position);
      return;
    }
    routes.forEachUncoveredPrefix(parent, (family, words, prefixLength) => {
      carved.networks.push({
        family,
        words: [words[0], words[1], words[2], words[3]],
        prefixLength,
      });
      carved.defaults.push(position);
    });
  });
  return carved;
}

/**
 * The entries of `carved` for the kept groups, each naming its default: a group that is one of
 * the carved networks keeps that network's entry; one that joins several names their defaults.
 */
export function carvedEntries(carved: CarvedDefaults, kept: readonly ExcludeGroup[]) {
  // One source object per default for all its remainders: there can be thousands of them.
  const sources = WARP_DEFAULT_EXCLUDES.map((fallback, i): EffectiveEntrySource => {
    const carvedBy = carved.carvedBy[i] as string[];
    return carvedBy.length === 0
      ? { kind: "warp-default" }
      : { kind: "warp-default-remainder", parent: fallback.address, carvedBy };
  });
  const entryAt = (i: number): EffectiveSplitTunnelEntry => {
    const fallback = WARP_DEFAULT_EXCLUDES[carved.defaults[i] as number] as SplitTunnelAddressEntry;
    const source = sources[carved.defaults[i] as number] as EffectiveEntrySource;
    return {
      address:
        source.kind === "warp-default"
          ? fallback.address
          : networkText(carved.networks[i] as BudgetNetwork),
      description: fallback.description,
      source,
    };
  };
  return kept.map(({ network, members }): EffectiveSplitTunnelEntry => {
    const same = members.find(
      (i) => (carved.networks[i] as BudgetNetwork).prefixLength === network.prefixLength,
    );
    if (same !== undefined) {
      return entryAt(same);
    }
    const parents = [...new Set(members.map((i) => carved.defaults[i] as number))].map(
      (d) => WARP_DEFAULT_EXCLUDES[d] as SplitTunnelAddressEntry,
    );
    const descriptions = new Set(parents.map((parent) => parent.description));
    return {
      address: networkText(network),
      description: descriptions.size === 1 ? (parents[0]?.description ?? "") : "",
      source: { kind: "warp-defaults-joined", parents: parents.map((parent) => parent.address) },
    };
  });
}

/** The minimal cover of the routed ranges. */
export function routedCover(routes: RouteIndex): BudgetNetwork[] {
  const networks: BudgetNetwork[] = [];
  routes.forEachRoutedPrefix((family, words, prefixLength) => {
    networks.push({ family, words: [words[0], words[1], words[2], words[3]], prefixLength });
  });
  return networks;
}

/** Include entries for `networks`, each naming the routes it carries. */
export function includeRoutes(routes: RouteIndex, networks: readonly BudgetNetwork[]) {
  return networks.map(
    (network): EffectiveSplitTunnelEntry => ({
      address: formatNetwork(network.family, network.words, network.prefixLength),
      description: "",
      source: { kind: "route", routes: routes.overlapping(network).map((r) => r.network) },
    }),
  );
}
