/** Human sentences for split tunnel problems, for run records, API warnings and conflicts. */
import type { SplitTunnelProblem } from "./effective";

/** One sentence about a split tunnel problem, for run records and API warnings. */
export function describeSplitTunnelProblem(problem: SplitTunnelProblem): string {
  const lost = problem.unreachable.join(", ");
  return problem.code === "route-excluded"
    ? `route ${problem.routeNetwork} is unreachable through WARP: the Exclude entry ${"address" in problem.entry ? problem.entry.address : problem.entry.host} sends ${lost} around it`
    : `route ${problem.routeNetwork} is unreachable through WARP: no Include entry covers ${lost}`;
}
