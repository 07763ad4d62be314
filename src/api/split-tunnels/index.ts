/**
 * `/v1/accounts/{account_id}/split-tunnels/default`: the default device profile's split tunnel.
 * With `auto`, tunnelplane computes the list from the routes of every virtual network (DESIGN §1),
 * in Include mode with the account's team domain; GET shows the effective list with the reason
 * for each entry. A route the list would make unreachable is a 422 in `auto` mode (tunnelplane
 * would be writing the mistake) and a warning otherwise.
 */

import { z } from "@hono/zod-openapi";
import { listAllObjects } from "../../db/desired-objects.repo";
import type { SplitTunnelProfileSpec } from "../../domain/model";
import {
  type EffectiveSplitTunnel,
  effectiveSplitTunnel,
} from "../../domain/split-tunnels/effective";
import type { WriteContext } from "../desired/collection";
import type { SingletonDefinition } from "../desired/singleton";
import { loadSplitTunnelSettings } from "./account-settings";
import { FitSchema } from "./entries.schemas";
import {
  EFFECTIVE_FIRST_PAGE,
  EffectiveEntry,
  EntryOutput,
  presentSplitTunnel,
  refuseSplitTunnelErrors,
  SplitTunnelInput,
  SplitTunnelProblemSchema,
  splitTunnelWarnings,
  toSplitTunnelSpec,
} from "./split-tunnel.schemas";

/**
 * A PUT checks, presents and warns about the same spec against the same routes; the list is
 * computed once per request (one WriteContext) and spec, not three times.
 */
const evaluated = new WeakMap<
  WriteContext,
  { specJson: string; result: Promise<EffectiveSplitTunnel> }
>();

function evaluate(spec: SplitTunnelProfileSpec, ctx: WriteContext): Promise<EffectiveSplitTunnel> {
  const specJson = JSON.stringify(spec);
  const cached = evaluated.get(ctx);
  if (cached?.specJson === specJson) {
    return cached.result;
  }
  const result = Promise.all([
    listAllObjects(ctx.db, ctx.accountId, "tunnel_route"),
    loadSplitTunnelSettings(ctx.db, ctx.accountId),
  ]).then(([routes, settings]) =>
    effectiveSplitTunnel(
      spec,
      routes.map((r) => r.spec.network),
      settings,
    ),
  );
  evaluated.set(ctx, { specJson, result });
  return result;
}

/** The fields of a split tunnel read (after the envelope). */
export const splitTunnelOutput = {
  mode: z.enum(["exclude", "include"]),
  auto: z.boolean(),
  max_entries: z.number().int(),
  entries: z.array(EntryOutput),
  effective: z.array(EffectiveEntry).openapi({
    description: `The list tunnelplane writes, first ${EFFECTIVE_FIRST_PAGE} entries; GET split-tunnels/{profile}/entries pages through all of it.`,
  }),
  effective_count: z.number().int().openapi({ description: "Entries in the whole list." }),
  effective_next_cursor: z.string().nullable().openapi({
    description: "Cursor for GET split-tunnels/{profile}/entries, or null when `effective` is all.",
  }),
  fit: FitSchema,
  problems: z.array(SplitTunnelProblemSchema),
};

export const splitTunnels: SingletonDefinition<"split_tunnel", typeof splitTunnelOutput> = {
  kind: "split_tunnel",
  id: "default",
  path: "split-tunnels/default",
  tag: "Split tunnels",
  name: "SplitTunnel",
  input: SplitTunnelInput,
  output: splitTunnelOutput,
  async toSpec(body, ctx) {
    const spec = toSplitTunnelSpec(SplitTunnelInput.parse(body));
    refuseSplitTunnelErrors(spec, await evaluate(spec, ctx), "#/entries");
    return spec;
  },
  async present(spec, ctx) {
    return presentSplitTunnel(spec, await evaluate(spec, ctx));
  },
  async warnings(spec, ctx) {
    return splitTunnelWarnings(await evaluate(spec, ctx));
  },
};
