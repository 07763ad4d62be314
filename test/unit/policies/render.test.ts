import { describe, it } from "vitest";
import type { NetworkPolicySpec } from "../../../src/domain/model";
import { checkEmailRegex, emailMatches } from "../../../src/domain/policies/email-regex";
import { expandedRegexSize } from "../../../src/domain/policies/regex-size";
import {
  normalizeExpression,
  quoteRegex,
  quoteString,
  renderNetworkPolicy,
} from "../../../src/domain/policies/render";
import {
  normalizeSelectors,
  type PolicySelectorsInput,
} from "../../../src/domain/policies/selectors";

function spec(overrides: Partial<NetworkPolicySpec>): NetworkPolicySpec {
  return {
    name: "policy",
    action: "allow",
    precedence: 1000,
    enabled: true,
    destinations: [],
    ports: [],
    protocols: [],
    emails: [],
    emailRegex: null,
    ...overrides,
  };
}

describe("renderNetworkPolicy: the seed scenario", () => {
  it("renders the allow for .*@example.com to 10.128.0.7/32", ({ expect }) => {
    expect(
      renderNetworkPolicy(spec({ destinations: ["10.128.0.7/32"], emailRegex: ".*@example.com" })),
    ).toEqual({
      traffic: "net.dst.ip in {10.128.0.7}",
      identity: 'identity.email matches ".*@example.com"',
    });
  });

  it("renders the block for everyone with an empty identity", ({ expect }) => {
    expect(renderNetworkPolicy(spec({ action: "block", destinations: ["10.128.0.7/32"] }))).toEqual(
      { traffic: "net.dst.ip in {10.128.0.7}", identity: "" },
    );
  });
});

describe("renderNetworkPolicy: traffic", () => {
  it.for<[string, NetworkPolicySpec, string]>([
    ["no selectors at all: every destination", spec({}), ""],
    [
      "CIDRs sorted numerically, not as text; a bare address is a host prefix",
      spec({ destinations: ["10.128.0.0/9", "10.2.0.0/16", "10.0.0.1", "10.0.0.0/8"] }),
      "net.dst.ip in {10.0.0.0/8 10.0.0.1 10.2.0.0/16 10.128.0.0/9}",
    ],
    [
      "IPv4 before IPv6, IPv6 in RFC 5952 form, /128 as the bare address",
      spec({ destinations: ["2001:DB8:0:0:0:0:0:1/128", "2001:db8::/32", "192.0.2.0/24"] }),
      "net.dst.ip in {192.0.2.0/24 2001:db8::/32 2001:db8::1}",
    ],
    [
      "duplicates dropped, overlapping networks kept as written",
      spec({ destinations: ["10.1.0.0/16", "10.0.0.0/8", "10.1.0.0/16"] }),
      "net.dst.ip in {10.0.0.0/8 10.1.0.0/16}",
    ],
    [
      "ports ascending, a range as a..b",
      spec({
        ports: [
          { from: 8000, to: 8099 },
          { from: 443, to: 443 },
          { from: 22, to: 22 },
          { from: 22, to: 22 },
        ],
      }),
      "net.dst.port in {22 443 8000..8099}",
    ],
    [
      "protocols in a fixed order",
      spec({ protocols: ["udp", "tcp"] }),
      'net.protocol in {"tcp" "udp"}',
    ],
    [
      "all three selectors joined with and",
      spec({
        destinations: ["10.0.0.0/8"],
        ports: [{ from: 22, to: 22 }],
        protocols: ["tcp"],
      }),
      'net.dst.ip in {10.0.0.0/8} and net.dst.port in {22} and net.protocol in {"tcp"}',
    ],
  ])("%s", ([_reason, input, traffic], { expect }) => {
    expect(renderNetworkPolicy(input).traffic).toBe(traffic);
  });
});

describe("renderNetworkPolicy: identity", () => {
  it.for<[string, Omit<PolicySelectorsInput, "destinations" | "ports" | "protocols">, string]>([
    [
      "emails lower case and sorted",
      { emails: ["b@y.com", "A@x.com"], emailRegex: null },
      'identity.email in {"a@x.com" "b@y.com"}',
    ],
    [
      "emails and a regex are one parenthesised clause",
      { emails: ["a@x.com"], emailRegex: "^[^@]+@example\\.com$" },
      '(identity.email in {"a@x.com"} or identity.email matches "^[^@]+@example\\.com$")',
    ],
    [
      "groups alone",
      { emails: [], emailRegex: null, groups: ["Engineering", "Contractors"] },
      'any(identity.groups.name[*] in {"Contractors" "Engineering"})',
    ],
    [
      "all three",
      { emails: ["a@x.com"], emailRegex: ".*@example.com", groups: ["Contractors"] },
      '(identity.email in {"a@x.com"} or identity.email matches ".*@example.com" or any(identity.groups.name[*] in {"Contractors"}))',
    ],
    [
      "a quote in an email and in a group name is escaped, a backslash too",
      { emails: ['o"neil@x.com'], emailRegex: null, groups: ["R&D \\ Ops"] },
      '(identity.email in {"o\\"neil@x.com"} or any(identity.groups.name[*] in {"R&D \\\\ Ops"}))',
    ],
    ["an empty regex is no regex", { emails: [], emailRegex: "" }, ""],
  ])("%s", ([_reason, selectors, identity], { expect }) => {
    expect(
      renderNetworkPolicy({ destinations: [], ports: [], protocols: [], ...selectors }).identity,
    ).toBe(identity);
  });

  it("renders the same text whatever order the selectors were given in", ({ expect }) => {
    const a = renderNetworkPolicy(
      spec({
        destinations: ["10.2.0.0/16", "10.1.0.0/16"],
        ports: [
          { from: 443, to: 443 },
          { from: 22, to: 22 },
        ],
        emails: ["b@x.com", "a@x.com"],
      }),
    );
    const b = renderNetworkPolicy(
      spec({
        destinations: ["10.1.0.0/16", "10.2.0.0/16"],
        ports: [
          { from: 22, to: 22 },
          { from: 443, to: 443 },
        ],
        emails: ["a@x.com", "b@x.com"],
      }),
    );
    expect(a).toEqual(b);
    expect(a).toEqual({
      traffic: "net.dst.ip in {10.1.0.0/16 10.2.0.0/16} and net.dst.port in {22 443}",
      identity: 'identity.email in {"a@x.com" "b@x.com"}',
    });
  });

  it("throws on a destination that is not a CIDR (input is validated upstream)", ({ expect }) => {
    expect(() => renderNetworkPolicy(spec({ destinations: ["10.0.0.300/8"] }))).toThrow(
      'not a valid destination: "10.0.0.300/8"',
    );
  });
});

describe("string and regex literals", () => {
  it.for<[string, string, string]>([
    ["plain", "a@x.com", '"a@x.com"'],
    ["quote", 'a"b', '"a\\"b"'],
    ["backslash", "a\\b", '"a\\\\b"'],
  ])("quoteString: %s", ([_reason, value, literal], { expect }) => {
    expect(quoteString(value)).toBe(literal);
  });

  it.for<[string, string, string]>([
    ["regex escapes pass through untouched", "^[^@]+@example\\.com$", '"^[^@]+@example\\.com$"'],
    ["a quote outside a class is escaped", 'a"b', '"a\\"b"'],
    ["a quote inside a class is not", 'a["]b', '"a["]b"'],
    ["an escaped ] does not end the class", 'a[\\]"]"', '"a[\\]"]\\""'],
    ["an escaped backslash stays two backslashes", "a\\\\b", '"a\\\\b"'],
  ])("quoteRegex: %s", ([_reason, pattern, literal], { expect }) => {
    expect(quoteRegex(pattern)).toBe(literal);
  });
});

describe("normalizeExpression", () => {
  it.for<[string, string, string]>([
    ["already normal", "net.dst.ip in {10.0.0.0/8}", "net.dst.ip in {10.0.0.0/8}"],
    [
      "trims and collapses tabs and newlines",
      "\n  net.dst.ip  in {10.0.0.0/8\t10.1.0.0/16}\n and\n net.dst.port == 22  ",
      "net.dst.ip in {10.0.0.0/8 10.1.0.0/16} and net.dst.port == 22",
    ],
    [
      "keeps whitespace inside string literals, escaped quotes included",
      'identity.email   ==  "a  \\"b  c"   or identity.name == "x   y"',
      'identity.email == "a  \\"b  c" or identity.name == "x   y"',
    ],
    [
      "keeps whitespace inside a regex literal even after a quote in a class",
      'identity.email  matches  "a  [ " ]  b"   and x',
      'identity.email matches "a  [ " ]  b" and x',
    ],
    [
      "the ~ operator reads a regex literal too",
      'identity.email ~ "[ "]  x"  ',
      'identity.email ~ "[ "]  x"',
    ],
    [
      "keeps raw strings whole",
      'identity.email  matches  r#"a  "  b"#   and  y',
      'identity.email matches r#"a  "  b"# and y',
    ],
    ["an empty expression stays empty", "   \n ", ""],
  ])("%s", ([_reason, input, expected], { expect }) => {
    expect(normalizeExpression(input)).toBe(expected);
  });
});

describe("normalizeSelectors", () => {
  it("puts every selector in canonical order and form", ({ expect }) => {
    expect(
      normalizeSelectors({
        destinations: ["2001:db8::1", "10.0.0.1/32", "10.0.0.0/8"],
        ports: [
          { from: 443, to: 443 },
          { from: 22, to: 25 },
          { from: 22, to: 22 },
        ],
        protocols: ["udp", "icmp", "tcp", "udp"],
        emails: ["B@X.COM", "a@x.com", "b@x.com"],
        emailRegex: ".*@x.com",
      }),
    ).toEqual({
      destinations: ["10.0.0.0/8", "10.0.0.1/32", "2001:db8::1/128"],
      ports: [
        { from: 22, to: 22 },
        { from: 22, to: 25 },
        { from: 443, to: 443 },
      ],
      protocols: ["icmp", "tcp", "udp"],
      emails: ["a@x.com", "b@x.com"],
      emailRegex: ".*@x.com",
      groups: [],
    });
  });
});

describe("checkEmailRegex", () => {
  it("accepts an unanchored regex and offers the anchored form with escaped dots", ({ expect }) => {
    expect(checkEmailRegex(".*@example.com")).toEqual({
      ok: true,
      value: {
        anchored: false,
        warnings: [
          {
            code: "unanchored-email-regex",
            anchored: "^[^@]+@example\\.com$",
            message:
              'Gateway matches regexes anywhere in the email, so ".*@example.com" also matches longer addresses; anchor it: "^[^@]+@example\\\\.com$"',
          },
        ],
      },
    });
  });

  it.for<[string, string, string]>([
    ["a loose .+ local part", ".+@corp.example.org", "^[^@]+@corp\\.example\\.org$"],
    ["only the domain", "@example.com", "^[^@]+@example\\.com$"],
    ["flags stay in front", "(?i).*@Example.com", "(?i)^[^@]+@Example\\.com$"],
    ["a specific local part is kept", "^alice\\.[a-z]+@x.com", "^alice\\.[a-z]+@x\\.com$"],
    ["half anchored", ".*@example\\.com$", "^[^@]+@example\\.com$"],
    ["not an email shape: just anchored", "admin", "^admin$"],
    ["a top-level alternation is grouped", "a@x\\.com|b@y\\.com", "^(?:a@x\\.com|b@y\\.com)$"],
  ])("unanchored, %s", ([_reason, pattern, anchored], { expect }) => {
    const result = checkEmailRegex(pattern);
    expect(result.ok && result.value.warnings.map((w) => w.code)).toEqual([
      "unanchored-email-regex",
    ]);
    expect(
      result.ok && result.value.warnings[0]?.code === "unanchored-email-regex"
        ? result.value.warnings[0].anchored
        : null,
    ).toBe(anchored);
  });

  it("accepts an anchored regex with escaped dots without warnings", ({ expect }) => {
    expect(checkEmailRegex("^[^@]+@example\\.com$")).toEqual({
      ok: true,
      value: { anchored: true, warnings: [] },
    });
    expect(checkEmailRegex("\\A(alice|bob)@example\\.com\\z")).toEqual({
      ok: true,
      value: { anchored: true, warnings: [] },
    });
  });

  it("warns about a bare dot in the domain of an anchored regex", ({ expect }) => {
    expect(checkEmailRegex("^.*@example.com$")).toEqual({
      ok: true,
      value: {
        anchored: true,
        warnings: [
          {
            code: "unescaped-dot-in-domain",
            escaped: "^.*@example\\.com$",
            message:
              'a bare "." in the domain matches any character; escape it: "^.*@example\\\\.com$"',
          },
        ],
      },
    });
  });

  it("treats an escaped $ as a literal, not an anchor", ({ expect }) => {
    const result = checkEmailRegex("^a@x\\.com\\$");
    expect(result.ok && result.value.anchored).toBe(false);
  });

  it.for<[string, string, string, number]>([
    ["look-ahead", "(?=x)", "lookahead", 0],
    ["negative look-ahead", "^(?!admin)[^@]+@x\\.com$", "lookahead", 1],
    ["look-behind", "(?<=a)b", "lookbehind", 0],
    ["negative look-behind", "(?<!a)b", "lookbehind", 0],
    ["a numbered backreference", "(a)\\1", "backreference", 3],
    ["a named backreference", "(?<n>a)\\k<n>", "backreference", 7],
    ["a Unicode class", "\\p{L}", "unicode-class", 0],
    ["a one-letter Unicode class", "\\pL+@x\\.com", "unicode-class", 0],
    ["a negated Unicode class inside a class", "[\\P{Greek}a]", "unicode-class", 1],
    ["\\Q…\\E quoting", "^\\Qa.b\\E@x\\.com$", "quoted-literal", 1],
  ])("refuses %s", ([_reason, pattern, feature, index], { expect }) => {
    const result = checkEmailRegex(pattern);
    expect(result.ok ? null : result.error).toEqual({
      code: "unsupported-regex-feature",
      pattern,
      feature,
      index,
      message: expect.any(String),
    });
  });

  it("says why a refused feature is refused", ({ expect }) => {
    expect(checkEmailRegex("(?=x)")).toEqual({
      ok: false,
      error: {
        code: "unsupported-regex-feature",
        pattern: "(?=x)",
        feature: "lookahead",
        index: 0,
        message: "look-ahead assertions are not supported by Gateway's regex engine",
      },
    });
  });

  it("does not mistake a named group or an escaped bracket for a refused feature", ({ expect }) => {
    expect(checkEmailRegex("^(?<user>[a-z]+)@x\\.com$")).toEqual({
      ok: true,
      value: { anchored: true, warnings: [] },
    });
    expect(checkEmailRegex("^[\\\\1a]+@x\\.com$")).toEqual({
      ok: true,
      value: { anchored: true, warnings: [] },
    });
  });

  it.for<[string, string, string]>([
    ["an unclosed class", "[", "error parsing regexp: missing closing ]: `[`"],
    ["an unclosed group", "(a", "error parsing regexp: missing closing ): `(a`"],
    [
      "a nested repetition",
      "a**",
      "error parsing regexp: invalid nested repetition operator: `**`",
    ],
    ["an empty pattern", "", "the pattern is empty"],
  ])("refuses %s as invalid-regex", ([_reason, pattern, message], { expect }) => {
    expect(checkEmailRegex(pattern)).toEqual({
      ok: false,
      error: { code: "invalid-regex", pattern, message },
    });
  });
});

describe("expandedRegexSize", () => {
  it.for<[string, string, number]>([
    ["literals count one each", "^ab@c$", 6],
    ["a counted repetition multiplies its atom", "a{10}", 10],
    ["{n,} counts n + 1", "a{10,}", 11],
    ["{n,m} counts m", "[a-z]{2,63}", 63],
    ["a group multiplies its alternatives and bars", "(ab|cd){200}", 1000],
    ["nested repetitions multiply (the `:` of `(?:` counts one)", "(?:a{10}){10}", 110],
    ["a strict email pattern", "^[^@]{1,64}@(?:[a-z0-9-]{1,63}\\.){1,10}[a-z]{2,63}$", 780],
    ["stars and pluses add nothing", ".*@x+", 3],
  ])("%s: %s is %i", ([_reason, pattern, size], { expect }) => {
    expect(expandedRegexSize(pattern)).toBe(size);
  });

  it("stops counting past the limit, and treats very deep nesting as past it", ({ expect }) => {
    expect(expandedRegexSize("a{1000}".repeat(146), 1000)).toBe(1001);
    expect(expandedRegexSize("(".repeat(2000), 1000)).toBe(1001);
  });

  it.for<[string, string]>([
    ["a repetition count above the bound", "a{1001}"],
    ["a 1,022-character run of a{1000}", "a{1000}".repeat(146)],
    ["(ab|cd){1000} repeated", "(ab|cd){1000}".repeat(78)],
  ])("refuses %s as regex-too-complex before compiling", ([_reason, pattern], { expect }) => {
    const checked = checkEmailRegex(pattern);
    expect(checked.ok ? "accepted" : checked.error.code).toBe("regex-too-complex");
  });
});

describe("emailMatches", () => {
  it.for<[string, string, string, boolean]>([
    ["the seed user", ".*@example.com", "user@example.com", true],
    ["unanchored: a longer domain matches too", ".*@example.com", "x@example.com.evil.test", true],
    ["unanchored: the bare dot matches any character", ".*@example.com", "x@exampleXcom", true],
    ["another domain", ".*@example.com", "someone@other.test", false],
    [
      "the anchored form refuses the longer domain",
      "^[^@]+@example\\.com$",
      "x@example.com.evil.test",
      false,
    ],
    ["the anchored form accepts the user", "^[^@]+@example\\.com$", "user@example.com", true],
    ["case-sensitive by default", "^[^@]+@example\\.com$", "user@EXAMPLE.com", false],
    ["(?i) makes it case-insensitive", "(?i)^[^@]+@example\\.com$", "user@EXAMPLE.com", true],
  ])("%s", ([_reason, pattern, email, expected], { expect }) => {
    expect(emailMatches(pattern, email)).toBe(expected);
  });

  it("throws on a pattern that does not compile", ({ expect }) => {
    expect(() => emailMatches("[", "a@x.com")).toThrow(
      'invalid regex "[": error parsing regexp: missing closing ]: `[`',
    );
  });

  it("keeps answering correctly past the cache capacity", ({ expect }) => {
    const results: boolean[] = [];
    for (let i = 0; i < 300; i++) {
      results.push(emailMatches(`^u${i}@x\\.com$`, `u${i}@x.com`));
    }
    expect(results.filter((matched) => matched)).toHaveLength(300);
    expect(emailMatches("^u0@x\\.com$", "u1@x.com")).toBe(false);
  });
});
