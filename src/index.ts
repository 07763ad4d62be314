/** Worker entry: wiring only. */
import { createApp } from "./api/app";
import { consumeReconcileBatch } from "./reconciler/consume";
import type { ReconcileMessage } from "./reconciler/continue";
import { DEAD_LETTER_QUEUE, storeDeadLetters } from "./reconciler/dead-letters";
import { createReconcileDeps } from "./reconciler/deps";
import { runScheduledTick } from "./reconciler/schedule";

export { AccountLock } from "./account-lock";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async scheduled(controller, env) {
    const queue = env.RECONCILE_QUEUE as Queue<ReconcileMessage> | undefined;
    await runScheduledTick(createReconcileDeps(env), queue, controller.scheduledTime);
  },
  async queue(batch, env) {
    const messages = batch as MessageBatch<ReconcileMessage>;
    if (batch.queue === DEAD_LETTER_QUEUE) {
      await storeDeadLetters(createReconcileDeps(env), messages);
    } else {
      await consumeReconcileBatch(createReconcileDeps(env), messages);
    }
  },
} satisfies ExportedHandler<Env>;
