/** An entry of an effective split tunnel list and the reason it is there. */
import type { SplitTunnelEntry } from "../model";

/** Why an entry is in the effective list. */
export type EffectiveEntrySource =
  /** A WARP default Exclude entry that no route touches, kept as is. */
  | { kind: "warp-default" }
  /** Part of WARP default `parent` left after removing the routes in `carvedBy` (canonical). */
  | { kind: "warp-default-remainder"; parent: string; carvedBy: string[] }
  /**
   * Only in a list cut to `max_entries`: a prefix joining what is left of the WARP defaults in
   * `parents` (canonical, table order), e.g. `ff02::/15` for `ff02::/16` and `ff03::/16`.
   */
  | { kind: "warp-defaults-joined"; parents: string[] }
  /** Include mode with `auto`: covers the routed networks in `routes` (canonical, sorted). */
  | { kind: "route"; routes: string[] }
  /** Include mode with `auto`: the account's custom initial resolved range (hostname routes). */
  | { kind: "initial-resolved-ips" }
  /** Include mode with `auto`: the account's team domain, which Include mode must carry. */
  | { kind: "team-domain" }
  /** Listed by the user in the profile spec. */
  | { kind: "user" };

/** A split tunnel entry as it will be written, with the reason it is there. */
export type EffectiveSplitTunnelEntry = SplitTunnelEntry & { source: EffectiveEntrySource };
