/**
 * From a validated document and the account's live objects to the state an apply would leave:
 * each entry matched to the live object with the same identity (name, or a route's network and
 * virtual network; the n-th of equal names to the n-th), the changes with field diffs, and every
 * problem (unknown reference, a value two objects may not share) with its JSON pointer.
 */
import type { GrantApprovalRule } from "../../domain/grants/approval";
import { type DesiredObject, type Kind, newObject, type SpecByKind } from "../../domain/model";
import { privateAppSpan } from "../../domain/plan/private-app-policies";
import { sha256Hex } from "../../lib/hmac";
import type { WriteContext } from "../desired/collection";
import type { InvalidField } from "../problem";
import { resolveApprovalRules } from "./approval-rules";
import { CODECS, type Codec, type Names, splitTunnelEntry, splitTunnelSpec } from "./codecs";
import { type ChangeKind, fieldChanges, type ObjectChange, occurrences } from "./compare";
import type { DesiredStateDocumentValue } from "./document.schemas";
import { namesOf } from "./export";

/** An object written by the apply: its new spec over the current row, or a new object. */
export interface ObjectWrite {
  object: DesiredObject;
  /** The live object it replaces or deletes; undefined for a create. */
  current: DesiredObject | undefined;
}

/** What the document would do to the account. */
export interface Resolution {
  problems: InvalidField[];
  /** Live objects after the apply. */
  after: DesiredObject[];
  /** Grant approval rules after the apply. */
  approvalRules: GrantApprovalRule[];
  changes: ObjectChange[];
  unchanged: number;
  /** `<kind>/<tunnelplane id>` -> the pointer of its document entry. */
  pointers: Map<string, string>;
}

/** Options of a resolution. */
export interface ResolveOptions {
  /** Delete live objects the document does not mention (singletons are never deleted). */
  prune: boolean;
  /** A context for the kinds whose API mapping is reused (reads nothing). */
  write: WriteContext;
  /** The id of a created object, from its kind and document key (see `documentIds`). */
  newId: (kind: ChangeKind, key: string) => Promise<string>;
  /** The account's grant approval rules. */
  approvalRules: readonly GrantApprovalRule[];
}

interface Resolved {
  object: DesiredObject;
  pointer: string | null;
}

class Resolver {
  readonly problems: InvalidField[] = [];
  readonly changes: ObjectChange[] = [];
  readonly after: Resolved[] = [];
  unchanged = 0;

  constructor(
    private readonly live: readonly DesiredObject[],
    private readonly currentNames: Names,
    private readonly options: ResolveOptions,
  ) {}

  /** The objects of one kind in the document matched with the live ones. */
  async kind(c: Codec, entries: readonly unknown[], ids: Refs): Promise<void> {
    const afterNames = ids.names;
    const current = this.live
      .filter((o) => o.kind === c.kind)
      .sort((a, b) => c.compare(a.spec, b.spec, this.currentNames));
    const currentKeys = occurrences(current.map((o) => c.key(o.spec, this.currentNames)));
    const byKey = new Map(currentKeys.map((k, i) => [k, current[i] as DesiredObject]));
    const resolved: { spec: SpecByKind[Kind]; pointer: string }[] = [];
    for (const [index, entry] of entries.entries()) {
      const at = `#/${c.field}/${index}`;
      const ctx = { ...ids.refs, write: this.options.write, at, problems: this.problems };
      const spec = await c.toSpec(entry as never, ctx);
      if (spec !== undefined) {
        resolved.push({ spec, pointer: at });
      }
    }
    const keys = occurrences(resolved.map((r) => c.key(r.spec, afterNames)));
    const matched = new Set<string>();
    for (const [i, { spec, pointer }] of resolved.entries()) {
      const key = keys[i] as string;
      const was = byKey.get(key);
      matched.add(key);
      await this.put(
        c.kind,
        key,
        pointer,
        spec,
        was,
        (s, names) => c.toEntry(s, names),
        afterNames,
      );
    }
    for (const [i, object] of current.entries()) {
      const key = currentKeys[i] as string;
      if (matched.has(key)) {
        continue;
      }
      if (!this.options.prune) {
        this.after.push({ object, pointer: null });
        continue;
      }
      this.changes.push({
        op: "delete",
        kind: c.kind,
        key,
        id: object.id,
        pointer: null,
        before: c.toEntry(object.spec, this.currentNames),
        after: null,
        fields: [],
      });
    }
  }

  /** A singleton from the document, or the live one kept when the document has none. */
  async singleton<K extends "split_tunnel" | "proxy_settings">(
    kind: K,
    value: SpecByKind[K] | null,
    toEntry: (spec: SpecByKind[K]) => Record<string, unknown>,
  ): Promise<void> {
    const was = this.live.find((o) => o.kind === kind);
    if (value === null) {
      if (was !== undefined) {
        this.after.push({ object: was, pointer: null });
      }
      return;
    }
    await this.put(kind, "default", `#/${kind}`, value, was, toEntry, this.currentNames, "default");
  }

  private async put<K extends Kind>(
    kind: K,
    key: string,
    pointer: string,
    spec: SpecByKind[K],
    was: DesiredObject | undefined,
    toEntry: (spec: SpecByKind[K], names: Names) => Record<string, unknown>,
    afterNames: Names,
    fixedId?: string,
  ): Promise<void> {
    const after = toEntry(spec, afterNames);
    if (was === undefined) {
      const id = fixedId ?? (await this.options.newId(kind, key));
      this.after.push({ object: newObject(kind, id, spec), pointer });
      this.changes.push({ op: "create", kind, key, id, pointer, before: null, after, fields: [] });
      return;
    }
    const before = toEntry(was.spec as SpecByKind[K], this.currentNames);
    const fields = fieldChanges(before, after);
    if (fields.length === 0) {
      this.unchanged += 1;
      this.after.push({ object: was, pointer });
      return;
    }
    this.after.push({ object: { ...was, spec, version: was.version + 1 }, pointer });
    this.changes.push({ op: "update", kind, key, id: was.id, pointer, before, after, fields });
  }
}

interface Refs {
  refs: { virtualNetworkId: Map<string, string>; tunnelId: Map<string, string> };
  names: Names;
}

function refsOf(objects: readonly DesiredObject[]): Refs {
  const names = namesOf(objects);
  const invert = (m: ReadonlyMap<string, string>) => new Map([...m].map(([id, n]) => [n, id]));
  return {
    refs: { virtualNetworkId: invert(names.virtualNetwork), tunnelId: invert(names.tunnel) },
    names,
  };
}

/** Problems for values two objects may not share (kept objects first, then document order). */
function uniquenessProblems(after: readonly Resolved[], names: Names): InvalidField[] {
  const problems: InvalidField[] = [];
  const ordered = [...after].sort(
    (a, b) => Number(a.pointer !== null) - Number(b.pointer !== null),
  );
  for (const c of CODECS) {
    const unique = c.unique;
    if (unique === undefined) {
      continue;
    }
    const holders = new Map<string, string | null>();
    for (const { object, pointer } of ordered.filter((r) => r.object.kind === c.kind)) {
      const value = unique.value(object.spec, names);
      if (!holders.has(value)) {
        holders.set(value, pointer);
      } else if (pointer !== null) {
        const first = holders.get(value) ?? "an object of the account the document keeps";
        problems.push({
          pointer,
          detail: `${unique.what} ${value.replace(/^\|/, "")} is also used by ${first}`,
          code: unique.code,
        });
      }
    }
  }
  const defaults = ordered.filter(
    (r) =>
      r.object.kind === "virtual_network" &&
      (r.object.spec as SpecByKind["virtual_network"]).isDefault,
  );
  for (const extra of defaults.slice(1)) {
    if (extra.pointer !== null) {
      problems.push({
        pointer: `${extra.pointer}/is_default`,
        detail: `${defaults[0]?.pointer ?? "a virtual network the document keeps"} is already the default virtual network`,
        code: "default-virtual-network-exists",
      });
    }
  }
  return [...problems, ...precedenceProblems(ordered)];
}

/** Policies hold one precedence, private apps a span; no two may overlap. */
function precedenceProblems(after: readonly Resolved[]): InvalidField[] {
  const slots = after.flatMap(({ object, pointer }) => {
    if (object.kind === "network_policy") {
      const p = (object.spec as SpecByKind["network_policy"]).precedence;
      return [{ from: p, to: p, pointer }];
    }
    if (object.kind === "private_app") {
      const spec = object.spec as SpecByKind["private_app"];
      return [{ from: spec.precedence, to: spec.precedence + privateAppSpan(spec) - 1, pointer }];
    }
    return [];
  });
  slots.sort((a, b) => a.from - b.from || Number(a.pointer !== null) - Number(b.pointer !== null));
  const problems: InvalidField[] = [];
  let last: (typeof slots)[number] | undefined;
  for (const slot of slots) {
    if (last !== undefined && slot.from <= last.to) {
      const clash = slot.pointer ?? last.pointer;
      if (clash !== null) {
        problems.push({
          pointer: `${clash}/precedence`,
          detail: `precedence ${slot.from} is also held by ${(slot.pointer === null ? null : last.pointer) ?? "a policy the document keeps"}`,
          code: "precedence-taken",
        });
      }
    }
    if (last === undefined || slot.to > last.to) {
      last = slot;
    }
  }
  return problems;
}

/**
 * What applying `document` to the account whose live objects are `live` would do.
 * Problems are reported with their pointer and never thrown; the caller refuses the apply.
 */
export async function resolveDocument(
  document: DesiredStateDocumentValue,
  live: readonly DesiredObject[],
  options: ResolveOptions,
): Promise<Resolution> {
  const currentNames = namesOf(live);
  const resolver = new Resolver(live, currentNames, options);
  const lists = document as unknown as Record<string, unknown[]>;
  const early = CODECS.filter((c) => c.kind === "virtual_network" || c.kind === "tunnel");
  for (const c of early) {
    await resolver.kind(c, lists[c.field] ?? [], refsOf([]));
  }
  const refs = refsOf(resolver.after.map((r) => r.object));
  for (const c of CODECS.filter((k) => !early.includes(k))) {
    await resolver.kind(c, lists[c.field] ?? [], refs);
  }
  await resolver.singleton(
    "split_tunnel",
    document.split_tunnel === null ? null : splitTunnelSpec(document.split_tunnel),
    splitTunnelEntry,
  );
  await resolver.singleton("proxy_settings", document.proxy_settings, (s) => ({ ...s }));
  const problems = [...resolver.problems, ...uniquenessProblems(resolver.after, refs.names)];
  const rules = await resolveApprovalRules(
    document.grant_approval_rules,
    options.approvalRules,
    options.prune,
    (key) => options.newId("grant_approval_rule", key),
  );
  return {
    problems,
    after: resolver.after.map((r) => r.object),
    approvalRules: rules.after,
    changes: [...resolver.changes, ...rules.changes],
    unchanged: resolver.unchanged + rules.unchanged,
    pointers: new Map(
      resolver.after.flatMap((r) =>
        r.pointer === null ? [] : [[`${r.object.kind}/${r.object.id}`, r.pointer]],
      ),
    ),
  };
}

/**
 * Ids for created objects that a diff and the apply of the same document against the same state
 * agree on: a name-based UUID (RFC 9562 version 8) of the account, its document version, the kind
 * and the key, skipping ids a stored row (a tombstone) still holds.
 */
export function documentIds(
  accountId: string,
  version: string,
  taken: ReadonlySet<string>,
): (kind: ChangeKind, key: string) => Promise<string> {
  return async (kind, key) => {
    for (let n = 0; ; n += 1) {
      const h = await sha256Hex(`${accountId}|${version}|${kind}|${key}|${n}`);
      const variant = ((Number.parseInt(h[16] ?? "0", 16) & 3) | 8).toString(16);
      const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
      if (!taken.has(`${kind}/${id}`)) {
        return id;
      }
    }
  };
}
