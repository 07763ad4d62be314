/**
 * What diff and apply share: the document read from the body (JSON, or YAML by content type) and
 * validated against the one schema, and its resolution and review against the account's desired
 * state as read once.
 */
import type { Context } from "hono";
import { isScalar, parseDocument, visit } from "yaml";
import type { AccountRecord } from "../../db/accounts.repo";
import { createDb, type Db } from "../../db/client";
import type { StoredObject } from "../../db/desired-objects.repo";
import type { LiveFingerprint, RowsFingerprint } from "../../db/desired-state.repo";
import { type ApprovalRuleRecord, listAllApprovalRules } from "../../db/grant-approval-rules.repo";
import type { DesiredObject } from "../../domain/model";
import type { AppEnv } from "../context";
import { requireAccount } from "../desired/account-guard";
import { loadDesiredNetwork } from "../explain/network";
import { type InvalidField, ProblemError, zodIssuesToFields } from "../problem";
import { mappingContext } from "./codecs";
import { DesiredStateDocument, type DesiredStateDocumentValue } from "./document.schemas";
import { exportDocument } from "./export";
import { documentIds, type Resolution, resolveDocument } from "./resolve";
import { type Review, reviewResolution } from "./review";

/** Whether a Content-Type names YAML. */
export function isYaml(contentType: string): boolean {
  return /^(application|text)\/(x-)?yaml\b/i.test(contentType.trim());
}

/**
 * The YAML text as plain data, refusing duplicate keys and alias bombs (more than 100 aliases).
 * The library's own duplicate-key check compares each key with every earlier one (40,000 keys took
 * 28 s), so it is off and keys are checked here once each, by their scalar value.
 * @throws Error with the parser's message on invalid YAML or a duplicate key.
 */
function parseYaml(text: string): unknown {
  const document = parseDocument(text, { uniqueKeys: false });
  const [first] = document.errors;
  if (first !== undefined) {
    throw first;
  }
  visit(document, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        const value = isScalar(key) ? key.value : String(key);
        if (seen.has(value)) {
          throw new Error(`Map keys must be unique (${JSON.stringify(value)?.slice(0, 80)})`);
        }
        seen.add(value);
      }
    },
  });
  return document.toJS({ maxAliasCount: 100 });
}

/**
 * Why a YAML body could not be read, in one line: the parser's message, except for nesting so
 * deep that the parser ran out of stack (reported as a RangeError or inside the parser's error).
 */
function yamlFailureReason(error: unknown): string {
  if (!(error instanceof Error)) {
    return "unreadable";
  }
  if (error instanceof RangeError || /Maximum call stack/i.test(error.message)) {
    return "it is nested too deeply";
  }
  return error.message.split("\n")[0] ?? "unreadable";
}

/**
 * The document of the request: the validated JSON body, or a YAML body validated here.
 * @throws ProblemError malformed-request (400), unsupported-media-type (415), validation-failed
 *   (422, a pointer per issue, as the JSON validator answers).
 */
export async function readDocument(
  c: Context<AppEnv>,
  validJson: unknown,
): Promise<DesiredStateDocumentValue> {
  const type = c.req.header("content-type") ?? "";
  if (type.includes("application/json")) {
    return validJson as DesiredStateDocumentValue;
  }
  if (!isYaml(type)) {
    throw new ProblemError(
      "unsupported-media-type",
      "Send the document as application/json or application/yaml.",
    );
  }
  let raw: unknown;
  try {
    // Decoded by hand: workerd warns when .text() reads a type it does not know as text.
    raw = parseYaml(new TextDecoder().decode(await c.req.arrayBuffer()));
  } catch (error) {
    const reason = yamlFailureReason(error);
    throw new ProblemError("malformed-request", `The body is not a YAML document: ${reason}`);
  }
  const parsed = DesiredStateDocument.safeParse(raw);
  if (!parsed.success) {
    const { errors, total } = zodIssuesToFields(parsed.error.issues, "json");
    throw new ProblemError("validation-failed", `The request body has ${total} invalid field(s).`, {
      errors,
    });
  }
  return parsed.data;
}

/** A document reviewed against an account. */
export interface Prepared {
  db: Db;
  account: AccountRecord;
  resolution: Resolution;
  review: Review;
  /** The account's document version now, and the one it would have after the apply. */
  versions: { current: string; after: string };
  fingerprint: LiveFingerprint;
}

function rowsFingerprint(rows: readonly { version: number; updatedAtMs: number }[]) {
  return {
    count: rows.length,
    versionSum: rows.reduce((sum, o) => sum + o.version, 0),
    maxUpdatedAtMs: rows.reduce((max, o) => Math.max(max, o.updatedAtMs), 0),
  } satisfies RowsFingerprint;
}

function fingerprintOf(
  live: readonly DesiredObject[],
  rules: readonly ApprovalRuleRecord[],
): LiveFingerprint {
  return {
    // The planner's objects are the stored rows, which carry their last write time.
    ...rowsFingerprint(live as readonly StoredObject[]),
    approvalRules: rowsFingerprint(rules),
  };
}

/** The problem code of an approval-rule change asked by a caller who is not an admin. */
export const ADMIN_ONLY = "approval-rules-admin-only";

/**
 * One problem per approval-rule change when the caller is not an admin: approval rules decide
 * which grants pass unreviewed, so the document may change them only as their own endpoints
 * allow (admins only).
 */
function adminOnlyProblems(resolution: Resolution, role: string): InvalidField[] {
  if (role === "admin") {
    return [];
  }
  return resolution.changes
    .filter((change) => change.kind === "grant_approval_rule")
    .map((change) => ({
      pointer: change.pointer ?? "#/grant_approval_rules",
      detail: `only an admin may ${change.op} grant approval rule ${JSON.stringify(change.key)}`,
      code: ADMIN_ONLY,
    }));
}

/** Reads the account's desired state once and reviews `document` against it. */
export async function prepareDocument(
  c: Context<AppEnv>,
  accountId: string,
  document: DesiredStateDocumentValue,
  prune: boolean,
): Promise<Prepared> {
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, accountId);
  const { desired, tunnelHealth } = await loadDesiredNetwork(db, accountId);
  const live = desired.objects.filter((o) => o.deletedAtMs === null);
  const rules = await listAllApprovalRules(db, accountId);
  const current = await exportDocument(live, rules);
  const taken = new Set([
    ...desired.objects.map((o) => `${o.kind}/${o.id}`),
    ...rules.map((r) => `grant_approval_rule/${r.id}`),
  ]);
  const resolution = await resolveDocument(document, live, {
    prune,
    write: mappingContext(db, accountId),
    newId: documentIds(accountId, current.version, taken),
    approvalRules: rules,
  });
  const review = reviewResolution(resolution, desired, tunnelHealth, account, Date.now());
  review.problems.push(...adminOnlyProblems(resolution, c.get("identity").role));
  const after = await exportDocument(resolution.after, resolution.approvalRules);
  return {
    db,
    account,
    resolution,
    review,
    versions: { current: current.version, after: after.version },
    fingerprint: fingerprintOf(live, rules),
  };
}
