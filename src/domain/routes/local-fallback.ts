/**
 * Local Domain Fallback: a device profile lists domain suffixes whose names the WARP client
 * resolves with the device's own DNS. Such a query never reaches Gateway, so Gateway never answers
 * it from the initial resolved range and no hostname route can serve the name. Every entry covers
 * the suffix itself and every name below it (`internal` covers `wiki.apps.acme.internal`).
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/local-domains/
 */
import { parseHostname } from "./hostname";

/**
 * The list every device profile starts with: the 14 suffixes Cloudflare's default Local Domain
 * Fallback holds, in Cloudflare's order (Cloudflare's Terraform provider docs,
 * `cloudflare_fallback_domain`, "the default entries"; the WARP docs say "common top-level
 * domains, used for local resolution").
 */
export const CLOUDFLARE_DEFAULT_FALLBACK_SUFFIXES: readonly string[] = [
  "intranet",
  "internal",
  "private",
  "localdomain",
  "domain",
  "lan",
  "home",
  "host",
  "corp",
  "local",
  "localhost",
  "home.arpa",
  "invalid",
  "test",
];

/** A suffix as compared: lower case, without leading or trailing dots. */
export function normaliseSuffix(suffix: string): string {
  return suffix.toLowerCase().replace(/^\.+|\.+$/g, "");
}

/**
 * The entry of `suffixes` that sends `name` to the device's DNS: the longest suffix equal to
 * `name` or ending it after a dot; null when none does. `name` and `suffixes` are compared lower
 * case without surrounding dots.
 */
export function fallbackSuffixOf(name: string, suffixes: readonly string[]): string | null {
  const target = normaliseSuffix(name);
  let best: string | null = null;
  for (const raw of suffixes) {
    const suffix = normaliseSuffix(raw);
    const covers = suffix !== "" && (target === suffix || target.endsWith(`.${suffix}`));
    if (covers && (best === null || suffix.length > best.length)) {
      best = suffix;
    }
  }
  return best;
}

/** One profile's fallback list as a check sees it. */
export interface ProfileFallback {
  /** `default` or the custom profile's tunnelplane id. */
  profile: string;
  suffixes: readonly string[];
  /** True when the list was never observed and Cloudflare's default is assumed. */
  assumedDefault: boolean;
}

/** A hostname route whose names a profile resolves locally, so the route never serves them. */
export interface HostnameRouteLocalFallback {
  code: "hostname-route-local-fallback";
  severity: "error";
  routeId: string;
  /** As stored (`*.apps.acme.internal`). */
  hostname: string;
  /** `default`, or the custom profile's key (see ProfileFallback.profile). */
  profileId: string;
  /** The fallback entry that covers every name of the route. */
  suffix: string;
  assumedDefault: boolean;
}

/**
 * For each route (input order) and each profile (input order) whose fallback list covers every
 * name the route serves (its Cloudflare form: `apps.acme.internal` for `*.apps.acme.internal`),
 * one error. A hostname that does not parse is skipped (stored ones always do).
 */
export function findLocalFallbackConflicts(
  routes: readonly { id: string; hostname: string }[],
  profiles: readonly ProfileFallback[],
): HostnameRouteLocalFallback[] {
  return routes.flatMap((route) => {
    const parsed = parseHostname(route.hostname);
    if (!parsed.ok) {
      return [];
    }
    return profiles.flatMap((profile): HostnameRouteLocalFallback[] => {
      const suffix = fallbackSuffixOf(parsed.value.cloudflareForm, profile.suffixes);
      return suffix === null
        ? []
        : [
            {
              code: "hostname-route-local-fallback",
              severity: "error",
              routeId: route.id,
              hostname: route.hostname,
              profileId: profile.profile,
              suffix,
              assumedDefault: profile.assumedDefault,
            },
          ];
    });
  });
}

/** One sentence about a hostname route a profile's Local Domain Fallback bypasses. */
export function describeLocalFallbackConflict(conflict: HostnameRouteLocalFallback): string {
  const profile =
    conflict.profileId === "default"
      ? "the default device profile"
      : `device profile ${conflict.profileId}`;
  const assumed = conflict.assumedDefault ? " (Cloudflare's default list; not yet observed)" : "";
  return `hostname route ${conflict.hostname} cannot work for ${profile}: its Local Domain Fallback lists ${conflict.suffix}${assumed}, so devices resolve those names with their own DNS and the query never reaches Gateway; remove ${conflict.suffix} from that list`;
}
