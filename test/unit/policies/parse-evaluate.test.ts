import fc from "fast-check";
import { describe, it } from "vitest";
import type { NetworkProtocol, PortRange } from "../../../src/domain/model";
import {
  conditionsFromSelectors,
  type EvaluablePolicy,
  evaluateExpression,
  evaluatePolicies,
  type PolicyRequest,
  parseConditions,
} from "../../../src/domain/policies/evaluate";
import { type Expr, formatExpression } from "../../../src/domain/policies/expression";
import { parseExpression } from "../../../src/domain/policies/parse";
import { toSelectors } from "../../../src/domain/policies/read-selectors";
import { renderNetworkPolicy } from "../../../src/domain/policies/render";
import {
  normalizeSelectors,
  type PolicySelectorsInput,
} from "../../../src/domain/policies/selectors";

function parsed(expression: string): Expr {
  const result = parseExpression(expression);
  if (!result.ok || result.value === null) {
    throw new Error(`does not parse: ${expression}: ${JSON.stringify(result)}`);
  }
  return result.value;
}

describe("parseExpression", () => {
  it("parses a hand-written traffic expression with not(…)", ({ expect }) => {
    expect(parseExpression("net.dst.ip in {10.0.0.0/8} and not(net.dst.port == 22)")).toEqual({
      ok: true,
      value: {
        kind: "and",
        operands: [
          {
            kind: "compare",
            field: "net.dst.ip",
            quantifier: null,
            predicate: { op: "in", items: [{ type: "ip", cidr: "10.0.0.0/8" }] },
          },
          {
            kind: "not",
            operand: {
              kind: "compare",
              field: "net.dst.port",
              quantifier: null,
              predicate: { op: "eq", value: { type: "int", value: 22 } },
            },
          },
        ],
      },
    });
  });

  it("parses C-like operators into the same tree as the word forms", ({ expect }) => {
    const cLike = parseExpression('identity.email == "a@x.com" || identity.email == "b@x.com"');
    const words = parseExpression('identity.email eq "a@x.com" or identity.email eq "b@x.com"');
    expect(cLike).toEqual(words);
    expect(cLike).toEqual({
      ok: true,
      value: {
        kind: "or",
        operands: [
          {
            kind: "compare",
            field: "identity.email",
            quantifier: null,
            predicate: { op: "eq", value: { type: "string", value: "a@x.com" } },
          },
          {
            kind: "compare",
            field: "identity.email",
            quantifier: null,
            predicate: { op: "eq", value: { type: "string", value: "b@x.com" } },
          },
        ],
      },
    });
  });

  it("parses set members: hosts, CIDRs, ranges, IPv6 in canonical form", ({ expect }) => {
    expect(
      parseExpression("net.dst.ip in {10.0.0.7 10.1.0.0/16 10.2.0.1..10.2.0.9 2001:DB8::0:1}"),
    ).toEqual({
      ok: true,
      value: {
        kind: "compare",
        field: "net.dst.ip",
        quantifier: null,
        predicate: {
          op: "in",
          items: [
            { type: "ip", cidr: "10.0.0.7/32" },
            { type: "ip", cidr: "10.1.0.0/16" },
            { type: "ip-range", from: "10.2.0.1", to: "10.2.0.9" },
            { type: "ip", cidr: "2001:db8::1/128" },
          ],
        },
      },
    });
  });

  it("parses array tests, both spellings of the group field, and boolean fields", ({ expect }) => {
    const expected = {
      kind: "and",
      operands: [
        {
          kind: "compare",
          field: "identity.groups.name",
          quantifier: "any",
          predicate: { op: "in", items: [{ type: "string", value: "Contractors" }] },
        },
        { kind: "flag", field: "access.private_app" },
      ],
    };
    expect(
      parseExpression('any(identity.groups.name[*] in {"Contractors"}) && access.private_app'),
    ).toEqual({ ok: true, value: expected });
    expect(
      parseExpression('any(identity.groups[*].name in {"Contractors"}) and access.private_app'),
    ).toEqual({ ok: true, value: expected });
  });

  it("gives and precedence over xor over or, and not to the next term only", ({ expect }) => {
    expect(
      formatExpression(
        parsed(
          "not net.dst.port == 1 or net.dst.port == 2 and net.dst.port == 3 ^^ net.dst.port == 4",
        ),
      ),
    ).toBe(
      "not (net.dst.port == 1) or net.dst.port == 2 and net.dst.port == 3 xor net.dst.port == 4",
    );
    expect(parsed("(net.dst.port == 1 or net.dst.port == 2) and net.dst.port == 3").kind).toBe(
      "and",
    );
    expect(
      formatExpression(parsed("(net.dst.port == 1 or net.dst.port == 2) and !(net.dst.port == 3)")),
    ).toBe("(net.dst.port == 1 or net.dst.port == 2) and not (net.dst.port == 3)");
  });

  it.for<[string, string, string]>([
    ["string escapes", 'identity.name == "a\\"b\\\\c\\x41\\102"', 'a"b\\cAB'],
    ["a raw string", 'identity.name == r#"a "quoted" b"#', 'a "quoted" b'],
    ["an empty string", 'identity.name == ""', ""],
  ])("reads %s", ([_reason, expression, value], { expect }) => {
    const expr = parsed(expression);
    expect(expr.kind === "compare" && expr.predicate.op === "eq" && expr.predicate.value).toEqual({
      type: "string",
      value,
    });
  });

  it.for<[string, string, string]>([
    [
      "regex escapes pass to the engine",
      'identity.email matches "^[^@]+@x\\.com$"',
      "^[^@]+@x\\.com$",
    ],
    ['\\" outside a class is a quote', 'identity.email matches "a\\"b"', 'a"b'],
    ["a quote inside a class does not end the literal", 'identity.email ~ "a["]b"', 'a["]b'],
    ["a raw string regex", 'identity.email matches r"^\\w+@x\\.com$"', "^\\w+@x\\.com$"],
  ])("reads a regex: %s", ([_reason, expression, pattern], { expect }) => {
    const expr = parsed(expression);
    expect(
      expr.kind === "compare" && expr.predicate.op === "matches" && expr.predicate.pattern,
    ).toBe(pattern);
  });

  it("treats an empty or blank expression as no condition", ({ expect }) => {
    expect(parseExpression("")).toEqual({ ok: true, value: null });
    expect(parseExpression("  \n ")).toEqual({ ok: true, value: null });
  });

  it.for<[string, string, number, string]>([
    ["an unknown field", "net.dst.host == 1", 0, "unknown field `net.dst.host`"],
    [
      "a CIDR with host bits",
      "net.dst.ip in {10.1.2.3/8}",
      15,
      "`10.1.2.3/8` is not a valid address or CIDR: host bits set; the network is 10.0.0.0/8",
    ],
    [
      "a network after ==",
      "net.dst.ip == 10.0.0.0/8",
      14,
      "`==` and `!=` take an address; use `in {…}` for a network",
    ],
    [
      "commas in a set",
      "net.dst.port in {22, 443}",
      19,
      "set members are separated by spaces, not commas",
    ],
    [
      "matches on a port",
      'net.dst.port matches "2"',
      13,
      "operator `matches` does not apply to int field `net.dst.port`",
    ],
    ["an unclosed string", 'identity.email == "a@x.com', 18, "missing closing quote"],
    ["an unclosed set", "net.dst.port in {22", 19, "expected `}`"],
    ["an unclosed parenthesis", "(net.dst.port == 22", 19, "expected `)`"],
    ["a dangling and", "net.dst.port == 22 and", 22, "expected a field name, `not`, `any(` or `(`"],
    [
      "trailing text",
      "net.dst.port == 22 22",
      19,
      "expected `and`, `or`, `xor` or the end of the expression",
    ],
    [
      "an array field outside any()",
      'identity.groups.name[*] == "a"',
      0,
      "`identity.groups.name` is an array: write `any(identity.groups.name[*] …)`",
    ],
    [
      "an invalid escape",
      'identity.email == "a\\n"',
      20,
      'invalid escape `\\n` (use \\\\, \\", \\xHH or \\NNN)',
    ],
    [
      "a look-ahead regex",
      'identity.email matches "(?=x)"',
      23,
      "invalid regex: look-ahead assertions are not supported by Gateway's regex engine",
    ],
    [
      "a Gateway list",
      "net.dst.ip in $4f0f6d46-7e4a-4b0e-9d3c-2a9a4f0e1c2d",
      14,
      "Gateway lists (`in $<list id>`) are not supported",
    ],
    ["a reversed range", "net.dst.port in {90..80}", 17, "the range 90..80 is empty"],
    [
      "a range across families",
      "net.dst.ip in {10.0.0.1..::1}",
      15,
      "`10.0.0.1..::1` is not a range of two addresses of one family",
    ],
  ])(
    "refuses %s with the offset and a reason",
    ([_reason, expression, offset, message], { expect }) => {
      expect(parseExpression(expression)).toEqual({
        ok: false,
        error: { code: "invalid-expression", expression, offset, message },
      });
    },
  );

  it("parses 64 levels of nesting, a `not` counting two, and refuses the next where it opens", ({
    expect,
  }) => {
    const leaf = "net.dst.port == 22";
    const message = "nested more than 64 levels deep (each `not` counts two)";
    const deepest = `${"(".repeat(32)}${"not ".repeat(16)}${leaf}${")".repeat(32)}`;
    const parsed = parseExpression(deepest);
    const printed = `${"not (".repeat(16)}${leaf}${")".repeat(16)}`;
    expect(parsed.ok && formatExpression(parsed.value as Expr)).toEqual(printed);
    expect(parseExpression(printed)).toEqual(parsed);
    const tooDeep = `${"(".repeat(5_000)}${leaf}${")".repeat(5_000)}`;
    expect(parseExpression(tooDeep)).toEqual({
      ok: false,
      error: { code: "invalid-expression", expression: tooDeep, offset: 64, message },
    });
    const tooManyNots = `${"!".repeat(33)}${leaf}`;
    expect(parseExpression(tooManyNots)).toEqual({
      ok: false,
      error: { code: "invalid-expression", expression: tooManyNots, offset: 32, message },
    });
  });

  it("prints what it parses so that the printed text parses to the same tree", ({ expect }) => {
    const texts = [
      "net.dst.ip in {10.0.0.0/8} and not (net.dst.port == 22)",
      'any(identity.groups.name[*] in {"A" "B"}) or identity.email matches "a\\"b[\\"]"',
      "net.dst.port >= 1000 and net.dst.port <= 2000 xor not (access.private_app)",
      'net.dst.ip in {10.0.0.1..10.0.0.9 2001:db8::1} and net.protocol != "udp"',
    ];
    for (const text of texts) {
      const expr = parsed(text);
      expect(formatExpression(expr)).toBe(text);
      expect(parsed(formatExpression(expr))).toEqual(expr);
    }
  });
});

describe("toSelectors", () => {
  it("reads the seed policies back", ({ expect }) => {
    expect(
      toSelectors("net.dst.ip in {10.128.0.7}", 'identity.email matches ".*@example.com"'),
    ).toEqual({
      ok: true,
      value: {
        destinations: ["10.128.0.7/32"],
        ports: [],
        protocols: [],
        emails: [],
        emailRegex: ".*@example.com",
        groups: [],
      },
    });
    expect(toSelectors("net.dst.ip in {10.128.0.7}", "")).toEqual({
      ok: true,
      value: {
        destinations: ["10.128.0.7/32"],
        ports: [],
        protocols: [],
        emails: [],
        emailRegex: null,
        groups: [],
      },
    });
  });

  it("accepts equivalent hand-written spellings", ({ expect }) => {
    expect(
      toSelectors(
        'net.protocol == "tcp" && (net.dst.port == 22) && net.dst.ip == 10.0.0.1',
        'identity.email == "b@x.com" || identity.email == "a@x.com" || any(identity.groups[*].name == "Ops")',
      ),
    ).toEqual({
      ok: true,
      value: {
        destinations: ["10.0.0.1/32"],
        ports: [{ from: 22, to: 22 }],
        protocols: ["tcp"],
        emails: ["a@x.com", "b@x.com"],
        emailRegex: null,
        groups: ["Ops"],
      },
    });
  });

  it("turns an address range into its minimal CIDR cover", ({ expect }) => {
    const result = toSelectors("net.dst.ip in {10.0.0.1..10.0.0.9}", "");
    expect(result.ok && result.value.destinations).toEqual([
      "10.0.0.1/32",
      "10.0.0.2/31",
      "10.0.0.4/30",
      "10.0.0.8/31",
    ]);
  });

  it.for<[string, string, string, "traffic" | "identity", string]>([
    [
      "a negation",
      "net.dst.ip in {10.0.0.0/8} and not(net.dst.port == 22)",
      "",
      "traffic",
      "`not (net.dst.port == 22)` is not a set membership",
    ],
    [
      "an or in traffic",
      "net.dst.port == 22 or net.dst.port == 443",
      "",
      "traffic",
      "`net.dst.port == 22 or net.dst.port == 443` is not a set membership",
    ],
    [
      "a field tested twice",
      "net.dst.port == 22 and net.dst.port in {443}",
      "",
      "traffic",
      "`net.dst.port` is tested more than once",
    ],
    [
      "a field with no selector",
      'net.vnet_id == "f5f6"',
      "",
      "traffic",
      "`net.vnet_id` has no structured selector",
    ],
    ["port 0", "net.dst.port in {0}", "", "traffic", "a port outside 1..65535"],
    [
      "an unknown protocol",
      'net.protocol == "sctp"',
      "",
      "traffic",
      'protocol "sctp" is not tcp, udp or icmp',
    ],
    ["an empty set", "net.dst.ip in {}", "", "traffic", "`net.dst.ip in {}` matches nothing"],
    [
      "an and in identity",
      "",
      'identity.email == "a@x.com" and any(identity.groups.name[*] == "G")',
      "identity",
      '`identity.email == "a@x.com" and any(identity.groups.name[*] == "G")` is not an email or group test',
    ],
    [
      "two regexes",
      "",
      'identity.email matches "a" or identity.email matches "b"',
      "identity",
      "more than one email regex",
    ],
    [
      "an upper-case email",
      "",
      'identity.email == "Alice@x.com"',
      "identity",
      'email "Alice@x.com" is not lower case',
    ],
    [
      "a group id",
      "",
      'any(identity.groups.id[*] == "1")',
      "identity",
      '`any(identity.groups.id[*] == "1")` has no structured selector',
    ],
  ])("reports %s as not-structured", ([_reason, traffic, identity, part, reason], { expect }) => {
    expect(toSelectors(traffic, identity)).toEqual({
      ok: false,
      error: { code: "not-structured", part, reason },
    });
  });

  it("passes parse errors through", ({ expect }) => {
    expect(toSelectors("net.dst.ip in {10.0.0.0/8", "")).toEqual({
      ok: false,
      error: {
        code: "invalid-expression",
        expression: "net.dst.ip in {10.0.0.0/8",
        offset: 25,
        message: "expected `}`",
      },
    });
  });

  it("reads back exactly what render wrote, for any selectors", ({ expect }) => {
    const ipv4 = fc
      .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
      .map(([value, length]) => {
        const masked = length === 0 ? 0 : (value >>> (32 - length)) << (32 - length);
        const address = [24, 16, 8, 0].map((shift) => (masked >>> shift) & 255).join(".");
        return `${address}/${length}`;
      });
    const ipv6 = fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 128 }),
      )
      .map(([groups, length]) => {
        const bits = groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
        const host = (1n << BigInt(128 - length)) - 1n;
        const masked = bits & ~host;
        const parts = Array.from({ length: 8 }, (_, i) =>
          ((masked >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
        );
        return `${parts.join(":")}/${length}`;
      });
    const port = fc.integer({ min: 1, max: 65535 });
    const portRange: fc.Arbitrary<PortRange> = fc
      .tuple(port, port)
      .map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) }));
    const localPart = fc.stringMatching(/^[a-zA-Z0-9._%+"\\-]{1,12}$/);
    const email = fc
      .tuple(localPart, fc.constantFrom("example.com", "x.test", "corp.example.org"))
      .map(([local, domain]) => `${local}@${domain}`);
    const regex = fc.constantFrom(
      ".*@example.com",
      "^[^@]+@example\\.com$",
      '^a"b@x\\.com$',
      '^[^"@]+@x\\.com$',
      "(?i)^(alice|bob)@x\\.com$",
      "\\\\",
    );
    const selectors: fc.Arbitrary<PolicySelectorsInput> = fc.record({
      destinations: fc.array(fc.oneof(ipv4, ipv6), { maxLength: 6 }),
      ports: fc.array(portRange, { maxLength: 5 }),
      protocols: fc.subarray<NetworkProtocol>(["tcp", "udp", "icmp"]),
      emails: fc.array(email, { maxLength: 4 }),
      emailRegex: fc.option(regex, { nil: null }),
      groups: fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(selectors, (input) => {
        const { traffic, identity } = renderNetworkPolicy(input);
        expect(toSelectors(traffic, identity)).toEqual({
          ok: true,
          value: normalizeSelectors(input),
        });
        const conditions = parseConditions(traffic, identity);
        if (conditions.ok && conditions.value.traffic !== null) {
          expect(formatExpression(conditions.value.traffic)).toBe(traffic);
        }
      }),
      { numRuns: 300 },
    );
  });
});

const SEED_POLICIES: EvaluablePolicy[] = [
  {
    id: "allow-employees",
    name: "Allow employees",
    action: "allow",
    precedence: 1000,
    enabled: true,
    ...conditionsFromSelectors({
      destinations: ["10.128.0.7/32"],
      ports: [],
      protocols: [],
      emails: [],
      emailRegex: ".*@example.com",
    }),
  },
  {
    id: "block-everyone-else",
    name: "Block everyone else",
    action: "block",
    precedence: 2000,
    enabled: true,
    ...conditionsFromSelectors({
      destinations: ["10.128.0.7/32"],
      ports: [],
      protocols: [],
      emails: [],
      emailRegex: null,
    }),
  },
];

function ssh(email: string, destinationIp = "10.128.0.7"): PolicyRequest {
  return { email, destinationIp, port: 22, protocol: "tcp" };
}

describe("evaluatePolicies: the seed scenario", () => {
  it("allows user@example.com to 10.128.0.7:22/tcp by the first policy", ({ expect }) => {
    expect(evaluatePolicies(SEED_POLICIES, ssh("user@example.com"))).toEqual({
      decision: "allow",
      decidedBy: {
        id: "allow-employees",
        name: "Allow employees",
        action: "allow",
        precedence: 1000,
      },
      trace: [
        {
          id: "allow-employees",
          name: "Allow employees",
          action: "allow",
          precedence: 1000,
          outcome: "matched",
        },
      ],
    });
  });

  it("blocks someone@other.test by the second policy, saying why the first did not match", ({
    expect,
  }) => {
    expect(evaluatePolicies(SEED_POLICIES, ssh("someone@other.test"))).toEqual({
      decision: "block",
      decidedBy: {
        id: "block-everyone-else",
        name: "Block everyone else",
        action: "block",
        precedence: 2000,
      },
      trace: [
        {
          id: "allow-employees",
          name: "Allow employees",
          action: "allow",
          precedence: 1000,
          outcome: "not-matched",
          reason: { part: "identity", clause: 'identity.email matches ".*@example.com"' },
        },
        {
          id: "block-everyone-else",
          name: "Block everyone else",
          action: "block",
          precedence: 2000,
          outcome: "matched",
        },
      ],
    });
  });

  it("lets x@example.com.evil.test through: the regex is unanchored", ({ expect }) => {
    const result = evaluatePolicies(SEED_POLICIES, ssh("x@example.com.evil.test"));
    expect([result.decision, result.decidedBy?.id]).toEqual(["allow", "allow-employees"]);
  });

  it("allows another destination because no policy matches", ({ expect }) => {
    expect(evaluatePolicies(SEED_POLICIES, ssh("someone@other.test", "10.0.0.1"))).toEqual({
      decision: "allow",
      decidedBy: null,
      trace: [
        {
          id: "allow-employees",
          name: "Allow employees",
          action: "allow",
          precedence: 1000,
          outcome: "not-matched",
          reason: { part: "traffic", clause: "net.dst.ip in {10.128.0.7}" },
        },
        {
          id: "block-everyone-else",
          name: "Block everyone else",
          action: "block",
          precedence: 2000,
          outcome: "not-matched",
          reason: { part: "traffic", clause: "net.dst.ip in {10.128.0.7}" },
        },
      ],
    });
  });

  it("evaluates in ascending precedence whatever the input order, skipping disabled ones", ({
    expect,
  }) => {
    const disabledAllow: EvaluablePolicy = {
      ...(SEED_POLICIES[0] as EvaluablePolicy),
      id: "disabled",
      name: "Disabled allow",
      precedence: 500,
      enabled: false,
    };
    const result = evaluatePolicies(
      [...SEED_POLICIES].reverse().concat(disabledAllow),
      ssh("someone@other.test"),
    );
    expect(result.trace.map((entry) => [entry.id, entry.outcome])).toEqual([
      ["disabled", "disabled"],
      ["allow-employees", "not-matched"],
      ["block-everyone-else", "matched"],
    ]);
    expect(result.decision).toBe("block");
  });

  it("names the first failing clause of the traffic expression", ({ expect }) => {
    const policy: EvaluablePolicy = {
      id: "web",
      name: "Web only",
      action: "allow",
      precedence: 100,
      enabled: true,
      ...conditionsFromSelectors({
        destinations: ["10.128.0.0/16"],
        ports: [
          { from: 443, to: 443 },
          { from: 8000, to: 8099 },
        ],
        protocols: ["tcp"],
        emails: [],
        emailRegex: null,
      }),
    };
    expect(evaluatePolicies([policy], ssh("user@example.com")).trace).toEqual([
      {
        id: "web",
        name: "Web only",
        action: "allow",
        precedence: 100,
        outcome: "not-matched",
        reason: { part: "traffic", clause: "net.dst.port in {443 8000..8099}" },
      },
    ]);
    expect(evaluatePolicies([policy], { ...ssh("user@example.com"), port: 8080 }).decision).toBe(
      "allow",
    );
  });
});

describe("evaluateExpression", () => {
  const base: PolicyRequest = {
    email: "alice@example.com",
    groups: ["Contractors", "Engineering"],
    destinationIp: "10.1.2.3",
    port: 22,
    protocol: "tcp",
  };

  it.for<[string, string, PolicyRequest, boolean]>([
    ["inside a CIDR", "net.dst.ip in {10.0.0.0/8}", base, true],
    ["outside a CIDR", "net.dst.ip in {192.168.0.0/16}", base, false],
    ["inside an address range", "net.dst.ip in {10.1.2.1..10.1.2.9}", base, true],
    [
      "IPv6 in an IPv6 network",
      "net.dst.ip in {2001:db8::/32}",
      { ...base, destinationIp: "2001:db8::5" },
      true,
    ],
    [
      "IPv6 never in an IPv4 network",
      "net.dst.ip in {0.0.0.0/0}",
      { ...base, destinationIp: "2001:db8::5" },
      false,
    ],
    [
      "an IPv4-mapped address in an IPv4 network",
      "net.dst.ip in {10.0.0.0/8}",
      { ...base, destinationIp: "::ffff:10.1.2.3" },
      true,
    ],
    ["the address itself", "net.dst.ip == 10.1.2.3", base, true],
    ["not the address", "net.dst.ip != 10.1.2.3", base, false],
    [
      "the hand-written expression, port 22",
      "net.dst.ip in {10.0.0.0/8} and not(net.dst.port == 22)",
      base,
      false,
    ],
    [
      "the hand-written expression, port 443",
      "net.dst.ip in {10.0.0.0/8} and not(net.dst.port == 22)",
      { ...base, port: 443 },
      true,
    ],
    ["a port range", "net.dst.port in {20..25}", base, true],
    ["port comparisons", "net.dst.port >= 20 and net.dst.port < 23", base, true],
    [
      "no port in the request never matches a port test",
      "net.dst.port in {1..65535}",
      { ...base, port: undefined },
      false,
    ],
    ["the protocol", 'net.protocol in {"tcp" "udp"}', base, true],
    ["another protocol", 'net.protocol == "udp"', base, false],
    [
      "an email in the set",
      'identity.email == "bob@x.com" || identity.email == "alice@example.com"',
      base,
      true,
    ],
    ["email comparison is exact", 'identity.email == "Alice@example.com"', base, false],
    ["an unanchored regex", 'identity.email matches "@example"', base, true],
    ["contains", 'identity.email contains "example"', base, true],
    ["any group", 'any(identity.groups.name[*] in {"Contractors"})', base, true],
    ["no such group", 'any(identity.groups.name[*] == "Finance")', base, false],
    ["all groups", 'all(identity.groups.name[*] in {"Contractors" "Engineering"})', base, true],
    [
      "any over no groups",
      'any(identity.groups.name[*] == "Finance")',
      { ...base, groups: undefined },
      false,
    ],
    ["xor", 'net.dst.port == 22 xor net.protocol == "tcp"', base, false],
    ["a flag the request does not carry", "access.private_app", base, false],
    [
      "the virtual network",
      'net.vnet_id == "vnet-1"',
      { ...base, virtualNetworkId: "vnet-1" },
      true,
    ],
  ])("%s", ([_reason, expression, request, expected], { expect }) => {
    expect(evaluateExpression(parsed(expression), request)).toBe(expected);
  });
});
