/**
 * A parser for the subset of Cloudflare's wirefilter language that Gateway network policies and
 * device profile matches use, against a table of fields (the AST is in expression.ts).
 */
import { canonicalCidr, formatAddress, parseCidr } from "../cidr/parse";
import { err, ok, type Result } from "../result";
import { checkRegexSyntax } from "./email-regex";
import type {
  Expr,
  FieldSpec,
  FieldTable,
  FieldType,
  Literal,
  ParseError,
  Predicate,
  SetItem,
} from "./expression";
import { FIELDS, OPERATOR_TEXT } from "./expression";
import { isRawStringStart, literalEnd, quoteString } from "./render";

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

/** Operators as an error message lists them: `== or in`. */
function operatorList(ops: readonly Predicate["op"][]): string {
  return ops.map((op) => OPERATOR_TEXT[op]).join(" or ");
}

function combine(kind: "and" | "or" | "xor", operands: Expr<string>[]): Expr<string> {
  const flat = operands.flatMap((operand) =>
    operand.kind === kind ? operand.operands : [operand],
  );
  return flat.length === 1 && flat[0] !== undefined ? flat[0] : { kind, operands: flat };
}

/**
 * How deep parentheses and `not` may nest, a `not` counting two levels since it prints as
 * `not (…)`: so whatever parses, prints as text that parses again. Far beyond any rule a person
 * writes, and well inside a Worker's call stack: the parser, printer and evaluator all recurse
 * once per level, and rules made in the dashboard reach them too.
 */
export const MAX_EXPRESSION_NESTING = 64;

const NESTING_MESSAGE = `nested more than ${MAX_EXPRESSION_NESTING} levels deep (each \`not\` counts two)`;

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly fields: FieldTable,
  ) {}

  parse(): Expr<string> {
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

  private parseOr(): Expr<string> {
    const operands = [this.parseXor()];
    while (this.keyword("or") || this.symbol("||")) {
      operands.push(this.parseXor());
    }
    return combine("or", operands);
  }

  private parseXor(): Expr<string> {
    const operands = [this.parseAnd()];
    while (this.keyword("xor") || this.symbol("^^")) {
      operands.push(this.parseAnd());
    }
    return combine("xor", operands);
  }

  private parseAnd(): Expr<string> {
    const operands = [this.parseUnary()];
    while (this.keyword("and") || this.symbol("&&")) {
      operands.push(this.parseUnary());
    }
    return combine("and", operands);
  }

  /**
   * Runs `read` `levels` nesting levels deeper; past `MAX_EXPRESSION_NESTING` fails at `start`,
   * where the level opens.
   */
  private nested<T>(start: number, levels: 1 | 2, read: () => T): T {
    if (this.depth + levels > MAX_EXPRESSION_NESTING) {
      this.fail(NESTING_MESSAGE, start);
    }
    this.depth += levels;
    try {
      return read();
    } finally {
      this.depth -= levels;
    }
  }

  private parseUnary(): Expr<string> {
    this.skipSpace();
    const start = this.pos;
    if (this.keyword("not")) {
      return { kind: "not", operand: this.nested(start, 2, () => this.parseUnary()) };
    }
    if (this.text.startsWith("!", this.pos) && !this.text.startsWith("!=", this.pos)) {
      this.pos++;
      return { kind: "not", operand: this.nested(start, 2, () => this.parseUnary()) };
    }
    if (this.symbol("(")) {
      const inner = this.nested(start, 1, () => this.parseOr());
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
  private parseField(): { field: string; spec: FieldSpec; star: boolean; offset: number } {
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
    const spec = Object.hasOwn(this.fields, name) ? this.fields[name] : undefined;
    if (spec === undefined) {
      this.fail(`unknown field \`${name}\``, offset);
    }
    if (spec.refused !== undefined) {
      this.fail(spec.refused, offset);
    }
    return { field: name, spec, star, offset };
  }

  private parseComparison(quantifier: "any" | "all" | null): Expr<string> {
    const { field, spec, star, offset } = this.parseField();
    const { type, array } = spec;
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
    const op = this.parseOperator(spec.operators);
    if (spec.operators !== undefined && !spec.operators.includes(op)) {
      this.fail(
        `operator \`${this.text.slice(opOffset, this.pos)}\` does not apply to \`${field}\` (use ${operatorList(spec.operators)})`,
        opOffset,
      );
    }
    if (!OPERATORS_BY_TYPE[type].includes(op)) {
      this.fail(`operator \`${op}\` does not apply to ${type} field \`${field}\``, opOffset);
    }
    return { kind: "compare", field, quantifier, predicate: this.parsePredicate(op, field, spec) };
  }

  /** An operator; `restricted` (a field's own operators) narrows what the error lists. */
  private parseOperator(restricted?: readonly Predicate["op"][]): Predicate["op"] {
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
    return this.fail(
      restricted === undefined
        ? "expected an operator (==, !=, <, <=, >, >=, in, matches, contains)"
        : `expected an operator (${operatorList(restricted)})`,
    );
  }

  private parsePredicate(op: Predicate["op"], field: string, spec: FieldSpec): Predicate {
    this.skipSpace();
    switch (op) {
      case "eq":
      case "ne":
        return { op, value: this.parseLiteral(field, spec) };
      case "lt":
      case "le":
      case "gt":
      case "ge":
        return { op, value: this.parseInteger() };
      case "in":
        return { op, items: this.parseSet(field, spec) };
      case "matches":
        return { op, pattern: this.parseRegex() };
      case "contains":
        return { op, value: this.parseString() };
    }
  }

  private parseSet(field: string, spec: FieldSpec): SetItem[] {
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
      items.push(this.parseSetItem(field, spec));
    }
  }

  private parseSetItem(field: string, spec: FieldSpec): SetItem {
    const { type } = spec;
    if (type === "string") {
      return { type: "string", value: this.parseFieldString(field, spec) };
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

  private parseLiteral(field: string, spec: FieldSpec): Literal {
    const { type } = spec;
    if (type === "string") {
      return { type: "string", value: this.parseFieldString(field, spec) };
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

  /** A string value of `field`, one of its `values` when the table fixes them. */
  private parseFieldString(field: string, spec: FieldSpec): string {
    const offset = this.pos;
    const value = this.parseString();
    if (spec.values !== undefined && !spec.values.includes(value)) {
      this.fail(
        `${quoteString(value)} is not a value of \`${field}\` (use ${spec.values.map(quoteString).join(", ")})`,
        offset,
      );
    }
    return value;
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
 * Parses a wirefilter expression against `fields`: by default Gateway's (`FIELDS`), for a
 * network policy's `traffic`, `identity` or `device_posture`. The empty (or all-whitespace)
 * expression is `ok(null)`: no condition, matches everything.
 *
 * Grammar (wirefilter's, restricted to the fields of the table): `or`/`||` binds loosest, then
 * `xor`/`^^`, then `and`/`&&`; `not`/`!` applies to the term after it; parentheses group.
 * A term is `field op value`, `any(field[*] op value)` / `all(…)` for array fields, or a bare
 * boolean field. Operators: `==`/`eq`, `!=`/`ne`, `<`/`lt`, `<=`/`le`, `>`/`gt`, `>=`/`ge`
 * (integers), `in {…}` (space-separated set; IPs/CIDRs/integers bare, ranges `a..b` inclusive),
 * `matches`/`~` (regex literal, checked with `checkRegexSyntax`), `contains`. Strings are
 * double-quoted with `\"`, `\\`, `\xHH`, `\NNN` escapes, or raw (`r#"…"#`). A field's own
 * `operators`, `values` and `refused` (see `FieldSpec`) narrow this further.
 *
 * Not supported (an `invalid-expression` error saying so): Gateway lists `in $id`, the wildcard
 * operators, functions other than `any`/`all`, fields outside the table, nesting deeper than
 * `MAX_EXPRESSION_NESTING`.
 * @see https://developers.cloudflare.com/ruleset-engine/rules-language/operators/
 * @see https://github.com/cloudflare/wirefilter
 */
export function parseExpression(expression: string): Result<Expr | null, ParseError>;
export function parseExpression<F extends string>(
  expression: string,
  fields: FieldTable<F>,
): Result<Expr<F> | null, ParseError>;
export function parseExpression(
  expression: string,
  fields: FieldTable = FIELDS,
): Result<Expr<string> | null, ParseError> {
  if (expression.trim() === "") {
    return ok(null);
  }
  try {
    return ok(new Parser(expression, fields).parse());
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
