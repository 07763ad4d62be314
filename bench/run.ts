/** Runs every benchmark in bench/ (`npm run bench`). Numbers are printed, never asserted. */
import { runSplitTunnelBench } from "./split-tunnels.bench";

const benchmarks: Array<() => void> = [runSplitTunnelBench];

for (const benchmark of benchmarks) {
  benchmark();
}
