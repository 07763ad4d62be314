/** `/v1/accounts/{account_id}/tunnels`: remotely managed cloudflared tunnels. */
import { z } from "@hono/zod-openapi";
import { listAllObjects } from "../../db/desired-objects.repo";
import type { CollectionDefinition } from "../desired/collection";
import { ProblemError } from "../problem";

const input = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        "letters, digits, '.', '_' and '-', starting with a letter or digit",
      )
      .openapi({ example: "dc1-tunnel" }),
  })
  .openapi("TunnelInput");

export const tunnels: CollectionDefinition<"tunnel", typeof input, { name: z.ZodString }> = {
  kind: "tunnel",
  path: "tunnels",
  tag: "Tunnels",
  singular: "Tunnel",
  plural: "Tunnels",
  input,
  output: { name: z.string() },
  toSpec: async (body) => ({ name: body.name }),
  toWire: (spec) => ({ name: spec.name }),
  naturalKey: (spec) => spec.name,
  conflict: { slug: "name-taken", detail: (spec) => `A tunnel named ${spec.name} exists.` },
  async checkDelete(object, ctx) {
    const [routes, hostnames] = await Promise.all([
      listAllObjects(ctx.db, ctx.accountId, "tunnel_route"),
      listAllObjects(ctx.db, ctx.accountId, "hostname_route"),
    ]);
    const users = [...routes, ...hostnames].filter((r) => r.spec.tunnelId === object.id);
    if (users.length > 0) {
      throw new ProblemError(
        "in-use",
        `Routes ${users.map((r) => r.id).join(", ")} use this tunnel; delete or move them first.`,
      );
    }
  },
};
