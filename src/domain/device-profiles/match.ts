/**
 * The `match` expression of a custom WARP device profile: the wirefilter fields Cloudflare lets
 * it test, and the check that turns written text into the canonical text tunnelplane stores and
 * sends. The canonical text parses to the same tree as the written one, so it selects the same
 * devices.
 */
import { type FieldTable, formatExpression, type ParseError } from "../policies/expression";
import { parseExpression } from "../policies/parse";
import { isRawStringStart, literalEnd } from "../policies/render";
import { err, ok, type Result } from "../result";

/** Cloudflare's limit on a profile's `match` (its API schema's maxLength), in characters, inclusive. */
export const MATCH_MAX_LENGTH = 500;

/** The comparisons the dashboard offers: `is` (`==`) and `in {…}`. */
const IS_OR_IN = ["eq", "in"] as const;

/**
 * The values of `os.name`: the platform names Cloudflare gives devices (the SDK's `device_type`
 * and posture `platform` enums; the docs' profile example is `os.name in {"windows" "mac"}`).
 * Matching is exact, so `"Windows"` would select no device.
 */
export const OS_NAMES = ["windows", "mac", "linux", "android", "ios", "chromeos"] as const;

/**
 * The fields a device profile `match` may use. Every field takes `==` and `in` only; the group
 * fields are arrays (`any(identity.groups.name[*] in {…})`), as in Gateway's identity
 * expressions. `identity.saml_attributes` is refused: Cloudflare's pages write it
 * `== "\"group=finance\""` (device profiles) and `== "\"finance\""` (Gateway), quotes inside
 * quotes, and no source says which form the API evaluates, so tunnelplane does not guess.
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/device-profiles/#selectors
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/identity-selectors/#saml-attributes
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/devices/subresources/policies/subresources/custom/methods/create/
 */
export const DEVICE_PROFILE_FIELDS = {
  "identity.email": { type: "string", array: false, operators: IS_OR_IN },
  "identity.groups.id": { type: "string", array: true, operators: IS_OR_IN },
  "identity.groups.name": { type: "string", array: true, operators: IS_OR_IN },
  "identity.groups.email": { type: "string", array: true, operators: IS_OR_IN },
  "identity.service_token_uuid": { type: "string", array: false, operators: IS_OR_IN },
  "identity.saml_attributes": {
    type: "string",
    array: false,
    refused:
      "`identity.saml_attributes` is not supported: Cloudflare documents no single syntax for it",
  },
  network: { type: "string", array: false, operators: IS_OR_IN },
  "os.name": { type: "string", array: false, operators: IS_OR_IN, values: OS_NAMES },
  "os.version": { type: "string", array: false, operators: IS_OR_IN },
} as const satisfies FieldTable;

/** Why a device profile `match` is refused. */
export type MatchError =
  | ParseError
  | {
      code: "match-too-long";
      /** The expression as written. */
      expression: string;
      /** Length of the canonical text, in characters. */
      length: number;
      /** `MATCH_MAX_LENGTH`. */
      maxLength: number;
    };

/** A `\xHH` or octal escape of a byte above 0x7f, at the start of the text. */
const HIGH_BYTE_ESCAPE = /^\\(?:x[89a-fA-F][0-9a-fA-F]|[23][0-7]{2})/;

/**
 * Where the first byte escape above 0x7f sits in a quoted string of a parsed expression, or -1.
 * The parser reads such a byte as a Latin-1 character and the printer writes that character,
 * which reaches Cloudflare as other bytes (UTF-8) than the escape meant.
 */
function highByteEscapeOffset(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (isRawStringStart(text, i)) {
      i = literalEnd(text, i, false) - 1;
      continue;
    }
    if (text.charAt(i) !== '"') {
      continue;
    }
    const end = literalEnd(text, i, false);
    for (let j = i + 1; j < end - 1; j++) {
      if (text.charAt(j) !== "\\") {
        continue;
      }
      if (HIGH_BYTE_ESCAPE.test(text.slice(j, j + 4))) {
        return j;
      }
      j++;
    }
    i = end - 1;
  }
  return -1;
}

function invalid(expression: string, offset: number, message: string): ParseError {
  return { code: "invalid-expression", expression, offset, message };
}

/**
 * Checks a device profile `match` expression and returns its canonical text: single spaces,
 * `and`/`or`/`not (…)`, `==`, sets as `{"a" "b"}`, parentheses only where precedence needs them,
 * `identity.groups[*].name` written `identity.groups.name[*]` (see `formatExpression`).
 *
 * Errors: `invalid-expression` with the UTF-16 offset in `expression` and what was expected (an
 * empty expression, a syntax error, a field outside `DEVICE_PROFILE_FIELDS`, an operator other
 * than `==`/`in`, a value that is not a quoted string, an `os.name` outside `OS_NAMES`, a byte
 * escape above `\x7f`); `match-too-long` when the canonical text exceeds `MATCH_MAX_LENGTH`.
 * @example canonicalDeviceProfileMatch('os.name=="mac"&&any(identity.groups[*].name in {"eng"})')
 * // ok('os.name == "mac" and any(identity.groups.name[*] in {"eng"})')
 */
export function canonicalDeviceProfileMatch(expression: string): Result<string, MatchError> {
  const parsed = parseExpression(expression, DEVICE_PROFILE_FIELDS);
  if (!parsed.ok) {
    return parsed;
  }
  if (parsed.value === null) {
    return err(invalid(expression, 0, "a device profile needs a match expression"));
  }
  const escapeAt = highByteEscapeOffset(expression);
  if (escapeAt >= 0) {
    const written = expression.slice(escapeAt, escapeAt + 4);
    return err(
      invalid(
        expression,
        escapeAt,
        `\`${written}\` is a byte above 0x7f: write the character itself`,
      ),
    );
  }
  const text = formatExpression(parsed.value);
  if (text.length > MATCH_MAX_LENGTH) {
    return err({
      code: "match-too-long",
      expression,
      length: text.length,
      maxLength: MATCH_MAX_LENGTH,
    });
  }
  return ok(text);
}
