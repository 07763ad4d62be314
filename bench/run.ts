/**
 * Runs the benchmarks in bench/ (`npm run bench`), or only those named on the command line
 * (`npm run bench -- bootstrap-chain`). Numbers are printed, never asserted.
 */
import { runAccessBench } from "./access.bench";
import { runBootstrapChainBench } from "./bootstrap-chain.bench";
import { runDesiredStateBench } from "./desired-state.bench";
import { runHostileBench } from "./hostile.bench";
import { runMemoryBench } from "./memory.bench";
import { runReconcileCallsBench } from "./reconcile-calls.bench";
import { runSplitTunnelBudgetBench } from "./split-tunnel-budget.bench";
import { runSplitTunnelBench } from "./split-tunnels.bench";
import { runWritePathBench } from "./write-path.bench";

const benchmarks: Record<string, () => void | Promise<void>> = {
  "reconcile-calls": runReconcileCallsBench,
  "split-tunnels": runSplitTunnelBench,
  "split-tunnel-budget": runSplitTunnelBudgetBench,
  memory: runMemoryBench,
  hostile: runHostileBench,
  "desired-state": runDesiredStateBench,
  "write-path": runWritePathBench,
  access: runAccessBench,
  "bootstrap-chain": runBootstrapChainBench,
};

const named = process.argv.slice(2);
const unknown = named.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  throw new Error(
    `unknown bench ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}`,
  );
}
for (const [name, benchmark] of Object.entries(benchmarks)) {
  if (named.length === 0 || named.includes(name)) {
    await benchmark();
  }
}
