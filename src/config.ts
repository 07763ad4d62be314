/** Worker configuration: the vars of wrangler.toml, parsed once with their units. */
import { z } from "zod";
import { MAX_RETRY_AFTER_MS, type RetrySchedule } from "./domain/grants/delivery";

const ConfigSchema = z.object({
  CLOUDFLARE_API_BASE_URL: z.string().default(""),
  MAX_SUBREQUESTS_PER_RUN: z.coerce.number().int().min(20).max(10_000).default(900),
  MAX_SUBREQUESTS_PER_INVOCATION: z.coerce.number().int().min(20).max(10_000).default(900),
  LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(120_000),
  DEFAULT_RECONCILE_INTERVAL_S: z.coerce.number().int().min(30).default(300),
  CALLBACK_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(5_000),
  CLOUDFLARE_API_RATE_LIMIT: z.coerce.number().int().min(1).default(1200),
  CLOUDFLARE_API_RATE_WINDOW_S: z.coerce.number().positive().default(300),
  CLOUDFLARE_API_BUDGET_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  CLOUDFLARE_API_DEFAULT_RETRY_AFTER_S: z.coerce.number().positive().default(300),
  RUN_RETENTION_DAYS: z.coerce.number().positive().default(90),
  RUN_RETENTION_PER_ACCOUNT: z.coerce.number().int().min(1).default(1000),
  AUDIT_RETENTION_DAYS: z.coerce.number().positive().default(90),
  EVENT_FIRST_RETRY_AFTER_S: z.coerce.number().int().min(1).max(3600).default(30),
  EVENT_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
});

/** Parsed configuration. */
export interface Config {
  /** Cloudflare API base URL ending in `/client/v4`; empty for the real API. */
  cloudflareApiBaseUrl: string;
  /** Subrequests one reconcile run may spend. */
  maxSubrequestsPerRun: number;
  /** Subrequests one queue invocation may spend, all its runs together. */
  maxSubrequestsPerInvocation: number;
  /** Lease length, ms. */
  leaseTtlMs: number;
  /** Reconcile interval for new accounts, s. */
  defaultReconcileIntervalS: number;
  /** How long one grant callback attempt may take before it counts as failed, ms. */
  callbackAttemptTimeoutMs: number;
  /** Cloudflare's API limit per user and window, calls (Cloudflare: 1,200). */
  apiRateLimit: number;
  /** Cloudflare's rate-limit window, ms (Cloudflare: 300,000). */
  apiRateWindowMs: number;
  /** Share of apiRateLimit tunnelplane may spend per account, 0 < share <= 1 (default 0.5). */
  apiBudgetShare: number;
  /** How long a 429 without Retry-After holds every call of the account, ms (default 300,000). */
  defaultRetryAfterMs: number;
  /** Run records older than this are deleted, ms (default 90 days). */
  runRetentionMs: number;
  /** Run records kept per account, newest first (default 1,000). */
  runsKeptPerAccount: number;
  /** Audit entries older than this are deleted by the cron, ms (default 90 days). */
  auditRetentionMs: number;
  /** How event webhooks are retried: attempts in all, first wait (ms) doubling up to one hour. */
  eventRetry: RetrySchedule;
}

/**
 * Reads the vars from `env`.
 * @throws ZodError when a var is present but malformed (a deploy mistake, not user input).
 */
export function readConfig(env: Record<string, unknown>): Config {
  const vars = ConfigSchema.parse(env);
  return {
    cloudflareApiBaseUrl: vars.CLOUDFLARE_API_BASE_URL,
    maxSubrequestsPerRun: vars.MAX_SUBREQUESTS_PER_RUN,
    maxSubrequestsPerInvocation: vars.MAX_SUBREQUESTS_PER_INVOCATION,
    leaseTtlMs: vars.LEASE_TTL_MS,
    defaultReconcileIntervalS: vars.DEFAULT_RECONCILE_INTERVAL_S,
    callbackAttemptTimeoutMs: vars.CALLBACK_ATTEMPT_TIMEOUT_MS,
    apiRateLimit: vars.CLOUDFLARE_API_RATE_LIMIT,
    apiRateWindowMs: Math.round(vars.CLOUDFLARE_API_RATE_WINDOW_S * 1000),
    apiBudgetShare: vars.CLOUDFLARE_API_BUDGET_SHARE,
    defaultRetryAfterMs: Math.round(vars.CLOUDFLARE_API_DEFAULT_RETRY_AFTER_S * 1000),
    runRetentionMs: Math.round(vars.RUN_RETENTION_DAYS * 86_400_000),
    runsKeptPerAccount: vars.RUN_RETENTION_PER_ACCOUNT,
    auditRetentionMs: Math.round(vars.AUDIT_RETENTION_DAYS * 86_400_000),
    eventRetry: {
      maxAttempts: vars.EVENT_DELIVERY_MAX_ATTEMPTS,
      firstRetryAfterMs: vars.EVENT_FIRST_RETRY_AFTER_S * 1000,
      maxRetryAfterMs: MAX_RETRY_AFTER_MS,
    },
  };
}
