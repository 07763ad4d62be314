/** Hostname routes (`zerotrust/routes/hostname`): list live ones (all pages); apply actions. */
import type Cloudflare from "cloudflare";
import { canonicalCidr } from "../domain/cidr";
import type { ObservedHostnameRoute } from "../domain/model";
import type { RenderedHostnameRoute } from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import type { ApplyContext } from "./apply-context";
import { isDeleted, listAllPages } from "./paging";
import { MAX_PER_PAGE } from "./tunnels.adapter";

/** Lists the account's live hostname routes, every page (ceil(n / MAX_PER_PAGE) calls). */
async function listHostnameRoutes(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedHostnameRoute[]> {
  const items = await listAllPages(
    "zerotrust/routes/hostname",
    MAX_PER_PAGE,
    (page) =>
      client.zeroTrust.networks.hostnameRoutes.list({
        account_id: accountId,
        is_deleted: false,
        per_page: MAX_PER_PAGE,
        page,
      }),
    (r) => r.id,
  );
  return items.flatMap((r) =>
    r.id === undefined || r.hostname === undefined || isDeleted(r)
      ? []
      : [
          {
            cloudflareId: r.id,
            hostname: r.hostname,
            tunnelCloudflareId: r.tunnel_id ?? "",
            comment: r.comment ?? "",
          },
        ],
  );
}

/**
 * The account's IPv4 initial resolved IP range as Cloudflare has it (one request), canonical;
 * undefined when Cloudflare answers no network.
 */
async function readInitialResolvedIpv4(
  client: Cloudflare,
  accountId: string,
): Promise<string | undefined> {
  const subnet = await client.zeroTrust.networks.subnets.initialResolvedIP.get("v4", {
    account_id: accountId,
  });
  const network = subnet.network === undefined ? null : canonicalCidr(subnet.network);
  return network?.ok === true ? network.value : undefined;
}

/** The body of a create or edit: the hostname goes in the form Cloudflare stores. */
function routeBody(ctx: ApplyContext, desired: RenderedHostnameRoute) {
  return {
    account_id: ctx.accountId,
    hostname: desired.hostname,
    comment: desired.comment,
    tunnel_id: ctx.resolve("tunnel", desired.tunnelKey),
  };
}

/**
 * Hostname routes: listed by pages of MAX_PER_PAGE, with the account's initial resolved range
 * (one more request), and only for accounts whose desired state holds hostname routes (live or
 * deleted), so other accounts' runs spend no subrequest on them (a `wide` observation for
 * explain or import always reads them); one request per write.
 */
export const hostnameRouteAdapter: KindAdapter<"hostname_route"> = {
  kind: "hostname_route",
  async observe(client, accountId, desired, wide) {
    if (wide !== true && !desired.objects.some((o) => o.kind === "hostname_route")) {
      return {};
    }
    const [hostnameRoutes, range] = await Promise.all([
      listHostnameRoutes(client, accountId),
      readInitialResolvedIpv4(client, accountId),
    ]);
    return { hostnameRoutes, ...(range === undefined ? {} : { initialResolvedIpv4: range }) };
  },
  async create(ctx, action) {
    const created = await ctx.client.zeroTrust.networks.hostnameRoutes.create(
      routeBody(ctx, action.desired),
    );
    return created.id ?? "";
  },
  async update(ctx, action) {
    await ctx.client.zeroTrust.networks.hostnameRoutes.edit(
      action.cloudflareId,
      routeBody(ctx, action.desired),
    );
    return action.cloudflareId;
  },
  async delete(ctx, action) {
    await ctx.client.zeroTrust.networks.hostnameRoutes.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};
