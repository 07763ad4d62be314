/**
 * The ownership marker. tunnelplane only updates or deletes Cloudflare objects that carry
 * `tunnelplane:<id>` at the end of a free-text field the API keeps (`comment`, `description`);
 * everything else is unmanaged and only reported.
 */

const MARKER_PREFIX = "tunnelplane:";
const MARKER_PATTERN = /(?:^|\s)tunnelplane:([0-9a-z-]{1,64})$/;

/** Length the marker adds to a text field: one space, the prefix and a 36-character uuid. */
export const MARKER_LENGTH = 1 + MARKER_PREFIX.length + 36;

/** Appends the marker for `ownerId` to `text` (separated by one space when `text` is not empty). */
export function withMarker(text: string, ownerId: string): string {
  const marker = `${MARKER_PREFIX}${ownerId}`;
  return text === "" ? marker : `${text} ${marker}`;
}

/** Splits a field into the user's text and the owner id, or `ownerId: null` when unmarked. */
export function readMarker(field: string): { ownerId: string | null; text: string } {
  const match = MARKER_PATTERN.exec(field);
  if (match === null || match[1] === undefined) {
    return { ownerId: null, text: field };
  }
  return { ownerId: match[1], text: field.slice(0, match.index).trimEnd() };
}
