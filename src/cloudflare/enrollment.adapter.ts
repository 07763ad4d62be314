/**
 * Device enrollment permissions: reusable Access policies (`access/policies`) and the `warp`
 * Access app (`access/apps`) that links them. Access is read only for accounts with enrollment
 * rules (live or awaiting deletion), so other accounts pay no extra request per run.
 */
import type Cloudflare from "cloudflare";
import type { DesiredState, ObservedEnrollment, ObservedState } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";

/**
 * App fields sent back unchanged when tunnelplane replaces the `warp` app's links: those of the
 * SDK's `DeviceEnrollmentPermissionsApplication` params (the app's `name` is not one of them).
 */
const PRESERVED_APP_FIELDS = [
  "allowed_idps",
  "auto_redirect_to_identity",
  "session_duration",
  "custom_deny_url",
  "custom_non_identity_deny_url",
  "custom_pages",
] as const;

type Rules = Record<string, unknown>[];

interface WireApp {
  id?: string;
  type?: string;
  policies?: { id?: string; precedence?: number }[];
  [field: string]: unknown;
}

/**
 * Lists every reusable Access policy and finds the `warp` app (both lists paged, 1000 a page:
 * 4 requests for an account with fewer than 1000 of each).
 */
export async function listEnrollment(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedEnrollment> {
  const accessPolicies: ObservedEnrollment["accessPolicies"] = [];
  for await (const p of client.zeroTrust.access.policies.list({
    account_id: accountId,
    per_page: 1000,
  })) {
    if (p.id !== undefined) {
      accessPolicies.push({
        cloudflareId: p.id,
        name: p.name ?? "",
        decision: p.decision ?? "",
        include: (p.include ?? []) as unknown as Rules,
        exclude: (p.exclude ?? []) as unknown as Rules,
        require: (p.require ?? []) as unknown as Rules,
      });
    }
  }
  let warpApp: ObservedEnrollment["warpApp"] = null;
  for await (const raw of client.zeroTrust.access.applications.list({
    account_id: accountId,
    per_page: 1000,
  })) {
    const app = raw as unknown as WireApp;
    if (app.type === "warp" && app.id !== undefined && warpApp === null) {
      const preserved: Record<string, unknown> = {};
      for (const field of PRESERVED_APP_FIELDS) {
        if (app[field] !== undefined) {
          preserved[field] = app[field];
        }
      }
      warpApp = {
        cloudflareId: app.id,
        name: typeof app.name === "string" ? app.name : "",
        policyIds: [...(app.policies ?? [])]
          .sort((a, b) => (a.precedence ?? 0) - (b.precedence ?? 0))
          .flatMap((link) => (link.id === undefined ? [] : [link.id])),
        preserved,
      };
    }
  }
  return { accessPolicies, warpApp };
}

/**
 * Adds the enrollment observation to `observed` when the desired state has enrollment rules,
 * live or tombstoned (their Access policies may still need deleting); otherwise returns it as is.
 */
export async function withEnrollment(
  client: Cloudflare,
  accountId: string,
  desired: DesiredState,
  observed: ObservedState,
): Promise<ObservedState> {
  if (!desired.objects.some((o) => o.kind === "enrollment_rule")) {
    return observed;
  }
  return { ...observed, enrollment: await listEnrollment(client, accountId) };
}

/** Applies one enrollment action: an Access policy write, or the `warp` app's links. */
export async function applyEnrollment(
  ctx: ApplyContext,
  action: Action<"enrollment_rule">,
): Promise<string> {
  const account_id = ctx.accountId;
  const access = ctx.client.zeroTrust.access;
  if (action.op === "delete") {
    await access.policies.delete(action.cloudflareId, { account_id });
    return action.cloudflareId;
  }
  const d = action.desired;
  if (d.target === "access_policy") {
    const body = {
      account_id,
      name: d.name,
      decision: d.decision as "allow",
      include: d.include,
      exclude: d.exclude,
      require: d.require,
    } as unknown as Parameters<typeof access.policies.create>[0];
    if (action.op === "create") {
      return (await access.policies.create(body)).id ?? "";
    }
    await access.policies.update(action.cloudflareId, body);
    return action.cloudflareId;
  }
  const links = [
    ...d.keptPolicyIds,
    ...d.policyKeys.map((key) => ctx.resolve("enrollment_rule", key)),
  ].map((id, i) => ({ id, precedence: i + 1 }));
  const body = { account_id, ...d.preserved, type: "warp", policies: links };
  if (action.op === "create") {
    const created = await access.applications.create(
      body as unknown as Parameters<typeof access.applications.create>[0],
    );
    return (created as { id?: string }).id ?? "";
  }
  await access.applications.update(
    action.cloudflareId,
    body as unknown as Parameters<typeof access.applications.update>[1],
  );
  return action.cloudflareId;
}
