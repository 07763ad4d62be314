/**
 * What hostname routes need beyond the route itself: Gateway must proxy TCP and UDP (UDP carries
 * the DNS query Gateway answers with an initial resolved IP, TCP the connection after it). With
 * either off, every hostname route is broken, which is an error.
 * @see https://developers.cloudflare.com/cloudflare-one/networks/connectors/cloudflare-tunnel/private-net/cloudflared/connect-private-hostname/
 */
import type { ProxySettingsSpec } from "../model";

/** A hostname route as the check sees it. */
export interface HostnameRouteRef {
  /** tunnelplane id. */
  id: string;
  /** As stored (`*.apps.acme.internal`). */
  hostname: string;
}

/**
 * A hostname route Gateway cannot serve: `missing` is the proxies that are off (`tcp` before
 * `udp`); `proxyManaged` is false when tunnelplane does not manage the proxy settings and
 * Cloudflare's default (both off) is assumed.
 */
export interface HostnameRouteProxyOff {
  code: "hostname-route-proxy-off";
  severity: "error";
  routeId: string;
  hostname: string;
  missing: ("tcp" | "udp")[];
  proxyManaged: boolean;
}

/**
 * One error per hostname route (input order) when the proxy lacks TCP or UDP; `proxy` null means
 * unmanaged (Cloudflare's default: off).
 */
export function findHostnameRouteConflicts(
  routes: readonly HostnameRouteRef[],
  proxy: ProxySettingsSpec | null,
): HostnameRouteProxyOff[] {
  const missing = (["tcp", "udp"] as const).filter((protocol) => proxy?.[protocol] !== true);
  if (missing.length === 0) {
    return [];
  }
  return routes.map((route) => ({
    code: "hostname-route-proxy-off",
    severity: "error",
    routeId: route.id,
    hostname: route.hostname,
    missing: [...missing],
    proxyManaged: proxy !== null,
  }));
}

/** One sentence about a hostname route the proxy cannot serve. */
export function describeHostnameRouteProxyOff(conflict: HostnameRouteProxyOff): string {
  const off = conflict.missing.map((p) => p.toUpperCase()).join(" and ");
  const why = conflict.proxyManaged
    ? ""
    : " (proxy settings are not managed by tunnelplane; Cloudflare's default is off)";
  return `hostname route ${conflict.hostname} needs the Gateway proxy with TCP and UDP on, and ${off} ${conflict.missing.length > 1 ? "are" : "is"} off${why}`;
}
