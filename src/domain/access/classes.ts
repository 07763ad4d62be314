/**
 * Identity classes: the people the policies' identity selectors tell apart, each a distinct
 * satisfiable combination of the selectors' truth values (README "Access engine"). A class is
 * one kind of address (`email-atoms.ts`: a named email, a regex's other addresses or their
 * look-alikes, a `contains` text, or an unnamed address) together with one set of groups and one
 * set of passed posture checks (`memberships.ts`): addresses never combine with each other, while
 * groups and checks combine freely. Candidates on which every identity leaf agrees are merged
 * into one class listing all their labels. Every candidate is tested on every leaf, so their
 * count is bounded by the caller's work budget and the enumeration stops past it.
 */

import type { Expr } from "../policies/expression";
import { err, ok, type Result } from "../result";
import { type Bits, bitsetOf, flipBit, fullBits } from "./bits";
import { emailAtoms } from "./email-atoms";
import { memberships, UNNAMED } from "./memberships";
import {
  collectSelectors,
  identityHolds,
  NOBODY,
  type Selectors,
  stringsOf,
  type Witness,
} from "./selectors";

/** People the policies treat alike. */
export interface IdentityClass {
  /**
   * The candidates merged into it, each naming what its witness holds, joined by " + ":
   * `email:…`, `regex:…`, `lookalike:…` or `contains:…` for the address, `group:…` per group
   * (`other-group` for one no selector names), `posture:…` per passed check (`other-posture`);
   * `everyone-else` when none; `person:…` for one given person.
   */
  labels: string[];
  /** One of its members, as the selectors see it (the first label's). */
  witness: Witness;
}

/** The classes of one question and, per identity leaf, the classes it holds for. */
export interface ClassTable {
  classes: IdentityClass[];
  /** By leaf number; only the leaves asked about are filled. */
  leafBits: (Bits | undefined)[];
  /** Candidates tested before merging (see `ClassBound`). */
  candidates: number;
  /** Steps the enumeration took (see `ClassBound`). */
  steps: number;
}

/** What the leaves asked about read, by position in `leafIds`. */
interface LeafIndex {
  /** Each leaf's truth for someone no selector names. */
  nobody: boolean[];
  /** The witness fields each leaf reads: its truth differs from nobody's only through them. */
  fields: Set<string>[];
  /** Positions of leaves testing `identity.email` with `matches` or `contains`. */
  emailPatterns: number[];
  /** Per address: positions of the leaves naming it in an `identity.email` eq, ne or in. */
  byEmail: Map<string, number[]>;
}

function indexLeaf(expr: Expr, position: number, index: LeafIndex): void {
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      for (const operand of expr.operands) {
        indexLeaf(operand, position, index);
      }
      return;
    case "not":
      indexLeaf(expr.operand, position, index);
      return;
    case "flag":
      return;
    case "compare": {
      (index.fields[position] as Set<string>).add(expr.field);
      if (expr.field !== "identity.email" || expr.quantifier !== null) {
        return;
      }
      const { predicate } = expr;
      if (predicate.op === "matches" || predicate.op === "contains") {
        if (index.emailPatterns.at(-1) !== position) {
          index.emailPatterns.push(position);
        }
        return;
      }
      for (const email of stringsOf(predicate)) {
        const positions = index.byEmail.get(email) ?? [];
        if (positions.at(-1) !== position) {
          positions.push(position);
        }
        index.byEmail.set(email, positions);
      }
    }
  }
}

function leafIndex(exprs: readonly Expr[], leafIds: readonly number[]): LeafIndex {
  const index: LeafIndex = {
    nobody: leafIds.map((leaf) => identityHolds(exprs[leaf] as Expr, NOBODY)),
    fields: leafIds.map(() => new Set<string>()),
    emailPatterns: [],
    byEmail: new Map(),
  };
  leafIds.forEach((leaf, position) => {
    indexLeaf(exprs[leaf] as Expr, position, index);
  });
  return index;
}

/**
 * Positions (ascending) of the leaves whose truth for `who` may differ from nobody's. A named
 * address changes an `identity.email` eq, ne or in only when it is one of the values listed
 * (otherwise eq and in are false and ne true, as for nobody), so only the leaves naming it and
 * those matching patterns are tested.
 */
function leavesToTest(who: Witness, index: LeafIndex): number[] {
  const { email, regex, contains, groups, checks } = who;
  const dimensions =
    (email !== null || regex !== null || contains !== null ? 1 : 0) + groups.length + checks.length;
  if (dimensions > 1) {
    return index.nobody.map((_, position) => position);
  }
  if (email !== null) {
    const named = index.byEmail.get(email);
    return named === undefined
      ? index.emailPatterns
      : [...new Set([...index.emailPatterns, ...named])].sort((a, b) => a - b);
  }
  if (dimensions === 0) {
    return [];
  }
  const varied =
    regex !== null || contains !== null
      ? "identity.email"
      : groups.length > 0
        ? "identity.groups.name"
        : "device_posture.checks.passed";
  const positions: number[] = [];
  index.fields.forEach((fields, position) => {
    if (fields.has(varied)) {
      positions.push(position);
    }
  });
  return positions;
}

function tabulate(
  candidates: readonly IdentityClass[],
  exprs: readonly Expr[],
  leafIds: readonly number[],
): ClassTable {
  const index = leafIndex(exprs, leafIds);
  // A class is identified by the leaves on which it differs from nobody.
  const bySignature = new Map<string, { cls: IdentityClass; differs: number[] }>();
  for (const candidate of candidates) {
    const differs = leavesToTest(candidate.witness, index).filter(
      (position) =>
        identityHolds(exprs[leafIds[position] as number] as Expr, candidate.witness) !==
        index.nobody[position],
    );
    const signature = differs.join(",");
    const existing = bySignature.get(signature);
    if (existing === undefined) {
      bySignature.set(signature, {
        cls: { labels: [...candidate.labels], witness: candidate.witness },
        differs,
      });
    } else {
      existing.cls.labels.push(...candidate.labels);
    }
  }
  const merged = [...bySignature.values()];
  const bits = leafIds.map((_, position) =>
    index.nobody[position] === true ? fullBits(merged.length) : bitsetOf(merged.length),
  );
  merged.forEach((m, k) => {
    for (const position of m.differs) {
      flipBit(bits[position] as Bits, k);
    }
  });
  const leafBits: (Bits | undefined)[] = [];
  leafIds.forEach((leaf, position) => {
    leafBits[leaf] = bits[position];
  });
  return {
    classes: merged.map((m) => m.cls),
    leafBits,
    candidates: candidates.length,
    steps: candidates.length * leafIds.length,
  };
}

function labelOf(address: string | null, groups: readonly string[], checks: readonly string[]) {
  const parts = [
    ...(address === null ? [] : [address]),
    ...groups.map((g) => (g === UNNAMED ? "other-group" : `group:${g}`)),
    ...checks.map((c) => (c === UNNAMED ? "other-posture" : `posture:${c}`)),
  ];
  return parts.length === 0 ? "everyone-else" : parts.join(" + ");
}

/**
 * A membership set and the sets naming the same people to every test: itself, and for a single
 * value each of its aliases (see `Memberships`), which need no testing of their own.
 */
function spellings(set: string[], aliases: Map<string, string[]>): string[][] {
  const only = set.length === 1 ? (set[0] as string) : undefined;
  const others = only === undefined ? [] : (aliases.get(only) ?? []);
  return [set, ...others.filter((a) => a !== UNNAMED).map((a) => [a])];
}

/**
 * What enumerating classes may spend, in work units: each candidate costs `perCandidate` (the
 * atoms it will be evaluated at), and each step (a test read for a group or check, a membership
 * built, a candidate tested on one leaf) one; together they may not pass `room`.
 */
export interface ClassBound {
  perCandidate: number;
  room: number;
}

/** No bound: for tests and one given person. */
const UNBOUNDED: ClassBound = { perCandidate: 0, room: Number.POSITIVE_INFINITY };

/**
 * Every candidate class of `selectors` (address kind × groups × checks), the unnamed one last,
 * and the steps taken; or, past `bound`, the work units counted when the enumeration stopped.
 */
function enumerate(
  selectors: Selectors,
  leafCount: number,
  bound: ClassBound,
): Result<{ found: IdentityClass[]; steps: number }, number> {
  const addresses = emailAtoms(selectors);
  const { perCandidate, room } = bound;
  const max = perCandidate === 0 ? room : Math.floor(room / perCandidate);
  const perAddress = Math.floor(max / addresses.length);
  const groupTests = [...selectors.groupTests.values()];
  const groups = memberships([...selectors.groups], groupTests, perAddress, room);
  if (groups === null) {
    return err(room + 1);
  }
  const perGroups = Math.floor(perAddress / groups.sets.length);
  const checkTests = [...selectors.checkTests.values()];
  const checks = memberships([...selectors.checks], checkTests, perGroups, room - groups.steps);
  if (checks === null) {
    return err(room + 1);
  }
  const count = addresses.length * groups.sets.length * checks.sets.length;
  const steps = groups.steps + checks.steps + count * leafCount;
  if (steps + count * perCandidate > room) {
    return err(steps + count * perCandidate);
  }
  const found: IdentityClass[] = [];
  for (const address of addresses) {
    for (const g of groups.sets) {
      for (const c of checks.sets) {
        const labels = spellings(g, groups.aliases).flatMap((gs) =>
          spellings(c, checks.aliases).map((cs) => labelOf(address.label, gs, cs)),
        );
        found.push({ labels, witness: { ...address.witness, groups: g, checks: c } });
      }
    }
  }
  // The unnamed address with no group and no check is first among its own: last overall.
  const nobody = found.splice(found.length - groups.sets.length * checks.sets.length, 1);
  return ok({ found: [...found, ...nobody], steps });
}

/**
 * The identity classes the leaves `leafIds` of `exprs` tell apart (see the module comment), in
 * the order of the address kinds (email, regex, contains, each sorted, then unnamed), then of
 * the memberships (fewest values first), `everyone-else` last; merged where every leaf agrees.
 * Errors: past `bound`, the work units counted when the enumeration stopped.
 */
export function identityClasses(
  exprs: readonly Expr[],
  leafIds: readonly number[],
  bound: ClassBound = UNBOUNDED,
): Result<ClassTable, number> {
  const found = enumerate(collectSelectors(exprs, leafIds), leafIds.length, bound);
  if (!found.ok) {
    return found;
  }
  return ok({ ...tabulate(found.value.found, exprs, leafIds), steps: found.value.steps });
}

/** The one class of a given person (`label` names them in the answer). */
export function personClass(
  exprs: readonly Expr[],
  leafIds: readonly number[],
  label: string,
  person: { email: string; groups: readonly string[]; checks: readonly string[] },
): ClassTable {
  const witness: Witness = {
    email: person.email,
    regex: null,
    contains: null,
    groups: [...person.groups],
    checks: [...person.checks],
  };
  return tabulate([{ labels: [label], witness }], exprs, leafIds);
}
