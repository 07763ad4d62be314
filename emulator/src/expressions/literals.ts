/**
 * Reading the literals of a Gateway expression (strings, raw strings, regexes) for the emulator's
 * expression parser, and the failure it throws.
 * @see https://github.com/cloudflare/wirefilter
 */

/** Where (UTF-16 offset) and why an expression does not parse. */
export class Failure extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** A cursor over an expression that reads literals and remembers where each one is. */
export class LiteralReader {
  pos = 0;
  /** `[start, end)` of every string or regex literal, kept byte for byte when formatting. */
  readonly literals: [number, number][] = [];

  constructor(readonly text: string) {}

  fail(message: string, offset = this.pos): never {
    throw new Failure(offset, message);
  }

  /** A quoted string (`\"`, `\\`, `\xHH`, `\NNN`) or a raw `r#"…"#` string; its value. */
  string(): string {
    const start = this.pos;
    if (this.raw()) {
      return this.text.slice(start, this.pos);
    }
    if (this.text.charAt(start) !== '"') {
      this.fail('expected a string in double quotes ("…")');
    }
    let value = "";
    for (let i = start + 1; i < this.text.length; ) {
      const c = this.text.charAt(i);
      if (c === '"') {
        this.pos = i + 1;
        this.literals.push([start, this.pos]);
        return value;
      }
      if (c !== "\\") {
        value += c;
        i++;
        continue;
      }
      const rest = this.text.slice(i + 1, i + 4);
      if (rest.startsWith('"') || rest.startsWith("\\")) {
        value += rest.charAt(0);
        i += 2;
      } else if (/^x[0-9A-Fa-f]{2}$/.test(rest)) {
        value += String.fromCharCode(Number.parseInt(rest.slice(1), 16));
        i += 4;
      } else if (/^[0-7]{3}$/.test(rest) && Number.parseInt(rest, 8) <= 255) {
        value += String.fromCharCode(Number.parseInt(rest, 8));
        i += 4;
      } else {
        this.fail(`invalid escape \`\\${rest.charAt(0)}\``, i);
      }
    }
    return this.fail("missing closing quote", start);
  }

  /** Reads a raw string `r"…"` / `r#"…"#` when one starts here. */
  raw(): boolean {
    const start = this.pos;
    const open = /^r(#*)"/.exec(this.text.slice(start));
    if (open === null) {
      return false;
    }
    const close = `"${open[1]}`;
    const end = this.text.indexOf(close, start + open[0].length);
    if (end < 0) {
      this.fail("missing closing quote of the raw string", start);
    }
    this.pos = end + close.length;
    this.literals.push([start, this.pos]);
    return true;
  }

  /** A regex literal: escapes reach the regex engine as written; `"` inside `[…]` is literal. */
  regex(): void {
    const start = this.pos;
    let pattern = "";
    if (this.raw()) {
      pattern = this.text.slice(start, this.pos).replace(/^r#*"|"#*$/g, "");
    } else {
      if (this.text.charAt(start) !== '"') {
        this.fail('expected a regex in double quotes ("…")');
      }
      let inClass = false;
      let i = start + 1;
      for (; ; i++) {
        const c = this.text.charAt(i);
        if (i >= this.text.length) {
          this.fail("missing closing quote", start);
        }
        if (c === "\\") {
          pattern +=
            this.text.charAt(i + 1) === '"' && !inClass ? '"' : c + this.text.charAt(i + 1);
          i++;
          continue;
        }
        if (c === '"' && !inClass) {
          break;
        }
        inClass = c === "[" ? true : c === "]" ? false : inClass;
        pattern += c;
      }
      this.pos = i + 1;
      this.literals.push([start, this.pos]);
    }
    const problem = regexProblem(pattern);
    if (problem !== undefined) {
      this.fail(`invalid regex: ${problem}`, start);
    }
  }
}

/**
 * Why a pattern is not a regex Gateway's engine (Rust `regex`) compiles, or undefined. Look-around
 * and back-references do not exist there; the rest is checked by compiling it as a JS regex once
 * leading inline flags `(?i)` are set aside.
 */
function regexProblem(pattern: string): string | undefined {
  if (/\(\?<?[=!]/.test(pattern) || /\\[1-9]/.test(pattern)) {
    return "look-around and back-references are not supported";
  }
  try {
    new RegExp(pattern.replace(/^\(\?[imsUux]+\)/, ""));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : "does not compile";
  }
}
