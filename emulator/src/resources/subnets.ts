/**
 * The account's initial resolved IP subnets (`zerotrust/subnets/initial_resolved_ip/{v4|v6}`):
 * the range Gateway answers routed private hostnames from. IPv4 defaults to `172.64.128.0/20`
 * and can be changed; IPv6 is `2606:4700:cf1:4000::/64` and fixed. A new IPv4 range must not
 * hold a live route nor overlap Cloudflare's other reserved subnets.
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/configure-initial-resolved-ips/
 */
import { contains, type Network, parseNetwork } from "../cidr";
import { ApiFailure, Fields, objectBody } from "../http";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { SubnetRecord } from "../types";

const PATH = "/accounts/:account_id/zerotrust/subnets/initial_resolved_ip/:address_family";
const CODE_INVALID = 1001;
/** Refusal of a range that holds a route or meets another reserved subnet (code: our choice). */
const CODE_CONFLICT = 1060;
/** Shortest and longest IPv4 prefix accepted (UNCONFIRMED: the WARP subnet rule, /24 or wider). */
const MIN_PREFIX = 8;
const MAX_PREFIX = 24;

/** Cloudflare's default IPv4 range since 2026-08-05. */
export const DEFAULT_INITIAL_RESOLVED_V4 = "172.64.128.0/20";
const FIXED_V6 = "2606:4700:cf1:4000::/64";
/** The other reserved IPv4 subnets a custom range must keep clear of. */
const OTHER_RESERVED = [
  ["100.64.0.0/12", "Cloudflare source IPs"],
  ["100.96.0.0/12", "Device IPs"],
  ["100.112.0.0/16", "Private Load Balancer IPs"],
] as const;

function overlaps(a: Network, b: Network): boolean {
  return contains(a, b) || contains(b, a);
}

/** The account's IPv4 subnet, made with the default the first time it is read. */
function v4Subnet(context: Context): SubnetRecord {
  const stored = context.account.find("initial_resolved_ip_v4");
  if (stored !== undefined) {
    return stored;
  }
  const created: SubnetRecord = {
    id: crypto.randomUUID(),
    name: "IPv4 Gateway initial resolved IPs",
    comment: "",
    network: DEFAULT_INITIAL_RESOLVED_V4,
    is_default_network: true,
    subnet_type: "initial_resolved_ip",
    created_at: context.clock.next(),
    deleted_at: null,
  };
  context.account.set("initial_resolved_ip_v4", created);
  return created;
}

/** The fixed IPv6 subnet; its id is derived from the account so it is stable. */
function v6Subnet(account: AccountState): SubnetRecord {
  const hex = account.accountId;
  return {
    id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
    name: "IPv6 Gateway initial resolved IPs",
    comment: "",
    network: FIXED_V6,
    is_default_network: true,
    subnet_type: "initial_resolved_ip",
    created_at: "2026-08-05T00:00:00.000000Z",
    deleted_at: null,
  };
}

function family(context: Context): "v4" | "v6" {
  const value = context.params.address_family;
  if (value !== "v4" && value !== "v6") {
    throw new ApiFailure(400, CODE_INVALID, "address_family must be v4 or v6");
  }
  return value;
}

/** Refuses a range that holds a live route or overlaps another reserved subnet (400/1016). */
function assertNoConflict(account: AccountState, network: Network): void {
  for (const [text, purpose] of OTHER_RESERVED) {
    const reserved = parseNetwork(text);
    if (reserved !== undefined && overlaps(reserved, network)) {
      throw new ApiFailure(
        400,
        CODE_CONFLICT,
        `${network.text} conflicts with the reserved ${purpose} subnet ${text}`,
      );
    }
  }
  for (const route of account.collections.route.values()) {
    const routed = parseNetwork(route.network);
    if (route.deleted_at === null && routed !== undefined && contains(network, routed)) {
      throw new ApiFailure(
        400,
        CODE_CONFLICT,
        `${network.text} conflicts with the route ${route.network} (${route.id})`,
      );
    }
  }
}

function getSubnet(context: Context) {
  return { result: family(context) === "v4" ? v4Subnet(context) : v6Subnet(context.account) };
}

function updateSubnet(context: Context) {
  if (family(context) === "v6") {
    throw new ApiFailure(400, CODE_INVALID, "The IPv6 initial resolved IP range is fixed");
  }
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const current = v4Subnet(context);
  const text = fields.string("network");
  const network = text === undefined ? parseNetwork(current.network) : parseNetwork(text);
  if (network === undefined || network.kind !== "ipv4") {
    return fields.fail(`network must be an IPv4 CIDR, got ${JSON.stringify(text)}`);
  }
  if (network.prefixLength < MIN_PREFIX || network.prefixLength > MAX_PREFIX) {
    return fields.fail(`network must be a /${MIN_PREFIX} to /${MAX_PREFIX}`);
  }
  assertNoConflict(context.account, network);
  const updated: SubnetRecord = {
    ...current,
    network: network.text,
    name: fields.string("name", 256) ?? current.name,
    comment: fields.string("comment", 256) ?? current.comment,
  };
  context.account.set("initial_resolved_ip_v4", updated);
  return { result: updated };
}

/** Endpoints of the initial resolved IP subnets. */
export const subnetRoutes: RouteDefinition[] = [
  { method: "GET", path: PATH, handler: getSubnet },
  { method: "PUT", path: PATH, handler: updateSubnet },
];
