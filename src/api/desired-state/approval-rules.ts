/**
 * Grant approval rules in the document. They live in their own table, not among the desired
 * objects, refer to no other object, and are identified by name: an entry is matched to the
 * stored rule of the same name (the n-th of equal names to the n-th, names being free to repeat
 * as the API allows). Their order carries no meaning: an approval decision does not depend on
 * it, only which of several admitting auto-approve rules it names.
 */
import type { z } from "@hono/zod-openapi";
import type { GrantApprovalRule } from "../../domain/grants/approval";
import { approvalRuleOf, type GrantApprovalRuleInput } from "../grant-approval-rules";
import { canonicalJson, fieldChanges, type ObjectChange, occurrences } from "./compare";

const KIND = "grant_approval_rule";

/** The document field of approval rules. */
export const APPROVAL_RULES_FIELD = "grant_approval_rules";

/** A rule as a document entry. */
export function approvalRuleEntry(rule: GrantApprovalRule): Record<string, unknown> {
  return {
    name: rule.name,
    effect: rule.effect,
    max_duration_s: rule.maxDurationS,
    allowed_destinations: rule.allowedDestinations,
    allowed_systems: rule.allowedSystems,
    subject_email_pattern: rule.subjectEmailPattern,
  };
}

/** The rules in export order: by name, then by content. */
export function sortedApprovalRules(rules: readonly GrantApprovalRule[]): GrantApprovalRule[] {
  const text = (r: GrantApprovalRule) => canonicalJson(approvalRuleEntry(r));
  return [...rules].sort((a, b) =>
    a.name !== b.name ? (a.name < b.name ? -1 : 1) : text(a) < text(b) ? -1 : 1,
  );
}

/** What the document does to the approval rules. */
export interface ApprovalRuleResolution {
  /** The rules after the apply (kept ones unchanged). */
  after: GrantApprovalRule[];
  changes: ObjectChange[];
  unchanged: number;
}

/**
 * Matches the document's rules with the stored ones `live`.
 * @param newId the id of a created rule, from its key (the same for a diff and its apply).
 */
export async function resolveApprovalRules(
  entries: readonly z.output<typeof GrantApprovalRuleInput>[],
  live: readonly GrantApprovalRule[],
  prune: boolean,
  newId: (key: string) => Promise<string>,
): Promise<ApprovalRuleResolution> {
  const current = sortedApprovalRules(live);
  const currentKeys = occurrences(current.map((r) => r.name));
  const byKey = new Map(currentKeys.map((k, i) => [k, current[i] as GrantApprovalRule]));
  const keys = occurrences(entries.map((e) => e.name));
  const after: GrantApprovalRule[] = [];
  const changes: ObjectChange[] = [];
  let unchanged = 0;
  for (const [index, entry] of entries.entries()) {
    const key = keys[index] as string;
    const pointer = `#/${APPROVAL_RULES_FIELD}/${index}`;
    const was = byKey.get(key);
    byKey.delete(key);
    const rule = approvalRuleOf(was?.id ?? (await newId(key)), entry);
    const next = approvalRuleEntry(rule);
    if (was === undefined) {
      after.push(rule);
      changes.push({
        op: "create",
        kind: KIND,
        key,
        id: rule.id,
        pointer,
        before: null,
        after: next,
        fields: [],
      });
      continue;
    }
    const before = approvalRuleEntry(was);
    const fields = fieldChanges(before, next);
    after.push(fields.length === 0 ? was : rule);
    if (fields.length === 0) {
      unchanged += 1;
    } else {
      changes.push({
        op: "update",
        kind: KIND,
        key,
        id: was.id,
        pointer,
        before,
        after: next,
        fields,
      });
    }
  }
  for (const [key, rule] of byKey) {
    if (prune) {
      const before = approvalRuleEntry(rule);
      changes.push({
        op: "delete",
        kind: KIND,
        key,
        id: rule.id,
        pointer: null,
        before,
        after: null,
        fields: [],
      });
    } else {
      after.push(rule);
    }
  }
  return { after, changes, unchanged };
}
