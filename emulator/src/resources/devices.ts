/**
 * Device profiles and their split tunnel lists (`devices/policy…`). A profile holds one active
 * list: `exclude` or `include`. The last list written sets the mode; the inactive list reads as
 * `[]`, and the profile object shows only the active key. New profiles start in Exclude mode
 * with WARP's 16 default excludes.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/devices/subresources/policies/
 */
import { parseAddress, parseNetwork } from "../cidr";
import { defaultExcludes, defaultProfileSettings } from "../defaults";
import { ApiFailure, Fields, type JsonObject, objectBody } from "../http";
import { assertBelowLimit, assertWithinLimit } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { DeviceProfile, FallbackDomain, SplitTunnelEntry, SplitTunnelMode } from "../types";
import { compareText, param } from "./common";

const ACCOUNT = "/accounts/:account_id";
const CODE_INVALID = 2101;
/** Split tunnel `description` maximum, in characters (inclusive). */
const MAX_DESCRIPTION_LENGTH = 100;
/** A host entry: a domain, optionally `*.`-prefixed for its subdomains. */
const HOST_PATTERN = /^(\*\.)?([a-zA-Z0-9_]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9-]{1,63}$/;

/** A fallback suffix: one or more domain labels, no wildcard (every name below it matches). */
const SUFFIX_PATTERN =
  /^([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Profile fields PATCH and create may set, besides the split tunnel list. */
const SETTABLE_FIELDS = [
  "allow_mode_switch",
  "allow_updates",
  "allowed_to_leave",
  "auto_connect",
  "captive_portal",
  "disable_auto_fallback",
  "exclude_office_ips",
  "fallback_domains",
  "lan_allow_minutes",
  "lan_allow_subnet_size",
  "register_interface_ip_with_dns",
  "sccm_vpn_boundary_support",
  "service_mode_v2",
  "support_url",
  "switch_locked",
  "tunnel_protocol",
] as const;

/** Fields only custom profiles have. */
const CUSTOM_FIELDS = ["name", "description", "match", "precedence", "enabled"] as const;

/**
 * Validates a split tunnel list: a JSON array of `{address, description?}` xor
 * `{host, description?}`. Addresses are canonicalised like routes (bare IP -> /32 or /128,
 * host bits cleared, IPv6 in RFC 5952 form). 400/2101 on the first bad entry.
 */
export function readSplitTunnelEntries(body: unknown): SplitTunnelEntry[] {
  if (!Array.isArray(body)) {
    throw new ApiFailure(400, CODE_INVALID, "The split tunnel list must be a JSON array");
  }
  return body.map((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new ApiFailure(400, CODE_INVALID, `entry ${index} must be an object`);
    }
    const fields = new Fields(item as JsonObject, CODE_INVALID);
    const address = fields.string("address");
    const host = fields.string("host");
    const description = fields.string("description", MAX_DESCRIPTION_LENGTH);
    if ((address === undefined) === (host === undefined)) {
      throw fields.failure(`entry ${index} must have exactly one of address or host`);
    }
    const entry: SplitTunnelEntry = {};
    if (address !== undefined) {
      const network = parseNetwork(address);
      if (network === undefined) {
        throw fields.failure(`entry ${index}: invalid address "${address}"`);
      }
      entry.address = network.text;
    } else if (host !== undefined) {
      if (parseAddress(host) !== undefined || /^[0-9.]+$/.test(host)) {
        throw fields.failure(`entry ${index}: host "${host}" is an IP address; use address`);
      }
      if (!HOST_PATTERN.test(host)) {
        throw fields.failure(`entry ${index}: invalid host "${host}"`);
      }
      entry.host = host.toLowerCase();
    }
    if (description !== undefined) {
      entry.description = description;
    }
    return entry;
  });
}

/**
 * Validates a Local Domain Fallback list: a JSON array of `{suffix, description?, dns_server?}`
 * (`teams-devices_fallback_domain`: `suffix` required, `description` at most 100 characters,
 * `dns_server` a list of IP addresses). Suffixes are stored lower case; a wildcard, an IP address
 * or the same suffix twice is refused. 400/2101 on the first bad entry.
 */
export function readFallbackDomains(body: unknown): FallbackDomain[] {
  if (!Array.isArray(body)) {
    throw new ApiFailure(400, CODE_INVALID, "The fallback domain list must be a JSON array");
  }
  const seen = new Set<string>();
  return body.map((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new ApiFailure(400, CODE_INVALID, `entry ${index} must be an object`);
    }
    const fields = new Fields(item as JsonObject, CODE_INVALID);
    const suffix = fields.requiredString("suffix").toLowerCase();
    if (!SUFFIX_PATTERN.test(suffix) || /^[0-9.]+$/.test(suffix)) {
      throw fields.failure(`entry ${index}: invalid suffix "${suffix}"`);
    }
    if (seen.has(suffix)) {
      throw fields.failure(`entry ${index}: suffix "${suffix}" is listed twice`);
    }
    seen.add(suffix);
    const entry: FallbackDomain = { suffix };
    const description = fields.string("description", MAX_DESCRIPTION_LENGTH);
    if (description !== undefined) {
      entry.description = description;
    }
    const servers = (item as JsonObject).dns_server;
    if (servers !== undefined && servers !== null) {
      if (
        !Array.isArray(servers) ||
        servers.some((s) => typeof s !== "string" || parseAddress(s) === undefined)
      ) {
        throw fields.failure(`entry ${index}: dns_server must be a list of IP addresses`);
      }
      entry.dns_server = servers as string[];
    }
    return entry;
  });
}

/** The profile wire shape (`DefaultGetResponse` or `SettingsPolicy`). */
export function toProfileResource(account: AccountState, profile: DeviceProfile) {
  const style = account.behaviour().inactive_split_tunnel;
  const inactive = profile.mode === "exclude" ? "include" : "exclude";
  const { fallback_domains, ...settings } = profile.settings;
  const base = {
    ...settings,
    ...(account.behaviour().profile_fallback_domains === "absent" ? {} : { fallback_domains }),
    ...(style === "absent" ? {} : { [inactive]: style === "empty" ? [] : null }),
    [profile.mode]: profile.entries,
    gateway_unique_id: account.accountId,
    profile_type: "warp",
  };
  if (profile.policy_id === null) {
    return { ...base, default: true, enabled: true };
  }
  return {
    ...base,
    default: false,
    policy_id: profile.policy_id,
    name: profile.name,
    description: profile.description,
    match: profile.match,
    precedence: profile.precedence,
    enabled: profile.enabled,
    created_at: profile.created_at,
    updated_at: profile.updated_at,
  };
}

function findProfile(account: AccountState, policyId: string): DeviceProfile {
  const profile = account.collections.profile.get(policyId);
  if (profile === undefined) {
    throw new ApiFailure(404, 2102, "Device settings profile not found");
  }
  return profile;
}

/** Stores a profile whose split tunnel and fallback entries fit the account's limit. */
function saveProfile(account: AccountState, profile: DeviceProfile): void {
  const fallback = profile.settings.fallback_domains;
  const fallbackCount = Array.isArray(fallback) ? fallback.length : 0;
  assertWithinLimit(account, "split_tunnel_entries", profile.entries.length + fallbackCount);
  if (profile.policy_id === null) {
    account.set("default_profile", profile);
  } else {
    account.put("profile", profile.policy_id, profile);
  }
}

function assertPrecedenceFree(account: AccountState, precedence: number, exceptId?: string) {
  for (const profile of account.collections.profile.values()) {
    if (profile.precedence === precedence && profile.policy_id !== exceptId) {
      throw new ApiFailure(
        400,
        2103,
        `Precedence ${precedence} is already used by profile ${profile.policy_id}`,
      );
    }
  }
}

/**
 * Applies a create/PATCH body to a profile: settable fields, custom fields (custom profiles
 * only, ignored on the default) and at most one of `exclude`/`include`; a PATCH (not
 * `creating`) may send only the list already in force.
 */
function applyBody(
  profile: DeviceProfile,
  body: JsonObject,
  now: string,
  creating = false,
): DeviceProfile {
  if (body.exclude !== undefined && body.include !== undefined) {
    throw new ApiFailure(
      400,
      CODE_INVALID,
      "Both exclude and include cannot be set in the same request",
    );
  }
  const swapsTo =
    body.include !== undefined ? "include" : body.exclude !== undefined ? "exclude" : undefined;
  if (!creating) {
    assertNoSwap(profile, swapsTo);
  }
  const fields = new Fields(body, CODE_INVALID);
  const settings = { ...profile.settings };
  for (const name of SETTABLE_FIELDS) {
    if (body[name] !== undefined) {
      settings[name] = name === "fallback_domains" ? readFallbackDomains(body[name]) : body[name];
    }
  }
  const updated: DeviceProfile = { ...profile, settings, updated_at: now };
  if (body.exclude !== undefined) {
    updated.mode = "exclude";
    updated.entries = readSplitTunnelEntries(body.exclude);
  } else if (body.include !== undefined) {
    updated.mode = "include";
    updated.entries = readSplitTunnelEntries(body.include);
  }
  if (profile.policy_id !== null) {
    updated.name = fields.has("name") ? fields.requiredString("name") : profile.name;
    updated.description = fields.string("description") ?? profile.description;
    updated.match = fields.has("match") ? fields.requiredString("match") : profile.match;
    updated.precedence = fields.integer("precedence", 1, 2_147_483_647) ?? profile.precedence;
    updated.enabled = fields.boolean("enabled") ?? profile.enabled;
  }
  return updated;
}

/**
 * Cloudflare answered HTTP 500 to a PATCH that moved a profile from its exclude list to an
 * include list (public provider report, see emulator/README.md); the emulator does the same.
 * The other direction is not reported and stays allowed. Switching by PUT of the list works.
 */
function assertNoSwap(profile: DeviceProfile, swapsTo: SplitTunnelMode | undefined): void {
  if (swapsTo === "include" && profile.mode === "exclude") {
    throw new ApiFailure(500, 1000, "Internal server error");
  }
}

function assertNotEmpty(body: JsonObject): void {
  const known = [...SETTABLE_FIELDS, ...CUSTOM_FIELDS, "exclude", "include"];
  if (!Object.keys(body).some((key) => known.includes(key) && body[key] !== undefined)) {
    throw new ApiFailure(400, CODE_INVALID, "The request body must set at least one field");
  }
}

function getDefault(context: Context) {
  return { result: toProfileResource(context.account, context.account.get("default_profile")) };
}

function editDefault(context: Context) {
  const body = objectBody(context.body);
  assertNotEmpty(body);
  const updated = applyBody(context.account.get("default_profile"), body, context.clock.next());
  saveProfile(context.account, updated);
  return { result: toProfileResource(context.account, updated) };
}

function customProfiles(account: AccountState): DeviceProfile[] {
  return [...account.collections.profile.values()].sort((a, b) =>
    a.precedence === b.precedence
      ? compareText(a.policy_id ?? "", b.policy_id ?? "")
      : a.precedence - b.precedence,
  );
}

/** Custom profiles by ascending precedence, then the default profile last. */
function allProfiles(account: AccountState) {
  return [...customProfiles(account), account.get("default_profile")].map((profile) =>
    toProfileResource(account, profile),
  );
}

function createCustom(context: Context) {
  const { account } = context;
  const body = objectBody(context.body);
  const fields = new Fields(body, CODE_INVALID);
  fields.requiredString("name");
  fields.requiredString("match");
  const precedence = fields.integer("precedence", 1, 2_147_483_647);
  if (precedence === undefined) {
    throw fields.failure("precedence is required");
  }
  assertPrecedenceFree(account, precedence);
  assertBelowLimit(account, "device_profiles", account.collections.profile.size);
  const now = context.clock.next();
  const blank: DeviceProfile = {
    policy_id: crypto.randomUUID(),
    settings: defaultProfileSettings(),
    mode: "exclude",
    entries: defaultExcludes(),
    name: "",
    description: "",
    match: "",
    precedence,
    enabled: true,
    created_at: now,
    updated_at: now,
  };
  const profile = applyBody(blank, body, now, true);
  saveProfile(account, profile);
  return { result: toProfileResource(account, profile) };
}

function listProfiles(context: Context) {
  return { result: allProfiles(context.account) };
}

function getCustom(context: Context) {
  const profile = findProfile(context.account, param(context.params, "policy_id"));
  return { result: toProfileResource(context.account, profile) };
}

function editCustom(context: Context) {
  const { account } = context;
  const profile = findProfile(account, param(context.params, "policy_id"));
  const body = objectBody(context.body);
  assertNotEmpty(body);
  const updated = applyBody(profile, body, context.clock.next());
  assertPrecedenceFree(account, updated.precedence, profile.policy_id ?? undefined);
  saveProfile(account, updated);
  return { result: toProfileResource(account, updated) };
}

function deleteCustom(context: Context) {
  const profile = findProfile(context.account, param(context.params, "policy_id"));
  context.account.remove("profile", profile.policy_id ?? "");
  return { result: allProfiles(context.account) };
}

function profileOf(context: Context): DeviceProfile {
  const policyId = context.params.policy_id;
  return policyId === undefined
    ? context.account.get("default_profile")
    : findProfile(context.account, policyId);
}

function splitTunnelReader(mode: SplitTunnelMode) {
  return (context: Context) => {
    const profile = profileOf(context);
    return { result: profile.mode === mode ? profile.entries : [] };
  };
}

function splitTunnelWriter(mode: SplitTunnelMode) {
  return (context: Context) => {
    const profile = profileOf(context);
    const entries = readSplitTunnelEntries(context.body);
    // Clearing the list not in force leaves the mode alone: "PUT the new list, then clear the
    // old one" must end in the new mode.
    const keep = entries.length === 0 && profile.mode !== mode;
    saveProfile(context.account, {
      ...profile,
      mode: keep ? profile.mode : mode,
      entries: keep ? profile.entries : entries,
      updated_at: context.clock.next(),
    });
    return { result: entries };
  };
}

function fallbackReader(context: Context) {
  return { result: profileOf(context).settings.fallback_domains ?? [] };
}

function fallbackWriter(context: Context) {
  const profile = profileOf(context);
  const domains = readFallbackDomains(context.body);
  saveProfile(context.account, {
    ...profile,
    settings: { ...profile.settings, fallback_domains: domains },
    updated_at: context.clock.next(),
  });
  return { result: domains };
}

const DEFAULT_PROFILE = `${ACCOUNT}/devices/policy`;
const CUSTOM_PROFILE = `${ACCOUNT}/devices/policy/:policy_id`;

/**
 * Endpoints of the default and custom device profiles, their split tunnel lists and their Local
 * Domain Fallback lists (`…/fallback_domains`: GET the list, PUT a bare array to replace it;
 * both answer the list).
 */
export const deviceProfileRoutes: RouteDefinition[] = [
  { method: "GET", path: DEFAULT_PROFILE, handler: getDefault },
  { method: "PATCH", path: DEFAULT_PROFILE, handler: editDefault },
  { method: "POST", path: DEFAULT_PROFILE, handler: createCustom },
  { method: "GET", path: `${ACCOUNT}/devices/policies`, handler: listProfiles },
  { method: "GET", path: `${DEFAULT_PROFILE}/exclude`, handler: splitTunnelReader("exclude") },
  { method: "PUT", path: `${DEFAULT_PROFILE}/exclude`, handler: splitTunnelWriter("exclude") },
  { method: "GET", path: `${DEFAULT_PROFILE}/include`, handler: splitTunnelReader("include") },
  { method: "PUT", path: `${DEFAULT_PROFILE}/include`, handler: splitTunnelWriter("include") },
  { method: "GET", path: `${DEFAULT_PROFILE}/fallback_domains`, handler: fallbackReader },
  { method: "PUT", path: `${DEFAULT_PROFILE}/fallback_domains`, handler: fallbackWriter },
  { method: "GET", path: CUSTOM_PROFILE, handler: getCustom },
  { method: "PATCH", path: CUSTOM_PROFILE, handler: editCustom },
  { method: "DELETE", path: CUSTOM_PROFILE, handler: deleteCustom },
  { method: "GET", path: `${CUSTOM_PROFILE}/exclude`, handler: splitTunnelReader("exclude") },
  { method: "PUT", path: `${CUSTOM_PROFILE}/exclude`, handler: splitTunnelWriter("exclude") },
  { method: "GET", path: `${CUSTOM_PROFILE}/include`, handler: splitTunnelReader("include") },
  { method: "PUT", path: `${CUSTOM_PROFILE}/include`, handler: splitTunnelWriter("include") },
  { method: "GET", path: `${CUSTOM_PROFILE}/fallback_domains`, handler: fallbackReader },
  { method: "PUT", path: `${CUSTOM_PROFILE}/fallback_domains`, handler: fallbackWriter },
];
