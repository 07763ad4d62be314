/** Wire shapes of accounts. The API token is write-only: no response ever carries it. */
import { z } from "@hono/zod-openapi";
import type { AccountRecord } from "../../db/accounts.repo";
import { checkInitialResolvedRange } from "../../domain/cidr/initial-resolved";
import { DEFAULT_INITIAL_RESOLVED_IPV4 } from "../../domain/cidr/reserved";
import { DEFAULT_QUOTAS, effectiveQuotas, QUOTA_NAMES, type QuotaName } from "../../domain/quotas";
import { RefusalFields, toRefusalResource } from "../schemas/refusal";

/** Highest value a quota can be raised to: far above Cloudflare's highest raised limits. */
const MAX_QUOTA = 100_000_000;

const QUOTA_DESCRIPTIONS: Record<QuotaName, string> = {
  routes: "Tunnel routes in the account.",
  network_policies: "Gateway network policies in the account.",
  private_apps: "Private network applications (Access applications) in the account.",
  tunnels: "Tunnels in the account.",
  virtual_networks: "Virtual networks in the account.",
  split_tunnel_entries: "Entries in one split tunnel list.",
  selector_units:
    "Selector units of all policies and private apps together: 1 per policy plus 1 per destination, port, email, group and regex.",
  work_units:
    "Work one request may cost (plan, explain, policies/analysis, assertion runs): selector units evaluated.",
  event_subscriptions:
    "Event subscriptions (webhooks) of the account; each event is delivered once per matching subscription.",
};

const quotaField = (name: QuotaName) =>
  z
    .number()
    .int()
    .min(0)
    .max(MAX_QUOTA)
    .openapi({ description: QUOTA_DESCRIPTIONS[name], example: DEFAULT_QUOTAS[name] });

/** Quotas to raise or lower; names left out keep their value. */
export const LimitsUpdate = z
  .strictObject(
    Object.fromEntries(QUOTA_NAMES.map((name) => [name, quotaField(name).optional()])) as Record<
      QuotaName,
      z.ZodOptional<z.ZodNumber>
    >,
  )
  .openapi("AccountLimitsUpdate", {
    description:
      'Quotas raised (or lowered) for this account, e.g. {"routes": 5000} after Cloudflare raised the account\'s route limit. Writes past a quota are refused with 422 limit-exceeded.',
    example: { routes: 5000 },
  });

/** Every quota of the account, defaults included. */
export const Limits = z
  .object(
    Object.fromEntries(QUOTA_NAMES.map((name) => [name, quotaField(name)])) as Record<
      QuotaName,
      z.ZodNumber
    >,
  )
  .openapi("AccountLimits");

/**
 * A plausible Cloudflare API token: 40 characters (older tokens) or a `cfut_`/`cfat_` prefix,
 * 40 characters and a checksum (scannable tokens), so 40..200 printable ASCII characters without
 * spaces. Anything else is refused before it is sealed, and the problem never echoes it.
 * @see https://developers.cloudflare.com/fundamentals/api/get-started/token-formats/
 */
const ApiToken = z
  .string()
  .min(40, "at least 40 characters")
  .max(200, "at most 200 characters")
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
  .openapi({
    description:
      "Cloudflare API token with Zero Trust edit permissions: 40..200 printable ASCII characters without spaces. Stored sealed; never returned.",
    example: "cfut_0123456789abcdefghijABCDEFGHIJ0123456789wxyz",
  });

/** The one label before `.cloudflareaccess.com`: Cloudflare's team name. */
const TEAM_DOMAIN_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.cloudflareaccess\.com$/;

const TeamDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(TEAM_DOMAIN_PATTERN, "a team domain: <team-name>.cloudflareaccess.com")
  .nullable()
  .openapi({
    description:
      "The Zero Trust team domain, stored in lower case. Include-mode split tunnels need it: with auto it is added to the list, otherwise its absence is a warning. null: not set, and a PATCH with null clears it (Include-mode profiles then warn).",
    example: "acme.cloudflareaccess.com",
  });

/**
 * The account's share of Cloudflare's API rate limit. At least 1%: below that a run could not
 * even observe the account (about 9 calls) within one window of 1,200 calls.
 */
const ApiBudgetShare = z
  .number()
  .min(0.01, "at least 0.01 (1% of Cloudflare's limit)")
  .max(1, "at most 1 (all of Cloudflare's limit)")
  .nullable()
  .openapi({
    description:
      "Share of Cloudflare's API rate limit (1,200 calls per 5 minutes per user, shared with the dashboard and other tools) that tunnelplane spends on this account, 0.01..1; null: the deployment's CLOUDFLARE_API_BUDGET_SHARE (default 0.5). Lower it when other tools use the same token heavily; raise it for a token only tunnelplane uses.",
    example: 0.25,
  });

/** The account's IPv4 initial resolved IP range, checked by Cloudflare's rules. */
const InitialResolvedIpv4 = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    const checked = checkInitialResolvedRange(value);
    if (!checked.ok) {
      ctx.addIssue({
        code: "custom",
        message: checked.error.reason,
        params: { code: "invalid-initial-resolved-range" },
      });
    }
  })
  .transform((value) => {
    const checked = checkInitialResolvedRange(value);
    return checked.ok ? checked.value : value;
  })
  .openapi({
    description: `The IPv4 range Gateway answers routed private hostnames from (Cloudflare's "initial resolved IPs"), as set in Cloudflare (\`GET /zerotrust/subnets/initial_resolved_ip/v4\`): ${DEFAULT_INITIAL_RESOLVED_IPV4} by default, 100.80.0.0/16 on accounts made before 2026-08-05, or your own /8 to /24. Routes inside it are refused; with hostname routes, a custom range is carved out of auto Exclude lists and added to auto Include lists. A run of an account with hostname routes reads Cloudflare's range and adopts it when it differs (reported as run drift); tunnelplane never writes it. The IPv6 range is fixed.`,
    example: DEFAULT_INITIAL_RESOLVED_IPV4,
  });

const Mode = z
  .enum(["enforce", "observe"])
  .openapi({ description: "enforce: apply plans; observe: only record drift." });

export const AccountCreate = z
  .strictObject({
    account_id: z
      .string()
      .regex(/^[0-9a-f]{32}$/, "32 lower-case hex characters")
      .openapi({ example: "0123456789abcdef0123456789abcdef" }),
    name: z.string().trim().min(1).max(200).openapi({ example: "Acme production" }),
    api_token: ApiToken,
    mode: Mode.default("enforce"),
    reconcile_interval_s: z.number().int().min(30).max(86_400).optional().openapi({
      description:
        "Seconds between scheduled reconciles (default from DEFAULT_RECONCILE_INTERVAL_S).",
    }),
    team_domain: TeamDomain.optional(),
    limits: LimitsUpdate.optional(),
    api_budget_share: ApiBudgetShare.optional(),
    initial_resolved_ipv4: InitialResolvedIpv4.optional(),
  })
  .openapi("AccountCreate");

export const AccountUpdate = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    api_token: ApiToken.optional(),
    mode: Mode.optional(),
    reconcile_interval_s: z.number().int().min(30).max(86_400).optional(),
    team_domain: TeamDomain.optional(),
    api_budget_share: ApiBudgetShare.optional(),
    initial_resolved_ipv4: InitialResolvedIpv4.optional(),
    limits: LimitsUpdate.nullable().optional().openapi({
      description:
        "Merged into the account's raised quotas; null returns every quota to its default.",
    }),
  })
  .openapi("AccountUpdate");

const TokenProblemSchema = z
  .object({
    permission: z.string().openapi({
      description:
        "The token permission tunnelplane needs, as the dashboard's token editor names it (Edit for an enforce account, Read for an observe one unless a write was refused).",
      example: "Zero Trust: Edit",
    }),
    ...RefusalFields,
    met_by: z.enum(["run", "plan", "explain", "import"]).openapi({
      description:
        "What met the refusal: a reconcile run, or an observation outside one (plan, explain with state=observed, import).",
    }),
    run_id: z
      .string()
      .nullable()
      .openapi({ description: "The run that met the refusal; null when met outside a run." }),
    detected_at: z.string().openapi({ description: "When, RFC 3339." }),
  })
  .openapi("TokenProblem");

export const Account = z
  .object({
    account_id: z.string(),
    name: z.string(),
    mode: Mode,
    reconcile_interval_s: z.number().int(),
    next_reconcile_at: z
      .string()
      .openapi({ description: "When the scheduler next reconciles, RFC 3339." }),
    team_domain: z.string().nullable(),
    initial_resolved_ipv4: z.string().openapi({
      description: "The IPv4 initial resolved IP range (canonical CIDR).",
      example: DEFAULT_INITIAL_RESOLVED_IPV4,
    }),
    limits: Limits,
    api_budget_share: ApiBudgetShare,
    token_problems: z.array(TokenProblemSchema).openapi({
      description:
        "Permissions the API token lacked when the account was last observed (by a run, a plan, explain with state=observed or an import): what it could not read or write is left as it is until the token gets them. A run replaces the list; an observation outside a run replaces the refused reads and keeps the refused writes (only a run can tell they go through now). Empty when none; a new api_token clears the list until the next observation.",
    }),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Account");

/** The wire form of an account record. */
export function toAccountResource(account: AccountRecord): z.infer<typeof Account> {
  return {
    account_id: account.id,
    name: account.name,
    mode: account.mode,
    reconcile_interval_s: account.reconcileIntervalS,
    next_reconcile_at: new Date(account.nextReconcileAtMs).toISOString(),
    team_domain: account.teamDomain,
    initial_resolved_ipv4: account.initialResolvedIpv4,
    limits: effectiveQuotas(account.limits),
    api_budget_share: account.apiBudgetShare,
    token_problems: account.tokenProblems.map((p) => ({
      ...toRefusalResource(p),
      met_by: p.metBy,
      run_id: p.runId,
      detected_at: new Date(p.detectedAtMs).toISOString(),
    })),
    version: account.version,
    created_at: new Date(account.createdAtMs).toISOString(),
    updated_at: new Date(account.updatedAtMs).toISOString(),
  };
}
