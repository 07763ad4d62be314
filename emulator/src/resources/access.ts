/**
 * Access applications (`access/apps`) and reusable Access policies (`access/policies`).
 * Self-hosted apps carry private destinations (CIDR or hostname, port range, protocol, vnet);
 * an account has at most one `warp` app (device enrollment permissions). Apps link reusable
 * policies by id; the app response embeds the linked policies as they are now.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/access/subresources/applications/
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/access/subresources/policies/
 */
import { parseNetwork } from "../cidr";
import { ApiFailure, Fields, type JsonObject, objectBody, paginate } from "../http";
import { assertBelowLimit } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { AccessApp, AccessPolicy, PolicyLink } from "../types";
import { byCreation, param } from "./common";

const ACCOUNT = "/accounts/:account_id";
const CODE_INVALID = 12001;
/** App name maximum, in characters (inclusive), from Cloudflare's Access limits. */
const MAX_APP_NAME_LENGTH = 350;
/** Session duration when none is sent. */
const DEFAULT_SESSION_DURATION = "24h";
/** Name given to the device enrollment (`warp`) app when none is sent. */
const WARP_APP_NAME = "Warp Login App";

/** Access application types Cloudflare knows. */
export const ACCESS_APP_TYPES = [
  "self_hosted",
  "saas",
  "ssh",
  "vnc",
  "app_launcher",
  "warp",
  "biso",
  "bookmark",
  "dash_sso",
  "infrastructure",
  "rdp",
  "mcp",
  "mcp_portal",
  "proxy_endpoint",
] as const;

/** Policy decisions. */
export const ACCESS_DECISIONS = ["allow", "deny", "non_identity", "bypass"] as const;

/** Keys an Access rule object may have (exactly one per rule). */
const RULE_TYPES = [
  "email",
  "email_domain",
  "email_list",
  "everyone",
  "group",
  "ip",
  "ip_list",
  "geo",
  "service_token",
  "any_valid_service_token",
  "device_posture",
  "login_method",
  "auth_method",
  "certificate",
  "azureAD",
  "okta",
  "saml",
  "gsuite",
  "github-organization",
  "common_name",
  "oidc",
  "external_evaluation",
  "auth_context",
  "linked_app_token",
];

/**
 * Body fields of the application types tunnelplane writes, from the SDK's
 * `ApplicationCreateParams.DeviceEnrollmentPermissionsApplication` and `.SelfHostedApplication`
 * (cloudflare 7.x); anything else is refused. Other types echo what they are sent.
 */
const APP_BODY_FIELDS: Partial<Record<string, readonly string[]>> = {
  warp: [
    "type",
    "allowed_idps",
    "auto_redirect_to_identity",
    "custom_deny_url",
    "custom_non_identity_deny_url",
    "custom_pages",
    "policies",
    "session_duration",
  ],
  self_hosted: [
    "domain type allow_authenticate_via_warp allow_iframe allowed_idps app_launcher_visible",
    "auto_redirect_to_identity cors_headers custom_deny_message custom_deny_url",
    "custom_non_identity_deny_url custom_pages destinations eager_redirect_cookie_setting",
    "enable_binding_cookie http_only_cookie_attribute logo_url mfa_config name",
    "oauth_configuration options_preflight_bypass path_cookie_attribute policies",
    "read_service_tokens_from_header same_site_cookie_attribute scim_config self_hosted_domains",
    "session_duration skip_interstitial tags use_clientless_isolation_app_launcher_url",
  ].flatMap((line) => line.split(" ")),
};
/** Read-only fields a client may send back unchanged; they are ignored. */
const APP_READ_ONLY = ["id", "aud", "created_at", "updated_at"];

/**
 * Each rule type's required inner field, from the Access rule schemas
 * (`access_email_rule`, `access_email_domain_rule`, `access_group_rule`).
 */
const RULE_REQUIRED: Record<string, string> = {
  email: "email",
  email_domain: "domain",
  group: "id",
};

const APP_VALIDATED = ["id", "aud", "type", "name", "domain", "destinations", "policies"];
const POLICY_VALIDATED = ["id", "name", "decision", "include", "exclude", "require"];

function invalid(message: string): ApiFailure {
  return new ApiFailure(400, CODE_INVALID, message);
}

function extraFields(body: JsonObject, validated: readonly string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!validated.includes(key) && !key.endsWith("_at") && value !== undefined) {
      extra[key] = value;
    }
  }
  return extra;
}

// Policies ------------------------------------------------------------------------------------

function findPolicy(account: AccountState, id: string): AccessPolicy {
  const policy = account.collections.policy.get(id);
  if (policy === undefined) {
    throw new ApiFailure(404, 12005, "Access policy not found");
  }
  return policy;
}

function appCount(account: AccountState, policyId: string): number {
  let count = 0;
  for (const app of account.collections.app.values()) {
    if (app.policies.some((link) => link.id === policyId)) {
      count++;
    }
  }
  return count;
}

/** The reusable policy wire shape. */
export function toPolicyResource(account: AccountState, policy: AccessPolicy) {
  return {
    ...policy.fields,
    id: policy.id,
    name: policy.name,
    decision: policy.decision,
    include: policy.include,
    exclude: policy.exclude,
    require: policy.require,
    session_duration: policy.session_duration,
    reusable: true,
    app_count: appCount(account, policy.id),
    created_at: policy.created_at,
    updated_at: policy.updated_at,
  };
}

function readRules(fields: Fields, name: string, required: boolean): Record<string, unknown>[] {
  const value = fields.raw(name);
  if (value === undefined || value === null) {
    if (required) {
      throw invalid(`${name} is required`);
    }
    return [];
  }
  if (!Array.isArray(value) || (required && value.length === 0)) {
    throw invalid(`${name} must be a${required ? " non-empty" : "n"} array of rules`);
  }
  return value.map((rule, index) => {
    if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
      throw invalid(`${name}[${index}] must be a rule object`);
    }
    const keys = Object.keys(rule);
    const key = keys[0];
    if (keys.length !== 1 || key === undefined || !RULE_TYPES.includes(key)) {
      throw invalid(`${name}[${index}] must have exactly one rule type`);
    }
    const inner = (rule as JsonObject)[key];
    if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
      throw invalid(`${name}[${index}].${key} must be an object`);
    }
    const required = RULE_REQUIRED[key];
    const value = required === undefined ? undefined : (inner as JsonObject)[required];
    if (required !== undefined && (typeof value !== "string" || value === "")) {
      throw invalid(`${name}[${index}].${key}.${required} is required`);
    }
    return rule as Record<string, unknown>;
  });
}

function readPolicy(body: unknown) {
  const input = objectBody(body);
  const fields = new Fields(input, CODE_INVALID);
  const decision = fields.oneOf("decision", ACCESS_DECISIONS);
  if (decision === undefined) {
    throw invalid("decision is required");
  }
  return {
    name: fields.requiredString("name"),
    decision,
    include: readRules(fields, "include", true),
    exclude: readRules(fields, "exclude", false),
    require: readRules(fields, "require", false),
    session_duration: fields.string("session_duration") ?? DEFAULT_SESSION_DURATION,
    fields: extraFields(input, [...POLICY_VALIDATED, "session_duration", "reusable", "app_count"]),
  };
}

function createPolicy(context: Context) {
  const input = readPolicy(context.body);
  assertBelowLimit(context.account, "access_policies", context.account.collections.policy.size);
  const now = context.clock.next();
  const policy: AccessPolicy = {
    id: crypto.randomUUID(),
    ...input,
    created_at: now,
    updated_at: now,
  };
  context.account.put("policy", policy.id, policy);
  return { result: toPolicyResource(context.account, policy) };
}

function listPolicies(context: Context) {
  const { account } = context;
  const { page, resultInfo } = paginate(
    byCreation(account.collections.policy.values()),
    context.query,
  );
  return { result: page.map((policy) => toPolicyResource(account, policy)), resultInfo };
}

function getPolicy(context: Context) {
  const policy = findPolicy(context.account, param(context.params, "policy_id"));
  return { result: toPolicyResource(context.account, policy) };
}

function updatePolicy(context: Context) {
  const policy = findPolicy(context.account, param(context.params, "policy_id"));
  const updated: AccessPolicy = {
    ...policy,
    ...readPolicy(context.body),
    updated_at: context.clock.next(),
  };
  context.account.put("policy", policy.id, updated);
  return { result: toPolicyResource(context.account, updated) };
}

function deletePolicy(context: Context) {
  const policy = findPolicy(context.account, param(context.params, "policy_id"));
  const count = appCount(context.account, policy.id);
  if (count > 0) {
    throw new ApiFailure(
      400,
      12004,
      `Access policy is used by ${count} application(s); remove it from them first`,
    );
  }
  context.account.remove("policy", policy.id);
  return { result: { id: policy.id } };
}

// Applications --------------------------------------------------------------------------------

function findApp(account: AccountState, idOrAud: string): AccessApp {
  const app =
    account.collections.app.get(idOrAud) ??
    [...account.collections.app.values()].find((candidate) => candidate.aud === idOrAud);
  if (app === undefined) {
    throw new ApiFailure(404, 12002, "Access application not found");
  }
  return app;
}

/** The application wire shape, with its linked policies embedded as they are now. */
export function toAppResource(account: AccountState, app: AccessApp) {
  const policies = app.policies.flatMap((link) => {
    const policy = account.collections.policy.get(link.id);
    return policy === undefined
      ? []
      : [{ ...toPolicyResource(account, policy), precedence: link.precedence }];
  });
  return {
    ...app.fields,
    id: app.id,
    aud: app.aud,
    type: app.type,
    name: app.name,
    domain: app.domain,
    ...(app.type === "self_hosted" ? { destinations: app.destinations } : {}),
    policies,
    created_at: app.created_at,
    updated_at: app.updated_at,
  };
}

const PORT_RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function readPortRange(value: unknown, index: number): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  const match = typeof value === "string" ? PORT_RANGE.exec(value) : null;
  const from = Number(match?.[1]);
  const to = match?.[2] === undefined ? from : Number(match[2]);
  if (match === null || from < 1 || to > 65_535 || from > to) {
    throw invalid(`destinations[${index}].port_range must be a port or a range like 8000-8099`);
  }
  return value as string;
}

function readDestination(account: AccountState, value: unknown, index: number) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`destinations[${index}] must be an object`);
  }
  const fields = new Fields(value as JsonObject, CODE_INVALID);
  const type = fields.oneOf("type", ["public", "private"] as const) ?? "public";
  if (type === "public") {
    return { type, uri: fields.requiredString("uri") };
  }
  const cidr = fields.string("cidr");
  const hostname = fields.string("hostname");
  if ((cidr === undefined) === (hostname === undefined)) {
    throw invalid(`destinations[${index}] must have exactly one of cidr or hostname`);
  }
  const destination: Record<string, unknown> = { type };
  if (cidr !== undefined) {
    const network = parseNetwork(cidr);
    if (network === undefined) {
      throw invalid(`destinations[${index}].cidr: invalid address "${cidr}"`);
    }
    destination.cidr = network.text;
  } else {
    destination.hostname = hostname;
  }
  const portRange = readPortRange(fields.raw("port_range"), index);
  if (portRange !== undefined) {
    destination.port_range = portRange;
  }
  const protocol = fields.oneOf("l4_protocol", ["tcp", "udp"] as const);
  if (protocol !== undefined) {
    destination.l4_protocol = protocol;
  }
  const vnetId = fields.string("vnet_id");
  if (vnetId !== undefined) {
    const vnet = account.collections.vnet.get(vnetId);
    if (vnet === undefined || vnet.deleted_at !== null) {
      throw invalid(`destinations[${index}].vnet_id: virtual network not found: ${vnetId}`);
    }
    destination.vnet_id = vnetId;
  }
  return destination;
}

function readPolicyLinks(account: AccountState, value: unknown): PolicyLink[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw invalid("policies must be an array");
  }
  const links = value.map((item, index): PolicyLink => {
    const link =
      typeof item === "string"
        ? { id: item, precedence: index + 1 }
        : typeof item === "object" && item !== null && !("decision" in item)
          ? {
              id: String((item as JsonObject).id ?? ""),
              precedence: Number((item as JsonObject).precedence ?? index + 1),
            }
          : undefined;
    if (link === undefined) {
      throw invalid(`policies[${index}]: only links to reusable policies are emulated`);
    }
    if (!account.collections.policy.has(link.id)) {
      throw invalid(`policies[${index}]: reusable policy not found: ${link.id}`);
    }
    if (!Number.isInteger(link.precedence) || link.precedence < 1) {
      throw invalid(`policies[${index}].precedence must be a positive integer`);
    }
    return link;
  });
  if (new Set(links.map((link) => link.precedence)).size !== links.length) {
    throw invalid("policies: precedence must be unique within the application");
  }
  return links;
}

/** The `domain` Cloudflare fills in when none is sent: the first destination's uri/host/cidr. */
function computedDomain(destinations: Record<string, unknown>[]): string {
  const first = destinations[0];
  return String(first?.uri ?? first?.hostname ?? first?.cidr ?? "");
}

function readApp(account: AccountState, body: unknown, exceptId?: string) {
  const input = objectBody(body);
  const fields = new Fields(input, CODE_INVALID);
  const type = fields.oneOf("type", ACCESS_APP_TYPES);
  if (type === undefined) {
    throw invalid("type is required");
  }
  const allowed = APP_BODY_FIELDS[type];
  const unknown = Object.keys(input).filter(
    (key) => allowed !== undefined && !allowed.includes(key) && !APP_READ_ONLY.includes(key),
  );
  if (unknown.length > 0) {
    throw invalid(`${type} applications have no field ${unknown.join(", ")}`);
  }
  if (type === "warp") {
    for (const app of account.collections.app.values()) {
      if (app.type === "warp" && app.id !== exceptId) {
        throw new ApiFailure(
          400,
          12003,
          "This account already has a device enrollment (warp) application",
        );
      }
    }
  }
  const name =
    type === "warp"
      ? (fields.string("name", MAX_APP_NAME_LENGTH) ?? WARP_APP_NAME)
      : fields.requiredString("name", MAX_APP_NAME_LENGTH);
  const rawDestinations = fields.raw("destinations");
  if (rawDestinations !== undefined && !Array.isArray(rawDestinations)) {
    throw invalid("destinations must be an array");
  }
  const destinations =
    type === "self_hosted"
      ? (rawDestinations ?? []).map((item: unknown, index: number) =>
          readDestination(account, item, index),
        )
      : [];
  const domain = fields.string("domain") ?? computedDomain(destinations);
  if (type === "self_hosted" && domain === "") {
    throw invalid("a self_hosted application needs a domain or at least one destination");
  }
  return {
    type,
    name,
    domain,
    destinations,
    policies: readPolicyLinks(account, fields.raw("policies")),
    fields: {
      session_duration: DEFAULT_SESSION_DURATION,
      allowed_idps: [],
      auto_redirect_to_identity: false,
      ...extraFields(input, APP_VALIDATED),
    },
  };
}

function randomAud(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function createApp(context: Context) {
  const input = readApp(context.account, context.body);
  assertBelowLimit(context.account, "access_apps", context.account.collections.app.size);
  const now = context.clock.next();
  const app: AccessApp = {
    id: crypto.randomUUID(),
    aud: randomAud(),
    ...input,
    created_at: now,
    updated_at: now,
  };
  context.account.put("app", app.id, app);
  return { result: toAppResource(context.account, app) };
}

function listApps(context: Context) {
  const { account, query } = context;
  const exact = query.boolean("exact") ?? false;
  const textMatches = (value: string, wanted: string | undefined) =>
    wanted === undefined ||
    (exact ? value === wanted : value.toLowerCase().includes(wanted.toLowerCase()));
  const name = query.string("name");
  const domain = query.string("domain");
  const aud = query.string("aud");
  const search = query.string("search")?.toLowerCase();
  const matching = byCreation(account.collections.app.values()).filter(
    (app) =>
      textMatches(app.name, name) &&
      textMatches(app.domain, domain) &&
      (aud === undefined || app.aud === aud) &&
      (search === undefined ||
        app.name.toLowerCase().includes(search) ||
        app.domain.toLowerCase().includes(search)),
  );
  const { page, resultInfo } = paginate(matching, query);
  return { result: page.map((app) => toAppResource(account, app)), resultInfo };
}

function getApp(context: Context) {
  const app = findApp(context.account, param(context.params, "app_id"));
  return { result: toAppResource(context.account, app) };
}

/** Full replace; the type cannot change. */
function updateApp(context: Context) {
  const app = findApp(context.account, param(context.params, "app_id"));
  const input = readApp(context.account, context.body, app.id);
  if (input.type !== app.type) {
    throw invalid(`type cannot change from ${app.type} to ${input.type}`);
  }
  const updated: AccessApp = { ...app, ...input, updated_at: context.clock.next() };
  context.account.put("app", app.id, updated);
  return { result: toAppResource(context.account, updated) };
}

function deleteApp(context: Context) {
  const app = findApp(context.account, param(context.params, "app_id"));
  context.account.remove("app", app.id);
  return { result: { id: app.id } };
}

/** Endpoints of `access/apps` and `access/policies`. */
export const accessRoutes: RouteDefinition[] = [
  { method: "POST", path: `${ACCOUNT}/access/apps`, handler: createApp },
  { method: "GET", path: `${ACCOUNT}/access/apps`, handler: listApps },
  { method: "GET", path: `${ACCOUNT}/access/apps/:app_id`, handler: getApp },
  { method: "PUT", path: `${ACCOUNT}/access/apps/:app_id`, handler: updateApp },
  { method: "DELETE", path: `${ACCOUNT}/access/apps/:app_id`, handler: deleteApp },
  { method: "POST", path: `${ACCOUNT}/access/policies`, handler: createPolicy },
  { method: "GET", path: `${ACCOUNT}/access/policies`, handler: listPolicies },
  { method: "GET", path: `${ACCOUNT}/access/policies/:policy_id`, handler: getPolicy },
  { method: "PUT", path: `${ACCOUNT}/access/policies/:policy_id`, handler: updatePolicy },
  { method: "DELETE", path: `${ACCOUNT}/access/policies/:policy_id`, handler: deletePolicy },
];
