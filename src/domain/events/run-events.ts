/**
 * The events a finished reconcile run raises: drift it found, drift it repaired, a failure, a
 * continuation. Ids derive from the run id, so the same run never raises an event twice.
 */
import type { AccountEvent } from "./events";

/** What of a run record the events read. */
export interface RunFacts {
  id: string;
  accountId: string;
  trigger: string;
  outcome: string;
  finishedAtMs: number | null;
  drift: { kind: string; key: string; reason: string }[];
  actions: { kind: string; key: string; isDrift: boolean; outcome: string }[];
  errors: { kind: string | null; key: string | null; message: string }[];
  continued: boolean;
  continueAtMs: number | null;
}

/** Most drift entries, repaired objects or errors one event lists (the count says how many). */
export const EVENT_ITEMS_LISTED = 50;

/** The events of `run`, in the order they happened: detected, repaired, then failed or continued. */
export function runEvents(run: RunFacts, nowMs: number): AccountEvent[] {
  const atMs = run.finishedAtMs ?? nowMs;
  const base = { accountId: run.accountId, atMs };
  const events: AccountEvent[] = [];
  if (run.drift.length > 0) {
    events.push({
      ...base,
      id: `${run.id}.drift.detected`,
      type: "drift.detected",
      data: {
        run_id: run.id,
        count: run.drift.length,
        drift: run.drift.slice(0, EVENT_ITEMS_LISTED),
      },
    });
  }
  const repaired = run.actions.filter((a) => a.isDrift && a.outcome === "applied");
  if (repaired.length > 0) {
    events.push({
      ...base,
      id: `${run.id}.drift.repaired`,
      type: "drift.repaired",
      data: {
        run_id: run.id,
        count: repaired.length,
        repaired: repaired.slice(0, EVENT_ITEMS_LISTED).map((a) => ({ kind: a.kind, key: a.key })),
      },
    });
  }
  if (run.outcome === "failed") {
    events.push({
      ...base,
      id: `${run.id}.run.failed`,
      type: "run.failed",
      data: {
        run_id: run.id,
        trigger: run.trigger,
        errors: run.errors
          .slice(0, EVENT_ITEMS_LISTED)
          .map((e) => ({ kind: e.kind, key: e.key, message: e.message })),
      },
    });
  }
  if (run.continued) {
    events.push({
      ...base,
      id: `${run.id}.run.continued`,
      type: "run.continued",
      data: {
        run_id: run.id,
        continue_at: run.continueAtMs === null ? null : new Date(run.continueAtMs).toISOString(),
      },
    });
  }
  return events;
}
