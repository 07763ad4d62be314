/** Fires the Worker's scheduled handler as the Cron Trigger would. */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { ReconcileMessage } from "../../src/reconciler/schedule";

/**
 * Runs one cron tick at `scheduledTimeMs` with a queue that only records the accounts handed
 * out (no reconcile runs); returns those messages.
 */
export async function runCronTick(scheduledTimeMs: number): Promise<ReconcileMessage[]> {
  const sent: ReconcileMessage[] = [];
  const recordingQueue = {
    send: async (body: ReconcileMessage) => void sent.push(body),
    sendBatch: async (messages: Iterable<{ body: ReconcileMessage }>) => {
      for (const m of messages) {
        sent.push(m.body);
      }
    },
  };
  await worker.scheduled(
    createScheduledController({ scheduledTime: scheduledTimeMs, cron: "* * * * *" }),
    { ...env, RECONCILE_QUEUE: recordingQueue as unknown as Queue },
  );
  return sent;
}
