/** Runs every benchmark in bench/ (`npm run bench`). Numbers are printed, never asserted. */
import { runSplitTunnelBudgetBench } from "./split-tunnel-budget.bench";
import { runSplitTunnelBench } from "./split-tunnels.bench";

const benchmarks: Array<() => void> = [runSplitTunnelBench, runSplitTunnelBudgetBench];

for (const benchmark of benchmarks) {
  benchmark();
}
