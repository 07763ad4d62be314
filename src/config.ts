/** Worker configuration: the vars of wrangler.toml, parsed once with their units. */
import { z } from "zod";

const ConfigSchema = z.object({
  CLOUDFLARE_API_BASE_URL: z.string().default(""),
  MAX_SUBREQUESTS_PER_RUN: z.coerce.number().int().min(20).max(10_000).default(900),
  LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(120_000),
  DEFAULT_RECONCILE_INTERVAL_S: z.coerce.number().int().min(30).default(300),
  CALLBACK_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(5_000),
});

/** Parsed configuration. */
export interface Config {
  /** Cloudflare API base URL ending in `/client/v4`; empty for the real API. */
  cloudflareApiBaseUrl: string;
  /** Subrequests one reconcile run may spend. */
  maxSubrequestsPerRun: number;
  /** Lease length, ms. */
  leaseTtlMs: number;
  /** Reconcile interval for new accounts, s. */
  defaultReconcileIntervalS: number;
  /** How long one grant callback attempt may take before it counts as failed, ms. */
  callbackAttemptTimeoutMs: number;
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
    leaseTtlMs: vars.LEASE_TTL_MS,
    defaultReconcileIntervalS: vars.DEFAULT_RECONCILE_INTERVAL_S,
    callbackAttemptTimeoutMs: vars.CALLBACK_ATTEMPT_TIMEOUT_MS,
  };
}
