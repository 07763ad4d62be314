/** Dead-letter handlers. */
import { createDb } from "../../db/client";
import { listDeadLetters } from "../../db/dead-letters.repo";
import { toPage } from "../../db/pagination";
import { redriveDeadLetter } from "../../reconciler/dead-letters";
import { createReconcileDeps } from "../../reconciler/deps";
import type { AppHandler } from "../context";
import { cursorPosition } from "../paging";
import { ProblemError } from "../problem";
import type * as endpoints from "./dead-letters.endpoints";
import { toDeadLetterResource } from "./dead-letters.schemas";

export const list: AppHandler<typeof endpoints.list> = async (c) => {
  const { cursor, limit } = c.req.valid("query");
  const rows = await listDeadLetters(createDb(c.env.DB), cursorPosition(cursor), limit);
  const page = toPage(rows, limit, (l) => ({ atMs: l.deadLetteredAtMs, id: l.id }));
  return c.json({ items: page.items.map(toDeadLetterResource), next_cursor: page.nextCursor }, 200);
};

export const redrive: AppHandler<typeof endpoints.redrive> = async (c) => {
  const { id } = c.req.valid("param");
  const letter = await redriveDeadLetter(createReconcileDeps(c.env), id);
  if (letter === undefined) {
    throw new ProblemError("not-found", `No dead letter ${id}.`);
  }
  return c.json(toDeadLetterResource(letter), 202);
};
