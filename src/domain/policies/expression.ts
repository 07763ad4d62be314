import { quoteRegex, quoteString } from "./render";

/** Value type of a field. */
export type FieldType = "ip" | "int" | "string" | "bool";

/** How the parser reads one field. Gateway's fields set only `type` and `array`. */
export interface FieldSpec {
  /** The type of the field's values. */
  type: FieldType;
  /** Whether the field is an array, written `field[*]` inside `any(…)` / `all(…)`. */
  array: boolean;
  /** The operators the field takes when fewer than its type allows. */
  operators?: readonly Predicate["op"][];
  /** The only values a string field holds (compared exactly, so case matters). */
  values?: readonly string[];
  /** Set when expressions may not use the field although it exists: the error message. */
  refused?: string;
}

/** The fields an expression is parsed against, by name (wirefilter calls this a scheme). */
export type FieldTable<F extends string = string> = Readonly<Record<F, FieldSpec>>;

/**
 * The Gateway fields the parser knows by default, with their value type and whether they are
 * arrays (written `field[*]` inside `any(…)` / `all(…)`).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/network-policies/#selectors
 */
export const FIELDS = {
  "net.dst.ip": { type: "ip", array: false },
  "net.src.ip": { type: "ip", array: false },
  "net.dst.port": { type: "int", array: false },
  "net.src.port": { type: "int", array: false },
  "net.protocol": { type: "string", array: false },
  "net.vnet_id": { type: "string", array: false },
  "identity.email": { type: "string", array: false },
  "identity.name": { type: "string", array: false },
  "identity.groups.name": { type: "string", array: true },
  "identity.groups.id": { type: "string", array: true },
  "identity.groups.email": { type: "string", array: true },
  "device_posture.checks.passed": { type: "string", array: true },
  "access.private_app": { type: "bool", array: false },
} as const satisfies FieldTable;

/** A field name from `FIELDS`. */
export type FieldName = keyof typeof FIELDS;

/**
 * A single literal: an IP address as a canonical host CIDR (`10.0.0.1/32`), an integer, or a
 * string (escapes already resolved).
 */
export type Literal =
  | { type: "ip"; cidr: string }
  | { type: "int"; value: number }
  | { type: "string"; value: string };

/**
 * A member of a set literal `{…}`: a literal, a canonical CIDR (`{type: "ip"}` with any prefix
 * length), or an inclusive range `a..b` of addresses (canonical, same family) or integers.
 */
export type SetItem =
  | Literal
  | { type: "ip-range"; from: string; to: string }
  | { type: "int-range"; from: number; to: number };

/** What a comparison tests its field against. Comparison operators take integers only. */
export type Predicate =
  | { op: "eq" | "ne"; value: Literal }
  | { op: "lt" | "le" | "gt" | "ge"; value: number }
  | { op: "in"; items: SetItem[] }
  | { op: "matches"; pattern: string }
  | { op: "contains"; value: string };

/**
 * A parsed expression over the fields `F` of its field table (Gateway's by default).
 * `and`/`or`/`xor` are n-ary (a chain `a and b and c` is one node); `compare` tests one field
 * (`quantifier` is `any`/`all` for an array field, else null); `flag` is a bare boolean field
 * such as `access.private_app`.
 */
export type Expr<F extends string = FieldName> =
  | { kind: "and" | "or" | "xor"; operands: Expr<F>[] }
  | { kind: "not"; operand: Expr<F> }
  | { kind: "compare"; field: F; quantifier: "any" | "all" | null; predicate: Predicate }
  | { kind: "flag"; field: F };

/**
 * Why an expression does not parse: `offset` is the UTF-16 index (0-based) in `expression` where
 * the parser stopped, `message` says what it expected.
 */
export interface ParseError {
  code: "invalid-expression";
  expression: string;
  offset: number;
  message: string;
}

/** How each operator is printed. */
export const OPERATOR_TEXT: Record<Predicate["op"], string> = {
  eq: "==",
  ne: "!=",
  lt: "<",
  le: "<=",
  gt: ">",
  ge: ">=",
  in: "in",
  matches: "matches",
  contains: "contains",
};

const PRECEDENCE: Record<Expr["kind"], number> = {
  or: 1,
  xor: 2,
  and: 3,
  not: 4,
  compare: 4,
  flag: 4,
};

function formatIp(cidr: string): string {
  const [address, length] = cidr.split("/");
  const host = address?.includes(":") ? "128" : "32";
  return length === host ? (address ?? cidr) : cidr;
}

function formatItem(item: SetItem): string {
  switch (item.type) {
    case "ip":
      return formatIp(item.cidr);
    case "int":
      return `${item.value}`;
    case "string":
      return quoteString(item.value);
    case "ip-range":
    case "int-range":
      return `${item.from}..${item.to}`;
  }
}

function formatPredicate(predicate: Predicate): string {
  const op = OPERATOR_TEXT[predicate.op];
  switch (predicate.op) {
    case "eq":
    case "ne":
      return `${op} ${formatItem(predicate.value)}`;
    case "lt":
    case "le":
    case "gt":
    case "ge":
      return `${op} ${predicate.value}`;
    case "in":
      return `${op} {${predicate.items.map(formatItem).join(" ")}}`;
    case "matches":
      return `${op} ${quoteRegex(predicate.pattern)}`;
    case "contains":
      return `${op} ${quoteString(predicate.value)}`;
  }
}

/**
 * Prints an expression in canonical wirefilter text: word operators (`and`, `or`, `not`),
 * single spaces, host CIDRs as bare addresses, parentheses only where precedence needs them and
 * always after `not` (`not (…)`). Parsing the printed text gives the same AST back. The
 * parentheses `renderNetworkPolicy` puts around a multi-part identity are not needed on their
 * own and are not printed.
 */
export function formatExpression(expr: Expr<string>): string {
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      return expr.operands
        .map((operand) => {
          const text = formatExpression(operand);
          return PRECEDENCE[operand.kind] <= PRECEDENCE[expr.kind] ? `(${text})` : text;
        })
        .join(` ${expr.kind} `);
    case "not":
      return `not (${formatExpression(expr.operand)})`;
    case "flag":
      return expr.field;
    case "compare": {
      const text = `${expr.field}${expr.quantifier === null ? "" : "[*]"} ${formatPredicate(expr.predicate)}`;
      return expr.quantifier === null ? text : `${expr.quantifier}(${text})`;
    }
  }
}
