/**
 * Per-account answer styles Cloudflare does not document one way, switched by
 * `PUT /__emulator/behaviour` so tunnelplane can be tested against each.
 */
import { ApiFailure } from "./http";

/** How a device profile shows the split tunnel list that is not in force. */
export const INACTIVE_LIST_STYLES = ["absent", "empty", "null"] as const;

/** Whether device profile objects carry their `fallback_domains` list. */
export const PROFILE_FALLBACK_STYLES = ["shown", "absent"] as const;

/** Paged lists whose `page` the emulator can be told to ignore, by path after the account. */
export const PAGED_LISTS = [
  "cfd_tunnel",
  "tunnels",
  "teamnet/routes",
  "access/apps",
  "access/policies",
] as const;

/** Lists with an `is_deleted` filter that can be told to show deleted objects whatever it asks. */
export const SOFT_DELETE_LISTS = [
  "cfd_tunnel",
  "tunnels",
  "teamnet/virtual_networks",
  "teamnet/routes",
  "zerotrust/routes/hostname",
] as const;

/** One account's answer styles. */
export interface Behaviour {
  /** `absent` (default): only the active key; `empty`: the other key is `[]`; `null`: it is null. */
  inactive_split_tunnel: (typeof INACTIVE_LIST_STYLES)[number];
  /**
   * `shown` (default): profiles carry `fallback_domains`; `absent`: they leave it out and only
   * `…/fallback_domains` answers it (the schema has the field, whether every answer fills it is
   * UNCONFIRMED).
   */
  profile_fallback_domains: (typeof PROFILE_FALLBACK_STYLES)[number];
  /** Lists that answer the first page whatever `page` asks for (echoing the asked `page`). */
  ignore_page: (typeof PAGED_LISTS)[number][];
  /**
   * Lists that show soft-deleted objects next to live ones even when `is_deleted=false` asks for
   * live ones only (`is_deleted=true` still shows only deleted ones).
   */
  list_deleted: (typeof SOFT_DELETE_LISTS)[number][];
}

/** What a new account does. */
export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = {
  inactive_split_tunnel: "absent",
  profile_fallback_domains: "shown",
  ignore_page: [],
  list_deleted: [],
};

/** Reads a `PUT /__emulator/behaviour` `behaviour` object; 400/1001 on anything unknown. */
export function readBehaviour(value: unknown): Partial<Behaviour> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiFailure(400, 1001, "behaviour must be a JSON object");
  }
  const change: Partial<Behaviour> = {};
  for (const [key, setting] of Object.entries(value)) {
    if (key === "inactive_split_tunnel") {
      if (!(INACTIVE_LIST_STYLES as readonly unknown[]).includes(setting)) {
        throw new ApiFailure(400, 1001, `${key} must be one of ${INACTIVE_LIST_STYLES.join(", ")}`);
      }
      change.inactive_split_tunnel = setting as Behaviour["inactive_split_tunnel"];
    } else if (key === "profile_fallback_domains") {
      if (!(PROFILE_FALLBACK_STYLES as readonly unknown[]).includes(setting)) {
        throw new ApiFailure(
          400,
          1001,
          `${key} must be one of ${PROFILE_FALLBACK_STYLES.join(", ")}`,
        );
      }
      change.profile_fallback_domains = setting as Behaviour["profile_fallback_domains"];
    } else if (key === "ignore_page") {
      if (
        !Array.isArray(setting) ||
        !setting.every((list) => (PAGED_LISTS as readonly unknown[]).includes(list))
      ) {
        throw new ApiFailure(400, 1001, `${key} must list some of ${PAGED_LISTS.join(", ")}`);
      }
      change.ignore_page = setting as Behaviour["ignore_page"];
    } else if (key === "list_deleted") {
      if (
        !Array.isArray(setting) ||
        !setting.every((list) => (SOFT_DELETE_LISTS as readonly unknown[]).includes(list))
      ) {
        throw new ApiFailure(400, 1001, `${key} must list some of ${SOFT_DELETE_LISTS.join(", ")}`);
      }
      change.list_deleted = setting as Behaviour["list_deleted"];
    } else {
      throw new ApiFailure(
        400,
        1001,
        `unknown behaviour ${key}; known: ${Object.keys(DEFAULT_BEHAVIOUR).join(", ")}`,
      );
    }
  }
  return change;
}
