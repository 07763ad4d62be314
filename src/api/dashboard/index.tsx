/**
 * `/dashboard`: a read-only view for operators, server-rendered with Hono's JSX. The same
 * identities as the API (an API key or a Cloudflare Access login) with a reading role; a caller
 * sees only the accounts its key reaches, and another account is a 404 as in the API.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { getAccount } from "../../db/accounts.repo";
import { createDb } from "../../db/client";
import { listAllObjects } from "../../db/desired-objects.repo";
import { listLiveGrants } from "../../db/grants.repo";
import { listRuns } from "../../db/runs.repo";
import { readAccountOverview } from "../accounts/overview.handlers";
import { findConflicts } from "../conflicts/conflicts.handlers";
import type { AppEnv } from "../context";
import { canReachAccount } from "../identity/identity";
import { authenticate } from "../middleware/auth";
import { cursorPosition } from "../paging";
import { ProblemError } from "../problem";
import { AccountPage, AccountsPage } from "./pages";

/** Accounts per dashboard page. */
const PAGE_SIZE = 50;
/** Runs read for an account's page: enough for a day at one run every 30 minutes. */
const RUNS_SHOWN = 50;

const READING_ROLES = new Set(["admin", "operator", "viewer"]);

export const dashboardRouter = new Hono<AppEnv>();

const requireReader: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!READING_ROLES.has(c.get("identity").role)) {
    throw new ProblemError("forbidden", "The dashboard needs the viewer, operator or admin role.");
  }
  await next();
};
for (const path of ["/dashboard", "/dashboard/*"]) {
  dashboardRouter.use(path, authenticate, requireReader);
}

dashboardRouter.get("/dashboard", async (c) => {
  const overview = await readAccountOverview(
    c.env,
    c.get("identity").accounts,
    cursorPosition(c.req.query("cursor"))?.id,
    PAGE_SIZE,
    Date.now(),
  );
  return c.html(<AccountsPage accounts={overview.items} nextCursor={overview.nextCursor} />);
});

dashboardRouter.get("/dashboard/accounts/:account_id", async (c) => {
  const accountId = c.req.param("account_id");
  const db = createDb(c.env.DB);
  const account = canReachAccount(c.get("identity"), accountId)
    ? await getAccount(db, accountId)
    : undefined;
  if (account === undefined) {
    throw new ProblemError("not-found", `Account ${accountId} is not registered.`);
  }
  const nowMs = Date.now();
  const [overview, runs, grants, tunnels, conflicts] = await Promise.all([
    readAccountOverview(c.env, [accountId], undefined, 1, nowMs),
    listRuns(db, accountId, undefined, RUNS_SHOWN),
    listLiveGrants(db, accountId),
    listAllObjects(db, accountId, "tunnel"),
    findConflicts(db, accountId),
  ]);
  const summary = overview.items[0];
  if (summary === undefined) {
    throw new ProblemError("not-found", `Account ${accountId} is not registered.`);
  }
  return c.html(
    <AccountPage
      summary={summary}
      runs={runs.filter((r) => r.mode !== "plan").slice(0, RUNS_SHOWN)}
      grants={grants}
      conflicts={conflicts}
      tunnels={tunnels.map((t) => ({
        name: t.spec.name,
        state: t.syncState,
        health: String(t.observed?.health ?? "not observed yet"),
      }))}
      nowMs={nowMs}
    />,
  );
});
