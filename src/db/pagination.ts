/**
 * Opaque keyset cursors. A cursor names the last item of a page by its sort key
 * (created_at_ms, id), so pages stay stable while items are added.
 */
import { fromBase64, toBase64Url } from "../lib/base64";

/** The position after which the next page starts. */
export interface CursorPosition {
  /** Sort instant of the last item returned, epoch ms. */
  atMs: number;
  /** Id of the last item returned (tie-breaker). */
  id: string;
}

/** Encodes a position as an opaque string. */
export function encodeCursor(position: CursorPosition): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([position.atMs, position.id])));
}

/** Decodes a cursor, or returns undefined when it is not one of ours. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64(cursor)));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isInteger(value[0]) &&
      typeof value[1] === "string"
    ) {
      return { atMs: value[0], id: value[1] };
    }
  } catch {
    // Not base64 or not JSON: the same answer as any other foreign string.
  }
  return undefined;
}

/** Splits `limit + 1` fetched rows into a page and the cursor of the next one. */
export function toPage<T>(
  rows: T[],
  limit: number,
  positionOf: (row: T) => CursorPosition,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null,
  };
}
