/** ETags are the object's version; `If-Match` must name the current one (RFC 9110 §13.1.1). */
import { ProblemError } from "../problem";

/** The strong ETag for a version: `"3"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Checks an `If-Match` header against the current version; absent means unconditional.
 * @throws ProblemError version-mismatch (412) with the current ETag.
 */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === "*") {
    return;
  }
  // If-Match uses the strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
  const tags = ifMatch.split(",").map((t) => t.trim());
  if (!tags.includes(etagOf(version))) {
    throw new ProblemError(
      "version-mismatch",
      `The current version is ${version}; re-read and retry.`,
      {
        headers: { ETag: etagOf(version) },
      },
    );
  }
}
