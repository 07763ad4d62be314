/** Human sentences for split tunnel problems, for run records, API warnings and conflicts. */
import type { SplitTunnelProblem } from "./effective";

/** One sentence about a split tunnel problem, for run records and API warnings. */
export function describeSplitTunnelProblem(problem: SplitTunnelProblem): string {
  switch (problem.code) {
    case "route-excluded":
      return `route ${problem.routeNetwork} is unreachable through WARP: the Exclude entry ${"address" in problem.entry ? problem.entry.address : problem.entry.host} sends ${problem.unreachable.join(", ")} around it`;
    case "route-not-included":
      return `route ${problem.routeNetwork} is unreachable through WARP: no Include entry covers ${problem.unreachable.join(", ")}`;
    case "local-default-routed":
      return `route ${problem.routeNetwork} sends ${problem.unreachable.join(", ")} through WARP instead of the device's own link: it carves ${problem.entry.address} (${problem.purpose}) out of the WARP default Exclude list`;
    case "team-domain-not-included":
      return `the team domain ${problem.teamDomain} is not in the Include list: device enrolment, posture checks and Access sessions need it to go through WARP`;
    case "team-domain-unknown":
      return "Include mode needs the team domain (<team>.cloudflareaccess.com) in the list: set team_domain on the account so tunnelplane can add or check it";
  }
}
