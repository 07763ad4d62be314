/**
 * `GET /healthz`: what a load balancer and an operator need without a key. 200 while D1 answers,
 * 503 when it does not; never an account's data, only the scheduler's oldest lag.
 */
import { Hono } from "hono";
import packageJson from "../../../package.json";
import { oldestDueAtMs } from "../../db/account-overview.repo";
import { createDb } from "../../db/client";
import type { AppEnv } from "../context";

/** The package version, as in package.json. */
export const PACKAGE_VERSION = packageJson.version;

/** The health report (wire shape). */
export interface HealthReport {
  ok: boolean;
  version: { package: string; commit: string };
  d1: { reachable: boolean; latency_ms: number | null; error?: string };
  queue: { bound: boolean };
  /** How long the longest-waiting due account has waited past its due time, ms (0: none due). */
  oldest_due_lag_ms: number | null;
}

/** Reads the report; a failing D1 is reported, not thrown. */
export async function readHealth(env: Env, nowMs: number): Promise<HealthReport> {
  const version = { package: PACKAGE_VERSION, commit: env.TUNNELPLANE_COMMIT ?? "unknown" };
  const queue = { bound: env.RECONCILE_QUEUE !== undefined };
  const startedMs = Date.now();
  try {
    const oldest = await oldestDueAtMs(createDb(env.DB), nowMs);
    return {
      ok: true,
      version,
      d1: { reachable: true, latency_ms: Date.now() - startedMs },
      queue,
      oldest_due_lag_ms: oldest === null ? 0 : nowMs - oldest,
    };
  } catch (error) {
    console.error(JSON.stringify({ healthz: "d1 unreachable", error: String(error) }));
    return {
      ok: false,
      version,
      d1: { reachable: false, latency_ms: null, error: "D1 did not answer" },
      queue,
      oldest_due_lag_ms: null,
    };
  }
}

/** The route. */
export const healthRouter = new Hono<AppEnv>().get("/healthz", async (c) => {
  const report = await readHealth(c.env, Date.now());
  return c.json(report, report.ok ? 200 : 503);
});
