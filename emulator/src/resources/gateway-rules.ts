/**
 * Gateway rules (`gateway/rules`). Precedence is unique per account (any filter type); a rule
 * created without one goes to the bottom (max + 1000, or 1000 for the first). Expressions are
 * rewritten on the way in (trimmed, whitespace runs outside string literals collapsed to one
 * space), so callers must normalise both sides before comparing.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/gateway/subresources/rules/
 */

import type { ExpressionSlot } from "../expressions/fields";
import { checkL4Expression } from "../expressions/parser";
import { ApiFailure, Fields, objectBody } from "../http";
import { assertBelowLimit, countLive } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { GatewayRule } from "../types";
import { compareText, param } from "./common";
import { dnsOnly, ruleSettings } from "./gateway-rule-settings";

const BASE = "/accounts/:account_id/gateway/rules";
const CODE_INVALID = 2001;
/** Step between automatically assigned precedences, and the first one. */
const PRECEDENCE_STEP = 1000;
/** Largest precedence accepted (inclusive): a signed 32-bit integer. */
const MAX_PRECEDENCE = 2_147_483_647;
/** `source_account` of a shared rule when the control names none. */
const PARENT_ACCOUNT = "0123456789abcdef0123456789abcdef";

/** Rule actions Cloudflare accepts. */
export const GATEWAY_ACTIONS = [
  "on",
  "off",
  "allow",
  "block",
  "scan",
  "noscan",
  "safesearch",
  "ytrestricted",
  "isolate",
  "noisolate",
  "override",
  "l4_override",
  "egress",
  "resolve",
  "quarantine",
  "redirect",
] as const;

/** Rule filter types; a rule has exactly one. */
export const GATEWAY_FILTERS = ["http", "dns", "l4", "egress", "dns_resolver"] as const;

/**
 * Trims an expression and collapses every run of whitespace outside double-quoted strings to
 * one space. Undefined when a string literal is left open or brackets do not balance.
 */
export function normaliseExpression(expression: string): string | undefined {
  let out = "";
  let inString = false;
  let pendingSpace = false;
  const open: string[] = [];
  const closing: Record<string, string> = { ")": "(", "}": "{", "]": "[" };
  for (let index = 0; index < expression.length; index++) {
    const char = expression.charAt(index);
    if (inString) {
      out += char;
      if (char === "\\" && index + 1 < expression.length) {
        index++;
        out += expression.charAt(index);
      } else if (char === '"') {
        inString = false;
      }
      continue;
    }
    if (/\s/.test(char)) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) {
      out += " ";
      pendingSpace = false;
    }
    out += char;
    if (char === '"') {
      inString = true;
    } else if (char === "(" || char === "{" || char === "[") {
      open.push(char);
    } else if (closing[char] !== undefined && open.pop() !== closing[char]) {
      return undefined;
    }
  }
  return inString || open.length > 0 ? undefined : out;
}

function findRule(account: AccountState, id: string): GatewayRule {
  const rule = account.collections.rule.get(id);
  if (rule === undefined) {
    throw new ApiFailure(404, 2002, "Rule not found");
  }
  return rule;
}

function expression(fields: Fields, name: ExpressionSlot, filter: string): string {
  const text = fields.string(name) ?? "";
  if (filter === "l4") {
    const check = checkL4Expression(name, text);
    if (!check.ok) {
      throw fields.failure(
        `${name}: Filter parsing error (1:${check.offset + 1}): ${check.message}`,
      );
    }
    return check.formatted;
  }
  const normalised = normaliseExpression(text);
  if (normalised === undefined) {
    throw fields.failure(`${name} is not a valid expression: unbalanced quotes or brackets`);
  }
  return normalised;
}

/** Validates a create/PUT body; fields left out take their defaults. */
function readRule(body: unknown) {
  const fields = new Fields(objectBody(body), CODE_INVALID);
  const name = fields.requiredString("name");
  const action = fields.oneOf("action", GATEWAY_ACTIONS);
  if (action === undefined) {
    throw fields.failure("action is required");
  }
  const filters = fields.raw("filters");
  if (
    !Array.isArray(filters) ||
    filters.length !== 1 ||
    !(GATEWAY_FILTERS as readonly unknown[]).includes(filters[0])
  ) {
    throw fields.failure(`filters must hold exactly one of ${GATEWAY_FILTERS.join(", ")}`);
  }
  const filter = filters[0] as string;
  return {
    name,
    action,
    filters: filters as string[],
    description: fields.string("description") ?? "",
    enabled: fields.boolean("enabled") ?? false,
    traffic: expression(fields, "traffic", filter),
    identity: expression(fields, "identity", filter),
    device_posture: expression(fields, "device_posture", filter),
    precedence: fields.integer("precedence", 0, MAX_PRECEDENCE),
    rule_settings: ruleSettings(fields, filter, action),
    schedule: dnsOnly(fields, "schedule", filter, ["dns", "dns_resolver"]),
    expiration: dnsOnly(fields, "expiration", filter, ["dns"]),
    sharable: fields.boolean("sharable") ?? false,
  };
}

function assertPrecedenceFree(account: AccountState, precedence: number, exceptId?: string) {
  for (const rule of account.collections.rule.values()) {
    if (rule.precedence === precedence && rule.id !== exceptId && !rule.read_only) {
      throw new ApiFailure(
        400,
        2003,
        `Precedence ${precedence} is already used by rule ${rule.id}; precedence must be unique`,
      );
    }
  }
}

/** The account's own rules (shared ones have the parent's precedences and count there). */
function ownedRules(account: AccountState): GatewayRule[] {
  return [...account.collections.rule.values()].filter((rule) => !rule.read_only);
}

/** Throws 403 / 2005 on a rule shared from a parent account. */
function assertWritable(rule: GatewayRule): void {
  if (rule.read_only) {
    throw new ApiFailure(
      403,
      2005,
      `Rule ${rule.id} is shared from account ${rule.source_account} and is read-only`,
    );
  }
}

function nextPrecedence(account: AccountState): number {
  let max: number | undefined;
  for (const rule of ownedRules(account)) {
    max = max === undefined ? rule.precedence : Math.max(max, rule.precedence);
  }
  return max === undefined ? PRECEDENCE_STEP : max + PRECEDENCE_STEP;
}

function create(context: Context) {
  const { account } = context;
  const input = readRule(context.body);
  const precedence = input.precedence ?? nextPrecedence(account);
  assertPrecedenceFree(account, precedence);
  const filter = input.filters[0];
  assertBelowLimit(
    account,
    "gateway_rules",
    countLive(ownedRules(account), (rule) => rule.filters[0] === filter),
  );
  const now = context.clock.next();
  const rule: GatewayRule = {
    id: crypto.randomUUID(),
    ...input,
    precedence,
    read_only: false,
    source_account: account.accountId,
    warning_status: null,
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  account.put("rule", rule.id, rule);
  return { result: rule };
}

function list(context: Context) {
  const result = [...context.account.collections.rule.values()].sort((a, b) =>
    a.precedence === b.precedence ? compareText(a.id, b.id) : a.precedence - b.precedence,
  );
  return { result };
}

/** `GET gateway/rules/tenant`: the rules shared from the parent account, by precedence. */
function listTenant(context: Context) {
  return { result: list(context).result.filter((rule) => rule.read_only) };
}

function get(context: Context) {
  return { result: findRule(context.account, param(context.params, "rule_id")) };
}

/** Full replace: every field left out returns to its default; precedence left out is kept. */
function update(context: Context) {
  const { account } = context;
  const rule = findRule(account, param(context.params, "rule_id"));
  assertWritable(rule);
  const input = readRule(context.body);
  const precedence = input.precedence ?? rule.precedence;
  assertPrecedenceFree(account, precedence, rule.id);
  const updated: GatewayRule = {
    ...rule,
    ...input,
    precedence,
    version: rule.version + 1,
    updated_at: context.clock.next(),
  };
  account.put("rule", rule.id, updated);
  return { result: updated };
}

function remove(context: Context) {
  const rule = findRule(context.account, param(context.params, "rule_id"));
  assertWritable(rule);
  context.account.remove("rule", rule.id);
  return { result: {} };
}

/**
 * Adds a rule shared from a parent account (`POST /__emulator/shared-rules`): validated like a
 * create, stored `read_only`, `sharable`, with `source_account` (default: a fixed parent tag)
 * and `warning_status` as given. Its precedence is the parent's and clashes with nothing here.
 */
export function addSharedRule(account: AccountState, body: unknown, now: string): GatewayRule {
  const input = readRule(body);
  const extra = new Fields(objectBody(body), CODE_INVALID);
  const rule: GatewayRule = {
    id: crypto.randomUUID(),
    ...input,
    precedence: input.precedence ?? 0,
    read_only: true,
    sharable: true,
    source_account: extra.string("source_account") ?? PARENT_ACCOUNT,
    warning_status: extra.string("warning_status") ?? null,
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  account.put("rule", rule.id, rule);
  return rule;
}

/** Endpoints of `gateway/rules`. */
export const gatewayRuleRoutes: RouteDefinition[] = [
  { method: "POST", path: BASE, handler: create },
  { method: "GET", path: BASE, handler: list },
  { method: "GET", path: `${BASE}/tenant`, handler: listTenant },
  { method: "GET", path: `${BASE}/:rule_id`, handler: get },
  { method: "PUT", path: `${BASE}/:rule_id`, handler: update },
  { method: "DELETE", path: `${BASE}/:rule_id`, handler: remove },
];
