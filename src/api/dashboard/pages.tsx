/** The dashboard's two pages: every account with its state, and one account in detail. */
import type { z } from "@hono/zod-openapi";
import type { GrantRecord } from "../../db/grants.repo";
import type { RunRecord } from "../../db/runs.repo";
import type { AccountConflict } from "../../domain/conflicts/account";
import type { AccountSummary } from "../accounts/overview.schemas";
import { ConflictsTable } from "./conflicts";
import { duration, Page, State } from "./layout";
import { type PlotPoint, RunPlot } from "./plot";

type Summary = z.infer<typeof AccountSummary>;

/** The accounts page: one row per account, the worst first. */
export function AccountsPage(props: { accounts: Summary[]; nextCursor: string | null }) {
  return (
    <Page title="Accounts">
      <div class="scroll">
        <table class="cards">
          <thead>
            <tr>
              <th>account</th>
              <th>state</th>
              <th>last run</th>
              <th>drifted</th>
              <th>next run</th>
              <th>lease</th>
              <th>token</th>
            </tr>
          </thead>
          <tbody>
            {props.accounts.map((a) => (
              <tr>
                <td data-label="account">
                  <a href={`/dashboard/accounts/${a.account_id}`}>{a.name}</a>
                  <br />
                  <code>{a.account_id}</code>
                </td>
                <td data-label="state">
                  <State value={a.state} />
                </td>
                <td data-label="last run">
                  {a.last_run === null ? (
                    "never"
                  ) : (
                    <>
                      <State value={a.last_run.outcome} /> {a.last_run.started_at.slice(0, 19)}Z
                      {a.last_run.duration_ms === null ? "" : `, ${a.last_run.duration_ms} ms`}
                    </>
                  )}
                </td>
                <td data-label="drifted">{a.drifted_objects}</td>
                <td data-label="next run">{a.next_run_at.slice(0, 19)}Z</td>
                <td data-label="lease">
                  {a.lease === null ? "free" : `held by run ${a.lease.holder.slice(0, 8)}`}
                </td>
                <td data-label="token">
                  {a.token_problems.length === 0 ? "ok" : a.token_problems.join("; ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.nextCursor === null ? null : (
        <a href={`/dashboard?cursor=${props.nextCursor}`}>Next page</a>
      )}
    </Page>
  );
}

/** What the account page shows, read at `nowMs`. */
export interface AccountView {
  summary: Summary;
  runs: RunRecord[];
  grants: GrantRecord[];
  /** The desired state's conflicts and warnings, as `findConflicts` gives them. */
  conflicts: AccountConflict[];
  tunnels: { name: string; state: string; health: string }[];
  nowMs: number;
}

const DAY_MS = 86_400_000;

function DriftTable(props: { run: RunRecord | undefined }) {
  const drift = props.run?.actions.filter((a) => a.isDrift) ?? [];
  if (drift.length === 0) {
    return <p>No drift in the last run.</p>;
  }
  return (
    <div class="scroll">
      <table class="cards">
        <thead>
          <tr>
            <th>object</th>
            <th>action</th>
            <th>field</th>
            <th>in Cloudflare</th>
            <th>desired</th>
          </tr>
        </thead>
        <tbody>
          {drift.flatMap((a) =>
            (a.diff.length === 0 ? [undefined] : a.diff).map((d) => (
              <tr>
                <td data-label="object">
                  {a.kind} <code>{a.key}</code>
                </td>
                <td data-label="action">
                  {a.op} ({a.outcome})
                </td>
                <td data-label="field">{d?.field ?? a.reason}</td>
                <td data-label="in Cloudflare">
                  <code>{d === undefined ? "" : JSON.stringify(d.observed)}</code>
                </td>
                <td data-label="desired">
                  <code>{d === undefined ? "" : JSON.stringify(d.desired)}</code>
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </div>
  );
}

/**
 * One account: its last runs, a plot of the last day, drift, the last run's errors, the desired
 * state's conflicts and warnings, grants and tunnels.
 */
export function AccountPage(props: AccountView) {
  const { summary, runs, grants, conflicts, tunnels, nowMs } = props;
  const lastDay: PlotPoint[] = runs
    .filter((r) => r.startedAtMs >= nowMs - DAY_MS)
    .map((r) => ({ atMs: r.startedAtMs, apiCalls: r.counts.subrequests, drift: r.drift.length }));
  const warnings = runs[0]?.errors ?? [];
  return (
    <Page title={summary.name}>
      <p>
        <code>{summary.account_id}</code> · {summary.mode} · <State value={summary.state} /> · next
        run {summary.next_run_at.slice(0, 19)}Z
      </p>
      <h2>API calls and drift, last 24 hours</h2>
      <div class="scroll">
        <RunPlot points={lastDay} fromMs={nowMs - DAY_MS} toMs={nowMs} />
      </div>
      <h2>Last runs</h2>
      <div class="scroll">
        <table class="cards">
          <thead>
            <tr>
              <th>started</th>
              <th>trigger</th>
              <th>outcome</th>
              <th>duration</th>
              <th>API calls</th>
              <th>applied</th>
              <th>drift</th>
            </tr>
          </thead>
          <tbody>
            {runs.slice(0, 20).map((r) => (
              <tr>
                <td data-label="started">{new Date(r.startedAtMs).toISOString().slice(0, 19)}Z</td>
                <td data-label="trigger">{r.trigger}</td>
                <td data-label="outcome">
                  <State value={r.outcome} />
                </td>
                <td data-label="duration">
                  {r.finishedAtMs === null ? "running" : `${r.finishedAtMs - r.startedAtMs} ms`}
                </td>
                <td data-label="API calls">{r.counts.subrequests}</td>
                <td data-label="applied">{r.counts.applied}</td>
                <td data-label="drift">{r.drift.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Drift in the last run</h2>
      <DriftTable run={runs[0]} />
      <h2>Errors and warnings of the last run</h2>
      {warnings.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul>
          {warnings.map((e) => (
            <li>
              {e.kind === null ? "" : `${e.kind} ${e.key ?? ""}: `}
              {e.message}
              {e.retryable ? " (retried)" : ""}
            </li>
          ))}
        </ul>
      )}
      <h2>Conflicts and warnings</h2>
      <ConflictsTable accountId={summary.account_id} conflicts={conflicts} />
      <h2>Grants, active and pending</h2>
      {grants.length === 0 ? (
        <p>None.</p>
      ) : (
        <div class="scroll">
          <table class="cards">
            <thead>
              <tr>
                <th>subject</th>
                <th>destinations</th>
                <th>ticket</th>
                <th>state</th>
                <th>time left</th>
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => (
                <tr>
                  <td data-label="subject">{g.subjectEmail}</td>
                  <td data-label="destinations">{g.destinations.join(", ")}</td>
                  <td data-label="ticket">
                    {g.ticket.system} {g.ticket.id}
                  </td>
                  <td data-label="state">
                    <State value={g.state} />
                  </td>
                  <td data-label="time left">
                    {g.state === "active"
                      ? duration(g.endsAtMs - nowMs)
                      : `starts in ${duration(Math.max(0, g.startsAtMs - nowMs))}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Tunnels</h2>
      <table class="cards">
        <thead>
          <tr>
            <th>tunnel</th>
            <th>sync</th>
            <th>health</th>
          </tr>
        </thead>
        <tbody>
          {tunnels.map((t) => (
            <tr>
              <td data-label="tunnel">{t.name}</td>
              <td data-label="sync">
                <State value={t.state} />
              </td>
              <td data-label="health">{t.health}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}
