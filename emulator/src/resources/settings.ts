/**
 * Device settings (`devices/settings`: TCP/UDP proxy and more) and connectivity settings
 * (`zerotrust/connectivity_settings`: ICMP proxy, WARP-to-WARP). PATCH merges the fields sent.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/devices/subresources/settings/
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/connectivity_settings/
 */
import { defaultDeviceSettings } from "../defaults";
import { Fields, objectBody } from "../http";
import type { Context, RouteDefinition } from "../router";
import type { ConnectivitySettings, DeviceSettings } from "../types";

const ACCOUNT = "/accounts/:account_id";
const CODE_INVALID = 1001;

const DEVICE_BOOLEANS = [
  "external_emergency_signal_enabled",
  "gateway_proxy_enabled",
  "gateway_udp_proxy_enabled",
  "root_certificate_installation_enabled",
  "use_zt_virtual_ip",
] as const;
const DEVICE_STRINGS = [
  "external_emergency_signal_fingerprint",
  "external_emergency_signal_interval",
  "external_emergency_signal_url",
] as const;

/** The device settings fields present in the body, type-checked (400/1001). */
function readDeviceSettings(body: unknown): DeviceSettings {
  const fields = new Fields(objectBody(body), CODE_INVALID);
  const changes: DeviceSettings = {};
  for (const name of DEVICE_BOOLEANS) {
    const value = fields.boolean(name);
    if (value !== undefined) {
      changes[name] = value;
    }
  }
  for (const name of DEVICE_STRINGS) {
    const value = fields.string(name);
    if (value !== undefined) {
      changes[name] = value;
    }
  }
  const disableForTime = fields.integer("disable_for_time", 0, Number.MAX_SAFE_INTEGER);
  if (disableForTime !== undefined) {
    changes.disable_for_time = disableForTime;
  }
  return changes;
}

function getDevice(context: Context) {
  return { result: context.account.get("device_settings") };
}

function editDevice(context: Context) {
  const merged = { ...context.account.get("device_settings"), ...readDeviceSettings(context.body) };
  context.account.set("device_settings", merged);
  return { result: merged };
}

function replaceDevice(context: Context) {
  const replaced = { ...defaultDeviceSettings(), ...readDeviceSettings(context.body) };
  context.account.set("device_settings", replaced);
  return { result: replaced };
}

function resetDevice(context: Context) {
  const reset = defaultDeviceSettings();
  context.account.set("device_settings", reset);
  return { result: reset };
}

function getConnectivity(context: Context) {
  return { result: context.account.get("connectivity_settings") };
}

function editConnectivity(context: Context) {
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const current = context.account.get("connectivity_settings");
  const merged: ConnectivitySettings = {
    icmp_proxy_enabled: fields.boolean("icmp_proxy_enabled") ?? current.icmp_proxy_enabled,
    offramp_warp_enabled: fields.boolean("offramp_warp_enabled") ?? current.offramp_warp_enabled,
  };
  context.account.set("connectivity_settings", merged);
  return { result: merged };
}

/** Endpoints of device settings and connectivity settings. */
export const settingsRoutes: RouteDefinition[] = [
  { method: "GET", path: `${ACCOUNT}/devices/settings`, handler: getDevice },
  { method: "PATCH", path: `${ACCOUNT}/devices/settings`, handler: editDevice },
  { method: "PUT", path: `${ACCOUNT}/devices/settings`, handler: replaceDevice },
  { method: "DELETE", path: `${ACCOUNT}/devices/settings`, handler: resetDevice },
  { method: "GET", path: `${ACCOUNT}/zerotrust/connectivity_settings`, handler: getConnectivity },
  {
    method: "PATCH",
    path: `${ACCOUNT}/zerotrust/connectivity_settings`,
    handler: editConnectivity,
  },
];
