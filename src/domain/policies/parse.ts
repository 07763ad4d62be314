/**
 * A parser for the subset of Cloudflare's wirefilter language that Gateway network policies use,
 * an AST that can be printed back and evaluated, and the mapping from expressions onto the
 * structured selectors when (and only when) they mean exactly the same thing.
 */
import { canonicalCidr, formatAddress, formatPrefix, parseCidr } from "../cidr/parse";
import { minimalCover } from "../cidr/ranges";
import type { NetworkProtocol, PortRange } from "../model";
import { err, ok, type Result } from "../result";
import { checkRegexSyntax } from "./email-regex";
import { isRawStringStart, literalEnd, quoteRegex, quoteString } from "./render";
import { NETWORK_PROTOCOLS, normalizeSelectors, type PolicySelectors } from "./selectors";

/** Value type of a field. */
export type FieldType = "ip" | "int" | "string" | "bool";

/**
 * The Gateway fields the parser knows, with their value type and whether they are arrays
 * (written `field[*]` inside `any(…)` / `all(…)`).
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
} as const satisfies Record<string, { type: FieldType; array: boolean }>;

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
 * A parsed expression. `and`/`or`/`xor` are n-ary (a chain `a and b and c` is one node);
 * `compare` tests one field (`quantifier` is `any`/`all` for an array field, else null);
 * `flag` is a bare boolean field such as `access.private_app`.
 */
export type Expr =
  | { kind: "and" | "or" | "xor"; operands: Expr[] }
  | { kind: "not"; operand: Expr }
  | { kind: "compare"; field: FieldName; quantifier: "any" | "all" | null; predicate: Predicate }
  | { kind: "flag"; field: FieldName };

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

class ParseFailure extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const WORD = /[A-Za-z0-9_]/;
const BARE_LITERAL = /[0-9A-Fa-f:./]+/y;
const INTEGER = /^(0|[1-9][0-9]*)$/;
const MAX_INT = 2 ** 53 - 1;

const WORD_OPERATORS: Record<string, Predicate["op"]> = {
  eq: "eq",
  ne: "ne",
  lt: "lt",
  le: "le",
  gt: "gt",
  ge: "ge",
  in: "in",
  matches: "matches",
  contains: "contains",
};
const SYMBOL_OPERATORS: [string, Predicate["op"]][] = [
  ["==", "eq"],
  ["!=", "ne"],
  ["<=", "le"],
  [">=", "ge"],
  ["<", "lt"],
  [">", "gt"],
  ["~", "matches"],
];
const OPERATORS_BY_TYPE: Record<FieldType, readonly Predicate["op"][]> = {
  ip: ["eq", "ne", "in"],
  int: ["eq", "ne", "lt", "le", "gt", "ge", "in"],
  string: ["eq", "ne", "in", "matches", "contains"],
  bool: [],
};

function isField(name: string): name is FieldName {
  return Object.hasOwn(FIELDS, name);
}

function combine(kind: "and" | "or" | "xor", operands: Expr[]): Expr {
  const flat = operands.flatMap((operand) =>
    operand.kind === kind ? operand.operands : [operand],
  );
  return flat.length === 1 && flat[0] !== undefined ? flat[0] : { kind, operands: flat };
}

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): Expr {
    const expr = this.parseOr();
    this.skipSpace();
    if (this.pos < this.text.length) {
      this.fail("expected `and`, `or`, `xor` or the end of the expression");
    }
    return expr;
  }

  private fail(message: string, offset = this.pos): never {
    throw new ParseFailure(offset, message);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text.charAt(this.pos))) {
      this.pos++;
    }
  }

  /** Consumes `word` when it stands alone here (not the start of a longer identifier). */
  private keyword(word: string): boolean {
    this.skipSpace();
    const end = this.pos + word.length;
    if (
      this.text.startsWith(word, this.pos) &&
      (end >= this.text.length || !WORD.test(this.text.charAt(end)))
    ) {
      this.pos = end;
      return true;
    }
    return false;
  }

  private symbol(symbol: string): boolean {
    this.skipSpace();
    if (this.text.startsWith(symbol, this.pos)) {
      this.pos += symbol.length;
      return true;
    }
    return false;
  }

  private expect(symbol: string): void {
    if (!this.symbol(symbol)) {
      this.fail(`expected \`${symbol}\``);
    }
  }

  private parseOr(): Expr {
    const operands = [this.parseXor()];
    while (this.keyword("or") || this.symbol("||")) {
      operands.push(this.parseXor());
    }
    return combine("or", operands);
  }

  private parseXor(): Expr {
    const operands = [this.parseAnd()];
    while (this.keyword("xor") || this.symbol("^^")) {
      operands.push(this.parseAnd());
    }
    return combine("xor", operands);
  }

  private parseAnd(): Expr {
    const operands = [this.parseUnary()];
    while (this.keyword("and") || this.symbol("&&")) {
      operands.push(this.parseUnary());
    }
    return combine("and", operands);
  }

  private parseUnary(): Expr {
    this.skipSpace();
    if (this.keyword("not")) {
      return { kind: "not", operand: this.parseUnary() };
    }
    if (this.text.startsWith("!", this.pos) && !this.text.startsWith("!=", this.pos)) {
      this.pos++;
      return { kind: "not", operand: this.parseUnary() };
    }
    if (this.symbol("(")) {
      const inner = this.parseOr();
      this.expect(")");
      return inner;
    }
    for (const quantifier of ["any", "all"] as const) {
      const start = this.pos;
      if (this.keyword(quantifier)) {
        this.skipSpace();
        if (this.text.startsWith("(", this.pos)) {
          this.pos++;
          const inner = this.parseComparison(quantifier);
          this.expect(")");
          return inner;
        }
        this.pos = start;
      }
    }
    return this.parseComparison(null);
  }

  /** `field[*]`, `identity.groups[*].name` (the docs' spelling) or a plain field. */
  private parseField(): { field: FieldName; star: boolean; offset: number } {
    this.skipSpace();
    const offset = this.pos;
    IDENT.lastIndex = this.pos;
    const match = IDENT.exec(this.text);
    if (match === null) {
      this.fail("expected a field name, `not`, `any(` or `(`");
    }
    let name = match[0];
    this.pos += name.length;
    let star = false;
    if (this.text.startsWith("[*]", this.pos)) {
      star = true;
      this.pos += 3;
      IDENT.lastIndex = this.pos + 1;
      const rest = this.text.charAt(this.pos) === "." ? IDENT.exec(this.text) : null;
      if (rest !== null) {
        name = `${name}.${rest[0]}`;
        this.pos += rest[0].length + 1;
      }
    }
    if (!isField(name)) {
      this.fail(`unknown field \`${name}\``, offset);
    }
    return { field: name, star, offset };
  }

  private parseComparison(quantifier: "any" | "all" | null): Expr {
    const { field, star, offset } = this.parseField();
    const { type, array } = FIELDS[field];
    if (array && (!star || quantifier === null)) {
      this.fail(`\`${field}\` is an array: write \`any(${field}[*] …)\``, offset);
    }
    if (!array && (star || quantifier !== null)) {
      this.fail(`\`${field}\` is not an array`, offset);
    }
    if (type === "bool") {
      return { kind: "flag", field };
    }
    this.skipSpace();
    const opOffset = this.pos;
    const op = this.parseOperator();
    if (!OPERATORS_BY_TYPE[type].includes(op)) {
      this.fail(`operator \`${op}\` does not apply to ${type} field \`${field}\``, opOffset);
    }
    return { kind: "compare", field, quantifier, predicate: this.parsePredicate(op, type) };
  }

  private parseOperator(): Predicate["op"] {
    for (const [symbol, op] of SYMBOL_OPERATORS) {
      if (this.text.startsWith(symbol, this.pos)) {
        this.pos += symbol.length;
        return op;
      }
    }
    for (const [word, op] of Object.entries(WORD_OPERATORS)) {
      if (this.keyword(word)) {
        return op;
      }
    }
    if (this.keyword("wildcard") || this.keyword("strict")) {
      this.fail("the wildcard operators are not supported");
    }
    return this.fail("expected an operator (==, !=, <, <=, >, >=, in, matches, contains)");
  }

  private parsePredicate(op: Predicate["op"], type: FieldType): Predicate {
    this.skipSpace();
    switch (op) {
      case "eq":
      case "ne":
        return { op, value: this.parseLiteral(type) };
      case "lt":
      case "le":
      case "gt":
      case "ge":
        return { op, value: this.parseInteger() };
      case "in":
        return { op, items: this.parseSet(type) };
      case "matches":
        return { op, pattern: this.parseRegex() };
      case "contains":
        return { op, value: this.parseString() };
    }
  }

  private parseSet(type: FieldType): SetItem[] {
    if (this.text.startsWith("$", this.pos)) {
      this.fail("Gateway lists (`in $<list id>`) are not supported");
    }
    this.expect("{");
    const items: SetItem[] = [];
    for (;;) {
      this.skipSpace();
      if (this.symbol("}")) {
        return items;
      }
      if (this.text.startsWith(",", this.pos)) {
        this.fail("set members are separated by spaces, not commas");
      }
      if (this.pos >= this.text.length) {
        this.fail("expected `}`");
      }
      items.push(this.parseSetItem(type));
    }
  }

  private parseSetItem(type: FieldType): SetItem {
    if (type === "string") {
      return { type: "string", value: this.parseString() };
    }
    const offset = this.pos;
    const text = this.parseBare(type);
    const [fromText, toText, extra] = text.split("..");
    if (toText === undefined || fromText === undefined) {
      return type === "ip" ? this.ipItem(text, offset) : this.intItem(text, offset);
    }
    if (extra !== undefined) {
      this.fail(`\`${text}\` is not a range`, offset);
    }
    if (type === "int") {
      const from = this.intValue(fromText, offset);
      const to = this.intValue(toText, offset);
      if (from > to) {
        this.fail(`the range ${text} is empty`, offset);
      }
      return { type: "int-range", from, to };
    }
    const from = parseCidr(fromText);
    const to = parseCidr(toText);
    if (
      !from.ok ||
      !to.ok ||
      fromText.includes("/") ||
      toText.includes("/") ||
      from.value.family !== to.value.family ||
      from.value.address > to.value.address
    ) {
      return this.fail(`\`${text}\` is not a range of two addresses of one family`, offset);
    }
    return {
      type: "ip-range",
      from: formatAddress(from.value.family, from.value.address),
      to: formatAddress(to.value.family, to.value.address),
    };
  }

  private parseLiteral(type: FieldType): Literal {
    if (type === "string") {
      return { type: "string", value: this.parseString() };
    }
    const offset = this.pos;
    const text = this.parseBare(type);
    if (type === "ip") {
      if (text.includes("/")) {
        this.fail("`==` and `!=` take an address; use `in {…}` for a network", offset);
      }
      return this.ipItem(text, offset);
    }
    return this.intItem(text, offset);
  }

  /**
   * The text of a bare IP, CIDR, integer or range. An int field also takes a quoted decimal
   * (`"2222"`), a form Cloudflare's docs show for ports.
   */
  private parseBare(type: FieldType): string {
    if (type === "int" && this.text.startsWith('"', this.pos)) {
      return this.parseString();
    }
    BARE_LITERAL.lastIndex = this.pos;
    const match = BARE_LITERAL.exec(this.text);
    if (match === null) {
      this.fail(type === "ip" ? "expected an IP address or CIDR" : "expected an integer");
    }
    this.pos += match[0].length;
    return match[0];
  }

  private ipItem(text: string, offset: number): Literal {
    const parsed = canonicalCidr(text);
    if (!parsed.ok) {
      const reason =
        parsed.error.code === "host-bits-set"
          ? `host bits set; the network is ${parsed.error.canonical}`
          : parsed.error.reason;
      return this.fail(`\`${text}\` is not a valid address or CIDR: ${reason}`, offset);
    }
    return { type: "ip", cidr: parsed.value };
  }

  private intValue(text: string, offset: number): number {
    const value = Number(text);
    if (!INTEGER.test(text) || value > MAX_INT) {
      this.fail(`\`${text}\` is not a non-negative integer`, offset);
    }
    return value;
  }

  private intItem(text: string, offset: number): Literal {
    return { type: "int", value: this.intValue(text, offset) };
  }

  private parseInteger(): number {
    const offset = this.pos;
    return this.intValue(this.parseBare("int"), offset);
  }

  /**
   * A quoted string (escapes `\"`, `\\`, `\xHH`, `\NNN` octal, as wirefilter) or a raw string
   * `r"…"` / `r#"…"#`. Bytes from `\x`/octal escapes above 0x7f are read as Latin-1 code points.
   */
  private parseString(): string {
    const start = this.pos;
    if (isRawStringStart(this.text, start)) {
      return this.parseRaw();
    }
    if (this.text.charAt(start) !== '"') {
      this.fail('expected a string in double quotes ("…")');
    }
    let value = "";
    let i = start + 1;
    for (;;) {
      if (i >= this.text.length) {
        this.fail("missing closing quote", start);
      }
      const c = this.text.charAt(i);
      if (c === '"') {
        this.pos = i + 1;
        return value;
      }
      if (c !== "\\") {
        value += c;
        i++;
        continue;
      }
      const next = this.text.charAt(i + 1);
      if (next === '"' || next === "\\") {
        value += next;
        i += 2;
      } else if (next === "x" && /^[0-9A-Fa-f]{2}$/.test(this.text.slice(i + 2, i + 4))) {
        value += String.fromCharCode(Number.parseInt(this.text.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (/^[0-7]{3}$/.test(this.text.slice(i + 1, i + 4))) {
        const code = Number.parseInt(this.text.slice(i + 1, i + 4), 8);
        if (code > 255) {
          this.fail("an octal escape must be at most \\377", i);
        }
        value += String.fromCharCode(code);
        i += 4;
      } else {
        this.fail(`invalid escape \`\\${next}\` (use \\\\, \\", \\xHH or \\NNN)`, i);
      }
    }
  }

  private parseRaw(): string {
    const start = this.pos;
    const end = literalEnd(this.text, start, false);
    let hashes = 0;
    while (this.text.charAt(start + 1 + hashes) === "#") {
      hashes++;
    }
    const closing = `"${"#".repeat(hashes)}`;
    if (!this.text.startsWith(closing, end - closing.length) || end - start < 3 + 2 * hashes) {
      this.fail("missing closing quote of the raw string", start);
    }
    this.pos = end;
    return this.text.slice(start + 2 + hashes, end - closing.length);
  }

  /** A regex literal: backslash escapes reach the regex engine as written; `\"` is a quote. */
  private parseRegex(): string {
    const start = this.pos;
    let pattern: string;
    if (isRawStringStart(this.text, start)) {
      pattern = this.parseRaw();
    } else {
      if (this.text.charAt(start) !== '"') {
        this.fail('expected a regex in double quotes ("…")');
      }
      pattern = "";
      let inClass = false;
      let i = start + 1;
      for (;;) {
        if (i >= this.text.length) {
          this.fail("missing closing quote", start);
        }
        const c = this.text.charAt(i);
        if (c === "\\") {
          if (i + 1 >= this.text.length) {
            this.fail("missing closing quote", start);
          }
          const next = this.text.charAt(i + 1);
          pattern += inClass || next !== '"' ? c + next : next;
          i += 2;
          continue;
        }
        if (c === '"' && !inClass) {
          break;
        }
        if (c === "[" && !inClass) {
          inClass = true;
        } else if (c === "]" && inClass) {
          inClass = false;
        }
        pattern += c;
        i++;
      }
      this.pos = i + 1;
    }
    const syntax = checkRegexSyntax(pattern);
    if (!syntax.ok) {
      this.fail(`invalid regex: ${syntax.error.message}`, start);
    }
    return pattern;
  }
}

/**
 * Parses a Gateway network policy expression (`traffic`, `identity` or `device_posture`).
 * The empty (or all-whitespace) expression is `ok(null)`: no condition, matches everything.
 *
 * Grammar (wirefilter's, restricted to the fields in `FIELDS`): `or`/`||` binds loosest, then
 * `xor`/`^^`, then `and`/`&&`; `not`/`!` applies to the term after it; parentheses group.
 * A term is `field op value`, `any(field[*] op value)` / `all(…)` for array fields, or a bare
 * boolean field. Operators: `==`/`eq`, `!=`/`ne`, `<`/`lt`, `<=`/`le`, `>`/`gt`, `>=`/`ge`
 * (integers), `in {…}` (space-separated set; IPs/CIDRs/integers bare, ranges `a..b` inclusive),
 * `matches`/`~` (regex literal, checked with `checkRegexSyntax`), `contains`. Strings are
 * double-quoted with `\"`, `\\`, `\xHH`, `\NNN` escapes, or raw (`r#"…"#`).
 *
 * Not supported (an `invalid-expression` error saying so): Gateway lists `in $id`, the wildcard
 * operators, functions other than `any`/`all`, fields outside `FIELDS`.
 * @see https://developers.cloudflare.com/ruleset-engine/rules-language/operators/
 * @see https://github.com/cloudflare/wirefilter
 */
export function parseExpression(expression: string): Result<Expr | null, ParseError> {
  if (expression.trim() === "") {
    return ok(null);
  }
  try {
    return ok(new Parser(expression).parse());
  } catch (error) {
    if (error instanceof ParseFailure) {
      return err({
        code: "invalid-expression",
        expression,
        offset: error.offset,
        message: error.message,
      });
    }
    throw error;
  }
}

const OPERATOR_TEXT: Record<Predicate["op"], string> = {
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
export function formatExpression(expr: Expr): string {
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
  const trafficExpr = parseExpression(traffic);
  if (!trafficExpr.ok) {
    return trafficExpr;
  }
  const identityExpr = parseExpression(identity);
  if (!identityExpr.ok) {
    return identityExpr;
  }
  const trafficPart = trafficSelectors(trafficExpr.value);
  if (!trafficPart.ok) {
    return trafficPart;
  }
  const identityPart = identitySelectors(identityExpr.value);
  if (!identityPart.ok) {
    return identityPart;
  }
  return ok(normalizeSelectors({ ...trafficPart.value, ...identityPart.value }));
}
