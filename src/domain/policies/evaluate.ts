/**
 * Evaluation of Gateway network policies for one connection, the way Gateway does it: policies
 * in ascending precedence, disabled ones skipped, the first whose expressions all match decides,
 * and no match means the connection is allowed. The trace says why every policy before the
 * deciding one did not match.
 */

import { prefixContains } from "../cidr/lookup";
import { type Prefix, parseCidr } from "../cidr/parse";
import { ok, type Result } from "../result";
import { compileRegex } from "./email-regex";
import {
  type Expr,
  type FieldName,
  formatExpression,
  type Literal,
  type ParseError,
  type SetItem,
} from "./expression";
import { parseExpression } from "./parse";
import { renderDevicePosture, renderNetworkPolicy } from "./render";
import type { PolicySelectorsInput } from "./selectors";

/** One connection attempt, as a user's device would make it through WARP. */
export interface PolicyRequest {
  /** The user's email as the identity provider gives it. */
  email: string;
  /** Names of the user's identity provider groups. */
  groups?: readonly string[];
  /** Destination IPv4 or IPv6 address (no prefix length). */
  destinationIp: string;
  /** Destination port, 1..65535; absent for ICMP or when unknown. */
  port?: number;
  /** Layer 4 protocol: `tcp`, `udp` or `icmp`. */
  protocol?: string;
  /** Cloudflare id of the virtual network the destination is in. */
  virtualNetworkId?: string;
  /** Ids of the device posture checks the user's device passes; absent means none. */
  passedPostureChecks?: readonly string[];
}

/** The expressions of a policy as ASTs; null is "no condition" (matches everything). */
export interface PolicyConditions {
  traffic: Expr | null;
  identity: Expr | null;
  /** The `device_posture` expression; absent is the same as null. */
  devicePosture?: Expr | null;
}

/** A network policy as the evaluator sees it. */
export interface EvaluablePolicy extends PolicyConditions {
  /** tunnelplane or Cloudflare id, echoed in the trace. */
  id: string;
  name: string;
  action: "allow" | "block";
  /** Ascending evaluation order (lower first). */
  precedence: number;
  enabled: boolean;
  /**
   * For a read-only rule shared from a parent account: that account's id. Shared rules are
   * evaluated before every local rule, whatever the precedences. Absent for local rules.
   */
  sharedFrom?: string;
}

/** Why a policy did not match: the first failing clause of which expression. */
export interface NoMatchReason {
  part: "traffic" | "identity" | "device_posture";
  /** The failing clause in canonical text, e.g. `net.dst.port in {22}`. */
  clause: string;
}

/** What happened to one policy, in evaluation order. */
export type PolicyTraceEntry = {
  id: string;
  name: string;
  action: "allow" | "block";
  precedence: number;
  /** The parent account of a shared rule; absent for local rules. */
  sharedFrom?: string;
} & (
  | { outcome: "matched" }
  | { outcome: "not-matched"; reason: NoMatchReason }
  | { outcome: "disabled" }
);

/** The decision for a request and how it was reached. */
export interface PolicyEvaluation {
  /** What Gateway does with the connection. */
  decision: "allow" | "block";
  /** The first matching policy, or null when none matched (then the decision is `allow`). */
  decidedBy: {
    id: string;
    name: string;
    action: "allow" | "block";
    precedence: number;
    /** The parent account of a shared rule; absent for local rules. */
    sharedFrom?: string;
  } | null;
  /** Every policy up to and including the deciding one, in evaluation order. */
  trace: PolicyTraceEntry[];
}

/** The request's value for a scalar field, or undefined when the request does not carry it. */
function scalarValue(field: FieldName, request: PolicyRequest): string | number | undefined {
  switch (field) {
    case "net.dst.ip":
      return request.destinationIp;
    case "net.dst.port":
      return request.port;
    case "net.protocol":
      return request.protocol;
    case "net.vnet_id":
      return request.virtualNetworkId;
    case "identity.email":
      return request.email;
    default:
      return undefined;
  }
}

function arrayValue(field: FieldName, request: PolicyRequest): readonly string[] | undefined {
  switch (field) {
    case "identity.groups.name":
      return request.groups ?? [];
    case "device_posture.checks.passed":
      return request.passedPostureChecks ?? [];
    default:
      return undefined;
  }
}

function ipInItem(address: Prefix, item: SetItem | Literal): boolean {
  if (item.type === "ip") {
    const network = parseCidr(item.cidr);
    return network.ok && prefixContains(network.value, address);
  }
  if (item.type === "ip-range") {
    const from = parseCidr(item.from);
    const to = parseCidr(item.to);
    return (
      from.ok &&
      to.ok &&
      from.value.family === address.family &&
      from.value.address <= address.address &&
      address.address <= to.value.address
    );
  }
  return false;
}

function scalarInItem(value: string | number, item: SetItem | Literal): boolean {
  switch (item.type) {
    case "int":
    case "string":
      return item.value === value;
    case "int-range":
      return typeof value === "number" && item.from <= value && value <= item.to;
    default:
      return false;
  }
}

/** Whether one value satisfies a predicate; `undefined` (absent in the request) never does. */
function test(
  field: FieldName,
  value: string | number | undefined,
  predicate: Extract<Expr, { kind: "compare" }>["predicate"],
): boolean {
  if (value === undefined) {
    return false;
  }
  if (field === "net.dst.ip") {
    const address = parseCidr(String(value));
    if (!address.ok) {
      return false;
    }
    switch (predicate.op) {
      case "eq":
        return ipInItem(address.value, predicate.value);
      case "ne":
        return !ipInItem(address.value, predicate.value);
      case "in":
        return predicate.items.some((item) => ipInItem(address.value, item));
      default:
        return false;
    }
  }
  switch (predicate.op) {
    case "eq":
      return scalarInItem(value, predicate.value);
    case "ne":
      return !scalarInItem(value, predicate.value);
    case "in":
      return predicate.items.some((item) => scalarInItem(value, item));
    case "lt":
      return typeof value === "number" && value < predicate.value;
    case "le":
      return typeof value === "number" && value <= predicate.value;
    case "gt":
      return typeof value === "number" && value > predicate.value;
    case "ge":
      return typeof value === "number" && value >= predicate.value;
    case "matches":
      // Gateway's `matches` is an unanchored search (wirefilter calls `is_match`).
      return typeof value === "string" && compileRegex(predicate.pattern).matcher(value).find();
    case "contains":
      return typeof value === "string" && value.includes(predicate.value);
  }
}

/**
 * Evaluates an expression for a request. A test of a field the request does not carry (no
 * `port`, no `protocol`, `net.src.*`, device posture, `access.private_app`) is false, so it
 * never makes a policy match by accident; under `not` it becomes true, as any absent value
 * would in a two-valued logic. `any(…)` over no groups is false, `all(…)` is true.
 * Regexes are searched unanchored, like Gateway's `matches`.
 */
export function evaluateExpression(expr: Expr, request: PolicyRequest): boolean {
  switch (expr.kind) {
    case "and":
      return expr.operands.every((operand) => evaluateExpression(operand, request));
    case "or":
      return expr.operands.some((operand) => evaluateExpression(operand, request));
    case "xor":
      return (
        expr.operands.filter((operand) => evaluateExpression(operand, request)).length % 2 === 1
      );
    case "not":
      return !evaluateExpression(expr.operand, request);
    case "flag":
      // No boolean field (`access.private_app`) is carried by a request.
      return false;
    case "compare": {
      if (expr.quantifier === null) {
        return test(expr.field, scalarValue(expr.field, request), expr.predicate);
      }
      const values = arrayValue(expr.field, request) ?? [];
      const matches = (value: string) => test(expr.field, value, expr.predicate);
      return expr.quantifier === "any" ? values.some(matches) : values.every(matches);
    }
  }
}

/**
 * The first clause of an expression that fails for the request: the first failing operand of a
 * top-level `and`, else the whole expression. Null when the expression matches.
 */
export function firstFailingClause(expr: Expr | null, request: PolicyRequest): string | null {
  if (expr === null || evaluateExpression(expr, request)) {
    return null;
  }
  const failing =
    expr.kind === "and"
      ? expr.operands.find((operand) => !evaluateExpression(operand, request))
      : expr;
  return formatExpression(failing ?? expr);
}

/**
 * Evaluates network policies for one request: rules shared from a parent account first (they
 * come before every local rule in Gateway's order), then ascending `precedence` (ties by `id`,
 * so the order is total), disabled policies skipped, `traffic` and `identity` ANDed, the first match
 * decides; no match means allow. The trace lists each policy up to the deciding one: matched,
 * disabled, or not matched with the first failing clause (traffic is checked first, then
 * identity, then device posture).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/order-of-enforcement/
 */
export function evaluatePolicies(
  policies: readonly EvaluablePolicy[],
  request: PolicyRequest,
): PolicyEvaluation {
  const tier = (p: EvaluablePolicy) => (p.sharedFrom === undefined ? 1 : 0);
  const ordered = [...policies].sort(
    (a, b) =>
      tier(a) - tier(b) || a.precedence - b.precedence || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const trace: PolicyTraceEntry[] = [];
  for (const policy of ordered) {
    const head = {
      id: policy.id,
      name: policy.name,
      action: policy.action,
      precedence: policy.precedence,
      ...(policy.sharedFrom === undefined ? {} : { sharedFrom: policy.sharedFrom }),
    };
    if (!policy.enabled) {
      trace.push({ ...head, outcome: "disabled" });
      continue;
    }
    const trafficClause = firstFailingClause(policy.traffic, request);
    if (trafficClause !== null) {
      trace.push({
        ...head,
        outcome: "not-matched",
        reason: { part: "traffic", clause: trafficClause },
      });
      continue;
    }
    const identityClause = firstFailingClause(policy.identity, request);
    if (identityClause !== null) {
      trace.push({
        ...head,
        outcome: "not-matched",
        reason: { part: "identity", clause: identityClause },
      });
      continue;
    }
    const postureClause = firstFailingClause(policy.devicePosture ?? null, request);
    if (postureClause !== null) {
      trace.push({
        ...head,
        outcome: "not-matched",
        reason: { part: "device_posture", clause: postureClause },
      });
      continue;
    }
    trace.push({ ...head, outcome: "matched" });
    return { decision: policy.action, decidedBy: head, trace };
  }
  return { decision: "allow", decidedBy: null, trace };
}

/**
 * The conditions of a policy given as Gateway expression text. Errors: `invalid-expression`
 * from either expression.
 */
export function parseConditions(
  traffic: string,
  identity: string,
): Result<PolicyConditions, ParseError> {
  const trafficExpr = parseExpression(traffic);
  if (!trafficExpr.ok) {
    return trafficExpr;
  }
  const identityExpr = parseExpression(identity);
  if (!identityExpr.ok) {
    return identityExpr;
  }
  return ok({ traffic: trafficExpr.value, identity: identityExpr.value });
}

/**
 * The conditions of a structured policy: its rendered expressions, parsed, so a desired policy
 * is evaluated exactly as Gateway will see it. Throws `RangeError` if the rendering does not
 * parse (a broken invariant: `render` and `parse` disagree) or a destination is invalid.
 */
export function conditionsFromSelectors(
  selectors: PolicySelectorsInput & { devicePostureIds?: readonly string[] },
): PolicyConditions {
  const { traffic, identity } = renderNetworkPolicy(selectors);
  const parsed = parseConditions(traffic, identity);
  const posture = parseExpression(renderDevicePosture(selectors.devicePostureIds ?? []));
  if (!parsed.ok || !posture.ok) {
    throw new RangeError("a rendered expression does not parse");
  }
  return { ...parsed.value, devicePosture: posture.value };
}
