/**
 * Wire pieces of a split tunnel, shared by the default profile (`split-tunnels/default`), custom
 * device profiles and `split-tunnels/{profile}`: the input, the effective list with the reason
 * for each entry, and the problems, all computed by domain/split-tunnels.
 */
import { z } from "@hono/zod-openapi";
import type { SplitTunnelEntry, SplitTunnelProfileSpec } from "../../domain/model";
import { DEFAULT_MAX_ENTRIES } from "../../domain/split-tunnels/budget";
import { describeSplitTunnelProblem } from "../../domain/split-tunnels/describe";
import type {
  EffectiveEntrySource,
  EffectiveSplitTunnel,
  EffectiveSplitTunnelEntry,
  SplitTunnelProblem,
} from "../../domain/split-tunnels/effective";
import { CidrString, canonical } from "../fields";
import { type InvalidField, validationProblem } from "../problem";
import { entriesCursor, fitToWire } from "./entries.schemas";

const Host = z
  .string()
  .max(253)
  .regex(
    // No `i` flag: OpenAPI carries the source only, so the classes spell out both cases.
    /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
    "a host name, optionally starting with *.",
  )
  // A top-level domain is never all digits (RFC 3696 §2), so `10.0.0.1` here is an address that
  // WARP would try to resolve as a name and never match.
  .refine((host) => !/(^|\.)[0-9]+$/.test(host), {
    message: "an IP address goes in address, not host",
    params: { code: "host-is-address" },
  })
  .openapi({ example: "*.corp.example.com" });

const Entry = z
  .strictObject({
    address: CidrString.optional(),
    host: Host.optional(),
    description: z.string().max(100).default(""),
  })
  .refine((e) => (e.address === undefined) !== (e.host === undefined), {
    message: "an entry has exactly one of address or host",
    params: { code: "address-xor-host" },
  })
  .openapi("SplitTunnelEntryInput");

/** Body of a split tunnel: mode, `auto` and the user's entries. */
export const SplitTunnelInput = z
  .strictObject({
    mode: z.enum(["exclude", "include"]).openapi({
      description: "Exclude: all traffic through WARP but the list. Include: only the list.",
    }),
    auto: z
      .boolean()
      .default(true)
      .openapi({ description: "Compute the list from the routes (plus `entries`)." }),
    entries: z
      .array(Entry)
      .max(1000)
      .default([])
      .openapi({ description: "The whole list when auto is false; extra entries when true." }),
    max_entries: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(DEFAULT_MAX_ENTRIES)
      .openapi({
        description: `Most entries an auto list may hold, the user's entries included (default ${DEFAULT_MAX_ENTRIES}). A longer exact list is cut to fit: it still sends every routed address through WARP, and sends the fewest unrouted ones with it, never home-router subnets or link-local and multicast defaults unless a route covers them; \`fit\` on reads says what the cut costs. An Include list keeps at least one prefix per address family routed.`,
      }),
  })
  .openapi("SplitTunnelInput");

/** A split tunnel entry on the wire. */
export const EntryOutput = z.object({
  address: z.string().optional(),
  host: z.string().optional(),
  description: z.string(),
});

export const EffectiveEntry = z
  .object({
    address: z.string().optional(),
    host: z.string().optional(),
    description: z.string(),
    source: z.record(z.string(), z.unknown()).openapi({
      description:
        "Why the entry is there: warp-default; warp-default-remainder (parent, carved_by_count: how many routes carve the parent); warp-defaults-joined (parents: only in a list cut to max_entries); route (routes_count: how many routes it carries); initial-resolved-ips (the account's custom initial resolved IP range, which hostname routes need through WARP); team-domain (the account's team_domain, which Include mode needs for device enrolment, posture checks and Access sessions); user. GET split-tunnels/{profile}/entries/{address} names the routes.",
    }),
  })
  .openapi("EffectiveSplitTunnelEntry");

export const SplitTunnelProblemSchema = z
  .object({
    code: z.string().openapi({
      description:
        "route-excluded, route-not-included, local-default-routed (a route carves a WARP default that keeps the device's own link traffic off WARP), team-domain-not-included or team-domain-unknown.",
    }),
    severity: z.enum(["error", "warning"]),
    route_network: z.string().optional().openapi({ description: "The route, for route codes." }),
    team_domain: z
      .string()
      .optional()
      .openapi({ description: "The missing team domain, for team-domain-not-included." }),
    message: z.string(),
  })
  .openapi("SplitTunnelProblem");

/** The parsed input as a spec: addresses canonical, hosts lower case. */
export function toSplitTunnelSpec(
  parsed: z.output<typeof SplitTunnelInput>,
): SplitTunnelProfileSpec {
  return {
    mode: parsed.mode,
    auto: parsed.auto,
    maxEntries: parsed.max_entries,
    entries: parsed.entries.map(
      (e): SplitTunnelEntry =>
        e.address !== undefined
          ? { address: canonical(e.address), description: e.description }
          : { host: (e.host ?? "").toLowerCase(), description: e.description },
    ),
  };
}

/** An entry on the wire. */
export function entryToWire(entry: SplitTunnelEntry) {
  return "address" in entry
    ? { address: entry.address, description: entry.description }
    : { host: entry.host, description: entry.description };
}

/** An effective entry on the wire: O(1) in the routes, whatever their number. */
export function effectiveEntryToWire(entry: EffectiveSplitTunnelEntry) {
  return { ...entryToWire(entry), source: sourceToWire(entry.source) };
}

function sourceToWire(source: EffectiveEntrySource) {
  switch (source.kind) {
    case "warp-default":
    case "initial-resolved-ips":
    case "team-domain":
    case "user":
      return { kind: source.kind };
    case "warp-default-remainder":
      return { kind: source.kind, parent: source.parent, carved_by_count: source.carvedBy.length };
    case "warp-defaults-joined":
      return { kind: source.kind, parents: source.parents };
    case "route":
      return { kind: source.kind, routes_count: source.routes.length };
  }
}

/** How many effective entries a split tunnel read shows; `entries` pages through the rest. */
export const EFFECTIVE_FIRST_PAGE = 1_000;

/**
 * The spec and its effective list on the wire (the fields every split tunnel read shows): the
 * first `EFFECTIVE_FIRST_PAGE` entries, with the cursor of the rest.
 */
export function presentSplitTunnel(spec: SplitTunnelProfileSpec, effective: EffectiveSplitTunnel) {
  return {
    mode: spec.mode,
    auto: spec.auto,
    max_entries: spec.maxEntries ?? DEFAULT_MAX_ENTRIES,
    entries: spec.entries.map(entryToWire),
    effective: effective.entries.slice(0, EFFECTIVE_FIRST_PAGE).map(effectiveEntryToWire),
    effective_count: effective.entries.length,
    effective_next_cursor: entriesCursor(effective.entries, EFFECTIVE_FIRST_PAGE),
    fit: fitToWire(effective.fit),
    problems: effective.problems.map(problemToWire),
  };
}

function problemToWire(problem: SplitTunnelProblem) {
  const { code, severity } = problem;
  const message = describeSplitTunnelProblem(problem);
  switch (problem.code) {
    case "route-excluded":
    case "route-not-included":
    case "local-default-routed":
      return { code, severity, route_network: problem.routeNetwork, message };
    case "team-domain-not-included":
      return { code, severity, team_domain: problem.teamDomain, message };
    case "team-domain-unknown":
      return { code, severity, message };
  }
}

/**
 * Refuses a split tunnel whose list makes a route unreachable while tunnelplane computes it
 * (`auto`): one error per problem, pointing at the offending entry under `entriesPointer`.
 * @throws ProblemError validation-failed (422)
 */
export function refuseSplitTunnelErrors(
  spec: SplitTunnelProfileSpec,
  effective: EffectiveSplitTunnel,
  entriesPointer: string,
): void {
  const errors: InvalidField[] = effective.problems
    .filter((p) => p.severity === "error")
    .map((p) => {
      const index = "entry" in p && p.entry !== null ? spec.entries.indexOf(p.entry) : -1;
      return {
        pointer: index < 0 ? entriesPointer : `${entriesPointer}/${index}`,
        detail: describeSplitTunnelProblem(p),
        code: p.code,
      };
    });
  if (errors.length > 0) {
    throw validationProblem("The split tunnel would make routes unreachable.", errors);
  }
}

/** Warnings (not errors) about a split tunnel, for write responses. */
export function splitTunnelWarnings(effective: EffectiveSplitTunnel) {
  return effective.problems
    .filter((p) => p.severity === "warning")
    .map((p) => ({ code: p.code, message: describeSplitTunnelProblem(p) }));
}
