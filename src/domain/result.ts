/**
 * Domain failures are values, not exceptions: a function that can fail on input returns a
 * `Result`, whose error is a discriminated union with the data a caller needs to explain it.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** Wraps a success value. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Wraps a failure value. */
export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
