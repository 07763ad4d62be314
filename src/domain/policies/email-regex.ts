/**
 * Email regexes for Gateway's `identity.email matches "…"`. Gateway compiles them with Rust's
 * regex engine (Unicode mode off) and matches unanchored; tunnelplane checks them with re2js, a
 * linear-time engine of the same family, and refuses on top what Rust's syntax refuses, so a
 * pattern accepted here is accepted by Gateway and never backtracks.
 */

import { LRUCache } from "lru-cache";
import { RE2JS } from "re2js";
import { err, ok, type Result } from "../result";
import { expandedRegexSize, MAX_REGEX_EXPANDED_SIZE } from "./regex-size";

/** A syntax feature Gateway's regex engine does not have. */
export type UnsupportedRegexFeature =
  | "lookahead"
  | "lookbehind"
  | "backreference"
  | "unicode-class"
  | "quoted-literal";

/**
 * Why an email regex was refused.
 * - `invalid-regex`: the pattern does not compile (re2js' message says where), or is empty.
 * - `unsupported-regex-feature`: the pattern uses `feature` at UTF-16 offset `index`
 *   (look-around `(?=` `(?!` `(?<=` `(?<!`, backreferences `\1` `\k<n>`, Unicode classes `\p{…}`
 *   `\pL` `\P…` which need Unicode mode, or `\Q…\E`, which Rust's syntax lacks).
 * - `regex-too-complex`: unrolling the counted repetitions gives more than
 *   `MAX_REGEX_EXPANDED_SIZE` atoms (`size` is the estimate, cut short past the bound); refused
 *   before compiling, which would cost seconds.
 */
export type EmailRegexError =
  | { code: "invalid-regex"; pattern: string; message: string }
  | { code: "regex-too-complex"; pattern: string; size: number; message: string }
  | {
      code: "unsupported-regex-feature";
      pattern: string;
      feature: UnsupportedRegexFeature;
      /** UTF-16 offset of the feature in `pattern` (0-based). */
      index: number;
      message: string;
    };

/**
 * Advice about a valid email regex.
 * - `unanchored-email-regex`: the pattern can match inside a longer address
 *   (`.*@example.com` matches `x@example.com.evil.test`); `anchored` is the suggested form.
 * - `unescaped-dot-in-domain`: an anchored pattern whose domain has a bare `.` (any character);
 *   `escaped` is the pattern with those dots escaped.
 */
export type EmailRegexWarning =
  | { code: "unanchored-email-regex"; anchored: string; message: string }
  | { code: "unescaped-dot-in-domain"; escaped: string; message: string };

/** A valid email regex: whether it is anchored at both ends, and advice about it. */
export interface EmailRegexCheck {
  /** True when the whole pattern is bounded by `^`/`\A` and `$`/`\z` (no top-level `|`). */
  anchored: boolean;
  warnings: EmailRegexWarning[];
}

const FEATURE_MESSAGES: Record<UnsupportedRegexFeature, string> = {
  lookahead: "look-ahead assertions are not supported by Gateway's regex engine",
  lookbehind: "look-behind assertions are not supported by Gateway's regex engine",
  backreference: "backreferences are not supported by Gateway's regex engine",
  "unicode-class": "Unicode classes (\\p, \\P) need Unicode mode, which Gateway turns off",
  "quoted-literal":
    "\\Q…\\E quoting is not part of Gateway's regex syntax; escape characters instead",
};

/**
 * The first feature Gateway's syntax refuses, scanning escapes and character classes the way
 * the regex parser does, or undefined.
 */
function findUnsupportedFeature(
  pattern: string,
): { feature: UnsupportedRegexFeature; index: number } | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "\\") {
      const next = pattern.charAt(i + 1);
      if (next === "p" || next === "P") {
        return { feature: "unicode-class", index: i };
      }
      if (!inClass && /[1-9]/.test(next)) {
        return { feature: "backreference", index: i };
      }
      if (!inClass && next === "k" && pattern.charAt(i + 2) === "<") {
        return { feature: "backreference", index: i };
      }
      if (next === "Q") {
        return { feature: "quoted-literal", index: i };
      }
      i++;
    } else if (inClass) {
      if (c === "[" && pattern.charAt(i + 1) === ":") {
        const close = pattern.indexOf(":]", i + 2);
        i = close < 0 ? i : close + 1;
      } else if (c === "]") {
        inClass = false;
      }
    } else if (c === "[") {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal member, not the end of the class.
      if (pattern.charAt(i + 1) === "^") {
        i++;
      }
      if (pattern.charAt(i + 1) === "]") {
        i++;
      }
    } else if (c === "(" && pattern.startsWith("(?", i)) {
      if (pattern.startsWith("(?=", i) || pattern.startsWith("(?!", i)) {
        return { feature: "lookahead", index: i };
      }
      if (pattern.startsWith("(?<=", i) || pattern.startsWith("(?<!", i)) {
        return { feature: "lookbehind", index: i };
      }
    }
  }
  return undefined;
}

/** Indexes of top-level `|` and `@` (outside groups, classes and escapes). */
function topLevelPositions(pattern: string): { bars: number[]; ats: number[] } {
  const bars: number[] = [];
  const ats: number[] = [];
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "\\") {
      i++;
    } else if (inClass) {
      if (c === "]") {
        inClass = false;
      }
    } else if (c === "[") {
      inClass = true;
      if (pattern.charAt(i + 1) === "^") {
        i++;
      }
      if (pattern.charAt(i + 1) === "]") {
        i++;
      }
    } else if (c === "(") {
      depth++;
    } else if (c === ")") {
      depth--;
    } else if (depth === 0 && c === "|") {
      bars.push(i);
    } else if (depth === 0 && c === "@") {
      ats.push(i);
    }
  }
  return { bars, ats };
}

/** Whether the character at `index` is preceded by an odd number of backslashes. */
function isEscaped(text: string, index: number): boolean {
  let count = 0;
  for (let i = index - 1; i >= 0 && text.charAt(i) === "\\"; i--) {
    count++;
  }
  return count % 2 === 1;
}

interface PatternParts {
  /** Leading inline flag groups such as `(?i)`. */
  flags: string;
  /** The pattern without the flags and without a leading `^`/`\A` or trailing `$`/`\z`. */
  body: string;
  startAnchored: boolean;
  endAnchored: boolean;
  hasTopLevelAlternation: boolean;
}

function splitPattern(pattern: string): PatternParts {
  const flags = /^(?:\(\?[A-Za-z-]+\))*/.exec(pattern)?.[0] ?? "";
  let body = pattern.slice(flags.length);
  const hasTopLevelAlternation = topLevelPositions(body).bars.length > 0;
  let startAnchored = false;
  let endAnchored = false;
  if (body.startsWith("^") || body.startsWith("\\A")) {
    startAnchored = true;
    body = body.slice(body.startsWith("^") ? 1 : 2);
  }
  if (body.endsWith("$") && !isEscaped(body, body.length - 1)) {
    endAnchored = true;
    body = body.slice(0, -1);
  } else if (body.endsWith("\\z") && !isEscaped(body, body.length - 2)) {
    endAnchored = true;
    body = body.slice(0, -2);
  }
  return { flags, body, startAnchored, endAnchored, hasTopLevelAlternation };
}

const DOMAIN_TEXT = /^(?:[A-Za-z0-9-]|\\\.|\.)+$/;
const LOOSE_LOCAL_PARTS = new Set(["", ".*", ".+"]);

/**
 * For a `local@domain` body whose domain is plain text (letters, digits, `-`, dots), the local
 * part and the domain with every bare `.` escaped; null for any other shape.
 */
function emailShape(body: string): { local: string; domain: string; dotsEscaped: boolean } | null {
  const { ats } = topLevelPositions(body);
  const at = ats[ats.length - 1];
  if (at === undefined) {
    return null;
  }
  const domainText = body.slice(at + 1);
  if (!DOMAIN_TEXT.test(domainText) || !domainText.includes(".")) {
    return null;
  }
  const domain = domainText.replace(/\\\.|\./g, "\\.");
  return { local: body.slice(0, at), domain, dotsEscaped: domain === domainText };
}

function compiles(pattern: string): boolean {
  try {
    RE2JS.compile(pattern);
    return true;
  } catch {
    return false;
  }
}

/** The anchored form offered for an unanchored pattern. */
function anchoredForm(parts: PatternParts, pattern: string): string {
  const withoutFlags = pattern.slice(parts.flags.length);
  const fallback = `${parts.flags}^(?:${withoutFlags})$`;
  if (parts.hasTopLevelAlternation) {
    return fallback;
  }
  const shape = emailShape(parts.body);
  const suggestion =
    shape === null
      ? `${parts.flags}^${parts.body}$`
      : `${parts.flags}^${LOOSE_LOCAL_PARTS.has(shape.local) ? "[^@]+" : shape.local}@${shape.domain}$`;
  return compiles(suggestion) ? suggestion : fallback;
}

/**
 * Whether Gateway's regex engine would compile `pattern` (for any field, not only emails):
 * re2js compiles it and it uses no feature Rust's syntax lacks. The empty pattern is valid here
 * (it matches everything). Errors as `checkEmailRegex`.
 */
export function checkRegexSyntax(pattern: string): Result<void, EmailRegexError> {
  const unsupported = findUnsupportedFeature(pattern);
  if (unsupported !== undefined) {
    return err({
      code: "unsupported-regex-feature",
      pattern,
      feature: unsupported.feature,
      index: unsupported.index,
      message: FEATURE_MESSAGES[unsupported.feature],
    });
  }
  const size = expandedRegexSize(pattern);
  if (size > MAX_REGEX_EXPANDED_SIZE) {
    return err({
      code: "regex-too-complex",
      pattern,
      size,
      message: `the pattern unrolls to more than ${MAX_REGEX_EXPANDED_SIZE} atoms once its counted repetitions ({n}, {n,m}) are expanded; use smaller counts or *, +`,
    });
  }
  try {
    RE2JS.compile(pattern);
  } catch (error) {
    const message = error instanceof Error ? error.message : "the pattern does not compile";
    return err({ code: "invalid-regex", pattern, message });
  }
  return ok(undefined);
}

/**
 * Checks an email regex as Gateway would compile it, and advises on it.
 *
 * Returns `ok({ anchored, warnings })` for a valid pattern; warnings are
 * `unanchored-email-regex` (with the anchored form: `.*@example.com` ->
 * `^[^@]+@example\.com$`; a `local@domain` pattern with a loose local part `.*`/`.+` gets
 * `[^@]+`, bare dots in a plain domain are escaped, any other pattern is wrapped in `^…$`, or
 * `^(?:…)$` when it has a top-level `|`) and, for an anchored pattern, `unescaped-dot-in-domain`.
 *
 * Errors: `invalid-regex` (empty, or re2js cannot compile it: syntax errors, repetition counts
 * above 1000, invalid escapes), `regex-too-complex` (see `MAX_REGEX_EXPANDED_SIZE`),
 * `unsupported-regex-feature` (look-around, backreferences, `\p`
 * and `\P` Unicode classes, `\Q…\E`). Rust-only syntax that RE2 lacks (class set operations
 * `&&`, `--`; verbose mode `(?x)`) is refused as `invalid-regex`: the safe side.
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/network-policies/#regex
 * @see https://docs.rs/regex/latest/regex/#syntax
 */
export function checkEmailRegex(pattern: string): Result<EmailRegexCheck, EmailRegexError> {
  if (pattern === "") {
    return err({ code: "invalid-regex", pattern, message: "the pattern is empty" });
  }
  const syntax = checkRegexSyntax(pattern);
  if (!syntax.ok) {
    return syntax;
  }
  const parts = splitPattern(pattern);
  const anchored = parts.startAnchored && parts.endAnchored && !parts.hasTopLevelAlternation;
  const warnings: EmailRegexWarning[] = [];
  if (!anchored) {
    const suggestion = anchoredForm(parts, pattern);
    warnings.push({
      code: "unanchored-email-regex",
      anchored: suggestion,
      message: `Gateway matches regexes anywhere in the email, so ${JSON.stringify(pattern)} also matches longer addresses; anchor it: ${JSON.stringify(suggestion)}`,
    });
  } else {
    const shape = emailShape(parts.body);
    if (shape !== null && !shape.dotsEscaped) {
      const escaped = `${parts.flags}^${shape.local}@${shape.domain}$`;
      warnings.push({
        code: "unescaped-dot-in-domain",
        escaped,
        message: `a bare "." in the domain matches any character; escape it: ${JSON.stringify(escaped)}`,
      });
    }
  }
  return ok({ anchored, warnings });
}

/**
 * What the compiled-pattern cache may hold, in estimated bytes: 8 MiB, some 500 typical email
 * patterns or 25 at the 1,024-character limit.
 */
export const COMPILED_REGEX_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Estimated bytes of one compiled pattern, an upper bound of what re2js 2.10 keeps
 * (`bench/memory.bench.ts`): 8 KB for `.*@example\.com`, 39 KB for a 110-character alternation,
 * 84 KB at 1,000 characters.
 */
function compiledBytes(_compiled: RE2JS, pattern: string): number {
  return 8192 + 320 * pattern.length;
}

/** Compiled patterns by source text; the least recently used go first past the byte bound. */
const COMPILED = new LRUCache<string, RE2JS>({
  maxSize: COMPILED_REGEX_MAX_BYTES,
  sizeCalculation: compiledBytes,
});

/**
 * The compiled form of a pattern, compiled once per distinct text while it stays in the
 * byte-bounded cache. Throws `RangeError` when the pattern does not compile: callers pass
 * patterns already accepted by `checkEmailRegex` or the expression parser.
 */
export function compileRegex(pattern: string): RE2JS {
  const cached = COMPILED.get(pattern);
  if (cached !== undefined) {
    return cached;
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "does not compile";
    throw new RangeError(`invalid regex ${JSON.stringify(pattern)}: ${reason}`);
  }
  COMPILED.set(pattern, compiled);
  return compiled;
}

/** Forgets every compiled pattern: only measurements need it, to fill the cache from empty. */
export function clearCompiledRegexes(): void {
  COMPILED.clear();
}

/** The estimated bytes the compiled patterns take now, what the bound counts (for measurements). */
export function compiledRegexBytes(): number {
  return COMPILED.calculatedSize;
}

/**
 * Whether `email` matches `pattern` the way Gateway's `matches` does: an unanchored search
 * (the pattern may match any substring), case-sensitive unless the pattern says `(?i)`.
 * `.*@example.com` matches `x@example.com.evil.test`. Linear time in the email's length.
 * Throws `RangeError` for a pattern that does not compile (validate with `checkEmailRegex`).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/network-policies/#regex
 */
export function emailMatches(pattern: string, email: string): boolean {
  return compileRegex(pattern).matcher(email).find();
}
