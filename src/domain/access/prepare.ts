/**
 * Compiling the policy lists of one question together: a policy that is the same in several
 * lists (same id and conditions) is compiled once, so the lists of a delta share their atoms.
 * Compiled conditions are also kept across questions (keyed by the conditions' canonical JSON,
 * bounded in bytes), since an account's policies rarely change between two requests.
 */
import { LRUCache } from "lru-cache";
import type { EvaluablePolicy } from "../policies/evaluate";
import type { Expr } from "../policies/expression";
import {
  byPrecedence,
  type CompiledConditions,
  type CompiledPolicy,
  type Condition,
  compileConditions,
  type IdentityLeaves,
  newIdentityLeaves,
  type PolicyReach,
} from "./compile";
import { mayHold, possiblePorts } from "./support";

/** Compiled lists: every distinct enabled policy once, and each list as indices in Gateway order. */
export interface PreparedLists {
  policies: CompiledPolicy[];
  leaves: IdentityLeaves;
  /** Per input list, the indices of its enabled policies in evaluation order. */
  orders: number[][];
}

/** Bytes the compiled conditions kept across requests may take (estimated, see `entryBytes`). */
export const COMPILED_CONDITIONS_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Estimated bytes of one kept entry: the key and leaf texts (two bytes a character at most), the
 * expression trees they were parsed from (about as large again as their JSON, counted once more
 * for the key), and ~120 bytes per address or port range plus ~100 per condition node.
 */
function entryBytes({ compiled, reach }: Kept, key: string): number {
  const reachRanges = reach.ports.tcp.length + reach.ports.udp.length;
  const texts = compiled.leafTexts.reduce((n, t) => n + t.length, 0);
  const ranges = [...compiled.dstSets, ...compiled.portSets].reduce((n, s) => n + s.length, 0);
  const bound = compiled.dstBound?.length ?? 0;
  return 768 + 4 * key.length + 4 * texts + 120 * (ranges + bound + reachRanges);
}

/** Compiled conditions and where they may match, as kept across questions. */
interface Kept {
  compiled: CompiledConditions;
  reach: PolicyReach;
}

const COMPILED = new LRUCache<string, Kept>({
  maxSize: COMPILED_CONDITIONS_MAX_BYTES,
  sizeCalculation: entryBytes,
});

/** Forgets every kept compilation: only measurements need it, to time a cold question. */
export function clearCompiledConditions(): void {
  COMPILED.clear();
}

/** The estimated bytes the kept compilations take now, what the bound counts (for measurements). */
export function compiledConditionsBytes(): number {
  return COMPILED.calculatedSize;
}

/** The canonical JSON of a policy's conditions: the parsed trees are plain data in one shape. */
function conditionsKey(p: EvaluablePolicy): string {
  return JSON.stringify([p.traffic, p.identity, p.devicePosture ?? null]);
}

/** What makes two versions of a policy the same: action, state, order and conditions. */
export function policyFingerprint(p: EvaluablePolicy, key = conditionsKey(p)): string {
  return JSON.stringify([p.id, p.action, p.enabled, p.precedence]) + key;
}

function reachOf(c: Condition): PolicyReach {
  return {
    byProtocol: {
      icmp: mayHold(c, { protocol: "icmp" }),
      tcp: mayHold(c, { protocol: "tcp" }),
      udp: mayHold(c, { protocol: "udp" }),
    },
    icmpPortless: mayHold(c, { protocol: "icmp", port: null }),
    ports: {
      tcp: possiblePorts(c, { protocol: "tcp" }),
      udp: possiblePorts(c, { protocol: "udp" }),
    },
  };
}

function kept(p: EvaluablePolicy, key: string): Kept {
  let entry = COMPILED.get(key);
  if (entry === undefined) {
    const compiled = compileConditions(p);
    entry = { compiled, reach: reachOf(compiled.condition) };
    COMPILED.set(key, entry);
  }
  return entry;
}

/** The condition with its local identity leaves renumbered by `leafIds`. */
function renumber(c: Condition, leafIds: readonly number[]): Condition {
  switch (c.kind) {
    case "and":
    case "or":
    case "xor":
      return { kind: c.kind, operands: c.operands.map((o) => renumber(o, leafIds)) };
    case "not":
      return { kind: "not", operand: renumber(c.operand, leafIds) };
    case "identity":
      return { kind: "identity", leaf: leafIds[c.leaf] as number };
    default:
      return c;
  }
}

function instantiate(p: EvaluablePolicy, key: string, leaves: IdentityLeaves): CompiledPolicy {
  const { compiled, reach } = kept(p, key);
  const leafIds = compiled.leafTexts.map((text, local) => {
    let leaf = leaves.byText.get(text);
    if (leaf === undefined) {
      leaf = leaves.exprs.length;
      leaves.exprs.push(compiled.leafExprs[local] as Expr);
      leaves.texts.push(text);
      leaves.byText.set(text, leaf);
    }
    return leaf;
  });
  return {
    id: p.id,
    name: p.name,
    action: p.action,
    precedence: p.precedence,
    condition: renumber(compiled.condition, leafIds),
    dstSets: compiled.dstSets,
    portSets: compiled.portSets,
    dstBound: compiled.dstBound,
    reach,
  };
}

/** Compiles `lists` (each in any order); disabled policies are left out, as they never match. */
export function prepareLists(lists: readonly (readonly EvaluablePolicy[])[]): PreparedLists {
  const leaves = newIdentityLeaves();
  const policies: CompiledPolicy[] = [];
  const byFingerprint = new Map<string, number>();
  const byObject = new Map<EvaluablePolicy, number>();
  const orders = lists.map((list) =>
    [...list]
      .filter((p) => p.enabled)
      .sort(byPrecedence)
      .map((p) => {
        const same = byObject.get(p);
        if (same !== undefined) {
          return same;
        }
        const key = conditionsKey(p);
        const fingerprint = policyFingerprint(p, key);
        let index = byFingerprint.get(fingerprint);
        if (index === undefined) {
          index = policies.length;
          policies.push(instantiate(p, key, leaves));
          byFingerprint.set(fingerprint, index);
        }
        byObject.set(p, index);
        return index;
      }),
  );
  return { policies, leaves, orders };
}
