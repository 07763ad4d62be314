/** The `cursor` query parameter, decoded or refused. */
import { type CursorPosition, decodeCursor } from "../db/pagination";
import { ProblemError } from "./problem";

/**
 * The position a `cursor` names, or undefined for the first page (no cursor, or an empty one).
 * @throws ProblemError validation-failed (422) for a cursor this API did not return.
 */
export function cursorPosition(cursor: string | undefined): CursorPosition | undefined {
  if (cursor === undefined || cursor === "") {
    return undefined;
  }
  const position = decodeCursor(cursor);
  if (position === undefined) {
    throw new ProblemError("validation-failed", "The cursor is not one this API returned.", {
      errors: [{ parameter: "cursor", detail: "unknown cursor", code: "invalid-cursor" }],
    });
  }
  return position;
}
