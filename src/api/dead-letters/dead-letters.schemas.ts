/** Wire shape of a dead-lettered reconcile message. */
import { z } from "@hono/zod-openapi";
import type { DeadLetterRecord } from "../../db/dead-letters.repo";

export const DeadLetter = z
  .object({
    id: z.string().openapi({ description: "The queue message id." }),
    account_id: z.string(),
    attempts: z
      .number()
      .int()
      .openapi({ description: "Deliveries of the message before the queue gave up on it." }),
    sent_at: z.string().openapi({ description: "When the message was first sent, RFC 3339." }),
    dead_lettered_at: z
      .string()
      .openapi({ description: "When it landed in the dead-letter queue, RFC 3339." }),
  })
  .openapi("DeadLetter");

/** The wire form of a dead letter. */
export function toDeadLetterResource(letter: DeadLetterRecord): z.infer<typeof DeadLetter> {
  return {
    id: letter.id,
    account_id: letter.accountId,
    attempts: letter.attempts,
    sent_at: new Date(letter.sentAtMs).toISOString(),
    dead_lettered_at: new Date(letter.deadLetteredAtMs).toISOString(),
  };
}
