/**
 * The emulator's own reading of Gateway `l4` expressions (wirefilter syntax as Gateway uses it):
 * `and` `or` `xor` (`&&` `||` `^^`), `not`/`!`, parentheses (any depth), `field op value`,
 * `any(field[*] op value)` / `all(…)` for array fields, bare boolean fields. Operators by type:
 * ip `== != in`; int `== != < <= > >= in` (word forms `eq ne lt le gt ge` too); string
 * `== != in matches ~ contains`. Sets `{a b c}` are space-separated; ips take addresses, CIDRs
 * (no host bits) and `a..b` ranges, ints take integers and `a..b` ranges.
 * @see https://developers.cloudflare.com/cloudflare-one/traffic-policies/expression-syntax/
 * @see https://github.com/cloudflare/wirefilter
 */
import { parseAddress, parseNetwork } from "../cidr";
import { type ExpressionSlot, type FieldSpec, type FieldType, L4_FIELDS, slotOf } from "./fields";
import { Failure, LiteralReader } from "./literals";

/** Outcome of checking one expression. */
export type ExpressionCheck =
  | { ok: true; formatted: string }
  | { ok: false; offset: number; message: string };

type Op = "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "in" | "matches" | "contains";

const SYMBOLS: [string, Op][] = [
  ["==", "eq"],
  ["!=", "ne"],
  ["<=", "le"],
  [">=", "ge"],
  ["<", "lt"],
  [">", "gt"],
  ["~", "matches"],
];
const WORDS: Op[] = ["eq", "ne", "lt", "le", "gt", "ge", "in", "matches", "contains"];
const BY_TYPE: Record<FieldType, readonly Op[]> = {
  ip: ["eq", "ne", "in"],
  int: ["eq", "ne", "lt", "le", "gt", "ge", "in"],
  string: ["eq", "ne", "in", "matches", "contains"],
  bool: [],
};
const NAME = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const BARE = /[0-9A-Fa-f:./]+/y;
const MAX_INT = 2 ** 53 - 1;

class Reader extends LiteralReader {
  constructor(
    text: string,
    readonly slot: ExpressionSlot,
  ) {
    super(text);
  }

  space(): void {
    while (/\s/.test(this.text.charAt(this.pos))) {
      this.pos++;
    }
  }

  word(word: string): boolean {
    this.space();
    const end = this.pos + word.length;
    if (this.text.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.text.charAt(end))) {
      this.pos = end;
      return true;
    }
    return false;
  }

  symbol(symbol: string): boolean {
    this.space();
    if (this.text.startsWith(symbol, this.pos)) {
      this.pos += symbol.length;
      return true;
    }
    return false;
  }

  /**
   * The whole boolean structure, without recursion (rules nested thousands deep exist): before
   * each operand any number of `not`/`!` and `(`; after it any `)` that closes an open one,
   * then a connective or the end. Precedence does not change what is valid, so it is not built.
   */
  expression(): void {
    let open = 0;
    for (;;) {
      this.space();
      while (this.prefix()) {
        if (this.text.charAt(this.pos - 1) === "(") {
          open++;
        }
        this.space();
      }
      this.operand();
      while (open > 0 && this.symbol(")")) {
        open--;
      }
      if (this.connective()) {
        continue;
      }
      this.space();
      if (open > 0) {
        this.fail("expected `)`");
      }
      if (this.pos < this.text.length) {
        this.fail("expected `and`, `or`, `xor` or the end of the expression");
      }
      return;
    }
  }

  /** Reads one `not`, `!` or `(` before an operand. */
  prefix(): boolean {
    const bang = this.text.startsWith("!", this.pos) && !this.text.startsWith("!=", this.pos);
    return this.word("not") || (bang && this.symbol("!")) || this.symbol("(");
  }

  connective(): boolean {
    return (
      ["and", "or", "xor"].some((word) => this.word(word)) ||
      ["&&", "||", "^^"].some((symbol) => this.symbol(symbol))
    );
  }

  /** `any(…)` / `all(…)` over an array field, or a comparison. */
  operand(): void {
    for (const quantifier of ["any", "all"]) {
      const start = this.pos;
      if (this.word(quantifier) && this.symbol("(")) {
        this.comparison(true);
        if (!this.symbol(")")) {
          this.fail("expected `)`");
        }
        return;
      }
      this.pos = start;
    }
    this.comparison(false);
  }

  field(): { name: string; spec: FieldSpec; star: boolean; offset: number } {
    this.space();
    const offset = this.pos;
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.text);
    if (match === null) {
      this.fail("expected a field, `not`, `any(` or `(`");
    }
    this.pos += match[0].length;
    let name = match[0];
    const star = this.text.startsWith("[*]", this.pos);
    if (star) {
      this.pos += 3;
      // The docs' spelling `identity.groups[*].name` names `identity.groups.name[*]`.
      NAME.lastIndex = this.pos + 1;
      const rest = this.text.charAt(this.pos) === "." ? NAME.exec(this.text) : null;
      if (rest !== null) {
        name = `${name}.${rest[0]}`;
        this.pos += rest[0].length + 1;
      }
    }
    const spec = L4_FIELDS[this.slot][name];
    if (spec === undefined) {
      const other = slotOf(name);
      this.fail(
        other === undefined
          ? `unknown field \`${name}\` for network (l4) rules`
          : `field \`${name}\` belongs in \`${other}\`, not in \`${this.slot}\``,
        offset,
      );
    }
    return { name, spec, star, offset };
  }

  comparison(quantified: boolean): void {
    const { name, spec, star, offset } = this.field();
    if (spec.array && !(star && quantified)) {
      this.fail(`\`${name}\` is an array: write \`any(${name}[*] …)\``, offset);
    }
    if (!spec.array && (star || quantified)) {
      this.fail(`\`${name}\` is not an array`, offset);
    }
    if (spec.type === "bool") {
      return;
    }
    this.space();
    const opOffset = this.pos;
    const op = this.operator();
    if (!BY_TYPE[spec.type].includes(op)) {
      this.fail(
        `operator \`${this.text.slice(opOffset, this.pos)}\` does not apply to ${spec.type} field \`${name}\``,
        opOffset,
      );
    }
    this.space();
    if (op === "in") {
      this.set(spec.type);
    } else if (op === "matches") {
      this.regex();
    } else if (op === "contains") {
      this.string();
    } else if (op === "eq" || op === "ne") {
      this.value(spec.type, false);
    } else {
      this.integer();
    }
  }

  operator(): Op {
    for (const [symbol, op] of SYMBOLS) {
      if (this.text.startsWith(symbol, this.pos)) {
        this.pos += symbol.length;
        return op;
      }
    }
    for (const op of WORDS) {
      if (this.word(op)) {
        return op;
      }
    }
    return this.fail("expected an operator");
  }

  set(type: FieldType): void {
    if (this.text.startsWith("$", this.pos)) {
      this.fail("list not found (Gateway lists are not emulated)");
    }
    if (!this.symbol("{")) {
      this.fail("expected `{`");
    }
    for (;;) {
      this.space();
      if (this.symbol("}")) {
        return;
      }
      if (this.text.startsWith(",", this.pos)) {
        this.fail("set members are separated by spaces, not commas");
      }
      if (this.pos >= this.text.length) {
        this.fail("expected `}`");
      }
      this.value(type, true);
    }
  }

  /** One value of `type`; `inSet` allows CIDRs and `a..b` ranges. */
  value(type: FieldType, inSet: boolean): void {
    if (type === "string") {
      this.string();
      return;
    }
    if (type === "int" && this.text.startsWith('"', this.pos)) {
      const start = this.pos;
      if (!/^(0|[1-9][0-9]*)$/.test(this.string())) {
        this.fail("expected an integer", start);
      }
      return;
    }
    const offset = this.pos;
    BARE.lastIndex = this.pos;
    const match = BARE.exec(this.text);
    if (match === null) {
      this.fail(type === "ip" ? "expected an IP address or CIDR" : "expected an integer");
    }
    this.pos += match[0].length;
    const parts = match[0].split("..");
    if (parts.length > 2 || (parts.length === 2 && !inSet)) {
      this.fail(`\`${match[0]}\` is not a valid ${type === "ip" ? "address" : "integer"}`, offset);
    }
    const values = parts.map((part) =>
      type === "ip" ? this.ip(part, inSet && parts.length === 1, offset) : this.int(part, offset),
    );
    if (
      type === "ip" &&
      parts.length === 2 &&
      parts[0]?.includes(":") !== parts[1]?.includes(":")
    ) {
      this.fail(`\`${match[0]}\` mixes IPv4 and IPv6`, offset);
    }
    if (parts.length === 2 && (values[0] as number) > (values[1] as number)) {
      this.fail(`the range \`${match[0]}\` is empty`, offset);
    }
  }

  /** An address or (with `cidr`) a network without host bits; a number to order ranges by. */
  ip(text: string, cidr: boolean, offset: number): number | bigint {
    const slash = text.indexOf("/");
    const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
    const network = cidr || slash < 0 ? parseNetwork(text) : undefined;
    if (address === undefined || network === undefined) {
      return this.fail(
        `\`${text}\` is not a valid ${cidr ? "address or CIDR" : "address"}`,
        offset,
      );
    }
    if (network.address.toString() !== address.toString()) {
      this.fail(`\`${text}\` has host bits set`, offset);
    }
    const bytes = address.toByteArray();
    return bytes.reduce((sum, byte) => sum * 256n + BigInt(byte), BigInt(bytes.length));
  }

  int(text: string, offset: number): number {
    if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > MAX_INT) {
      this.fail(`\`${text}\` is not a non-negative integer`, offset);
    }
    return Number(text);
  }

  integer(): void {
    const offset = this.pos;
    BARE.lastIndex = this.pos;
    const match = BARE.exec(this.text);
    this.pos += match?.[0].length ?? 0;
    this.int(match?.[0] ?? "", offset);
  }
}

/** Trims, and collapses every whitespace run outside the literals to one space. */
function format(text: string, literals: [number, number][]): string {
  let out = "";
  let at = 0;
  for (const [start, end] of [...literals, [text.length, text.length] as [number, number]]) {
    out += text.slice(at, start).replace(/\s+/g, " ") + text.slice(start, end);
    at = end;
  }
  return out.trim();
}

/**
 * Checks one expression of an `l4` rule against the fields of its slot and answers the form the
 * emulator stores: trimmed, whitespace outside literals collapsed to one space, literals as sent.
 * The empty expression is valid (no condition).
 */
export function checkL4Expression(slot: ExpressionSlot, text: string): ExpressionCheck {
  if (text.trim() === "") {
    return { ok: true, formatted: "" };
  }
  const reader = new Reader(text, slot);
  try {
    reader.expression();
    return { ok: true, formatted: format(text, reader.literals) };
  } catch (error) {
    if (error instanceof Failure) {
      return { ok: false, offset: error.offset, message: error.message };
    }
    throw error;
  }
}
