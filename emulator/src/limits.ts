/**
 * Per-account object limits: Cloudflare's documented defaults, raisable per account (as Cloudflare
 * raises them for Enterprise accounts) through `PUT /__emulator/limits`. A create that would
 * take an account past a limit is refused before anything is stored.
 * @see https://developers.cloudflare.com/cloudflare-one/account-limits/
 */
import { ApiFailure } from "./http";

/** Limit per object kind; null means no limit. */
export interface ObjectLimits {
  /** Live `cloudflared` tunnels. */
  tunnels: number | null;
  /** Live tunnel routes: CIDR routes plus hostname routes, counted together. */
  routes: number | null;
  /** Live virtual networks, the default one included. */
  virtual_networks: number | null;
  /** Gateway rules of one filter type (`l4`, `dns`, `http`, …): the docs list 500 per type. */
  gateway_rules: number | null;
  /** Custom device settings profiles (the default profile is not counted). */
  device_profiles: number | null;
  /** Access applications. */
  access_apps: number | null;
  /** Reusable Access policies. */
  access_policies: number | null;
  /** Split tunnel entries plus local domain fallback entries of one device profile. */
  split_tunnel_entries: number | null;
}

/** The limit names, as `PUT /__emulator/limits` accepts them. */
export type LimitName = keyof ObjectLimits;

/**
 * Cloudflare One account limits page (dated 2026-06-25): tunnels, routes, virtual networks 1,000;
 * network (and DNS, HTTP) policies 500 per type; Access applications and reusable policies 500;
 * 1,000 split tunnel and local domain fallback entries per device profile. Device settings
 * profiles have no documented limit, so none is enforced unless one is set.
 */
export const DEFAULT_LIMITS: Readonly<ObjectLimits> = {
  tunnels: 1000,
  routes: 1000,
  virtual_networks: 1000,
  gateway_rules: 500,
  device_profiles: null,
  access_apps: 500,
  access_policies: 500,
  split_tunnel_entries: 1000,
};

/** Largest value `PUT /__emulator/limits` accepts for one limit (inclusive). */
export const MAX_LIMIT = 10_000_000;

/** The refusal of each kind: HTTP 400 with an emulator-chosen code (see emulator/README.md). */
const REFUSALS: Record<LimitName, { code: number; noun: string }> = {
  tunnels: { code: 1018, noun: "tunnels in this account" },
  routes: { code: 1019, noun: "routes in this account" },
  virtual_networks: { code: 1020, noun: "virtual networks in this account" },
  gateway_rules: { code: 2004, noun: "rules of one filter type in this account" },
  device_profiles: { code: 2104, noun: "device settings profiles in this account" },
  access_apps: { code: 12006, noun: "Access applications in this account" },
  access_policies: { code: 12007, noun: "reusable Access policies in this account" },
  split_tunnel_entries: {
    code: 2105,
    noun: "split tunnel and local domain fallback entries in one device profile",
  },
};

/** What the checks need of an account (its state lives in store.ts, which imports this module). */
export interface LimitedAccount {
  limits(): ObjectLimits;
}

/** Throws 400 (code per kind) when `total` objects of the kind would be more than the limit. */
export function assertWithinLimit(account: LimitedAccount, name: LimitName, total: number): void {
  const limit = account.limits()[name];
  if (limit !== null && total > limit) {
    const { code, noun } = REFUSALS[name];
    throw new ApiFailure(400, code, `Account limit reached: at most ${limit} ${noun} are allowed`);
  }
}

/** Throws as `assertWithinLimit` when one more object than the `count` held would be too many. */
export function assertBelowLimit(account: LimitedAccount, name: LimitName, count: number): void {
  assertWithinLimit(account, name, count + 1);
}

/** Counts the live objects of a collection that pass `keep`. */
export function countLive<T>(items: Iterable<T>, keep: (item: T) => boolean): number {
  let count = 0;
  for (const item of items) {
    if (keep(item)) {
      count++;
    }
  }
  return count;
}

/**
 * Reads a `limits` object of `PUT /__emulator/limits`: each key a limit name, each value an
 * integer 0..MAX_LIMIT or null (no limit). 400/1001 for anything else.
 */
export function readLimits(value: unknown): Partial<ObjectLimits> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiFailure(400, 1001, "limits must be a JSON object");
  }
  const limits: Partial<ObjectLimits> = {};
  for (const [name, limit] of Object.entries(value)) {
    if (!(name in DEFAULT_LIMITS)) {
      throw new ApiFailure(
        400,
        1001,
        `unknown limit ${name}; known: ${Object.keys(DEFAULT_LIMITS).join(", ")}`,
      );
    }
    if (
      limit !== null &&
      (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT)
    ) {
      throw new ApiFailure(400, 1001, `${name} must be null or an integer from 0 to ${MAX_LIMIT}`);
    }
    limits[name as LimitName] = limit as number | null;
  }
  return limits;
}
