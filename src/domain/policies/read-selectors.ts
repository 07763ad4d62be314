/**
 * The mapping from parsed expressions onto the structured selectors, when (and only when) they
 * mean exactly the same thing.
 */
import { formatPrefix, parseCidr } from "../cidr/parse";
import { minimalCover } from "../cidr/ranges";
import type { NetworkProtocol, PortRange } from "../model";
import { err, ok, type Result } from "../result";
import { parseConditions } from "./evaluate";
import { type Expr, formatExpression, type ParseError, type SetItem } from "./expression";
import { NETWORK_PROTOCOLS, normalizeSelectors, type PolicySelectors } from "./selectors";

/**
 * A valid expression that the structured selectors cannot say exactly (a `not`, an unknown
 * field for that part, an upper-case email, two regexes…). It can still be evaluated.
 */
export interface NotStructuredError {
  code: "not-structured";
  /** Which of the two expressions. */
  part: "traffic" | "identity";
  reason: string;
}

type Structured<T> = Result<T, NotStructuredError>;

function notStructured(part: "traffic" | "identity", reason: string): Structured<never> {
  return err({ code: "not-structured", part, reason });
}

/** Members of an `in` set or the value of `==`, for a structured field; null otherwise. */
function memberItems(expr: Expr): SetItem[] | null {
  if (expr.kind !== "compare") {
    return null;
  }
  if (expr.predicate.op === "in") {
    return expr.predicate.items;
  }
  return expr.predicate.op === "eq" ? [expr.predicate.value] : null;
}

function destinationsOf(items: SetItem[]): string[] {
  return items.flatMap((item) => {
    if (item.type === "ip") {
      return [item.cidr];
    }
    if (item.type !== "ip-range") {
      return [];
    }
    // A range is exactly the union of its minimal CIDR cover (RFC 4632 §3.1).
    const from = parseCidr(item.from);
    const to = parseCidr(item.to);
    if (!from.ok || !to.ok) {
      return [];
    }
    return minimalCover([
      { family: from.value.family, first: from.value.address, last: to.value.address },
    ]).map(formatPrefix);
  });
}

function portsOf(items: SetItem[]): PortRange[] | null {
  const ports: PortRange[] = [];
  for (const item of items) {
    const range =
      item.type === "int"
        ? { from: item.value, to: item.value }
        : item.type === "int-range"
          ? { from: item.from, to: item.to }
          : null;
    if (range === null || range.from < 1 || range.to > 65535) {
      return null;
    }
    ports.push(range);
  }
  return ports;
}

function trafficSelectors(
  expr: Expr | null,
): Structured<Pick<PolicySelectors, "destinations" | "ports" | "protocols">> {
  const selectors = {
    destinations: [] as string[],
    ports: [] as PortRange[],
    protocols: [] as NetworkProtocol[],
  };
  const seen = new Set<string>();
  const clauses = expr === null ? [] : expr.kind === "and" ? expr.operands : [expr];
  for (const clause of clauses) {
    const items = memberItems(clause);
    if (clause.kind !== "compare" || items === null) {
      return notStructured("traffic", `\`${formatExpression(clause)}\` is not a set membership`);
    }
    if (seen.has(clause.field)) {
      return notStructured("traffic", `\`${clause.field}\` is tested more than once`);
    }
    seen.add(clause.field);
    if (items.length === 0) {
      return notStructured("traffic", `\`${clause.field} in {}\` matches nothing`);
    }
    if (clause.field === "net.dst.ip") {
      selectors.destinations = destinationsOf(items);
    } else if (clause.field === "net.dst.port") {
      const ports = portsOf(items);
      if (ports === null) {
        return notStructured("traffic", "a port outside 1..65535");
      }
      selectors.ports = ports;
    } else if (clause.field === "net.protocol") {
      const protocols = items.map((item) => (item.type === "string" ? item.value : ""));
      const unknown = protocols.find((p) => !(NETWORK_PROTOCOLS as string[]).includes(p));
      if (unknown !== undefined) {
        return notStructured(
          "traffic",
          `protocol ${JSON.stringify(unknown)} is not tcp, udp or icmp`,
        );
      }
      selectors.protocols = protocols as NetworkProtocol[];
    } else {
      return notStructured("traffic", `\`${clause.field}\` has no structured selector`);
    }
  }
  return ok(selectors);
}

function identitySelectors(
  expr: Expr | null,
): Structured<Pick<PolicySelectors, "emails" | "emailRegex" | "groups">> {
  const selectors = {
    emails: [] as string[],
    emailRegex: null as string | null,
    groups: [] as string[],
  };
  const clauses = expr === null ? [] : expr.kind === "or" ? expr.operands : [expr];
  for (const clause of clauses) {
    if (clause.kind !== "compare") {
      return notStructured(
        "identity",
        `\`${formatExpression(clause)}\` is not an email or group test`,
      );
    }
    const { field, predicate } = clause;
    if (field === "identity.email" && predicate.op === "matches") {
      if (selectors.emailRegex !== null) {
        return notStructured("identity", "more than one email regex");
      }
      selectors.emailRegex = predicate.pattern;
      continue;
    }
    const items = memberItems(clause);
    const values = items?.map((item) => (item.type === "string" ? item.value : ""));
    if (values === undefined || values.length === 0) {
      return notStructured(
        "identity",
        `\`${formatExpression(clause)}\` is not an email or group test`,
      );
    }
    if (field === "identity.email") {
      const mixedCase = values.find((email) => email !== email.toLowerCase());
      if (mixedCase !== undefined) {
        return notStructured("identity", `email ${JSON.stringify(mixedCase)} is not lower case`);
      }
      selectors.emails.push(...values);
    } else if (field === "identity.groups.name" && clause.quantifier === "any") {
      selectors.groups.push(...values);
    } else {
      return notStructured(
        "identity",
        `\`${formatExpression(clause)}\` has no structured selector`,
      );
    }
  }
  return ok(selectors);
}

/**
 * Reads a policy's `traffic` and `identity` expressions back into structured selectors, when the
 * selectors say exactly what the expressions say: `traffic` an `and` of at most one test each of
 * `net.dst.ip`, `net.dst.port`, `net.protocol` (`in {…}` or `==`; IP ranges become their minimal
 * CIDR cover), `identity` an `or` of `identity.email in {…}`/`==` (lower case),
 * at most one `identity.email matches "…"`, and `any(identity.groups.name[*] in {…})`/`==`.
 * Empty expressions are empty selectors. The result is in `normalizeSelectors` form, so
 * `toSelectors(renderNetworkPolicy(s))` equals `normalizeSelectors(s)`.
 *
 * Errors: `invalid-expression` (either text does not parse), `not-structured` (it parses, but
 * only the AST can represent it; evaluate that instead).
 */
export function toSelectors(
  traffic: string,
  identity: string,
): Result<PolicySelectors, ParseError | NotStructuredError> {
  const conditions = parseConditions(traffic, identity);
  if (!conditions.ok) {
    return conditions;
  }
  const trafficPart = trafficSelectors(conditions.value.traffic);
  if (!trafficPart.ok) {
    return trafficPart;
  }
  const identityPart = identitySelectors(conditions.value.identity);
  if (!identityPart.ok) {
    return identityPart;
  }
  return ok(normalizeSelectors({ ...trafficPart.value, ...identityPart.value }));
}
