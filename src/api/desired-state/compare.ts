/**
 * How a document's entries are compared with what the account stores: canonical JSON, the
 * matching of repeated keys, field diffs, and the change each kind reports.
 */
import type { Kind } from "../../domain/model";

/** What a change is about: a desired-object kind, or a grant approval rule (its own table). */
export type ChangeKind = Kind | "grant_approval_rule";

/** One field an update changes, in document form. */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** One object the apply creates, updates or deletes. */
export interface ObjectChange {
  op: "create" | "update" | "delete";
  kind: ChangeKind;
  /** What identifies it in documents: a name, or `<virtual network>|<network>` for a route. */
  key: string;
  /** tunnelplane id (a fresh one for a create). */
  id: string;
  /** The entry in the document; null for a delete. */
  pointer: string | null;
  /** The entry as stored now (null for a create) and after (null for a delete). */
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** The fields an update changes; empty for creates and deletes. */
  fields: FieldChange[];
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/** `key`, then `key#2`, `key#3`… for repeats, in input order. */
export function occurrences(keys: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return keys.map((k) => {
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    return n === 1 ? k : `${k}#${n}`;
  });
}

/** The fields whose values differ between two entries in document form, in first-seen order. */
export function fieldChanges(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): FieldChange[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields.flatMap((field) =>
    canonicalJson(before[field]) === canonicalJson(after[field])
      ? []
      : [{ field, before: before[field] ?? null, after: after[field] ?? null }],
  );
}
