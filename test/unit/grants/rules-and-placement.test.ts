import { describe, it } from "vitest";
import { decideApproval, type GrantApprovalRule } from "../../../src/domain/grants/approval";
import { nextDeliveryAttemptAtMs } from "../../../src/domain/grants/delivery";
import type { GrantPolicySource, GrantRequest } from "../../../src/domain/grants/grant";
import { checkGrantPath } from "../../../src/domain/grants/path-check";
import { placeGrantPolicies } from "../../../src/domain/grants/policy";
import type { NetworkPolicySpec } from "../../../src/domain/model";

const request: GrantRequest = {
  ticket: { system: "servicenow", id: "CHG1", url: null },
  subjectEmail: "contractor@example.com",
  destinations: ["10.128.0.7/32"],
  ports: [{ from: 22, to: 22 }],
  protocols: ["tcp"],
  reason: "patch",
  startsAtMs: 0,
  endsAtMs: 3_600_000,
};

const rule = (over: Partial<GrantApprovalRule>): GrantApprovalRule => ({
  id: "r1",
  name: "db",
  effect: "auto_approve",
  maxDurationS: null,
  allowedDestinations: [],
  allowedSystems: [],
  subjectEmailPattern: null,
  ...over,
});

describe("decideApproval", () => {
  it("approves a request inside an auto-approve rule", ({ expect }) => {
    const rules = [
      rule({
        maxDurationS: 14_400,
        allowedDestinations: ["10.128.0.0/16"],
        allowedSystems: ["servicenow"],
        subjectEmailPattern: "[^@]+@example\\.com",
      }),
    ];
    expect(decideApproval(request, rules)).toEqual({ decision: "approve", ruleId: "r1" });
  });

  it("leaves a request outside every auto-approve rule to an operator, saying why", ({
    expect,
  }) => {
    const rules = [
      rule({
        maxDurationS: 1800,
        allowedDestinations: ["10.0.0.0/16"],
        allowedSystems: ["jira-sm"],
        subjectEmailPattern: "[^@]+@corp\\.example\\.com",
      }),
    ];
    expect(decideApproval(request, rules)).toEqual({
      decision: "manual",
      outside: [
        {
          ruleId: "r1",
          ruleName: "db",
          misses: [
            { code: "duration-exceeds", durationS: 3600, maxDurationS: 1800 },
            { code: "destination-not-allowed", destinations: ["10.128.0.7/32"] },
            { code: "system-not-allowed", system: "servicenow" },
            { code: "subject-not-allowed", subjectEmail: "contractor@example.com" },
          ],
        },
      ],
    });
  });

  it("matches the subject pattern against the whole email, not a substring", ({ expect }) => {
    const rules = [rule({ subjectEmailPattern: ".*@example\\.com" })];
    expect(
      decideApproval({ ...request, subjectEmail: "x@example.com.evil.test" }, rules).decision,
    ).toBe("manual");
  });

  it("rejects a request outside every hard limit even when an auto-approve rule admits it", ({
    expect,
  }) => {
    const rules = [
      rule({ id: "auto" }),
      rule({ id: "limit", name: "max 30 min", effect: "hard_limit", maxDurationS: 1800 }),
    ];
    expect(decideApproval(request, rules)).toEqual({
      decision: "reject",
      outside: [
        {
          ruleId: "limit",
          ruleName: "max 30 min",
          misses: [{ code: "duration-exceeds", durationS: 3600, maxDurationS: 1800 }],
        },
      ],
    });
  });

  it("a request inside one hard limit goes on to the auto-approve rules", ({ expect }) => {
    const rules = [
      rule({ id: "limit", effect: "hard_limit", maxDurationS: 1800 }),
      rule({ id: "limit2", effect: "hard_limit", maxDurationS: 7200 }),
      rule({ id: "auto" }),
    ];
    expect(decideApproval(request, rules)).toEqual({ decision: "approve", ruleId: "auto" });
  });
});

const source = (id: string, activatedAtMs: number, kept: number | null): GrantPolicySource => ({
  id,
  version: 3,
  ticket: request.ticket,
  subjectEmail: request.subjectEmail,
  destinations: ["10.128.0.7/32"],
  ports: [],
  protocols: [],
  activatedAtMs,
  policyPrecedence: kept,
  policySyncedVersion: null,
});

const block = (precedence: number, destinations: string[]) => ({
  precedence,
  block: { destinations, enabled: true },
});

describe("placeGrantPolicies", () => {
  it("puts grants just above the lowest covering block, oldest first", ({ expect }) => {
    expect(
      placeGrantPolicies(
        [source("b", 2, null), source("a", 1, null)],
        [{ precedence: 1000 }, block(2000, ["10.128.0.7/32"]), block(3000, ["10.0.0.0/8"])],
      ),
    ).toEqual([
      { grantId: "a", precedence: 1999, ceiling: 2000 },
      { grantId: "b", precedence: 1998, ceiling: 2000 },
    ]);
  });

  it("keeps a grant's precedence when the one above it is gone (no renumbering, no write)", ({
    expect,
  }) => {
    expect(placeGrantPolicies([source("b", 2, 1998)], [block(2000, ["10.128.0.0/16"])])).toEqual([
      { grantId: "b", precedence: 1998, ceiling: 2000 },
    ]);
  });

  it("moves a grant above a new covering block and around taken values", ({ expect }) => {
    expect(
      placeGrantPolicies(
        [source("a", 1, 1999)],
        [block(2000, ["10.128.0.7/32"]), block(500, []), { precedence: 499 }],
      ),
    ).toEqual([{ grantId: "a", precedence: 498, ceiling: 500 }]);
  });

  it("ignores blocks for other destinations and places above everything when none covers", ({
    expect,
  }) => {
    expect(
      placeGrantPolicies(
        [source("a", 1, null)],
        [block(2000, ["192.168.0.0/16"]), { precedence: 700 }],
      ),
    ).toEqual([{ grantId: "a", precedence: 699, ceiling: 700 }]);
  });

  it("reports no room when the covering block is at precedence 1", ({ expect }) => {
    expect(placeGrantPolicies([source("a", 1, null)], [block(1, [])])).toEqual([
      { grantId: "a", precedence: null, ceiling: 1 },
    ]);
  });
});

const policy = (over: Partial<NetworkPolicySpec>): NetworkPolicySpec => ({
  name: "p",
  action: "allow",
  precedence: 1000,
  enabled: true,
  destinations: [],
  ports: [],
  protocols: [],
  emails: [],
  emailRegex: null,
  ...over,
});

describe("checkGrantPath", () => {
  const network = {
    routes: [
      { network: "10.0.0.0/8", tunnelId: "t1" },
      { network: "10.128.0.0/16", tunnelId: "t2" },
    ],
    splitTunnel: { mode: "exclude" as const, auto: true, entries: [] },
    teamDomain: null,
    proxySettings: { tcp: true, udp: false, icmp: true },
    policies: [
      {
        id: "grant",
        spec: policy({
          precedence: 1999,
          destinations: ["10.128.0.7/32"],
          emails: ["contractor@example.com"],
        }),
      },
      {
        id: "block",
        spec: policy({
          name: "Block db",
          action: "block",
          precedence: 2000,
          destinations: ["10.128.0.7/32"],
        }),
      },
    ],
  };

  it("opens the path: longest-prefix route, through WARP, proxied, allowed by the grant", ({
    expect,
  }) => {
    expect(checkGrantPath(request, network)).toEqual({
      ok: true,
      problems: [],
      destinations: [
        {
          destination: "10.128.0.7/32",
          route: { network: "10.128.0.0/16", tunnelId: "t2" },
          throughWarp: true,
          probe: { ip: "10.128.0.7", port: 22, protocol: "tcp" },
          decision: "allow",
          decidedBy: { id: "grant", name: "p", precedence: 1999 },
        },
      ],
    });
  });

  it("flags every reason a grant cannot work", ({ expect }) => {
    const check = checkGrantPath(
      { ...request, destinations: ["192.168.1.10/32"], protocols: ["udp"] },
      {
        ...network,
        policies: [{ id: "block", spec: policy({ name: "Block all", action: "block" }) }],
      },
    );
    expect([check.ok, check.problems]).toEqual([
      false,
      [
        { code: "no-route", destination: "192.168.1.10/32" },
        {
          code: "excluded-from-warp",
          destination: "192.168.1.10/32",
          addresses: ["192.168.1.10/32"],
        },
        { code: "proxy-off", destination: "192.168.1.10/32", protocol: "udp" },
        {
          code: "blocked-by-policy",
          destination: "192.168.1.10/32",
          policy: { id: "block", name: "Block all" },
        },
      ],
    ]);
  });
});

describe("nextDeliveryAttemptAtMs", () => {
  it("backs off 30 s, 60 s, 120 s … up to an hour, and gives up after 8 attempts", ({ expect }) => {
    expect([1, 2, 3, 7, 8].map((n) => nextDeliveryAttemptAtMs(n, 0))).toEqual([
      30_000,
      60_000,
      120_000,
      1_920_000,
      null,
    ]);
  });
});
