/**
 * Which API token permission a Cloudflare call needs. Cloudflare answers a call the token may
 * not make with 403 and code 10000 ("Authentication error") without saying which permission was
 * missing, so it is read off the request's path here (src/cloudflare/errors.ts builds the
 * MissingPermissionError), and reported on the run and the account as a TokenProblem.
 */
import type { AccountMode, Kind } from "./model";

/** Cloudflare's error code for a token that may not make the call. */
export const MISSING_PERMISSION_CODE = 10000;

/** A group of endpoints that one dashboard permission opens. */
export type PermissionArea = "tunnel" | "networks" | "zero-trust" | "access";

/** A dashboard permission and the API permission groups, any one of which grants it. */
export interface TokenPermission {
  /** What the dashboard's token editor calls it, e.g. `Zero Trust: Edit`. */
  label: string;
  /** Names of the API permission groups that grant it (`x-api-token-group`). */
  groups: string[];
}

/**
 * Permissions per area, edit and read. A write group also reads.
 * @see https://developers.cloudflare.com/fundamentals/api/reference/permissions/
 */
const PERMISSIONS: Record<PermissionArea, { edit: TokenPermission; read: TokenPermission }> = {
  tunnel: {
    edit: {
      label: "Cloudflare Tunnel: Edit",
      groups: [
        "Cloudflare Tunnel Write",
        "Cloudflare One Connectors Write",
        "Cloudflare One Connector: cloudflared Write",
      ],
    },
    read: {
      label: "Cloudflare Tunnel: Read",
      groups: [
        "Cloudflare Tunnel Read",
        "Cloudflare One Connectors Read",
        "Cloudflare One Connector: cloudflared Read",
      ],
    },
  },
  networks: {
    edit: {
      label: "Cloudflare Tunnel: Edit",
      groups: ["Cloudflare Tunnel Write", "Cloudflare One Networks Write"],
    },
    read: {
      label: "Cloudflare Tunnel: Read",
      groups: ["Cloudflare Tunnel Read", "Cloudflare One Networks Read"],
    },
  },
  "zero-trust": {
    edit: { label: "Zero Trust: Edit", groups: ["Zero Trust Write"] },
    read: { label: "Zero Trust: Read", groups: ["Zero Trust Read"] },
  },
  access: {
    edit: {
      label: "Access: Apps and Policies: Edit",
      groups: ["Access: Apps and Policies Write"],
    },
    read: {
      label: "Access: Apps and Policies: Read",
      groups: ["Access: Apps and Policies Read"],
    },
  },
};

/**
 * The area of each kind's endpoints (hostname routes: `zerotrust/routes/`, with the networks;
 * proxy settings: `devices/` and `zerotrust/connectivity_settings`); private apps
 * and assertions have no Cloudflare object, private apps' policies are Gateway rules.
 */
export const KIND_PERMISSION_AREA: Record<Kind, PermissionArea | null> = {
  virtual_network: "networks",
  tunnel: "tunnel",
  tunnel_route: "networks",
  hostname_route: "networks",
  split_tunnel: "zero-trust",
  device_profile: "zero-trust",
  proxy_settings: "zero-trust",
  network_policy: "zero-trust",
  private_app: "zero-trust",
  enrollment_rule: "access",
  assertion: null,
};

/** The area of a path after `/accounts/<id>/` (`gateway/rules`), or null for none. */
export function permissionAreaOf(rest: string): PermissionArea | null {
  if (rest.startsWith("cfd_tunnel") || rest === "tunnels" || rest.startsWith("tunnels/")) {
    return "tunnel";
  }
  if (rest.startsWith("teamnet/") || rest.startsWith("zerotrust/routes/")) {
    return "networks";
  }
  if (/^(gateway|devices|zerotrust)\//.test(rest)) {
    return "zero-trust";
  }
  return rest.startsWith("access/") ? "access" : null;
}

/**
 * The permission a call in `area` needs: Edit for a write, Read for a read (a write group also
 * reads).
 */
export function neededPermission(area: PermissionArea, isWrite: boolean): TokenPermission {
  return isWrite ? PERMISSIONS[area].edit : PERMISSIONS[area].read;
}

/** What met a refusal: a reconcile run, or an observation outside one. */
export type ProblemSource = "run" | "plan" | "explain" | "import";

/** A permission the account's API token lacks, as the run or observation that met it saw it. */
export interface TokenProblem {
  /** Dashboard name of the permission tunnelplane needs, e.g. `Zero Trust: Edit`. */
  permission: string;
  /** API permission groups, any one of which grants it. */
  permissionGroups: string[];
  /** The refused request, e.g. `GET gateway/rules` (the path after the account). */
  request: string;
  /** What met the refusal: a run, or plan, observed explain or import outside a run. */
  metBy: ProblemSource;
  /** The run that met the refusal; null when it was met outside a run. */
  runId: string | null;
  /** When it was met, epoch ms. */
  detectedAtMs: number;
}

/**
 * The problem of a refused call in `area`. An account tunnelplane writes to (`enforce`) needs
 * Edit even where a read was refused (it writes there next); one it only observes needs Read
 * unless a write was refused.
 */
export function tokenProblemOf(
  area: PermissionArea,
  request: string,
  mode: AccountMode | "plan",
  met: Pick<TokenProblem, "metBy" | "runId" | "detectedAtMs">,
): TokenProblem {
  const permission = neededPermission(area, mode !== "observe" || !request.startsWith("GET "));
  return {
    permission: permission.label,
    permissionGroups: permission.groups,
    request,
    ...met,
  };
}

/** One sentence for a run record or an object's status. */
export function describeTokenProblem(problem: Pick<TokenProblem, "permission" | "request">) {
  return `the API token lacks ${problem.permission} (Cloudflare answered 403 / ${MISSING_PERMISSION_CODE} to ${problem.request})`;
}

/** The managed kinds whose endpoints lie in `area`, in the model's order. */
export function kindsOfArea(area: PermissionArea): Kind[] {
  return (Object.keys(KIND_PERMISSION_AREA) as Kind[]).filter(
    (kind) => KIND_PERMISSION_AREA[kind] === area,
  );
}

/**
 * The account's problems once an observation outside a run (which only reads) has met `learnt`:
 * the refused reads it met replace the earlier refused reads (a read that went through is no
 * longer a problem); refused writes stay, as only a run can tell they go through now, unless a
 * learnt problem already names their permission.
 */
export function mergeObservedProblems(
  existing: readonly TokenProblem[],
  learnt: readonly TokenProblem[],
): TokenProblem[] {
  const named = new Set(learnt.map((p) => p.permission));
  const writes = existing.filter((p) => !p.request.startsWith("GET ") && !named.has(p.permission));
  return [...learnt, ...writes];
}
