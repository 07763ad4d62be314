/** The account page's conflicts and warnings: the same findings as `GET …/conflicts`. */
import type { AccountConflict } from "../../domain/conflicts/account";
import { describeConflict } from "../../domain/conflicts/describe";
import { State } from "./layout";

/** Findings listed on the page; the rest are counted and left to the API. */
export const CONFLICTS_SHOWN = 50;

/** The errors first, then the warnings, each in the order the checks give them. */
export function ConflictsTable(props: { accountId: string; conflicts: AccountConflict[] }) {
  const { accountId, conflicts } = props;
  if (conflicts.length === 0) {
    return <p>No conflicts or warnings in the desired state.</p>;
  }
  const errors = conflicts.filter((c) => c.severity === "error");
  const ordered = [...errors, ...conflicts.filter((c) => c.severity !== "error")];
  const hidden = ordered.length - CONFLICTS_SHOWN;
  return (
    <>
      <p>
        {errors.length} {errors.length === 1 ? "error" : "errors"},{" "}
        {conflicts.length - errors.length}{" "}
        {conflicts.length - errors.length === 1 ? "warning" : "warnings"}.
      </p>
      <div class="scroll">
        <table class="cards">
          <thead>
            <tr>
              <th>severity</th>
              <th>code</th>
              <th>finding</th>
            </tr>
          </thead>
          <tbody>
            {ordered.slice(0, CONFLICTS_SHOWN).map((c) => (
              <tr>
                <td data-label="severity">
                  <State value={c.severity} />
                </td>
                <td data-label="code">
                  <code>{c.code}</code>
                </td>
                <td data-label="finding">{describeConflict(c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hidden > 0 ? (
        <p>
          {hidden} more: <code>GET /v1/accounts/{accountId}/conflicts</code>
        </p>
      ) : null}
    </>
  );
}
