/**
 * Identity classes: the people the policies' identity selectors tell apart. Raw classes are one
 * per selector value: each named email (`email:<address>`), the other addresses matching each
 * regex (`regex:<pattern>`, and `lookalike:<pattern>` for an unanchored one), containing each
 * `contains` text (`contains:<text>`), the members of each named group (`group:<name>`), the
 * devices passing each posture check (`posture:<id>`), and `everyone-else`. Raw classes on which
 * every identity leaf agrees are merged into one class listing all their labels, so a class is
 * a distinct combination of leaf truth values.
 *
 * A class is a combination that is satisfiable, shown by a witness (README "Access engine"): a
 * named email is its own witness, so every regex is tested on the address itself
 * (`alice@example.com` is told apart from the rest of the regex's domain); a regex class's
 * witness is an address built from the pattern (`user@example.com` for `.*@example.com`) and
 * its look-alike (`user@example.com.lookalike.invalid`, kept when the regex still matches it),
 * on which every other regex is tested too, so two regexes over one domain are one class. Only
 * when no address can be built is a regex class assumed to match no other regex. A group or
 * posture class is someone with that one group or check and an unnamed address. People who
 * combine several (a named email in a named group, two groups) are not enumerated, as that
 * needs the product of every subset; `reachableBy` answers exactly for any one person.
 */

import { emailMatches } from "../policies/email-regex";
import type { Expr, Predicate, SetItem } from "../policies/expression";
import { type Bits, bitsetOf, flipBit, fullBits } from "./bits";

/** What one class of people looks like to the identity selectors. */
export interface Witness {
  /** A named address, or null for an address no policy names. */
  email: string | null;
  /** For an unnamed address: the one regex it matches, else null. */
  regex: string | null;
  /** For an unnamed address: the one `contains` text it holds, else null. */
  contains: string | null;
  /** `identity.groups.name` values. */
  groups: string[];
  /** `device_posture.checks.passed` values. */
  checks: string[];
}

/** People the policies treat alike. */
export interface IdentityClass {
  /** The raw classes merged into it: `email:…`, `regex:…`, `lookalike:…`, `contains:…`, `group:…`, `posture:…`, `everyone-else`, or `person:…` for one given person. */
  labels: string[];
  /** One of its members, as the selectors see it (the first label's). */
  witness: Witness;
}

/** The classes of one question and, per identity leaf, the classes it holds for. */
export interface ClassTable {
  classes: IdentityClass[];
  /** By leaf number; only the leaves asked about are filled. */
  leafBits: (Bits | undefined)[];
}

interface Selectors {
  emails: Set<string>;
  regexes: Set<string>;
  contains: Set<string>;
  groups: Set<string>;
  checks: Set<string>;
}

function stringsOf(predicate: Predicate): string[] {
  const strings = (items: readonly SetItem[]) =>
    items.flatMap((i) => (i.type === "string" ? [i.value] : []));
  switch (predicate.op) {
    case "eq":
    case "ne":
      return strings([predicate.value]);
    case "in":
      return strings(predicate.items);
    default:
      return [];
  }
}

function collect(expr: Expr, into: Selectors): void {
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
      if (field === "identity.email" && expr.quantifier === null) {
        if (predicate.op === "matches") {
          into.regexes.add(predicate.pattern);
        } else if (predicate.op === "contains") {
          into.contains.add(predicate.value);
        }
        for (const value of stringsOf(predicate)) {
          into.emails.add(value);
        }
      } else if (field === "identity.groups.name") {
        for (const value of stringsOf(predicate)) {
          into.groups.add(value);
        }
      } else if (field === "device_posture.checks.passed") {
        for (const value of stringsOf(predicate)) {
          into.checks.add(value);
        }
      }
    }
  }
}

/** The strings of each `in {…}` predicate, built once: the same list is tested for every class. */
const IN_SETS = new WeakMap<Predicate, Set<string>>();

function stringsIn(predicate: Extract<Predicate, { op: "in" }>): Set<string> {
  let set = IN_SETS.get(predicate);
  if (set === undefined) {
    set = new Set(stringsOf(predicate));
    IN_SETS.set(predicate, set);
  }
  return set;
}

function valueHolds(predicate: Predicate, value: string): boolean {
  const isItem = (item: SetItem) => item.type === "string" && item.value === value;
  switch (predicate.op) {
    case "eq":
      return isItem(predicate.value);
    case "ne":
      return !isItem(predicate.value);
    case "in":
      return stringsIn(predicate).has(value);
    case "matches":
      return regexMatches(predicate.pattern, value);
    case "contains":
      return value.includes(predicate.value);
    default:
      return false;
  }
}

/** Regex results by pattern and value: every class is tested on every regex leaf. */
const REGEX_RESULTS = new Map<string, Map<string, boolean>>();

/** Entries kept before the cache starts over, so it stays a few MB at most. */
const REGEX_RESULTS_MAX = 50_000;
let regexResultCount = 0;

function regexMatches(pattern: string, value: string): boolean {
  let byValue = REGEX_RESULTS.get(pattern);
  if (byValue === undefined) {
    byValue = new Map();
    REGEX_RESULTS.set(pattern, byValue);
  }
  let result = byValue.get(value);
  if (result === undefined) {
    if (regexResultCount >= REGEX_RESULTS_MAX) {
      REGEX_RESULTS.clear();
      regexResultCount = 0;
    }
    result = emailMatches(pattern, value);
    byValue.set(value, result);
    regexResultCount++;
  }
  return result;
}

function emailHolds(predicate: Predicate, who: Witness): boolean {
  if (who.email !== null) {
    return valueHolds(predicate, who.email);
  }
  switch (predicate.op) {
    case "ne":
      return true;
    case "matches":
      return predicate.pattern === who.regex;
    case "contains":
      return predicate.value === who.contains;
    default:
      return false;
  }
}

/**
 * Whether an identity expression holds for a class's witness, following `evaluateExpression`:
 * `identity.email`, `identity.groups.name` and `device_posture.checks.passed` are carried,
 * any other field is not (a scalar test is false, `any(…)` over no values false, `all(…)` true).
 */
export function identityHolds(expr: Expr, who: Witness): boolean {
  switch (expr.kind) {
    case "and":
      return expr.operands.every((o) => identityHolds(o, who));
    case "or":
      return expr.operands.some((o) => identityHolds(o, who));
    case "xor":
      return expr.operands.filter((o) => identityHolds(o, who)).length % 2 === 1;
    case "not":
      return !identityHolds(expr.operand, who);
    case "flag":
      return false;
    case "compare": {
      if (expr.quantifier === null) {
        return expr.field === "identity.email" && emailHolds(expr.predicate, who);
      }
      const values =
        expr.field === "identity.groups.name"
          ? who.groups
          : expr.field === "device_posture.checks.passed"
            ? who.checks
            : [];
      const holds = (value: string) => valueHolds(expr.predicate, value);
      return expr.quantifier === "any" ? values.some(holds) : values.every(holds);
    }
  }
}

const NOBODY: Witness = { email: null, regex: null, contains: null, groups: [], checks: [] };

/** Appended to a regex's sample address to find what an unanchored regex also matches. */
const LOOKALIKE_SUFFIX = ".lookalike.invalid";

/**
 * An address the regex matches, for the common shapes (`.*@example.com`,
 * `^[^@]+@example\.com$`, `(?:…)|…`): anchors dropped, loose local parts replaced by `user`,
 * escapes resolved. Null when the guess does not match.
 */
export function sampleEmail(pattern: string): string | null {
  const first = pattern.replace(/^\(\?:(.*?)\)\|.*$/, "$1");
  const guess = first
    .replace(/^\^|\$$/g, "")
    .replace(/\\A|\\z/g, "")
    .replace(/\(\?:([^|)]*)(\|[^)]*)?\)/g, "$1")
    .replace(/\[\^@\][+*]|\.\*|\.\+|\[[^\]]*\][+*]/g, "user")
    .replace(/\\(.)/g, "$1");
  return emailMatches(pattern, guess) ? guess : null;
}

function regexClasses(regex: string, named: ReadonlySet<string>): IdentityClass[] {
  const sample = sampleEmail(regex);
  if (sample === null || named.has(sample)) {
    return [{ labels: [`regex:${regex}`], witness: { ...NOBODY, regex } }];
  }
  const lookalike = `${sample}${LOOKALIKE_SUFFIX}`;
  return [
    { labels: [`regex:${regex}`], witness: { ...NOBODY, email: sample } },
    ...(emailMatches(regex, lookalike)
      ? [{ labels: [`lookalike:${regex}`], witness: { ...NOBODY, email: lookalike } }]
      : []),
  ];
}

function rawClasses(selectors: Selectors): IdentityClass[] {
  const sorted = (set: Set<string>) => [...set].sort();
  return [
    ...sorted(selectors.emails).map((email) => ({
      labels: [`email:${email}`],
      witness: { ...NOBODY, email },
    })),
    ...sorted(selectors.regexes).flatMap((regex) => regexClasses(regex, selectors.emails)),
    ...sorted(selectors.contains).map((contains) => ({
      labels: [`contains:${contains}`],
      witness: { ...NOBODY, contains },
    })),
    ...sorted(selectors.groups).map((group) => ({
      labels: [`group:${group}`],
      witness: { ...NOBODY, groups: [group] },
    })),
    ...sorted(selectors.checks).map((check) => ({
      labels: [`posture:${check}`],
      witness: { ...NOBODY, checks: [check] },
    })),
    { labels: ["everyone-else"], witness: NOBODY },
  ];
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
  return { classes: merged.map((m) => m.cls), leafBits };
}

/**
 * The identity classes the leaves `leafIds` of `exprs` tell apart (see the module comment), in
 * the order email, regex, contains, group, posture, everyone-else (each sorted), merged where
 * every leaf agrees.
 */
export function identityClasses(exprs: readonly Expr[], leafIds: readonly number[]): ClassTable {
  const selectors: Selectors = {
    emails: new Set(),
    regexes: new Set(),
    contains: new Set(),
    groups: new Set(),
    checks: new Set(),
  };
  for (const leaf of leafIds) {
    collect(exprs[leaf] as Expr, selectors);
  }
  return tabulate(rawClasses(selectors), exprs, leafIds);
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
