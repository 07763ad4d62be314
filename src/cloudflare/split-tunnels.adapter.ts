/**
 * Split tunnel lists of the default device profile. Cloudflare has no mode field: the profile
 * carries either an `exclude` or an `include` list, and the list last written sets the mode.
 */
import type Cloudflare from "cloudflare";
import type { ObservedSplitTunnel, SplitTunnelEntry } from "../domain/model";
import type { RenderedSplitTunnel } from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import type { ApplyContext } from "./apply-context";

/** The profile id tunnelplane uses for the default device profile. */
export const DEFAULT_PROFILE_ID = "default";

/** A split tunnel entry as Cloudflare lists it. */
export interface WireEntry {
  address?: string;
  host?: string;
  description?: string;
}

/** Cloudflare's entries -> ours (a missing description is ""; entries with neither are dropped). */
export function fromWire(entries: WireEntry[]): SplitTunnelEntry[] {
  return entries.flatMap((e): SplitTunnelEntry[] => {
    const description = e.description ?? "";
    if (e.address !== undefined) {
      return [{ address: e.address, description }];
    }
    return e.host === undefined ? [] : [{ host: e.host, description }];
  });
}

/** Reads the default profile's active split tunnel list (one request: the profile itself). */
export async function listSplitTunnels(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedSplitTunnel[]> {
  const profile = await client.zeroTrust.devices.policies.default.get({ account_id: accountId });
  if (profile === null) {
    return [];
  }
  const include = profile.include as WireEntry[] | undefined;
  const exclude = (profile.exclude ?? []) as WireEntry[];
  return [
    include !== undefined
      ? { profileId: DEFAULT_PROFILE_ID, mode: "include", entries: fromWire(include) }
      : { profileId: DEFAULT_PROFILE_ID, mode: "exclude", entries: fromWire(exclude) },
  ];
}

/** Our entries -> the body Cloudflare takes (an empty description is left out, as it lists it). */
export function toWire(entries: SplitTunnelEntry[]) {
  return entries.map((e) =>
    "address" in e
      ? { address: e.address, ...(e.description === "" ? {} : { description: e.description }) }
      : { host: e.host, ...(e.description === "" ? {} : { description: e.description }) },
  );
}

/** Replaces the profile's list in the desired mode (PUT of the whole list). */
async function replaceList(ctx: ApplyContext, desired: RenderedSplitTunnel): Promise<string> {
  const body = toWire(desired.entries);
  const api = ctx.client.zeroTrust.devices.policies.default;
  if (desired.mode === "exclude") {
    await api.excludes.update({ account_id: ctx.accountId, body });
  } else {
    await api.includes.update({ account_id: ctx.accountId, body });
  }
  return DEFAULT_PROFILE_ID;
}

/**
 * The default profile's split tunnel list. It is observed with the device profiles (their list
 * carries the default profile, see device-profiles.adapter.ts), so it has no list call of its own.
 */
export const splitTunnelAdapter: KindAdapter<"split_tunnel"> = {
  kind: "split_tunnel",
  observe: async () => ({}),
  create: (ctx, action) => replaceList(ctx, action.desired),
  update: (ctx, action) => replaceList(ctx, action.desired),
  delete: async () => {
    throw new Error("split tunnel lists are never deleted, only replaced");
  },
};
