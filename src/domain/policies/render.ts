/**
 * Structured policy selectors -> the Gateway `traffic` and `identity` wirefilter expressions, in
 * the forms the Cloudflare dashboard writes. Rendering is deterministic (canonical order, one
 * spelling per value), so a converged account renders byte-for-byte what it rendered last time.
 */
import { parseKnownCidr } from "../cidr/known";
import type { PortRange } from "../model";
import { normalizeSelectors, type PolicySelectorsInput } from "./selectors";

/** The two Gateway expressions of a network policy; `""` means "no condition". */
export interface RenderedExpressions {
  /** Wirefilter expression over `net.*` fields, e.g. `net.dst.ip in {10.0.0.0/8}`. */
  traffic: string;
  /** Wirefilter expression over `identity.*` fields, e.g. `identity.email in {"a@x.com"}`. */
  identity: string;
}

/**
 * A wirefilter quoted string literal: `"` and `\` are escaped with a backslash, every other
 * character is written as is (wirefilter's lexer knows no other escapes but `\xHH` and octal).
 * @see https://github.com/cloudflare/wirefilter/blob/master/engine/src/rhs_types/bytes.rs
 */
export function quoteString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A wirefilter regex literal for the `matches` operator. Unlike a plain string, wirefilter hands
 * backslash escapes inside a regex literal to the regex engine untouched (`"example\.com"` is the
 * regex `example\.com`, as Cloudflare's own examples write it); only a `"` outside a character
 * class must be written `\"`, since inside `[…]` a quote does not end the literal. This is the
 * exact inverse of that lexer for every pattern except one that already contains `\"` outside a
 * class, which reads back as `"` (the same regex).
 * @see https://github.com/cloudflare/wirefilter/blob/master/engine/src/rhs_types/regex/mod.rs
 * @see https://developers.cloudflare.com/ruleset-engine/rules-language/expressions/
 */
export function quoteRegex(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "\\" && i + 1 < pattern.length) {
      out += c + pattern.charAt(i + 1);
      i++;
    } else if (c === '"' && !inClass) {
      out += '\\"';
    } else {
      if (c === "[" && !inClass) {
        inClass = true;
      } else if (c === "]" && inClass) {
        inClass = false;
      }
      out += c;
    }
  }
  return `"${out}"`;
}

/** A destination as written in a set: a host prefix (/32, /128) as the bare address. */
function renderDestination(cidr: string): string {
  const prefix = parseKnownCidr(cidr);
  const hostLength = prefix.family === 4 ? 32 : 128;
  return prefix.prefixLength === hostLength ? (cidr.split("/")[0] ?? cidr) : cidr;
}

/** A port range as written in a set: `22`, or the wirefilter range `8000..8099`. */
function renderPortRange({ from, to }: PortRange): string {
  return from === to ? `${from}` : `${from}..${to}`;
}

function set(values: readonly string[]): string {
  return `{${values.join(" ")}}`;
}

/**
 * Renders policy selectors to Gateway's `traffic` and `identity` expressions.
 *
 * `traffic` ANDs, in this order, whichever selectors are not empty:
 * `net.dst.ip in {10.0.0.0/8 10.128.0.7}` (canonical CIDRs in numeric order, IPv4 first; a /32
 * or /128 is written as the bare address, as the dashboard does for a single IP),
 * `net.dst.port in {22 443 8000..8099}` (ascending; a range uses wirefilter's `a..b` range
 * literal, inclusive, rather than listing up to 65535 ports) and
 * `net.protocol in {"tcp" "udp"}`. No selectors at all gives `""` (every destination).
 *
 * `identity` ORs `identity.email in {"a@x.com" "b@y.com"}` (lower case, sorted),
 * `identity.email matches ".*@example.com"` (see `quoteRegex` for escaping) and
 * `any(identity.groups.name[*] in {"Contractors"})`; with more than one part the whole is
 * wrapped in parentheses so it stays one clause when Gateway ANDs it with `traffic`. No identity
 * selectors gives `""` (everyone).
 *
 * Throws `RangeError` on a destination that is not a valid CIDR (input is validated upstream).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/network-policies/
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/network-policies/common-policies/
 */
export function renderNetworkPolicy(spec: PolicySelectorsInput): RenderedExpressions {
  const selectors = normalizeSelectors(spec);
  const traffic: string[] = [];
  if (selectors.destinations.length > 0) {
    traffic.push(`net.dst.ip in ${set(selectors.destinations.map(renderDestination))}`);
  }
  if (selectors.ports.length > 0) {
    traffic.push(`net.dst.port in ${set(selectors.ports.map(renderPortRange))}`);
  }
  if (selectors.protocols.length > 0) {
    traffic.push(`net.protocol in ${set(selectors.protocols.map(quoteString))}`);
  }
  const identity: string[] = [];
  if (selectors.emails.length > 0) {
    identity.push(`identity.email in ${set(selectors.emails.map(quoteString))}`);
  }
  if (selectors.emailRegex !== null) {
    identity.push(`identity.email matches ${quoteRegex(selectors.emailRegex)}`);
  }
  if (selectors.groups.length > 0) {
    identity.push(`any(identity.groups.name[*] in ${set(selectors.groups.map(quoteString))})`);
  }
  return {
    traffic: traffic.join(" and "),
    identity: identity.length > 1 ? `(${identity.join(" or ")})` : (identity[0] ?? ""),
  };
}

/**
 * The `device_posture` expression requiring any one of the given posture checks to have passed:
 * `any(device_posture.checks.passed[*] in {"<id>" …})`, ids sorted and unique, as the dashboard's
 * "Passed Device Posture Checks in" selector writes it. No ids gives `""` (no condition).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/network-policies/#device-posture
 */
export function renderDevicePosture(ids: readonly string[]): string {
  const unique = [...new Set(ids)].sort();
  return unique.length === 0
    ? ""
    : `any(device_posture.checks.passed[*] in ${set(unique.map(quoteString))})`;
}

const WORD_CHAR = /[A-Za-z0-9_.]/;

/**
 * Where the literal that starts at `start` ends (the index after its closing quote), or the text
 * length when it is not closed. `regex` selects wirefilter's regex-literal rules (a `"` inside a
 * character class does not close it); raw strings `r"…"`, `r#"…"#` close at `"` followed by as
 * many `#` as they opened with.
 */
export function literalEnd(text: string, start: number, regex: boolean): number {
  if (text.charAt(start) === "r") {
    let hashes = 0;
    while (text.charAt(start + 1 + hashes) === "#") {
      hashes++;
    }
    const close = `"${"#".repeat(hashes)}`;
    const end = text.indexOf(close, start + 2 + hashes);
    return end < 0 ? text.length : end + close.length;
  }
  let inClass = false;
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === "\\") {
      i++;
    } else if (regex && c === "[" && !inClass) {
      inClass = true;
    } else if (regex && c === "]" && inClass) {
      inClass = false;
    } else if (c === '"' && !inClass) {
      return i + 1;
    }
  }
  return text.length;
}

/** Whether a raw string literal (`r"`, `r#"`) starts at `i`. */
export function isRawStringStart(text: string, i: number): boolean {
  if (text.charAt(i) !== "r" || (i > 0 && WORD_CHAR.test(text.charAt(i - 1)))) {
    return false;
  }
  let j = i + 1;
  while (text.charAt(j) === "#") {
    j++;
  }
  return text.charAt(j) === '"';
}

/**
 * The comparable form of a wirefilter expression: leading and trailing whitespace removed and
 * every run of whitespace outside string, regex and raw string literals collapsed to one space.
 * Literal contents are kept byte for byte. Used on both sides (what tunnelplane renders, what the
 * API returns) because Gateway reformats expressions before storing them.
 * @example normalizeExpression("  net.dst.ip  in {10.0.0.0/8\n 10.1.0.0/16} ") // "net.dst.ip in {10.0.0.0/8 10.1.0.0/16}"
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/gateway/subresources/rules/
 */
export function normalizeExpression(expression: string): string {
  let out = "";
  let lastWord = "";
  let i = 0;
  const text = expression.trim();
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text.charAt(i))) {
        i++;
      }
      out += " ";
      continue;
    }
    if (c === '"' || isRawStringStart(text, i)) {
      const end = literalEnd(text, i, lastWord === "matches" || lastWord === "~");
      out += text.slice(i, end);
      i = end;
      lastWord = "";
      continue;
    }
    if (WORD_CHAR.test(c)) {
      let end = i;
      while (end < text.length && WORD_CHAR.test(text.charAt(end))) {
        end++;
      }
      lastWord = text.slice(i, end);
      out += lastWord;
      i = end;
      continue;
    }
    lastWord = c;
    out += c;
    i++;
  }
  return out;
}
