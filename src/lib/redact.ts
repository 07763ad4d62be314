/** Redaction of secrets from what the audit log keeps of a request or response. */

/** Field names whose string values are secrets (a tunnel token, a key, a callback secret). */
const SECRET_FIELD = /secret|token|password|command|authorization/i;

/** The stand-in written instead of a secret. */
export const REDACTED = "(redacted)";

/**
 * A deep copy of `value` in which every string under a secret-looking field name is `REDACTED`
 * (other types are kept: `callback_secret_set: true` says nothing secret).
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(redactSecrets);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => [
        key,
        SECRET_FIELD.test(key) && typeof field === "string" ? REDACTED : redactSecrets(field),
      ]),
    );
  }
  return value;
}

/**
 * A URL cut to its scheme and host (with a non-default port): `https://hooks.slack.com/…`. The
 * path and query of a webhook URL are often its credential (a Slack incoming webhook's
 * `/services/T…/B…/<secret>`), so only admins see them. Not a URL at all: `REDACTED`.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return REDACTED;
  }
}
