/** Fires the Worker's scheduled handler as the Cron Trigger would, and records queued messages. */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { ReconcileMessage } from "../../src/reconciler/continue";

/** A message sent to the recording queue, with its `delaySeconds` when one was given. */
export interface SentMessage {
  body: ReconcileMessage;
  delaySeconds?: number;
}

/** A queue that only records what is sent to it (nothing is consumed). */
export function recordingQueue(): { queue: Queue<ReconcileMessage>; sent: SentMessage[] } {
  const sent: SentMessage[] = [];
  const record = (body: ReconcileMessage, delaySeconds: number | undefined) =>
    void sent.push(delaySeconds === undefined ? { body } : { body, delaySeconds });
  const queue = {
    send: async (body: ReconcileMessage, options?: QueueSendOptions) =>
      record(body, options?.delaySeconds),
    sendBatch: async (messages: Iterable<MessageSendRequest<ReconcileMessage>>) => {
      for (const m of messages) {
        record(m.body, m.delaySeconds);
      }
    },
  };
  return { queue: queue as unknown as Queue<ReconcileMessage>, sent };
}

/**
 * Runs one cron tick at `scheduledTimeMs` with a queue that only records the accounts handed
 * out (no reconcile runs); returns those messages.
 */
export async function runCronTick(scheduledTimeMs: number): Promise<ReconcileMessage[]> {
  const { queue, sent } = recordingQueue();
  await worker.scheduled(
    createScheduledController({ scheduledTime: scheduledTimeMs, cron: "* * * * *" }),
    { ...env, RECONCILE_QUEUE: queue as unknown as Queue },
  );
  return sent.map((m) => m.body);
}
