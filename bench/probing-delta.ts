/**
 * The access delta as tunnelplane computed it before the exact engine, kept in the bench only to
 * be printed beside the exact one: probe connections built from what the changed policies name
 * (each email, a sample address per regex and its look-alike, a member of each group, everyone
 * else; each destination network, each named port and one port nobody names, each protocol),
 * evaluated before and after, at most 5,000 of them.
 */
import { sampleEmail } from "../src/domain/access/email-atoms";
import { parseKnownCidr } from "../src/domain/cidr/known";
import { formatAddress } from "../src/domain/cidr/parse";
import type { NetworkProtocol } from "../src/domain/model";
import { type EvaluablePolicy, evaluatePolicies } from "../src/domain/policies/evaluate";
import { type Expr, formatExpression } from "../src/domain/policies/expression";

/** A person a probe stands for. */
export interface ProbeSubject {
  /** `email:<address>`, `regex:<pattern>`, `lookalike:<sample>`, `group:<name>`, `everyone-else`. */
  label: string;
  email: string;
  groups: string[];
}

/** One connection whose outcome the change alters. */
export interface AccessChange {
  subject: ProbeSubject;
  /** The destination network (canonical CIDR) the probe address stands for. */
  destination: string;
  /** The port probed, or null for "a port no policy names". */
  port: number | null;
  protocol: NetworkProtocol;
  change: "gains" | "loses";
  /** The policy deciding after the change, or null (no match: allowed). */
  decidedBy: string | null;
}

/** The delta and how it was found. */
export interface AccessDelta {
  changes: AccessChange[];
  /** Probe connections evaluated. */
  probes: number;
  /** True when the probe set was cut (at `MAX_PROBES`, or at the work budget's share). */
  truncated: boolean;
}

/** Upper bound on probe connections per delta (each is two policy evaluations). */
export const MAX_PROBES = 5000;

/** Appended to a regex's sample address to probe look-alike domains. */
const LOOKALIKE_SUFFIX = ".lookalike.invalid";

/** An email no policy names, standing for everyone else. */
const OUTSIDER = "someone@unlisted.invalid";

interface Named {
  emails: Set<string>;
  regexes: Set<string>;
  groups: Set<string>;
  destinations: Set<string>;
  ports: Set<number>;
  protocols: Set<string>;
}

function collect(expr: Expr | null | undefined, into: Named): void {
  if (expr === null || expr === undefined) {
    return;
  }
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      for (const operand of expr.operands) {
        collect(operand, into);
      }
      return;
    case "not":
      collect(expr.operand, into);
      return;
    case "flag":
      return;
    case "compare": {
      const { field, predicate } = expr;
      if (predicate.op === "matches") {
        if (field === "identity.email") {
          into.regexes.add(predicate.pattern);
        }
        return;
      }
      const items =
        predicate.op === "in"
          ? predicate.items
          : predicate.op === "eq" || predicate.op === "ne"
            ? [predicate.value]
            : [];
      for (const item of items) {
        if (item.type === "ip" && field === "net.dst.ip") {
          into.destinations.add(item.cidr);
        } else if (item.type === "int" && field === "net.dst.port") {
          into.ports.add(item.value);
        } else if (item.type === "int-range" && field === "net.dst.port") {
          into.ports.add(item.from);
          into.ports.add(item.to);
        } else if (item.type === "string" && field === "identity.email") {
          into.emails.add(item.value);
        } else if (item.type === "string" && field === "identity.groups.name") {
          into.groups.add(item.value);
        } else if (item.type === "string" && field === "net.protocol") {
          into.protocols.add(item.value);
        }
      }
    }
  }
}

function fingerprint(p: EvaluablePolicy): string {
  return JSON.stringify([
    p.action,
    p.enabled,
    p.precedence,
    p.traffic === null ? "" : formatExpression(p.traffic),
    p.identity === null ? "" : formatExpression(p.identity),
    p.devicePosture ? formatExpression(p.devicePosture) : "",
  ]);
}

/**
 * The access delta between the policies in force now (`before`) and after the plan (`after`).
 * Policies are matched by id; those added, removed or changed name the probes. No change means
 * no probes and an empty delta. Entries are ordered by subject, destination, port, protocol.
 * At most `maxProbes` probes are evaluated (default and ceiling `MAX_PROBES`); past them the
 * delta is `truncated`.
 */
export function probingAccessDelta(
  before: readonly EvaluablePolicy[],
  after: readonly EvaluablePolicy[],
  maxProbes: number = MAX_PROBES,
): AccessDelta {
  const probeLimit = Math.min(MAX_PROBES, maxProbes);
  const beforeById = new Map(before.map((p) => [p.id, fingerprint(p)]));
  const afterById = new Map(after.map((p) => [p.id, fingerprint(p)]));
  const changed = [
    ...before.filter((p) => afterById.get(p.id) !== fingerprint(p)),
    ...after.filter((p) => beforeById.get(p.id) !== fingerprint(p)),
  ];
  const named: Named = {
    emails: new Set(),
    regexes: new Set(),
    groups: new Set(),
    destinations: new Set(),
    ports: new Set(),
    protocols: new Set(),
  };
  for (const p of changed) {
    collect(p.traffic, named);
    collect(p.identity, named);
  }
  if (changed.length === 0) {
    return { changes: [], probes: 0, truncated: false };
  }
  const candidates: ProbeSubject[] = [
    ...[...named.emails].sort().map((email) => ({ label: `email:${email}`, email, groups: [] })),
    ...[...named.regexes].sort().flatMap((regex) => {
      const email = sampleEmail(regex);
      // A look-alike address shows what anchoring a regex changes (`.*@x.com` vs `…x\.com$`).
      return email === null
        ? []
        : [
            { label: `regex:${regex}`, email, groups: [] },
            { label: `lookalike:${email}`, email: `${email}${LOOKALIKE_SUFFIX}`, groups: [] },
          ];
    }),
    ...[...named.groups]
      .sort()
      .map((group) => ({ label: `group:${group}`, email: OUTSIDER, groups: [group] })),
    { label: "everyone-else", email: OUTSIDER, groups: [] },
  ];
  // Two regexes often share a sample address; one probe per person is enough.
  const seen = new Set<string>();
  const subjects = candidates.filter((s) => {
    const key = JSON.stringify([s.email, s.groups]);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
  const destinations =
    named.destinations.size === 0 ? ["0.0.0.0/0"] : [...named.destinations].sort();
  const namedPorts = [...named.ports].sort((a, b) => a - b);
  const ports: (number | null)[] = [...namedPorts, null];
  const protocols = (["tcp", "udp", "icmp"] as const).filter((p) =>
    named.protocols.size === 0 ? p === "tcp" : named.protocols.has(p) || p === "tcp",
  );
  const unnamedPort =
    Array.from({ length: 65535 }, (_, i) => i + 1).find((p) => !named.ports.has(p)) ?? 1;
  const changes: AccessChange[] = [];
  let probes = 0;
  let truncated = false;
  outer: for (const subject of subjects) {
    for (const destination of destinations) {
      const prefix = parseKnownCidr(destination);
      const address = formatAddress(prefix.family, prefix.address);
      for (const port of ports) {
        for (const protocol of protocols) {
          if (probes >= probeLimit) {
            truncated = true;
            break outer;
          }
          probes++;
          const request = {
            email: subject.email,
            groups: subject.groups,
            destinationIp: address,
            protocol,
            port: port ?? unnamedPort,
          };
          const was = evaluatePolicies(before, request);
          const will = evaluatePolicies(after, request);
          if (was.decision !== will.decision) {
            changes.push({
              subject,
              destination,
              port,
              protocol,
              change: will.decision === "allow" ? "gains" : "loses",
              decidedBy: will.decidedBy?.name ?? null,
            });
          }
        }
      }
    }
  }
  return { changes, probes, truncated };
}
