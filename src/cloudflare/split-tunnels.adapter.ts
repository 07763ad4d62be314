/**
 * Split tunnel lists of the default device profile, and how any profile's list is read and
 * switched. Cloudflare documents no mode field: the profile carries an `exclude` or an `include`
 * list, and the list last written sets the mode. How it shows the list not in force (left out,
 * `[]` or `null`) is not documented, so the mode is read the same way from all three.
 */
import type Cloudflare from "cloudflare";
import type { ObservedSplitTunnel, SplitTunnelEntry, SplitTunnelMode } from "../domain/model";
import type { FieldDiff, RenderedSplitTunnel } from "../domain/plan/actions";
import { normaliseSuffix } from "../domain/routes/local-fallback";
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

/** The split tunnel fields of a profile object as Cloudflare may send them. */
export interface WireProfileLists {
  include?: unknown;
  exclude?: unknown;
  /** A split tunnel mode of the profile's own, if Cloudflare ever sends one (none is documented). */
  mode?: unknown;
}

const isMode = (value: unknown): value is SplitTunnelMode =>
  value === "include" || value === "exclude";

const hasEntries = (list: unknown): list is WireEntry[] => Array.isArray(list) && list.length > 0;

/**
 * The mode a profile is in and its list, whether the list not in force is left out, `[]` or
 * `null`: the profile's own `mode` when it has one; else the list that holds entries (Exclude
 * when both do, which Cloudflare refuses to store); else, both empty, Include only when
 * `include` is a list and `exclude` is not, Exclude (Cloudflare's default mode) otherwise.
 */
export function activeSplitTunnel(profile: WireProfileLists): {
  mode: SplitTunnelMode;
  entries: SplitTunnelEntry[];
} {
  const listOf = (list: unknown) => fromWire(Array.isArray(list) ? (list as WireEntry[]) : []);
  const mode: SplitTunnelMode = isMode(profile.mode)
    ? profile.mode
    : hasEntries(profile.exclude)
      ? "exclude"
      : hasEntries(profile.include) ||
          (Array.isArray(profile.include) && !Array.isArray(profile.exclude))
        ? "include"
        : "exclude";
  return { mode, entries: listOf(mode === "include" ? profile.include : profile.exclude) };
}

/**
 * The mode an update leaves, when it switches modes (its diff has `mode`), else undefined. The
 * list of that mode is cleared after the new one is written: Cloudflare answered HTTP 500 to a
 * PATCH swapping exclude for include, while a PUT of the new list works.
 */
export function modeLeft(
  diff: readonly FieldDiff[],
  desired: SplitTunnelMode,
): SplitTunnelMode | undefined {
  const observed = diff.find((d) => d.field === "mode")?.observed;
  return isMode(observed) && observed !== desired ? observed : undefined;
}

/**
 * The Local Domain Fallback suffixes a profile object carries (`fallback_domains`, normalised),
 * or undefined when it leaves the list out: the field is in Cloudflare's profile schema, but
 * whether every answer fills it is not documented.
 */
export function fallbackSuffixesOf(profile: { fallback_domains?: unknown }): string[] | undefined {
  const list = profile.fallback_domains;
  if (!Array.isArray(list)) {
    return undefined;
  }
  return list.flatMap((domain: unknown) => {
    const suffix = (domain as { suffix?: unknown } | null)?.suffix;
    return typeof suffix === "string" ? [normaliseSuffix(suffix)] : [];
  });
}

/** The fallback suffixes of a profile object as an ObservedSplitTunnel field (absent: not carried). */
export function fallbackField(profile: { fallback_domains?: unknown }) {
  const suffixes = fallbackSuffixesOf(profile);
  return suffixes === undefined ? {} : { fallbackDomains: suffixes };
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
  return [
    {
      profileId: DEFAULT_PROFILE_ID,
      ...activeSplitTunnel(profile as WireProfileLists),
      ...fallbackField(profile),
    },
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

/**
 * Replaces the profile's list in the desired mode (PUT of the whole list); when that switches
 * modes from `left`, then clears the old mode's list (PUT of `[]`).
 */
async function replaceList(
  ctx: ApplyContext,
  desired: RenderedSplitTunnel,
  left: SplitTunnelMode | undefined,
): Promise<string> {
  const api = ctx.client.zeroTrust.devices.policies.default;
  const put = (mode: SplitTunnelMode, body: ReturnType<typeof toWire>) =>
    mode === "exclude"
      ? api.excludes.update({ account_id: ctx.accountId, body })
      : api.includes.update({ account_id: ctx.accountId, body });
  await put(desired.mode, toWire(desired.entries));
  if (left !== undefined) {
    await put(left, []);
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
  create: (ctx, action) => replaceList(ctx, action.desired, undefined),
  update: (ctx, action) =>
    replaceList(ctx, action.desired, modeLeft(action.diff, action.desired.mode)),
  delete: async () => {
    throw new Error("split tunnel lists are never deleted, only replaced");
  },
};
