/**
 * `/v1/accounts/{account_id}/proxy-settings`: Gateway proxying of TCP, UDP and ICMP. TCP must be
 * on for network policies to see traffic at all.
 * @see https://developers.cloudflare.com/cloudflare-one/traffic-policies/proxy/
 */
import { z } from "@hono/zod-openapi";
import { listAllObjects } from "../../db/desired-objects.repo";
import type { SingletonDefinition } from "../desired/singleton";
import { hostnameRouteWarnings } from "../hostname-routes";

/** Body of PUT proxy-settings (and the document's `proxy_settings`). */
export const ProxySettingsInput = z
  .strictObject({
    tcp: z
      .boolean()
      .openapi({ description: "Proxy TCP (device settings `gateway_proxy_enabled`)." }),
    udp: z
      .boolean()
      .openapi({ description: "Proxy UDP (device settings `gateway_udp_proxy_enabled`)." }),
    icmp: z
      .boolean()
      .openapi({ description: "Proxy ICMP (connectivity settings `icmp_proxy_enabled`)." }),
  })
  .openapi("ProxySettingsInput");

export const proxySettings: SingletonDefinition<
  "proxy_settings",
  {
    tcp: z.ZodBoolean;
    udp: z.ZodBoolean;
    icmp: z.ZodBoolean;
  }
> = {
  kind: "proxy_settings",
  id: "default",
  path: "proxy-settings",
  tag: "Proxy settings",
  name: "ProxySettings",
  input: ProxySettingsInput,
  output: { tcp: z.boolean(), udp: z.boolean(), icmp: z.boolean() },
  async toSpec(body) {
    const { tcp, udp, icmp } = ProxySettingsInput.parse(body);
    return { tcp, udp, icmp };
  },
  present: async (spec) => ({ tcp: spec.tcp, udp: spec.udp, icmp: spec.icmp }),
  async warnings(spec, ctx) {
    const routes = await listAllObjects(ctx.db, ctx.accountId, "hostname_route");
    return [
      ...(spec.tcp
        ? []
        : [
            {
              code: "tcp-proxy-off",
              message: "With the TCP proxy off, Gateway network policies see no traffic.",
            },
          ]),
      ...hostnameRouteWarnings(routes, spec),
    ];
  },
};
