/**
 * `/v1/accounts/{account_id}/split-tunnels/default`: the default device profile's split tunnel.
 * With `auto`, tunnelplane computes the list from the routes (DESIGN §1); GET shows the effective
 * list with the reason for each entry. A route the list would make unreachable is a 422 in `auto`
 * mode (tunnelplane would be writing the mistake) and a warning otherwise.
 */
import { z } from "@hono/zod-openapi";
import { listAllObjects } from "../../db/desired-objects.repo";
import type { SplitTunnelEntry, SplitTunnelProfileSpec } from "../../domain/model";
import { describeSplitTunnelProblem } from "../../domain/plan/plan";
import { effectiveSplitTunnel } from "../../domain/split-tunnels/effective";
import type { WriteContext } from "../desired/collection";
import type { SingletonDefinition } from "../desired/singleton";
import { CidrString, canonical } from "../fields";
import { validationProblem } from "../problem";

const Host = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i,
    "a host name, optionally starting with *.",
  )
  .openapi({ example: "*.corp.example.com" });

const Entry = z
  .object({
    address: CidrString.optional(),
    host: Host.optional(),
    description: z.string().max(100).default(""),
  })
  .refine((e) => (e.address === undefined) !== (e.host === undefined), {
    message: "an entry has exactly one of address or host",
    params: { code: "address-xor-host" },
  })
  .openapi("SplitTunnelEntryInput");

const input = z
  .object({
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
  })
  .openapi("SplitTunnelInput");

const EffectiveEntry = z
  .object({
    address: z.string().optional(),
    host: z.string().optional(),
    description: z.string(),
    source: z.record(z.string(), z.unknown()).openapi({
      description:
        "Why the entry is there: warp-default, warp-default-remainder (parent, carved_by), route (routes), user.",
    }),
  })
  .openapi("EffectiveSplitTunnelEntry");

const Problem = z
  .object({
    code: z.string(),
    severity: z.enum(["error", "warning"]),
    route_network: z.string(),
    message: z.string(),
  })
  .openapi("SplitTunnelProblem");

async function routedNetworks(ctx: WriteContext): Promise<string[]> {
  const routes = await listAllObjects(ctx.db, ctx.accountId, "tunnel_route");
  return routes.map((r) => r.spec.network);
}

function entryToWire(entry: SplitTunnelEntry) {
  return "address" in entry
    ? { address: entry.address, description: entry.description }
    : { host: entry.host, description: entry.description };
}

function sourceToWire(source: {
  kind: string;
  parent?: string;
  carvedBy?: string[];
  routes?: string[];
}) {
  return {
    kind: source.kind,
    ...(source.parent === undefined ? {} : { parent: source.parent }),
    ...(source.carvedBy === undefined ? {} : { carved_by: source.carvedBy }),
    ...(source.routes === undefined ? {} : { routes: source.routes }),
  };
}

async function evaluate(spec: SplitTunnelProfileSpec, ctx: WriteContext) {
  return effectiveSplitTunnel(spec, await routedNetworks(ctx));
}

export const splitTunnels: SingletonDefinition<
  "split_tunnel",
  {
    mode: z.ZodEnum<{ exclude: "exclude"; include: "include" }>;
    auto: z.ZodBoolean;
    entries: z.ZodArray<z.ZodType>;
    effective: z.ZodArray<typeof EffectiveEntry>;
    problems: z.ZodArray<typeof Problem>;
  }
> = {
  kind: "split_tunnel",
  id: "default",
  path: "split-tunnels/default",
  tag: "Split tunnels",
  name: "SplitTunnel",
  input,
  output: {
    mode: z.enum(["exclude", "include"]),
    auto: z.boolean(),
    entries: z.array(
      z.object({
        address: z.string().optional(),
        host: z.string().optional(),
        description: z.string(),
      }),
    ),
    effective: z.array(EffectiveEntry),
    problems: z.array(Problem),
  },
  async toSpec(body, ctx) {
    const parsed = input.parse(body);
    const spec: SplitTunnelProfileSpec = {
      mode: parsed.mode,
      auto: parsed.auto,
      entries: parsed.entries.map(
        (e): SplitTunnelEntry =>
          e.address !== undefined
            ? { address: canonical(e.address), description: e.description }
            : { host: (e.host ?? "").toLowerCase(), description: e.description },
      ),
    };
    const errors = (await evaluate(spec, ctx)).problems.filter((p) => p.severity === "error");
    if (errors.length > 0) {
      throw validationProblem(
        "The split tunnel would make routes unreachable.",
        errors.map((p) => ({
          pointer: "#/entries",
          detail: describeSplitTunnelProblem(p),
          code: p.code,
        })),
      );
    }
    return spec;
  },
  async present(spec, ctx) {
    const effective = await evaluate(spec, ctx);
    return {
      mode: spec.mode,
      auto: spec.auto,
      entries: spec.entries.map(entryToWire),
      effective: effective.entries.map((e) => ({
        ...entryToWire(e),
        source: sourceToWire(e.source),
      })),
      problems: effective.problems.map((p) => ({
        code: p.code,
        severity: p.severity,
        route_network: p.routeNetwork,
        message: describeSplitTunnelProblem(p),
      })),
    };
  },
  async warnings(spec, ctx) {
    const { problems } = await evaluate(spec, ctx);
    return problems
      .filter((p) => p.severity === "warning")
      .map((p) => ({ code: p.code, message: describeSplitTunnelProblem(p) }));
  },
};
