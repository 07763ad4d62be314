/**
 * The exact access engine at Cloudflare's limits: the access delta of one changed policy among
 * 500, who-can-reach and reachable-by at 500 policies, the worst case the quotas allow, and the
 * old probing delta beside the exact one on the same inputs, both checked by evaluation.
 */
import { clearClassTables } from "../src/domain/access/class-cache";
import { accessDelta } from "../src/domain/access/delta";
import { clearCompiledConditions } from "../src/domain/access/prepare";
import { reachableBy, whoCanReach } from "../src/domain/access/reach";
import { policyUsage } from "../src/domain/access/usage";
import { parseKnownCidr } from "../src/domain/cidr/known";
import { formatAddress } from "../src/domain/cidr/parse";
import { rangeOfPrefix } from "../src/domain/cidr/ranges";
import type { NetworkPolicySpec } from "../src/domain/model";
import {
  conditionsFromSelectors,
  type EvaluablePolicy,
  evaluatePolicies,
} from "../src/domain/policies/evaluate";
import { DEFAULT_QUOTAS, policySelectorUnits } from "../src/domain/quotas";
import { policyAtLimits } from "../test/fixtures/wide-policies";
import { probingAccessDelta } from "./probing-delta";
import { seededRandom } from "./seeded-random";

const BUDGET = DEFAULT_QUOTAS.work_units;

function timeMs<T>(run: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = run();
  return { ms: performance.now() - start, value };
}

function evaluable(id: string, spec: NetworkPolicySpec): EvaluablePolicy {
  return {
    id,
    name: spec.name,
    action: spec.action,
    precedence: spec.precedence,
    enabled: spec.enabled,
    ...conditionsFromSelectors(spec),
  };
}

/**
 * 500 policies as a large account writes them: each on one or two /24s of one of 50 sites,
 * one or two ports, a few of 300 users, one of 20 domain regexes or one of 50 groups; an allow
 * per team and site, the blocks below them.
 */
function accountPolicies(): EvaluablePolicy[] {
  const random = seededRandom(11);
  const pick = (n: number) => Math.floor(random() * n);
  return Array.from({ length: 500 }, (_, i) => {
    const site = pick(50);
    const spec: NetworkPolicySpec = {
      name: `policy ${i}`,
      action: i < 400 ? "allow" : "block",
      precedence: 1000 + i,
      enabled: true,
      destinations: Array.from({ length: 1 + pick(2) }, () => `10.${site}.${pick(256)}.0/24`),
      ports: Array.from({ length: 1 + pick(2) }, () => {
        const port = [22, 443, 5432, 3389, 8080][pick(5)] ?? 22;
        return { from: port, to: port };
      }),
      protocols: pick(3) === 0 ? ["tcp"] : [],
      emails: i % 3 === 0 ? Array.from({ length: 3 }, () => `user${pick(300)}@corp.test`) : [],
      emailRegex: i % 3 === 1 ? `^[^@]+@team${pick(20)}\\.corp\\.test$` : null,
      groups: i % 3 === 2 ? [`group-${pick(50)}`] : [],
    };
    if (i >= 400) {
      spec.destinations = [`10.${i - 400}.0.0/16`];
      spec.ports = [];
      spec.emails = [];
      spec.emailRegex = null;
      spec.groups = [];
    }
    return evaluable(`p${i}`, spec);
  });
}

function changedPolicy(policies: EvaluablePolicy[]): EvaluablePolicy[] {
  return policies.map((p) =>
    p.id === "p250"
      ? evaluable("p250", {
          name: "policy 250 (changed)",
          action: "allow",
          precedence: p.precedence,
          enabled: true,
          destinations: ["10.7.0.0/22"],
          ports: [{ from: 22, to: 22 }],
          protocols: [],
          emails: ["user1@corp.test", "user2@corp.test"],
          emailRegex: "^[^@]+@team3\\.corp\\.test$",
          groups: ["group-7"],
        })
      : p,
  );
}

function verdict<T>(
  answer: { ok: true; value: T } | { ok: false; error: { budget: number; work: number } },
  ok: (value: T) => string,
): string {
  return answer.ok
    ? ok(answer.value)
    : `refused: past ${answer.error.budget} work units (counted ${answer.error.work})`;
}

function runAtFiveHundred(): void {
  console.log("\n== exact access engine, 500 policies (wall ms) ==");
  const before = accountPolicies();
  const after = changedPolicy(before);
  accessDelta(before, after, BUDGET);
  const delta = timeMs(() => accessDelta(before, after, BUDGET));
  console.log(
    `access delta, one changed policy among 500: ${delta.ms.toFixed(1)} ms (goal <= 50), ${verdict(delta.value, (d) => `${d.changes.length} changes, ${d.atoms} atoms x ${d.classes.length} classes`)}`,
  );
  clearCompiledConditions();
  clearClassTables();
  const cold = timeMs(() => accessDelta(before, after, BUDGET));
  console.log(
    `access delta again, compiled policies and class tables forgotten: ${cold.ms.toFixed(1)} ms`,
  );
  const target = rangeOfPrefix(parseKnownCidr("10.7.1.0/32"));
  const who = timeMs(() => whoCanReach(after, { destination: target, port: 22 }, BUDGET));
  console.log(
    `who-can-reach 10.7.1.0 port 22: ${who.ms.toFixed(1)} ms (goal <= 50), ${verdict(who.value, (a) => `${a.allowed.length} entries, ${a.atoms} atoms x ${a.classes.length} classes`)}`,
  );
  const site = rangeOfPrefix(parseKnownCidr("10.7.0.0/16"));
  const whoSite = timeMs(() => whoCanReach(after, { destination: site }, BUDGET));
  console.log(
    `who-can-reach 10.7.0.0/16, every port and protocol: ${whoSite.ms.toFixed(1)} ms, ${verdict(whoSite.value, (a) => `${a.allowed.length} entries, ${a.atoms} atoms x ${a.classes.length} classes`)}`,
  );
  const reach = timeMs(() =>
    reachableBy(
      after,
      { email: "user1@corp.test", groups: ["group-7"], postureChecks: [] },
      BUDGET,
    ),
  );
  console.log(
    `reachable-by user1@corp.test: ${reach.ms.toFixed(1)} ms, ${verdict(reach.value, (a) => `${a.allowed.length} entries, ${a.atoms} atoms`)}`,
  );
  const usage = timeMs(() => policyUsage(after, BUDGET));
  console.log(
    `policies/analysis (usage of every policy): ${usage.ms.toFixed(0)} ms, ${verdict(usage.value, (u) => `${u.atoms} atoms x ${u.classes} classes`)}`,
  );
  compareWithProbing(before, after);
}

/**
 * A member of the class a label names when it names only an email and groups (`email:a@b +
 * group:G`), else null.
 */
function personOf(label: string): { email: string; groups: string[] } | null {
  const person = { email: "nobody@unlisted.invalid", groups: [] as string[] };
  for (const part of label === "everyone-else" ? [] : label.split(" + ")) {
    if (part.startsWith("email:")) {
      person.email = part.slice(6);
    } else if (part.startsWith("group:")) {
      person.groups.push(part.slice(6));
    } else {
      return null;
    }
  }
  return person;
}

/** The prober beside the exact delta, each checked against evaluation. */
function compareWithProbing(before: EvaluablePolicy[], after: EvaluablePolicy[]): void {
  const old = timeMs(() => probingAccessDelta(before, after));
  const exact = accessDelta(before, after, BUDGET);
  if (!exact.ok) {
    console.log("exact delta refused; nothing to compare");
    return;
  }
  console.log(
    `old probing delta: ${old.ms.toFixed(1)} ms, ${old.value.changes.length} changes from ${old.value.probes} probes (truncated: ${old.value.truncated})`,
  );
  const classes = exact.value.classes;
  let confirmed = 0;
  for (const change of old.value.changes) {
    const labels = [
      change.subject.label,
      ...change.subject.groups.map((g) => `group:${g}`),
      "everyone-else",
    ];
    const cls = labels.map((l) => classes.find((c) => c.includes(l))).find((c) => c !== undefined);
    const address = parseKnownCidr(change.destination);
    const holds = exact.value.changes.some(
      (c) =>
        c.identities === cls &&
        c.change === change.change &&
        c.traffic.some(
          (t) =>
            t.protocols.includes(change.protocol) &&
            t.destinations.some((d) => {
              const r = rangeOfPrefix(parseKnownCidr(d));
              return (
                r.family === address.family &&
                r.first <= address.address &&
                address.address <= r.last
              );
            }),
        ),
    );
    confirmed += holds ? 1 : 0;
  }
  // Each exact change checked at its first address, port and protocol with the evaluator.
  let checked = 0;
  let agreed = 0;
  for (const change of exact.value.changes) {
    const person = personOf(change.identities[0] ?? "everyone-else");
    const block = change.traffic[0];
    const cidr = block?.destinations[0];
    if (person === null || block === undefined || cidr === undefined) {
      continue;
    }
    const prefix = parseKnownCidr(cidr);
    const request = {
      ...person,
      destinationIp: formatAddress(prefix.family, prefix.address),
      protocol: block.protocols[0],
      port: block.ports?.[0]?.from,
    };
    const was = evaluatePolicies(before, request).decision;
    const will = evaluatePolicies(after, request).decision;
    checked++;
    agreed += was !== will && (will === "allow") === (change.change === "gains") ? 1 : 0;
  }
  console.log(
    `exact delta: ${exact.value.changes.length} changes over ${exact.value.atoms} atoms x ${exact.value.classes.length} classes; old changes it confirms: ${confirmed}/${old.value.changes.length}; exact changes confirmed by evaluation: ${agreed}/${checked}`,
  );
}

/** The widest account the default quotas allow: 20 policies at every selector limit. */
function runWorstCase(): void {
  console.log("\n== worst case within the default quotas (wall ms) ==");
  const specs = Array.from({ length: 20 }, (_, i) => policyAtLimits(i));
  const units = specs.reduce((sum, s) => sum + policySelectorUnits(s), 0);
  const policies = specs.map((s, i) => evaluable(`w${i}`, s));
  console.log(
    `${policies.length} policies, ${units} of ${DEFAULT_QUOTAS.selector_units} selector units`,
  );
  const delta = timeMs(() => accessDelta([], policies, BUDGET));
  console.log(
    `access delta (all created): ${delta.ms.toFixed(0)} ms (goal <= 2000), ${verdict(delta.value, (d) => `${d.atoms} atoms`)}`,
  );
  const usage = timeMs(() => policyUsage(policies, BUDGET));
  console.log(
    `policies/analysis: ${usage.ms.toFixed(0)} ms, ${verdict(usage.value, (u) => `${u.atoms} atoms`)}`,
  );
  const who = timeMs(() =>
    whoCanReach(policies, { destination: rangeOfPrefix(parseKnownCidr("10.0.0.0/8")) }, BUDGET),
  );
  console.log(
    `who-can-reach 10.0.0.0/8: ${who.ms.toFixed(0)} ms, ${verdict(who.value, (a) => `${a.atoms} atoms`)}`,
  );
  const reach = timeMs(() =>
    reachableBy(
      policies,
      { email: "a@example.com", groups: ["group-1"], postureChecks: [] },
      BUDGET,
    ),
  );
  console.log(
    `reachable-by: ${reach.ms.toFixed(0)} ms, ${verdict(reach.value, (a) => `${a.atoms} atoms`)}`,
  );
  // The same policies over one range, each naming its own 100 groups: 2^20 memberships meet.
  const combined = specs.map((s, i) =>
    evaluable(`c${i}`, {
      ...s,
      destinations: ["10.0.0.0/8"],
      groups: Array.from({ length: 100 }, (_, g) => `group-${i}-${g}`),
    }),
  );
  const comboDelta = timeMs(() => accessDelta([], combined, BUDGET));
  console.log(
    `20 policies on one range, 2,000 distinct groups: access delta ${comboDelta.ms.toFixed(0)} ms, ${verdict(comboDelta.value, (d) => `${d.atoms} atoms x ${d.classes.length} classes`)}`,
  );
  const comboUsage = timeMs(() => policyUsage(combined, BUDGET));
  console.log(
    `  policies/analysis ${comboUsage.ms.toFixed(0)} ms, ${verdict(comboUsage.value, (u) => `${u.atoms} atoms x ${u.classes} classes`)}`,
  );
  const comboWho = timeMs(() =>
    whoCanReach(combined, { destination: rangeOfPrefix(parseKnownCidr("10.0.0.0/8")) }, BUDGET),
  );
  console.log(
    `  who-can-reach 10.0.0.0/8 ${comboWho.ms.toFixed(0)} ms, ${verdict(comboWho.value, (a) => `${a.atoms} atoms x ${a.classes.length} classes`)}`,
  );
}

/** Prints the access engine's measurements. */
export function runAccessBench(): void {
  runAtFiveHundred();
  runWorstCase();
}
