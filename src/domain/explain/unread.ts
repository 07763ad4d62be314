/**
 * Explain over an observation that could not read every kind (the API token lacks a
 * permission): a verdict stands only when every stage up to the deciding one was read; else it
 * is `unknown`, since a stage not read might have stopped the connection first.
 */
import type { Kind } from "../model";
import type { Explanation, Verdict } from "./explain";

/** A stage of explain, in the order a WARP device meets them. */
type Stage =
  | "Local Domain Fallback"
  | "split tunnel"
  | "route"
  | "proxy settings"
  | "network policies";

/** The stages in order, each with the kinds it reads. */
const STAGES: readonly [Stage, readonly Kind[]][] = [
  ["Local Domain Fallback", ["device_profile"]],
  ["split tunnel", ["split_tunnel", "device_profile"]],
  ["route", ["virtual_network", "tunnel_route", "hostname_route"]],
  ["proxy settings", ["proxy_settings"]],
  ["network policies", ["network_policy"]],
];

/** The stage that gives each verdict. */
const DECIDING_STAGE: Record<Verdict, Stage> = {
  resolved_locally: "Local Domain Fallback",
  excluded_from_warp: "split tunnel",
  not_routed: "route",
  proxy_off: "proxy settings",
  blocked_by_policy: "network policies",
  allowed: "network policies",
};

/** Kinds that were not read, and why, in words (`the API token lacks Zero Trust: Edit`). */
export interface UnreadKinds {
  kinds: readonly Kind[];
  reason: string;
}

/**
 * The verdict and summary of `explanation` given the kinds not read: unchanged when every stage
 * up to the deciding one was read; else `unknown`, the summary naming the first stage not read
 * and why. An address never meets the Local Domain Fallback (`localFallback` null): only a name
 * is resolved.
 */
export function verdictWithUnread(
  explanation: Pick<Explanation, "verdict" | "summary" | "localFallback">,
  unread: readonly UnreadKinds[],
): { verdict: Verdict | "unknown"; summary: string } {
  const last = STAGES.findIndex(([stage]) => stage === DECIDING_STAGE[explanation.verdict]);
  const met = STAGES.slice(0, last + 1).filter(
    ([stage]) => stage !== "Local Domain Fallback" || explanation.localFallback !== null,
  );
  for (const [stage, kinds] of met) {
    const missing = unread.find((u) => u.kinds.some((kind) => kinds.includes(kind)));
    if (missing !== undefined) {
      return {
        verdict: "unknown",
        summary: `unknown: the ${stage} could not be read from Cloudflare (${missing.reason}); the stages read are shown`,
      };
    }
  }
  return { verdict: explanation.verdict, summary: explanation.summary };
}
