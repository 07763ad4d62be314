/** Handlers of the desired-state document: export, diff and atomic apply. */
import { stringify as toYaml } from "yaml";
import { createDb, isUniqueViolation } from "../../db/client";
import { loadDesiredState, rangeColumns } from "../../db/desired-objects.repo";
import {
  applyDesiredStateWrites,
  type DesiredRowWrite,
  isFingerprintMismatch,
} from "../../db/desired-state.repo";
import { listAllApprovalRules } from "../../db/grant-approval-rules.repo";
import type { DesiredObject } from "../../domain/model";
import { effectiveQuotas, requestWork } from "../../domain/quotas";
import { createReconcileDeps } from "../../reconciler/deps";
import { planAccountNow } from "../../reconciler/reconcile-account";
import { type AppHandler, actorOf } from "../context";
import { requireAccount } from "../desired/account-guard";
import { ProblemError } from "../problem";
import { enforceWorkBudget, withinWorkBudget } from "../quotas";
import { planAccessDelta } from "../runs/access-delta";
import { toPlanResource } from "../runs/runs.schemas";
import type * as endpoints from "./desired-state.endpoints";
import { summaryOf, toDiffResource } from "./desired-state.schemas";
import { exportDocument as exportOf } from "./export";
import { naturalKeyOf } from "./natural-keys";
import { ADMIN_ONLY, isYaml, type Prepared, prepareDocument, readDocument } from "./prepare";
import { quotaUsage } from "./review";

const etag = (version: string) => `"${version}"`;

export const exportDocument: AppHandler<typeof endpoints.exportDocument> = async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const { objects } = await loadDesiredState(db, account_id);
  const rules = await listAllApprovalRules(db, account_id);
  const document = await exportOf(
    objects.filter((o) => o.deletedAtMs === null),
    rules,
  );
  c.header("ETag", etag(document.version));
  c.header("Vary", "Accept");
  if (isYaml(c.req.header("accept") ?? "")) {
    return c.body(toYaml(document), 200, { "Content-Type": "application/yaml; charset=utf-8" });
  }
  return c.json(document as never, 200);
};

/**
 * The Cloudflare plan of the reviewed state with its access delta, or the reason it is missing.
 * @throws ProblemError limit-exceeded when planning the state costs more than the work budget,
 *   as for `POST plan`.
 */
async function planOf(c: Parameters<AppHandler<typeof endpoints.diff>>[0], prepared: Prepared) {
  const { account, review } = prepared;
  const units = quotaUsage(review.after.objects).get("selector_units") ?? 0;
  enforceWorkBudget(account, requestWork("plan", units, 0));
  const outcome = await planAccountNow(createReconcileDeps(c.env), account.id, () => review.after);
  switch (outcome.status) {
    case "not-found":
      throw new ProblemError("not-found", `Account ${account.id} is not registered.`);
    case "upstream-failed":
      return { plan: null, error: outcome.message };
    case "planned": {
      const workUnits = effectiveQuotas(account.limits).work_units;
      const delta = withinWorkBudget(
        account.id,
        planAccessDelta(
          outcome.desired,
          outcome.observed,
          workUnits,
          outcome.skipped.some((s) => s.kinds.includes("network_policy")),
        ),
      );
      return { plan: toPlanResource(outcome.plan, delta, outcome.skipped), error: null };
    }
  }
}

export const diff: AppHandler<typeof endpoints.diff> = async (c) => {
  const { account_id } = c.req.valid("param");
  const query = c.req.valid("query");
  const document = await readDocument(c, c.req.valid("json"));
  const prepared = await prepareDocument(c, account_id, document, query.prune === "true");
  const plan = query.plan === "true" ? await planOf(c, prepared) : { plan: null, error: null };
  c.header("ETag", etag(prepared.versions.current));
  return c.json(toDiffResource(prepared.versions, prepared.resolution, prepared.review, plan), 200);
};

function rowOf(object: DesiredObject): DesiredRowWrite {
  return {
    kind: object.kind,
    id: object.id,
    specJson: JSON.stringify(object.spec),
    naturalKey: naturalKeyOf(object),
    ...rangeColumns(object.kind, object.spec),
  };
}

/** The approval rules an apply creates, updates and deletes (by id). */
function approvalRuleWrites(resolution: Prepared["resolution"]) {
  const byId = new Map(resolution.approvalRules.map((r) => [r.id, r]));
  const ofOp = (op: "create" | "update") =>
    resolution.changes.flatMap((change) => {
      const rule =
        change.kind === "grant_approval_rule" && change.op === op ? byId.get(change.id) : undefined;
      return rule === undefined ? [] : [rule];
    });
  return {
    creates: ofOp("create"),
    updates: ofOp("update"),
    deletes: resolution.changes.flatMap((change) =>
      change.kind === "grant_approval_rule" && change.op === "delete" ? [change.id] : [],
    ),
  };
}

export const apply: AppHandler<typeof endpoints.apply> = async (c) => {
  const { account_id } = c.req.valid("param");
  const { prune } = c.req.valid("query");
  const ifMatch = c.req.valid("header")["if-match"];
  // A pruning apply deletes whatever the document leaves out: a stale or partial document must
  // not do that by accident, so it names the version it was reviewed against (RFC 6585, 428).
  if (prune === "true" && ifMatch === undefined) {
    throw new ProblemError(
      "precondition-required",
      'A pruning apply deletes every object the document leaves out, so it needs If-Match: "<version>" (the version GET desired-state or the diff answered), or If-Match: * to apply over any version; ?prune=false applies without it. Nothing was changed.',
    );
  }
  const document = await readDocument(c, c.req.valid("json"));
  const prepared = await prepareDocument(c, account_id, document, prune === "true");
  const { resolution, review, versions } = prepared;
  const expected = ifMatch?.split(",").map((t) => t.trim());
  if (
    expected !== undefined &&
    !expected.includes("*") &&
    !expected.includes(etag(versions.current))
  ) {
    throw new ProblemError(
      "version-mismatch",
      `The account's desired state is at version ${versions.current}; diff again and retry.`,
      { headers: { ETag: etag(versions.current) } },
    );
  }
  const forbidden = review.problems.filter((p) => p.code === ADMIN_ONLY);
  if (forbidden.length > 0) {
    throw new ProblemError(
      "forbidden",
      `The document changes ${forbidden.length} grant approval rule(s), which only an admin may change; nothing was stored.`,
      { errors: forbidden },
    );
  }
  if (review.problems.length > 0) {
    const body = toDiffResource(versions, resolution, review, { plan: null, error: null });
    throw new ProblemError(
      "validation-failed",
      `The document has ${review.problems.length} problem(s); nothing was stored.`,
      { errors: review.problems, extensions: { diff: body } },
    );
  }
  const summary = summaryOf(resolution);
  if (resolution.changes.length > 0) {
    const byId = new Map(resolution.after.map((o) => [`${o.kind}/${o.id}`, o]));
    const written = (op: "create" | "update") =>
      resolution.changes.flatMap((change) => {
        const object = change.op === op ? byId.get(`${change.kind}/${change.id}`) : undefined;
        return object === undefined ? [] : [rowOf(object)];
      });
    const deletes = resolution.changes.flatMap((change) =>
      change.op === "delete" && change.kind !== "grant_approval_rule"
        ? [{ kind: change.kind, id: change.id }]
        : [],
    );
    try {
      await applyDesiredStateWrites(
        c.env.DB,
        account_id,
        {
          creates: written("create"),
          updates: written("update"),
          deletes,
          approvalRules: approvalRuleWrites(resolution),
        },
        prepared.fingerprint,
        { actor: actorOf(c), documentHash: versions.after, summary: { ...summary, prune } },
        Date.now(),
      );
    } catch (error) {
      if (isFingerprintMismatch(error) || isUniqueViolation(error)) {
        throw new ProblemError(
          "version-mismatch",
          "The account's desired state changed while the document was applied; nothing was stored. Diff again and retry.",
        );
      }
      throw error;
    }
  }
  c.header("ETag", etag(versions.after));
  return c.json({ version: versions.after, summary, changes: resolution.changes }, 200);
};
