/**
 * Custom device profiles (`devices/policy/{policy_id}`) and their split tunnel lists. One list
 * call reads every profile with its active list; writes touch only what differs: PATCH for the
 * profile's fields, PUT `…/{policy_id}/exclude|include` for the list.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/devices/subresources/policies/
 */
import type Cloudflare from "cloudflare";
import type { DesiredState, ObservedDeviceProfile, ObservedSplitTunnel } from "../domain/model";
import type { RenderedDeviceProfile } from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import {
  activeSplitTunnel,
  DEFAULT_PROFILE_ID,
  fallbackField,
  fallbackSuffixesOf,
  listSplitTunnels,
  modeLeft,
  toWire,
  type WireProfileLists,
} from "./split-tunnels.adapter";

/** What one profile list call shows. */
interface ObservedProfiles {
  /** Custom profiles, by ascending precedence. */
  custom: ObservedDeviceProfile[];
  /**
   * The default profile's list when the list includes the default profile (`default: true`),
   * else undefined (whether Cloudflare lists it is not documented; the caller then reads it).
   */
  defaultSplitTunnel: ObservedSplitTunnel | undefined;
}

/** Lists the account's WARP device profiles (a single-page list: one request). */
async function listDeviceProfiles(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedProfiles> {
  const page = await client.zeroTrust.devices.policies.custom.list({ account_id: accountId });
  const custom: ObservedDeviceProfile[] = [];
  let defaultSplitTunnel: ObservedSplitTunnel | undefined;
  for (const profile of page.result) {
    if (profile.default === true) {
      defaultSplitTunnel = {
        profileId: DEFAULT_PROFILE_ID,
        ...activeSplitTunnel(profile as WireProfileLists),
        ...fallbackField(profile),
      };
    } else if (profile.policy_id !== undefined) {
      custom.push({
        cloudflareId: profile.policy_id,
        name: profile.name ?? "",
        description: profile.description ?? "",
        match: profile.match ?? "",
        precedence: profile.precedence ?? 0,
        enabled: profile.enabled ?? false,
        ...activeSplitTunnel(profile as WireProfileLists),
        ...fallbackField(profile),
      });
    }
  }
  return { custom, defaultSplitTunnel };
}

/**
 * Fills in the fallback suffixes of the profiles whose objects left them out, one
 * `…/fallback_domains` GET each, when the account has hostname routes (live or deleted) or the
 * observation is `wide`: only hostname routes depend on them, so other accounts' runs spend no
 * request on them. Profiles that carried their list cost nothing.
 */
async function withFallbackDomains(
  client: Cloudflare,
  accountId: string,
  profiles: { custom: ObservedDeviceProfile[]; defaults: ObservedSplitTunnel[] },
  needed: boolean,
): Promise<{ custom: ObservedDeviceProfile[]; defaults: ObservedSplitTunnel[] }> {
  if (!needed) {
    return profiles;
  }
  const api = client.zeroTrust.devices.policies;
  const read = async (page: Promise<{ result: unknown[] }>) =>
    fallbackSuffixesOf({ fallback_domains: (await page).result }) ?? [];
  const [custom, defaults] = await Promise.all([
    Promise.all(
      profiles.custom.map(async (p) =>
        p.fallbackDomains !== undefined
          ? p
          : {
              ...p,
              fallbackDomains: await read(
                api.custom.fallbackDomains.get(p.cloudflareId, { account_id: accountId }),
              ),
            },
      ),
    ),
    Promise.all(
      profiles.defaults.map(async (p) =>
        p.fallbackDomains !== undefined
          ? p
          : {
              ...p,
              fallbackDomains: await read(
                api.default.fallbackDomains.get({ account_id: accountId }),
              ),
            },
      ),
    ),
  ]);
  return { custom, defaults };
}

/** True when the desired state holds hostname routes (live or deleted). */
function hasHostnameRoutes(desired: DesiredState): boolean {
  return desired.objects.some((o) => o.kind === "hostname_route");
}

/** Fields of a profile that PATCH changes (the list has its own endpoints). */
const PROFILE_FIELDS = ["name", "description", "match", "precedence", "enabled"] as const;

function profileFields(desired: RenderedDeviceProfile) {
  const { name, description, match, precedence, enabled } = desired;
  return { name, description, match, precedence, enabled };
}

/**
 * Custom device profiles. Their list carries the default profile too when Cloudflare lists it,
 * and so observes the default split tunnel list; otherwise one more request reads it. Each
 * profile's Local Domain Fallback suffixes come with its object; see withFallbackDomains for
 * profiles that leave them out.
 * A create sends the list with the profile (one request); an update PATCHes the profile fields
 * and/or PUTs the list, whichever differ, and a mode switch then clears the old mode's list (up
 * to three requests). The list never goes in a PATCH: Cloudflare refused a PATCH that swapped
 * exclude for include with HTTP 500.
 */
export const deviceProfileAdapter: KindAdapter<"device_profile"> = {
  kind: "device_profile",
  async observe(client, accountId, desired, wide) {
    const profiles = await listDeviceProfiles(client, accountId);
    const defaults =
      profiles.defaultSplitTunnel === undefined
        ? await listSplitTunnels(client, accountId)
        : [profiles.defaultSplitTunnel];
    const read = await withFallbackDomains(
      client,
      accountId,
      { custom: profiles.custom, defaults },
      wide === true || hasHostnameRoutes(desired),
    );
    return { deviceProfiles: read.custom, splitTunnels: read.defaults };
  },
  async create(ctx, action) {
    const desired = action.desired;
    const list = toWire(desired.entries);
    const created = await ctx.client.zeroTrust.devices.policies.custom.create({
      account_id: ctx.accountId,
      ...profileFields(desired),
      ...(desired.mode === "exclude" ? { exclude: list } : { include: list }),
    });
    return created?.policy_id ?? "";
  },
  async update(ctx, action) {
    const api = ctx.client.zeroTrust.devices.policies.custom;
    const account_id = ctx.accountId;
    const changed = new Set(action.diff.map((d) => d.field));
    if (PROFILE_FIELDS.some((field) => changed.has(field))) {
      await api.edit(action.cloudflareId, { account_id, ...profileFields(action.desired) });
    }
    if (changed.has("mode") || changed.has("entries")) {
      const listsOf = (mode: "exclude" | "include") =>
        mode === "exclude" ? api.excludes : api.includes;
      await listsOf(action.desired.mode).update(action.cloudflareId, {
        account_id,
        body: toWire(action.desired.entries),
      });
      const left = modeLeft(action.diff, action.desired.mode);
      if (left !== undefined) {
        await listsOf(left).update(action.cloudflareId, { account_id, body: [] });
      }
    }
    return action.cloudflareId;
  },
  async delete(ctx, action) {
    await ctx.client.zeroTrust.devices.policies.custom.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};
