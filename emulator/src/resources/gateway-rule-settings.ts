/**
 * The parts of a Gateway rule body that depend on its filter type: `rule_settings`, `schedule`
 * and `expiration`, held to the "Settable only for …" notes of the SDK's rule types.
 */
import type { Fields, JsonObject } from "../http";

/** An optional object field; 400 when it is not an object. */
export function objectField(fields: Fields, name: string): JsonObject | undefined {
  const value = fields.raw(name);
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    throw fields.failure(`${name} must be an object`);
  }
  return value as JsonObject;
}

/**
 * `rule_settings` keys an `l4` rule may set, with the action each needs (null: any action), from
 * the "Settable only for …" notes of the SDK's `RuleSetting` type (cloudflare 7.x,
 * `resources/zero-trust/gateway/rules.d.ts`).
 */
const L4_SETTINGS: Record<string, string | null> = {
  allow_child_bypass: null,
  bypass_parent_rule: null,
  audit_ssh: "audit_ssh",
  block_reason: "block",
  check_session: "allow",
  l4override: "l4_override",
  notification_settings: "block",
};

/** `rule_settings` with null values dropped; an `l4` rule may set only `L4_SETTINGS`. */
export function ruleSettings(fields: Fields, filter: string, action: string): JsonObject {
  const settings = Object.fromEntries(
    Object.entries(objectField(fields, "rule_settings") ?? {}).filter(([, v]) => v !== null),
  );
  if (filter === "l4") {
    for (const key of Object.keys(settings)) {
      const needs = L4_SETTINGS[key];
      if (needs === undefined || (needs !== null && needs !== action)) {
        throw fields.failure(
          `rule_settings.${key} is not settable on l4 rules${needs === undefined ? "" : ` with action ${action}`}`,
        );
      }
    }
  }
  return settings;
}

/** `schedule` (dns, dns_resolver) or `expiration` (dns), null on every other filter type. */
export function dnsOnly(
  fields: Fields,
  name: string,
  filter: string,
  allowed: string[],
): JsonObject | null {
  const value = objectField(fields, name) ?? null;
  if (value !== null && !allowed.includes(filter)) {
    throw fields.failure(`${name} is settable only on ${allowed.join(" and ")} rules`);
  }
  return value;
}
