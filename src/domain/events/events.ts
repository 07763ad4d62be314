/**
 * Account events that webhooks subscribe to: their types, the patterns that select them, the
 * JSON body a subscriber receives and the Slack-compatible body. Pure: ids and instants come in.
 * An event's `data` is small and never carries a token or a secret.
 */
import { GRANT_STATES } from "../grants/grant";

/** Every event type, in the order the README lists them. */
export const EVENT_TYPES = [
  "drift.detected",
  "drift.repaired",
  "run.failed",
  "run.continued",
  ...GRANT_STATES.map((state) => `grant.${state}` as const),
  "desired_state.changed",
] as const;

/** One event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** Something that happened in an account. */
export interface AccountEvent {
  /** Unique per event; a receiver de-duplicates on it. */
  id: string;
  type: EventType;
  accountId: string;
  /** When it happened, epoch ms. */
  atMs: number;
  /** Type-specific facts (see README "Events"), snake_case. */
  data: Record<string, unknown>;
}

/** The prefixes a `<prefix>.*` pattern may name: every type's part before its last dot. */
const FAMILIES = [...new Set(EVENT_TYPES.map((t) => t.slice(0, t.lastIndexOf("."))))];

/**
 * Whether `pattern` is a type, `<family>.*` (`grant.*`, `drift.*`, `run.*`,
 * `desired_state.*`) or `*` (every event).
 */
export function isEventPattern(pattern: string): boolean {
  if (pattern === "*" || (EVENT_TYPES as readonly string[]).includes(pattern)) {
    return true;
  }
  return pattern.endsWith(".*") && FAMILIES.includes(pattern.slice(0, -2));
}

/** Whether any of `patterns` selects `type`. */
export function matchesEventType(patterns: readonly string[], type: EventType): boolean {
  return patterns.some(
    (p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))),
  );
}

/** The JSON body of an event (`format: "json"`). */
export function eventBody(event: AccountEvent) {
  return {
    id: event.id,
    type: event.type,
    account_id: event.accountId,
    occurred_at: new Date(event.atMs).toISOString(),
    data: event.data,
  };
}

/** Items a Slack message names before it says "and N more". */
const SLACK_ITEMS = 5;

function listed(items: unknown, describe: (item: Record<string, unknown>) => string): string {
  const all = Array.isArray(items) ? (items as Record<string, unknown>[]) : [];
  const shown = all.slice(0, SLACK_ITEMS).map(describe).join(", ");
  return all.length > SLACK_ITEMS ? `${shown} and ${all.length - SLACK_ITEMS} more` : shown;
}

const kindKey = (item: Record<string, unknown>) => `${item.kind} ${item.key}`;

/** One sentence for an event, for people (Slack's `text`). */
export function describeEvent(event: AccountEvent): string {
  const d = event.data;
  const where = `account ${event.accountId}`;
  switch (event.type) {
    case "drift.detected":
      return `Drift detected in ${where}: ${listed(d.drift, kindKey)}`;
    case "drift.repaired":
      return `Drift repaired in ${where}: ${listed(d.repaired, kindKey)}`;
    case "run.failed":
      return `Reconcile run ${d.run_id} failed in ${where}: ${listed(d.errors, (e) => `${e.message}`)}`;
    case "run.continued":
      return `Reconcile run ${d.run_id} in ${where} left work; it continues at ${d.continue_at}`;
    case "desired_state.changed":
      return `Desired state changed in ${where}: ${d.operation} ${d.kind} ${d.object_id} by ${d.actor}`;
    default:
      return `Grant ${d.grant_id} for ${d.subject_email} (ticket ${d.ticket_system} ${d.ticket_id}) is now ${d.state} in ${where}`;
  }
}

/**
 * Slack's control characters escaped (`&`, `<`, `>`): a ticket id or an error message is shown as
 * written, never read as a mention (`<!channel>`) or a link (`<https://…|Approve>`).
 * @see https://api.slack.com/reference/surfaces/formatting#escaping
 */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The Slack-compatible incoming-webhook body (`format: "slack"`): `text` for notifications and
 * one section block holding the same sentence in mrkdwn, both escaped (the event's text holds
 * what callers wrote, such as a grant's ticket id).
 * @see https://api.slack.com/messaging/webhooks
 */
export function slackBody(event: AccountEvent) {
  const text = slackEscape(describeEvent(event));
  return {
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text: `*${event.type}*\n${text}` } }],
  };
}
