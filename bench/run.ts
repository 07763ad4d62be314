/** Runs every benchmark in bench/ (`npm run bench`). Numbers are printed, never asserted. */
import { runAccessBench } from "./access.bench";
import { runDesiredStateBench } from "./desired-state.bench";
import { runHostileBench } from "./hostile.bench";
import { runMemoryBench } from "./memory.bench";
import { runReconcileCallsBench } from "./reconcile-calls.bench";
import { runSplitTunnelBudgetBench } from "./split-tunnel-budget.bench";
import { runSplitTunnelBench } from "./split-tunnels.bench";
import { runWritePathBench } from "./write-path.bench";

const benchmarks: Array<() => void | Promise<void>> = [
  runReconcileCallsBench,
  runSplitTunnelBench,
  runSplitTunnelBudgetBench,
  runMemoryBench,
  runHostileBench,
  runDesiredStateBench,
  runWritePathBench,
  runAccessBench,
];

for (const benchmark of benchmarks) {
  await benchmark();
}
