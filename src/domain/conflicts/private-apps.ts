/**
 * Private apps that cannot work as written: a destination no route carries (users' traffic has
 * nowhere to go), or one the default profile's split tunnel sends around WARP (Gateway never sees
 * it). Both are warnings: the app is stored, and `conflicts` keeps listing them.
 */
import { parseKnownCidr, prefixesOverlap, subtractPrefixes } from "../cidr";
import type { SplitTunnelEntry, SplitTunnelMode } from "../model";

/** A private app as the check sees it. */
export interface PrivateAppRef {
  /** tunnelplane id. */
  id: string;
  name: string;
  /** Canonical CIDRs of its destinations. */
  destinations: string[];
}

/**
 * A destination of `app` that cannot be reached:
 * - `private-app-not-routed`: `unreachable` (minimal cover) is in no route of any virtual network;
 * - `private-app-excluded`: the default profile's Exclude `entry` (or, in Include mode, the lack of
 *   one: `entry` null) keeps `unreachable` off WARP.
 */
export interface PrivateAppUnreachable {
  code: "private-app-not-routed" | "private-app-excluded";
  severity: "warning";
  appId: string;
  appName: string;
  destination: string;
  entry: SplitTunnelEntry | null;
  unreachable: string[];
}

/** The default profile's effective list, as far as private apps care. */
export interface DefaultSplitTunnel {
  mode: SplitTunnelMode;
  entries: readonly SplitTunnelEntry[];
}

function addresses(entries: readonly SplitTunnelEntry[]): string[] {
  return entries.flatMap((e) => ("address" in e ? [e.address] : []));
}

/**
 * Every unreachable destination of `apps`, app by app in input order, each destination first
 * unrouted then excluded (one item per Exclude entry it meets). `routedNetworks` are canonical
 * CIDRs of every virtual network's routes.
 */
export function findPrivateAppProblems(
  apps: readonly PrivateAppRef[],
  routedNetworks: readonly string[],
  splitTunnel: DefaultSplitTunnel,
): PrivateAppUnreachable[] {
  const problems: PrivateAppUnreachable[] = [];
  for (const app of apps) {
    for (const destination of app.destinations) {
      const head = { severity: "warning" as const, appId: app.id, appName: app.name, destination };
      const unrouted = subtractPrefixes([destination], routedNetworks);
      if (unrouted.length > 0) {
        problems.push({
          ...head,
          code: "private-app-not-routed",
          entry: null,
          unreachable: unrouted,
        });
      }
      if (splitTunnel.mode === "include") {
        const outside = subtractPrefixes([destination], addresses(splitTunnel.entries));
        if (outside.length > 0) {
          problems.push({
            ...head,
            code: "private-app-excluded",
            entry: null,
            unreachable: outside,
          });
        }
        continue;
      }
      const target = parseKnownCidr(destination);
      for (const entry of splitTunnel.entries) {
        if ("address" in entry && prefixesOverlap(parseKnownCidr(entry.address), target)) {
          const inner =
            parseKnownCidr(entry.address).prefixLength > target.prefixLength
              ? entry.address
              : destination;
          problems.push({ ...head, code: "private-app-excluded", entry, unreachable: [inner] });
        }
      }
    }
  }
  return problems;
}

/** One sentence about an unreachable private app destination. */
export function describePrivateAppProblem(problem: PrivateAppUnreachable): string {
  const app = `private app ${JSON.stringify(problem.appName)}`;
  if (problem.code === "private-app-not-routed") {
    return `${app} cannot reach ${problem.destination}: no route carries ${problem.unreachable.join(", ")}`;
  }
  return problem.entry === null
    ? `${app} cannot reach ${problem.destination}: no Include entry of the default profile sends ${problem.unreachable.join(", ")} through WARP`
    : `${app} cannot reach ${problem.destination}: the Exclude entry ${"address" in problem.entry ? problem.entry.address : problem.entry.host} of the default profile sends ${problem.unreachable.join(", ")} around WARP`;
}
