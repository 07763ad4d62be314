/**
 * Device enrollment permissions: reusable Access policies (`access/policies`) and the `warp`
 * Access app (`access/apps`) that links them. Access is read only for accounts with enrollment
 * rules (live or awaiting deletion), so other accounts pay no extra request per run.
 */
import type Cloudflare from "cloudflare";
import type { ObservedEnrollment } from "../domain/model";
import type {
  RenderedEnrollment,
  RenderedEnrollmentPolicy,
  RenderedWarpApp,
} from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import type { ApplyContext } from "./apply-context";
import { listAllPages } from "./paging";

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

/** Largest page the Access policy and application lists accept. */
const ACCESS_PER_PAGE = 1000;

/**
 * Lists every reusable Access policy and finds the `warp` app (both lists paged, 1000 a page:
 * 2 requests for an account with at most 1000 of each).
 */
async function listEnrollment(client: Cloudflare, accountId: string): Promise<ObservedEnrollment> {
  const [policies, apps] = await Promise.all([
    listAllPages(
      "access/policies",
      ACCESS_PER_PAGE,
      (page) =>
        client.zeroTrust.access.policies.list({
          account_id: accountId,
          per_page: ACCESS_PER_PAGE,
          page,
        }),
      (p) => p.id,
    ),
    listAllPages(
      "access/apps",
      ACCESS_PER_PAGE,
      (page) =>
        client.zeroTrust.access.applications.list({
          account_id: accountId,
          per_page: ACCESS_PER_PAGE,
          page,
        }),
      (a) => (a as { id?: string }).id,
    ),
  ]);
  const accessPolicies: ObservedEnrollment["accessPolicies"] = policies.flatMap((p) =>
    p.id === undefined
      ? []
      : [
          {
            cloudflareId: p.id,
            name: p.name ?? "",
            decision: p.decision ?? "",
            include: (p.include ?? []) as unknown as Rules,
            exclude: (p.exclude ?? []) as unknown as Rules,
            require: (p.require ?? []) as unknown as Rules,
          },
        ],
  );
  let warpApp: ObservedEnrollment["warpApp"] = null;
  for (const raw of apps) {
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

/** Writes an Access policy (create or replace); returns its id. */
async function writeAccessPolicy(
  ctx: ApplyContext,
  d: RenderedEnrollmentPolicy,
  cloudflareId: string | null,
): Promise<string> {
  const access = ctx.client.zeroTrust.access;
  const body = {
    account_id: ctx.accountId,
    name: d.name,
    decision: d.decision as "allow",
    include: d.include,
    exclude: d.exclude,
    require: d.require,
  } as unknown as Parameters<typeof access.policies.create>[0];
  if (cloudflareId === null) {
    return (await access.policies.create(body)).id ?? "";
  }
  await access.policies.update(cloudflareId, body);
  return cloudflareId;
}

/** Writes the `warp` app's policy links (create or replace the app); returns its id. */
async function writeWarpApp(
  ctx: ApplyContext,
  d: RenderedWarpApp,
  cloudflareId: string | null,
): Promise<string> {
  const access = ctx.client.zeroTrust.access;
  const links = [
    ...d.keptPolicyIds,
    ...d.policyKeys.map((key) => ctx.resolve("enrollment_rule", key)),
  ].map((id, i) => ({ id, precedence: i + 1 }));
  const body = { account_id: ctx.accountId, ...d.preserved, type: "warp", policies: links };
  if (cloudflareId === null) {
    const created = await access.applications.create(
      body as unknown as Parameters<typeof access.applications.create>[0],
    );
    return (created as { id?: string }).id ?? "";
  }
  await access.applications.update(
    cloudflareId,
    body as unknown as Parameters<typeof access.applications.update>[1],
  );
  return cloudflareId;
}

function write(ctx: ApplyContext, d: RenderedEnrollment, cloudflareId: string | null) {
  return d.target === "access_policy"
    ? writeAccessPolicy(ctx, d, cloudflareId)
    : writeWarpApp(ctx, d, cloudflareId);
}

/**
 * Enrollment rules: Access is read only when the desired state has enrollment rules, live or
 * tombstoned (their Access policies may still need deleting), so other accounts pay nothing.
 * An action writes one Access policy or the `warp` app's links.
 */
export const enrollmentAdapter: KindAdapter<"enrollment_rule"> = {
  kind: "enrollment_rule",
  observe: async (client, accountId, desired) =>
    desired.objects.some((o) => o.kind === "enrollment_rule")
      ? { enrollment: await listEnrollment(client, accountId) }
      : {},
  create: (ctx, action) => write(ctx, action.desired, null),
  update: (ctx, action) => write(ctx, action.desired, action.cloudflareId),
  async delete(ctx, action) {
    await ctx.client.zeroTrust.access.policies.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};
