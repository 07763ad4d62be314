/**
 * Server-side timestamps. Every object the emulator creates gets a distinct RFC 3339 timestamp
 * with microseconds, strictly increasing inside one Durable Object, so "created_at then id"
 * orders objects exactly as they were created even when many land in the same millisecond.
 */

/** Hands out strictly increasing RFC 3339 UTC timestamps with microsecond precision. */
export class Clock {
  private lastMicros = 0;

  /** The next timestamp, e.g. `2026-05-01T10:00:00.123456Z`; never equal to an earlier one. */
  next(): string {
    this.lastMicros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    return formatMicros(this.lastMicros);
  }
}

/** Formats epoch microseconds as RFC 3339 UTC with six fractional digits. */
export function formatMicros(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const micros = String(epochMicros % 1000).padStart(3, "0");
  return `${new Date(ms).toISOString().slice(0, 23)}${micros}Z`;
}
