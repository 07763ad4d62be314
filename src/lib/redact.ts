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
