/**
 * The exact access engine: the access delta, who-can-reach and reachable-by on fixed examples,
 * the work budget, and properties against brute-force evaluation. Generated policies only draw
 * bounds inside 10.0.0.0/28 and ports 1..8, so 10.0.0.0..10.0.0.16, one IPv6 address, ports
 * 1..9 and the three protocols hold a representative of every atom of the whole space: checking
 * each of those points checks every connection.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { accessDelta } from "../../../src/domain/access/delta";
import { sampleEmail } from "../../../src/domain/access/email-atoms";
import type { TrafficBlock } from "../../../src/domain/access/merge";
import { reachableBy, whoCanReach } from "../../../src/domain/access/reach";
import { policyUsage } from "../../../src/domain/access/usage";
import { parseKnownCidr } from "../../../src/domain/cidr/known";
import { parseCidr } from "../../../src/domain/cidr/parse";
import { rangeOfPrefix } from "../../../src/domain/cidr/ranges";
import type { NetworkPolicySpec, NetworkProtocol } from "../../../src/domain/model";
import {
  conditionsFromSelectors,
  type EvaluablePolicy,
  evaluateExpression,
  evaluatePolicies,
  parseConditions,
} from "../../../src/domain/policies/evaluate";

const REGEX_X = "^[^@]+@x\\.test$";
const REGEX_Y = "@y\\.test$";

function policy(
  id: string,
  precedence: number,
  action: "allow" | "block",
  selectors: Partial<NetworkPolicySpec>,
  enabled = true,
): EvaluablePolicy {
  return {
    id,
    name: id,
    action,
    precedence,
    enabled,
    ...conditionsFromSelectors({
      destinations: [],
      ports: [],
      protocols: [],
      emails: [],
      emailRegex: null,
      groups: [],
      ...selectors,
    }),
  };
}

function rawPolicy(
  id: string,
  precedence: number,
  action: "allow" | "block",
  traffic: string,
  identity: string,
): EvaluablePolicy {
  const parsed = parseConditions(traffic, identity);
  if (!parsed.ok) {
    throw new Error(parsed.error.message);
  }
  return { id, name: id, action, precedence, enabled: true, ...parsed.value };
}

const ref = (p: EvaluablePolicy) => ({
  id: p.id,
  name: p.name,
  action: p.action,
  precedence: p.precedence,
});

describe("access delta", () => {
  it.for<[string, string | null]>([
    [".*@example.com", "user@example.com"],
    ["^[^@]+@example\\.com$", "user@example.com"],
    ["(?:^admin@)|^[^@]+@(?:example\\.com)$", "admin@"],
    ["^(a|b)+$", null],
  ])(
    "a regex class is witnessed by an address built from %s: %s",
    ([pattern, sample], { expect }) => {
      expect(sampleEmail(pattern)).toBe(sample);
    },
  );

  it("a new block for a group takes exactly its range from the group's members only", ({
    expect,
  }) => {
    const allow = policy("allow", 2, "allow", {
      destinations: ["10.0.0.0/8"],
      ports: [{ from: 22, to: 22 }],
    });
    const block = policy("block-contractors", 1, "block", {
      destinations: ["10.5.0.0/16"],
      groups: ["Contractors"],
    });
    const delta = accessDelta([allow], [block, allow], 1_000_000);
    expect(delta).toEqual({
      ok: true,
      value: {
        changes: [
          {
            identities: ["group:Contractors"],
            change: "loses",
            traffic: [
              { protocols: ["icmp"], ports: null, destinations: ["10.5.0.0/16"] },
              {
                protocols: ["tcp", "udp"],
                ports: [
                  { from: 1, to: 21 },
                  { from: 23, to: 65535 },
                ],
                destinations: ["10.5.0.0/16"],
              },
            ],
            decidedBy: ref(block),
            previouslyDecidedBy: null,
          },
          {
            identities: ["group:Contractors"],
            change: "loses",
            traffic: [
              {
                protocols: ["tcp", "udp"],
                ports: [{ from: 22, to: 22 }],
                destinations: ["10.5.0.0/16"],
              },
            ],
            decidedBy: ref(block),
            previouslyDecidedBy: ref(allow),
          },
        ],
        // icmp: 1 atom; tcp and udp: ports 1-21, 22, 23-65535, one atom each.
        atoms: 7,
        classes: [["group:Contractors"], ["everyone-else"]],
        // 7 atoms × 2 classes, 11 policy evaluations at atoms, 12 address ranges cut, and 6
        // enumeration steps: the group test read for Contractors and an unnamed group, one
        // membership built from each of ∅ and {Contractors}, 2 candidates tested on 1 leaf.
        work: 43,
      },
    });
  });

  it("tells a named email apart from the rest of the regex's domain it falls in", ({ expect }) => {
    const before = policy("allow-x", 1, "allow", {
      destinations: ["10.0.0.1/32"],
      emailRegex: REGEX_X,
    });
    const after = policy("allow-x", 1, "allow", {
      destinations: ["10.0.0.1/32"],
      emailRegex: REGEX_X,
      emails: ["b@y.test"],
    });
    const block = policy("block", 2, "block", { destinations: ["10.0.0.0/24"] });
    const delta = accessDelta([before, block], [after, block], 1_000_000);
    expect(delta.ok && delta.value.changes.map((c) => [c.identities, c.change, c.traffic])).toEqual(
      [
        [
          ["email:b@y.test"],
          "gains",
          [
            { protocols: ["icmp"], ports: null, destinations: ["10.0.0.1/32"] },
            {
              protocols: ["tcp", "udp"],
              ports: [{ from: 1, to: 65535 }],
              destinations: ["10.0.0.1/32"],
            },
          ],
        ],
      ],
    );
    expect(delta.ok && delta.value.classes).toEqual([
      ["email:b@y.test"],
      ["regex:^[^@]+@x\\.test$"],
      ["everyone-else"],
    ]);
  });

  it("no change evaluates nothing", ({ expect }) => {
    const p = policy("p", 1, "block", {});
    expect(accessDelta([p], [{ ...p }], 0)).toEqual({
      ok: true,
      value: { changes: [], atoms: 0, classes: [], work: 0 },
    });
  });

  it("refuses past the budget, naming the work counted", ({ expect }) => {
    const block = policy("block", 1, "block", { destinations: ["10.0.0.0/8"], groups: ["G"] });
    // Counting stops at the first count past the budget: for ICMP, then TCP, 1 range cut, 1
    // atom and 1 policy evaluation there (6).
    expect(accessDelta([], [block], 5)).toEqual({
      ok: false,
      error: { code: "work-budget-exceeded", budget: 5, work: 6 },
    });
  });
});

describe("identity combinations", () => {
  const allowGroups = (id: string, precedence: number, groups: string[], checks: string[] = []) =>
    policy(id, precedence, "allow", {
      destinations: ["10.0.0.0/24"],
      ports: [{ from: 22, to: 22 }],
      protocols: ["tcp"],
      groups,
      devicePostureIds: checks,
    });
  const policies = [
    allowGroups("a", 1, ["A"]),
    allowGroups("b", 2, ["B", "B2"]),
    allowGroups("c", 3, ["C"], ["disk"]),
  ];
  const target = {
    destination: rangeOfPrefix(parseKnownCidr("10.0.0.7/32")),
    port: 22,
    protocol: "tcp" as const,
  };

  it("enumerates every combination of groups and posture checks, groups named together as one", ({
    expect,
  }) => {
    const answer = whoCanReach(policies, target, 1000);
    expect(answer.ok && [answer.value.classes, answer.value.work]).toEqual([
      [
        ["posture:disk"],
        ["group:A"],
        ["group:A + posture:disk"],
        ["group:B", "group:B2"],
        ["group:B + posture:disk", "group:B2 + posture:disk"],
        ["group:C"],
        ["group:C + posture:disk"],
        ["group:A + group:B"],
        ["group:A + group:B + posture:disk"],
        ["group:A + group:C"],
        ["group:A + group:C + posture:disk"],
        ["group:B + group:C"],
        ["group:B + group:C + posture:disk"],
        ["group:A + group:B + group:C"],
        ["group:A + group:B + group:C + posture:disk"],
        ["everyone-else"],
      ],
      // 1 atom × 16 classes, 6 for the evaluations and cuts, 155 enumeration steps.
      177,
    ]);
  });

  it("refuses combinations past the budget, naming the work counted", ({ expect }) => {
    expect(whoCanReach(policies, target, 176)).toEqual({
      ok: false,
      error: { code: "work-budget-exceeded", budget: 176, work: 177 },
    });
  });
});

describe("who-can-reach and reachable-by", () => {
  const grant = policy("grant-1", 1, "allow", {
    destinations: ["10.0.0.7/32"],
    ports: [{ from: 22, to: 22 }],
    protocols: ["tcp"],
    emails: ["alice@example.com"],
  });
  const staff = policy("staff", 2, "allow", { destinations: ["10.0.0.0/29"], groups: ["Staff"] });
  const block = policy("block", 3, "block", { destinations: ["10.0.0.0/24"] });
  const target = rangeOfPrefix(parseKnownCidr("10.0.0.7/32"));

  it("lists every class allowed at a port, by which policy", ({ expect }) => {
    const answer = whoCanReach([grant, staff, block], { destination: target, port: 22 }, 1000);
    expect(answer).toEqual({
      ok: true,
      value: {
        allowed: [
          {
            identities: ["email:alice@example.com"],
            traffic: [
              { protocols: ["tcp"], ports: [{ from: 22, to: 22 }], destinations: ["10.0.0.7/32"] },
            ],
            allowedBy: ref(grant),
          },
          // Alice in Staff: her own grant first over TCP, Staff's policy over UDP.
          {
            identities: ["email:alice@example.com + group:Staff"],
            traffic: [
              { protocols: ["tcp"], ports: [{ from: 22, to: 22 }], destinations: ["10.0.0.7/32"] },
            ],
            allowedBy: ref(grant),
          },
          {
            identities: ["email:alice@example.com + group:Staff"],
            traffic: [
              { protocols: ["udp"], ports: [{ from: 22, to: 22 }], destinations: ["10.0.0.7/32"] },
            ],
            allowedBy: ref(staff),
          },
          {
            identities: ["group:Staff"],
            traffic: [
              {
                protocols: ["tcp", "udp"],
                ports: [{ from: 22, to: 22 }],
                destinations: ["10.0.0.7/32"],
              },
            ],
            allowedBy: ref(staff),
          },
        ],
        atoms: 2,
        classes: [
          ["email:alice@example.com"],
          ["email:alice@example.com + group:Staff"],
          ["group:Staff"],
          ["everyone-else"],
        ],
        // 2 atoms × 4 classes, 10 for the policy evaluations at them and the ranges cut, and 12
        // enumeration steps (4 for the memberships, 4 candidates tested on 2 leaves).
        work: 30,
      },
    });
  });

  it("lists what one person may reach, ranges merged", ({ expect }) => {
    const answer = reachableBy(
      [grant, staff, block],
      { email: "alice@example.com", groups: ["Staff"], postureChecks: [] },
      1000,
    );
    expect(
      answer.ok && answer.value.allowed.map((a) => [a.allowedBy?.id ?? null, a.traffic]),
    ).toEqual([
      [
        null,
        [
          {
            protocols: ["icmp"],
            ports: null,
            destinations: [
              "0.0.0.0/5",
              "8.0.0.0/7",
              "10.0.1.0/24",
              "10.0.2.0/23",
              "10.0.4.0/22",
              "10.0.8.0/21",
              "10.0.16.0/20",
              "10.0.32.0/19",
              "10.0.64.0/18",
              "10.0.128.0/17",
              "10.1.0.0/16",
              "10.2.0.0/15",
              "10.4.0.0/14",
              "10.8.0.0/13",
              "10.16.0.0/12",
              "10.32.0.0/11",
              "10.64.0.0/10",
              "10.128.0.0/9",
              "11.0.0.0/8",
              "12.0.0.0/6",
              "16.0.0.0/4",
              "32.0.0.0/3",
              "64.0.0.0/2",
              "128.0.0.0/1",
              "::/0",
            ],
          },
          {
            protocols: ["tcp", "udp"],
            ports: [{ from: 1, to: 65535 }],
            destinations: [
              "0.0.0.0/5",
              "8.0.0.0/7",
              "10.0.1.0/24",
              "10.0.2.0/23",
              "10.0.4.0/22",
              "10.0.8.0/21",
              "10.0.16.0/20",
              "10.0.32.0/19",
              "10.0.64.0/18",
              "10.0.128.0/17",
              "10.1.0.0/16",
              "10.2.0.0/15",
              "10.4.0.0/14",
              "10.8.0.0/13",
              "10.16.0.0/12",
              "10.32.0.0/11",
              "10.64.0.0/10",
              "10.128.0.0/9",
              "11.0.0.0/8",
              "12.0.0.0/6",
              "16.0.0.0/4",
              "32.0.0.0/3",
              "64.0.0.0/2",
              "128.0.0.0/1",
              "::/0",
            ],
          },
        ],
      ],
      [
        "grant-1",
        [{ protocols: ["tcp"], ports: [{ from: 22, to: 22 }], destinations: ["10.0.0.7/32"] }],
      ],
      [
        "staff",
        [
          { protocols: ["icmp"], ports: null, destinations: ["10.0.0.0/29"] },
          {
            protocols: ["tcp"],
            ports: [
              { from: 1, to: 21 },
              { from: 23, to: 65535 },
            ],
            destinations: ["10.0.0.0/29"],
          },
          {
            protocols: ["tcp"],
            ports: [{ from: 22, to: 22 }],
            destinations: ["10.0.0.0/30", "10.0.0.4/31", "10.0.0.6/32"],
          },
          { protocols: ["udp"], ports: [{ from: 1, to: 65535 }], destinations: ["10.0.0.0/29"] },
        ],
      ],
    ]);
  });
});

// ---- Properties against brute force ----

interface Identity {
  email: string;
  groups: string[];
}

/**
 * Every address of the generated selectors' kinds (named, each regex's others, unnamed) with
 * every set of groups, the unnamed G3 included: people who combine an email, a regex and groups.
 */
const PEOPLE: Identity[] = [
  "a@x.test",
  "b@x.test",
  "c@y.test",
  "zz@x.test",
  "zz@y.test",
  "nobody@z.test",
].flatMap((email) =>
  [[], ["G1"], ["G2"], ["G3"], ["G1", "G2"], ["G1", "G3"], ["G1", "G2", "G3"]].map((groups) => ({
    email,
    groups,
  })),
);

interface Point {
  address: string;
  port: number | undefined;
  protocol: NetworkProtocol;
}

const ADDRESSES = [...Array.from({ length: 17 }, (_, i) => `10.0.0.${i}`), "2001:db8::1"];
const POINTS: Point[] = ADDRESSES.flatMap((address) => [
  { address, port: undefined, protocol: "icmp" as const },
  ...(["tcp", "udp"] as const).flatMap((protocol) =>
    Array.from({ length: 9 }, (_, i) => ({ address, port: i + 1, protocol })),
  ),
]);

const POINT_INDEX = new Map(POINTS.map((at, i) => [at, i]));

/**
 * Brute force: the first enabled policy (Gateway order) whose expressions all hold at the point.
 * Traffic and identity expressions test disjoint fields, so each is evaluated once per point or
 * once per person with the evaluator's own `evaluateExpression`, then combined per pair.
 */
function oracle(policies: readonly EvaluablePolicy[]) {
  const ordered = policies
    .filter((p) => p.enabled)
    .sort((a, b) => a.precedence - b.precedence || (a.id < b.id ? -1 : 1));
  const request = (who: Identity, at: Point) => ({
    email: who.email,
    groups: who.groups,
    destinationIp: at.address,
    port: at.port,
    protocol: at.protocol,
  });
  const holds = (expr: EvaluablePolicy["traffic"] | undefined, r: ReturnType<typeof request>) =>
    expr === null || expr === undefined || evaluateExpression(expr, r);
  const traffic = ordered.map((p) =>
    POINTS.map((at) => holds(p.traffic, request(PEOPLE[0] as Identity, at))),
  );
  const identity = new Map<Identity, boolean[]>();
  return (who: Identity, at: Point) => {
    let truths = identity.get(who);
    if (truths === undefined) {
      const r = request(who, POINTS[0] as Point);
      truths = ordered.map((p) => holds(p.identity, r) && holds(p.devicePosture, r));
      identity.set(who, truths);
    }
    const point = POINT_INDEX.get(at) ?? -1;
    const index = ordered.findIndex((_, i) => traffic[i]?.[point] === true && truths?.[i] === true);
    const by = ordered[index];
    return { decision: by?.action ?? "allow", by: by?.id ?? null };
  };
}

/** Parsed CIDRs and addresses: every block is tested at hundreds of points. */
const RANGES = new Map<string, ReturnType<typeof rangeOfPrefix>>();
const PARSED = new Map<string, ReturnType<typeof parseCidr>>();

function blockHolds(block: TrafficBlock, at: Point): boolean {
  let address = PARSED.get(at.address);
  if (address === undefined) {
    address = parseCidr(at.address);
    PARSED.set(at.address, address);
  }
  const port = at.port ?? 0;
  return (
    block.protocols.includes(at.protocol) &&
    (block.ports === null
      ? at.port === undefined
      : at.port !== undefined && block.ports.some((r) => r.from <= port && port <= r.to)) &&
    address.ok &&
    block.destinations.some((cidr) => {
      let range = RANGES.get(cidr);
      if (range === undefined) {
        range = rangeOfPrefix(parseKnownCidr(cidr));
        RANGES.set(cidr, range);
      }
      return (
        range.family === address.value.family &&
        range.first <= address.value.address &&
        address.value.address <= range.last
      );
    })
  );
}

/**
 * The class a person falls in, in the documented model: the most specific label naming their
 * address (own email, else the regex matching it, else none) and the most of their groups that
 * some class names (README "Access engine"; generated group tests each name one group, so no
 * two sets of groups are read alike).
 */
function classOf(classes: readonly string[][], who: Identity): string[] | undefined {
  const addresses = [
    `email:${who.email}`,
    ...[REGEX_X, REGEX_Y].filter((r) => new RegExp(r).test(who.email)).map((r) => `regex:${r}`),
    null,
  ];
  const groupSets: string[][] = [[]];
  for (const g of who.groups) {
    groupSets.push(...groupSets.map((set) => [...set, g]));
  }
  groupSets.sort((a, b) => b.length - a.length);
  for (const address of addresses) {
    for (const groups of groupSets) {
      const parts = [...(address === null ? [] : [address]), ...groups.map((g) => `group:${g}`)];
      const label = parts.length === 0 ? "everyone-else" : parts.join(" + ");
      const found = classes.find((c) => c.includes(label));
      if (found !== undefined) {
        return found;
      }
    }
  }
  return undefined;
}

const cidrIn28 = fc
  .record({ bits: fc.integer({ min: 0, max: 4 }), offset: fc.integer({ min: 0, max: 15 }) })
  .map(({ bits, offset }) => `10.0.0.${offset - (offset % 2 ** bits)}/${32 - bits}`);
const portRange = fc
  .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 3 }))
  .map(([from, span]) => ({ from, to: Math.min(8, from + span) }));

const structured = fc.record({
  action: fc.constantFrom<"allow" | "block">("allow", "block"),
  enabled: fc.constantFrom(true, true, true, false),
  destinations: fc.array(cidrIn28, { maxLength: 2 }),
  ports: fc.array(portRange, { maxLength: 2 }),
  protocols: fc.subarray<NetworkProtocol>(["icmp", "tcp", "udp"]),
  emails: fc.subarray(["a@x.test", "c@y.test"]),
  emailRegex: fc.constantFrom<string | null>(null, null, REGEX_X, REGEX_Y),
  groups: fc.subarray(["G1", "G2"], { maxLength: 1 }),
});

/** Hand-written rules with negations and comparisons the structured form cannot express. */
const raw = fc.record({
  action: fc.constantFrom<"allow" | "block">("allow", "block"),
  traffic: fc.constantFrom(
    "not(net.dst.ip in {10.0.0.4/30})",
    'net.dst.port >= 5 and net.protocol != "udp"',
    "net.dst.ip != 10.0.0.3 or net.dst.port in {2..3}",
    "net.dst.port < 4",
  ),
  identity: fc.constantFrom(
    "",
    'not(any(identity.groups.name[*] in {"G1"}))',
    'identity.email == "b@x.test"',
    'identity.email matches "@y\\.test$" or any(identity.groups.name[*] in {"G2"})',
    'identity.email == "a@x.test" and any(identity.groups.name[*] in {"G1"})',
    'any(identity.groups.name[*] in {"G2"}) and not(identity.email matches "^[^@]+@x\\.test$")',
  ),
});

const policyList = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: structured.map((s) => ({ kind: "structured" as const, s })) },
      { weight: 1, arbitrary: raw.map((r) => ({ kind: "raw" as const, r })) },
    ),
    {
      maxLength: 5,
    },
  )
  .map((items) =>
    items.map((item, i) =>
      item.kind === "structured"
        ? policy(`p${i}`, i + 1, item.s.action, item.s, item.s.enabled)
        : rawPolicy(`p${i}`, i + 1, item.r.action, item.r.traffic, item.r.identity),
    ),
  );

describe("properties against brute-force evaluation", () => {
  it("the delta names exactly the connections whose decision changes, and the deciding policies", ({
    expect,
  }) => {
    fc.assert(
      fc.property(policyList, policyList, (before, after) => {
        // Ids p0, p1, … are shared: a policy may change, appear or disappear.
        const delta = accessDelta(before, after, 1_000_000);
        if (!delta.ok) {
          return false;
        }
        const wasOf = oracle(before);
        const willOf = oracle(after);
        const found: string[] = [];
        const expected: string[] = [];
        for (const who of PEOPLE) {
          const cls = classOf(delta.value.classes, who);
          const changes = delta.value.changes.filter((c) => c.identities === cls);
          for (const at of POINTS) {
            const point = `${who.email} ${who.groups} ${at.protocol} ${at.address} ${at.port}`;
            const was = wasOf(who, at);
            const will = willOf(who, at);
            for (const c of changes.filter((c) => c.traffic.some((b) => blockHolds(b, at)))) {
              found.push(
                `${point} ${c.change} ${c.decidedBy?.id ?? null} ${c.previouslyDecidedBy?.id ?? null}`,
              );
            }
            if (was.decision !== will.decision) {
              const change = will.decision === "allow" ? "gains" : "loses";
              expected.push(`${point} ${change} ${will.by} ${was.by}`);
            }
          }
        }
        expect(found).toEqual(expected);
        return true;
      }),
      { numRuns: 20 },
    );
  });

  it("who-can-reach lists exactly the classes allowed at each point of the target", ({
    expect,
  }) => {
    const target = fc.record({
      cidr: cidrIn28,
      port: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
      protocol: fc.option(fc.constantFrom<NetworkProtocol>("tcp", "udp", "icmp"), {
        nil: undefined,
      }),
    });
    fc.assert(
      fc.property(policyList, target, (policies, t) => {
        const range = rangeOfPrefix(parseKnownCidr(t.cidr));
        const answer = whoCanReach(
          policies,
          { destination: range, port: t.port, protocol: t.protocol },
          1_000_000,
        );
        if (!answer.ok) {
          return false;
        }
        const inTarget = POINTS.filter(
          (at) =>
            blockHolds(
              {
                protocols: [at.protocol],
                ports: at.port === undefined ? null : [{ from: at.port, to: at.port }],
                destinations: [t.cidr],
              },
              at,
            ) &&
            (t.port === undefined || at.port === t.port) &&
            (t.protocol === undefined || at.protocol === t.protocol),
        );
        const decide = oracle(policies);
        for (const who of PEOPLE) {
          const cls = classOf(answer.value.classes, who);
          const entries = answer.value.allowed.filter((a) => a.identities === cls);
          for (const at of inTarget) {
            const expected = decide(who, at);
            const found = entries.filter((e) => e.traffic.some((b) => blockHolds(b, at)));
            expect(found.map((e) => e.allowedBy?.id ?? null)).toEqual(
              expected.decision === "allow" ? [expected.by] : [],
            );
          }
        }
        return true;
      }),
      { numRuns: 25 },
    );
  });

  it("reachable-by is exact for any one person, several groups and regexes included", ({
    expect,
  }) => {
    const person = fc.record({
      email: fc.constantFrom("a@x.test", "zz@y.test", "b@x.test", "q@z.test"),
      groups: fc.subarray(["G1", "G2", "G3"]),
    });
    fc.assert(
      fc.property(policyList, person, (policies, who) => {
        const answer = reachableBy(policies, { ...who, postureChecks: [] }, 1_000_000);
        if (!answer.ok) {
          return false;
        }
        const decide = oracle(policies);
        for (const at of POINTS) {
          const expected = decide(who, at);
          // The oracle is the evaluator itself, without the trace.
          const evaluated = evaluatePolicies(policies, {
            email: who.email,
            groups: who.groups,
            destinationIp: at.address,
            port: at.port,
            protocol: at.protocol,
          });
          expect(expected).toEqual({
            decision: evaluated.decision,
            by: evaluated.decidedBy?.id ?? null,
          });
          const found = answer.value.allowed.filter((e) =>
            e.traffic.some((b) => blockHolds(b, at)),
          );
          expect(found.map((e) => e.allowedBy?.id ?? null)).toEqual(
            expected.decision === "allow" ? [expected.by] : [],
          );
        }
        return true;
      }),
      { numRuns: 20 },
    );
  });

  it("policy usage (matches, decides) agrees with evaluating every class at every point", ({
    expect,
  }) => {
    fc.assert(
      fc.property(policyList, (policies) => {
        const answer = policyUsage(policies, 1_000_000);
        if (!answer.ok) {
          return false;
        }
        const enabled = policies.filter((p) => p.enabled);
        const decide = oracle(policies);
        const expected = enabled.map((p) => {
          const alone = oracle([p]);
          let matches = false;
          let decides = false;
          for (const who of PEOPLE) {
            for (const at of POINTS) {
              matches ||= alone(who, at).by === p.id;
              decides ||= decide(who, at).by === p.id;
            }
          }
          return { id: p.id, matches, decides };
        });
        expect(
          answer.value.usage.map(({ id, matches, decides }) => ({ id, matches, decides })),
        ).toEqual(expected);
        return true;
      }),
      { numRuns: 25 },
    );
  });
});
