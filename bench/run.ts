/** Runs every benchmark in bench/ (`npm run bench`). Numbers are printed, never asserted. */
import { runMemoryBench } from "./memory.bench";
import { runSplitTunnelBudgetBench } from "./split-tunnel-budget.bench";
import { runSplitTunnelBench } from "./split-tunnels.bench";

const benchmarks: Array<() => void> = [
  runSplitTunnelBench,
  runSplitTunnelBudgetBench,
  runMemoryBench,
];

for (const benchmark of benchmarks) {
  benchmark();
}
