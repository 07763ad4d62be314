/**
 * Device profile `match` expressions: the docs' examples and every field parse against the
 * device profile field table and print back in canonical text; refusals name the offset and
 * what was expected (unknown and Gateway-only fields, SAML attributes, operators other than
 * `==`/`in`, unbalanced parentheses, values of the wrong type, unknown OS names).
 */
import { describe, it } from "vitest";
import {
  canonicalDeviceProfileMatch,
  DEVICE_PROFILE_FIELDS,
} from "../../../src/domain/device-profiles/match";
import { parseExpression } from "../../../src/domain/policies/parse";

const DOCS_EXAMPLE =
  'identity.email in {"jdoe@example.com"} or any(identity.groups.name[*] in {"developers" "admin"}) and os.name == "windows"';

describe("the device profile field table", () => {
  it("parses the docs' example with `and` binding tighter than `or`", ({ expect }) => {
    expect(parseExpression(DOCS_EXAMPLE, DEVICE_PROFILE_FIELDS)).toEqual({
      ok: true,
      value: {
        kind: "or",
        operands: [
          {
            kind: "compare",
            field: "identity.email",
            quantifier: null,
            predicate: { op: "in", items: [{ type: "string", value: "jdoe@example.com" }] },
          },
          {
            kind: "and",
            operands: [
              {
                kind: "compare",
                field: "identity.groups.name",
                quantifier: "any",
                predicate: {
                  op: "in",
                  items: [
                    { type: "string", value: "developers" },
                    { type: "string", value: "admin" },
                  ],
                },
              },
              {
                kind: "compare",
                field: "os.name",
                quantifier: null,
                predicate: { op: "eq", value: { type: "string", value: "windows" } },
              },
            ],
          },
        ],
      },
    });
  });

  it("leaves Gateway parsing on Gateway's fields, where os.name does not exist", ({ expect }) => {
    const expression = 'os.name == "mac"';
    expect(parseExpression(expression)).toEqual({
      ok: false,
      error: {
        code: "invalid-expression",
        expression,
        offset: 0,
        message: "unknown field `os.name`",
      },
    });
  });
});

describe("canonicalDeviceProfileMatch", () => {
  it.for<[string, string]>([
    ["the docs' example", DOCS_EXAMPLE],
    ["the API docs' example", 'identity.email == "me@mycompany.com"'],
    ["identity.email", 'identity.email == "user-name@company.com"'],
    ["identity.groups.email", 'any(identity.groups.email[*] == "contractors@company.com")'],
    ["identity.groups.id", 'any(identity.groups.id[*] in {"12jf495bhjd7893ml09o"})'],
    ["identity.groups.name with all()", 'all(identity.groups.name[*] in {"finance" "hr"})'],
    [
      "identity.service_token_uuid",
      'identity.service_token_uuid == "f174e90a-fafe-4643-bbbc-4a0ed4fc8415"',
    ],
    ["network, a managed network's name", 'network == "Austin office"'],
    ["os.name in a set", 'os.name in {"windows" "mac" "linux" "android" "ios" "chromeos"}'],
    ["os.version", 'os.version == "1.2.0"'],
    ["not", 'not (os.name == "ios") and identity.email == "a@example.com"'],
    [
      "parentheses that change the grouping",
      '(network == "HQ" or os.name == "mac") and not (os.version in {"1.0.0"})',
    ],
    ["non-ASCII written as is", 'any(identity.groups.name[*] in {"Développeurs"})'],
    ["an escaped quote", 'network == "the \\"lab\\""'],
  ])("keeps %s, already canonical, as written", ([_reason, expression], { expect }) => {
    expect(canonicalDeviceProfileMatch(expression)).toEqual({ ok: true, value: expression });
  });

  it.for<[string, string, string]>([
    [
      "symbol operators and the docs' group spelling",
      'os.name=="mac"&&any(identity.groups[*].name in {"eng"})',
      'os.name == "mac" and any(identity.groups.name[*] in {"eng"})',
    ],
    [
      "word operators, `!` and needless parentheses",
      'not(network eq "Home") || (os.name == "linux")',
      'not (network == "Home") or os.name == "linux"',
    ],
    [
      "line breaks and runs of spaces outside strings",
      '  identity.email   in {\n "a@example.com"\t"b  c@example.com" }\n',
      'identity.email in {"a@example.com" "b  c@example.com"}',
    ],
    [
      "raw strings and ASCII escapes",
      'network in {r#"a "b""# "\\x41\\103"}',
      'network in {"a \\"b\\"" "AC"}',
    ],
    [
      "a backslash in a raw string, which is no escape",
      'network == r"caf\\xc3"',
      'network == "caf\\\\xc3"',
    ],
  ])("writes %s in canonical form", ([_reason, expression, canonical], { expect }) => {
    expect(canonicalDeviceProfileMatch(expression)).toEqual({ ok: true, value: canonical });
    expect(canonicalDeviceProfileMatch(canonical)).toEqual({ ok: true, value: canonical });
  });

  it.for<[string, string, number, string]>([
    ["an unknown field", 'device.serial == "C02X"', 0, "unknown field `device.serial`"],
    [
      "a Gateway-only field",
      'os.name == "mac" and net.dst.ip in {10.0.0.0/8}',
      21,
      "unknown field `net.dst.ip`",
    ],
    [
      "SAML attributes, whose syntax Cloudflare does not pin down",
      'identity.saml_attributes == "group=finance"',
      0,
      "`identity.saml_attributes` is not supported: Cloudflare documents no single syntax for it",
    ],
    [
      "a regex match",
      'identity.email matches ".*@example.com"',
      15,
      "operator `matches` does not apply to `identity.email` (use == or in)",
    ],
    [
      "a version comparison",
      'os.version >= "14.0.0"',
      11,
      "operator `>=` does not apply to `os.version` (use == or in)",
    ],
    ["a single `=`", 'network = "Home"', 8, "expected an operator (== or in)"],
    ["an unclosed parenthesis", '(os.name == "mac"', 17, "expected `)`"],
    [
      "a stray closing parenthesis",
      'os.name == "mac")',
      16,
      "expected `and`, `or`, `xor` or the end of the expression",
    ],
    ["a number for a string field", "os.name == 3", 11, 'expected a string in double quotes ("…")'],
    [
      "a bare word in a set",
      "identity.email in {jdoe@example.com}",
      19,
      'expected a string in double quotes ("…")',
    ],
    [
      "an OS name in the wrong case",
      'os.name == "Windows"',
      11,
      '"Windows" is not a value of `os.name` (use "windows", "mac", "linux", "android", "ios", "chromeos")',
    ],
    [
      "an unknown OS name in a set",
      'os.name in {"mac" "macOS"}',
      18,
      '"macOS" is not a value of `os.name` (use "windows", "mac", "linux", "android", "ios", "chromeos")',
    ],
    [
      "a group field outside any(), as some docs write it",
      'identity.groups.name == "finance"',
      0,
      "`identity.groups.name` is an array: write `any(identity.groups.name[*] …)`",
    ],
    ["a blank expression", "  \n", 0, "a device profile needs a match expression"],
    [
      "a byte escape above 0x7f",
      'network == "caf\\xc3\\xa9"',
      15,
      "`\\xc3` is a byte above 0x7f: write the character itself",
    ],
    [
      "an octal escape above 0x7f",
      'network == "\\101\\303"',
      16,
      "`\\303` is a byte above 0x7f: write the character itself",
    ],
  ])(
    "refuses %s with the offset and a reason",
    ([_reason, expression, offset, message], { expect }) => {
      expect(canonicalDeviceProfileMatch(expression)).toEqual({
        ok: false,
        error: { code: "invalid-expression", expression, offset, message },
      });
    },
  );

  it("takes up to 500 characters of canonical text, Cloudflare's limit", ({ expect }) => {
    const longest = `network == "${"a".repeat(487)}"`;
    expect(canonicalDeviceProfileMatch(longest)).toEqual({ ok: true, value: longest });
    const tooLong = `network=="${"a".repeat(488)}"`;
    expect(canonicalDeviceProfileMatch(tooLong)).toEqual({
      ok: false,
      error: { code: "match-too-long", expression: tooLong, length: 501, maxLength: 500 },
    });
  });
});
