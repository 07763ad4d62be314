/** Wire shapes of the account overview (`GET /v1/accounts`): what an operator scans first. */
import { z } from "@hono/zod-openapi";
import { PageQuery } from "../contract";

/** `?cursor=&limit=` with a smaller page: each account costs a lease lookup. */
export const OverviewQuery = PageQuery.extend({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(20)
    .openapi({ description: "Accounts per page, 1..50 (default 20)." }),
});

const LastRun = z
  .object({
    id: z.string().openapi({ example: "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" }),
    outcome: z.enum(["running", "succeeded", "failed", "partial"]),
    started_at: z.string().openapi({ example: "2026-12-03T09:01:00.000Z" }),
    finished_at: z.string().nullable().openapi({ example: "2026-12-03T09:01:02.350Z" }),
    duration_ms: z.number().int().nullable().openapi({ example: 2350 }),
    drift_count: z.number().int().openapi({ description: "Drift the run found." }),
    error_count: z.number().int(),
  })
  .openapi("AccountLastRun");

/** One account in the overview. */
export const AccountSummary = z
  .object({
    account_id: z.string().openapi({ example: "0123456789abcdef0123456789abcdef" }),
    name: z.string().openapi({ example: "Demo" }),
    mode: z.enum(["enforce", "observe"]),
    state: z.enum(["never-run", "failing", "degraded", "drifted", "overdue", "healthy"]).openapi({
      description:
        "failing: the last run failed or Cloudflare refused the token; degraded: it was partial; drifted: objects differ from Cloudflare now; overdue: due for longer than two intervals.",
    }),
    last_run: LastRun.nullable(),
    drifted_objects: z
      .number()
      .int()
      .openapi({ description: "Desired objects whose Cloudflare copy differs now." }),
    dead_letters: z.number().int().openapi({
      description:
        "Reconcile messages of this account the queue gave up on; list and re-drive them with GET /v1/reconcile/dead-letters.",
      example: 0,
    }),
    next_run_at: z.string().openapi({ example: "2026-12-03T09:02:00.000Z" }),
    lease: z
      .object({
        holder: z.string().openapi({ description: "The run holding the account's lease." }),
        expires_at: z.string(),
      })
      .nullable()
      .openapi({ description: "The live lease, or null when no run holds the account." }),
    token_problems: z.array(z.string()).openapi({
      description:
        "What is wrong with the API token: the permissions it lacked in the last run that observed the account (as GET account's token_problems), and Cloudflare's other refusals of it (401/403) in the last run.",
      example: [],
    }),
  })
  .openapi("AccountSummary");

/** A page of the overview. */
export const AccountSummaryPage = z
  .object({
    items: z.array(AccountSummary),
    next_cursor: z.string().nullable(),
  })
  .openapi("AccountSummaryPage");
