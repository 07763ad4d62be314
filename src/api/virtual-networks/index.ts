/** `/v1/accounts/{account_id}/virtual-networks`: Cloudflare virtual networks. */
import { z } from "@hono/zod-openapi";
import { listAllObjects } from "../../db/desired-objects.repo";
import type { CollectionDefinition } from "../desired/collection";
import { ProblemError } from "../problem";

const input = z
  .strictObject({
    name: z.string().trim().min(1).max(256).openapi({ example: "production" }),
    comment: z.string().max(200).default("").openapi({
      description: "Free text; tunnelplane appends its ownership marker in Cloudflare.",
    }),
    is_default: z.boolean().default(false).openapi({
      description:
        "Routes without a virtual network land in the default one. At most one is the default.",
    }),
  })
  .openapi("VirtualNetworkInput");

export const virtualNetworks: CollectionDefinition<
  "virtual_network",
  typeof input,
  {
    name: z.ZodString;
    comment: z.ZodString;
    is_default: z.ZodBoolean;
  }
> = {
  kind: "virtual_network",
  path: "virtual-networks",
  tag: "Virtual networks",
  singular: "VirtualNetwork",
  plural: "VirtualNetworks",
  input,
  output: { name: z.string(), comment: z.string(), is_default: z.boolean() },
  async toSpec(body, ctx) {
    if (body.is_default) {
      const others = await listAllObjects(ctx.db, ctx.accountId, "virtual_network");
      const current = others.find((v) => v.spec.isDefault && v.id !== ctx.id);
      if (current !== undefined) {
        throw new ProblemError(
          "default-virtual-network-exists",
          `Virtual network ${current.id} (${current.spec.name}) is the default; unset it first.`,
        );
      }
    }
    return { name: body.name, comment: body.comment, isDefault: body.is_default };
  },
  toWire: (spec) => ({ name: spec.name, comment: spec.comment, is_default: spec.isDefault }),
  naturalKey: (spec) => spec.name,
  conflict: {
    slug: "name-taken",
    detail: (spec) => `A virtual network named ${spec.name} exists.`,
  },
  async checkDelete(object, ctx) {
    const [routes, profiles] = await Promise.all([
      listAllObjects(ctx.db, ctx.accountId, "tunnel_route"),
      listAllObjects(ctx.db, ctx.accountId, "device_profile"),
    ]);
    const users = routes.filter((r) => r.spec.virtualNetworkId === object.id);
    if (users.length > 0) {
      throw new ProblemError(
        "in-use",
        `Routes ${users.map((r) => r.id).join(", ")} use this virtual network; delete or move them first.`,
      );
    }
    const followers = profiles.filter((p) => p.spec.virtualNetworkIds?.includes(object.id));
    if (followers.length > 0) {
      throw new ProblemError(
        "in-use",
        `Device profiles ${followers.map((p) => p.id).join(", ")} follow this virtual network; change their virtual_network_ids first.`,
      );
    }
  },
};
