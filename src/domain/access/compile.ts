/**
 * Compiles a policy's expressions into the access engine's form: traffic tests become sets over
 * their own dimension (destination addresses, ports, protocols), and every maximal subtree that
 * tests no traffic field becomes one identity leaf, evaluated once per identity class. The sets
 * follow `evaluate.ts` test by test (a field a connection does not carry is false, `ne` of an
 * address is true for the other family too), so the engine agrees with the evaluator.
 */

import { type AddressRange, intersection } from "../cidr/ranges";
import type { NetworkProtocol } from "../model";
import type { EvaluablePolicy, PolicyConditions } from "../policies/evaluate";
import type { Expr } from "../policies/expression";
import type { Interval } from "./intervals";
import { valueHolds } from "./selectors";
import { PROTOCOLS } from "./space";
import { dstSet, portSet } from "./traffic-sets";

/** A compiled condition: boolean structure over traffic sets and identity leaves. */
export type Condition =
  | { kind: "and" | "or" | "xor"; operands: Condition[] }
  | { kind: "not"; operand: Condition }
  | { kind: "const"; value: boolean }
  /** True for the destinations in `set` (normalised). */
  | { kind: "dst"; set: AddressRange[] }
  /** True for the ports in `set` (normalised); never true without a port (ICMP). */
  | { kind: "port"; set: Interval[] }
  /** True for these protocols. */
  | { kind: "protocol"; set: ReadonlySet<NetworkProtocol> }
  /** Identity leaf `leaf`: local in `CompiledConditions`, in the question's `IdentityLeaves` in a `CompiledPolicy`. */
  | { kind: "identity"; leaf: number };

/**
 * What the engine needs of a policy's conditions, independent of its id, order and of any
 * question: the same conditions compile to the same value, so it can be kept across requests.
 * Identity leaves are numbered locally (0.. in `leafExprs`); `prepareLists` renumbers them into
 * the question's shared table.
 */
export interface CompiledConditions {
  /** The AND of the policy's expressions, identity leaves numbered into `leafExprs`. */
  condition: Condition;
  /** The identity subtrees, each once, by local number. */
  leafExprs: Expr[];
  /** Their canonical JSON, by local number: the key of the shared table. */
  leafTexts: string[];
  /** Every destination set the condition tests (bounds of the atoms). */
  dstSets: AddressRange[][];
  /** Every port set the condition tests. */
  portSets: Interval[][];
  /**
   * Destinations outside which the policy never matches (the tests ANDed at its top level), or
   * null when it has none: lets a question about a small range skip most policies at once.
   */
  dstBound: AddressRange[] | null;
}

/**
 * Where a policy may match while no identity is known, per protocol: what the engine asks of
 * every policy of a question, computed once per compiled conditions (`support.ts` semantics).
 */
export interface PolicyReach {
  /** `mayHold` with only the protocol fixed. */
  byProtocol: Record<NetworkProtocol, boolean>;
  /** `mayHold` for ICMP with its port fixed (absent). */
  icmpPortless: boolean;
  /**
   * `possiblePorts` for TCP and UDP: at a port atom, `mayHold` with the port fixed is whether
   * this set holds the atom's first port (both evaluate the same logic at that port).
   */
  ports: Record<"tcp" | "udp", Interval[]>;
}

/** A policy ready for the engine; disabled policies are never compiled (they never match). */
export interface CompiledPolicy {
  id: string;
  name: string;
  action: "allow" | "block";
  precedence: number;
  /** Identity leaves numbered in the question's `IdentityLeaves`. */
  condition: Condition;
  /** The rest as in `CompiledConditions`, shared with the kept compilation: read only. */
  dstSets: AddressRange[][];
  portSets: Interval[][];
  dstBound: AddressRange[] | null;
  reach: PolicyReach;
}

/** The identity subtrees of compiled policies, shared so equal subtrees are one leaf. */
export interface IdentityLeaves {
  exprs: Expr[];
  /** Each leaf's canonical JSON, by leaf number. */
  texts: string[];
  byText: Map<string, number>;
}

/** A fresh, empty leaf table. */
export function newIdentityLeaves(): IdentityLeaves {
  return { exprs: [], texts: [], byText: new Map() };
}

const TRAFFIC_FIELDS = new Set(["net.dst.ip", "net.dst.port", "net.protocol"]);

function testsTraffic(expr: Expr): boolean {
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      return expr.operands.some(testsTraffic);
    case "not":
      return testsTraffic(expr.operand);
    case "flag":
      return false;
    case "compare":
      return TRAFFIC_FIELDS.has(expr.field) && expr.quantifier === null;
  }
}

function compileExpr(expr: Expr, into: CompiledConditions): Condition {
  if (!testsTraffic(expr)) {
    const text = JSON.stringify(expr);
    let leaf = into.leafTexts.indexOf(text);
    if (leaf < 0) {
      leaf = into.leafTexts.length;
      into.leafExprs.push(expr);
      into.leafTexts.push(text);
    }
    return { kind: "identity", leaf };
  }
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      return { kind: expr.kind, operands: expr.operands.map((o) => compileExpr(o, into)) };
    case "not":
      return { kind: "not", operand: compileExpr(expr.operand, into) };
    case "flag":
      return { kind: "const", value: false };
    case "compare": {
      const { field, predicate } = expr;
      if (field === "net.dst.ip") {
        const set = dstSet(predicate);
        into.dstSets.push(set);
        return { kind: "dst", set };
      }
      if (field === "net.dst.port") {
        const set = portSet(predicate);
        into.portSets.push(set);
        return { kind: "port", set };
      }
      return {
        kind: "protocol",
        set: new Set(PROTOCOLS.filter((p) => valueHolds(predicate, p))),
      };
    }
  }
}

/**
 * Compiles the conditions of a policy (its traffic, identity and device posture expressions),
 * whatever its id, action, order or enabled flag.
 */
export function compileConditions(policy: PolicyConditions): CompiledConditions {
  const compiled: CompiledConditions = {
    condition: { kind: "const", value: true },
    leafExprs: [],
    leafTexts: [],
    dstSets: [],
    portSets: [],
    dstBound: null,
  };
  const parts = [policy.traffic, policy.identity, policy.devicePosture ?? null].filter(
    (e): e is Expr => e !== null,
  );
  compiled.condition = {
    kind: "and",
    operands: parts.map((part) => compileExpr(part, compiled)),
  };
  compiled.dstBound = topLevelDestinations(compiled.condition);
  return compiled;
}

function topLevelDestinations(c: Condition): AddressRange[] | null {
  if (c.kind === "dst") {
    return c.set;
  }
  if (c.kind !== "and") {
    return null;
  }
  let bound: AddressRange[] | null = null;
  for (const operand of c.operands) {
    const inner = topLevelDestinations(operand);
    if (inner !== null) {
      bound = bound === null ? inner : intersection(bound, inner);
    }
  }
  return bound;
}

/**
 * Gateway's order, as `evaluatePolicies`: rules shared from a parent account first, then
 * ascending precedence, ties by id.
 */
export function byPrecedence(a: EvaluablePolicy, b: EvaluablePolicy): number {
  const tier = (p: EvaluablePolicy) => (p.sharedFrom === undefined ? 1 : 0);
  return (
    tier(a) - tier(b) || a.precedence - b.precedence || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}
