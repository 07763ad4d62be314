/** Wire shapes of who-can-reach and reachable-by, and their mappers. */
import { z } from "@hono/zod-openapi";
import type { Allowed } from "../../domain/access/reach";
import { privateAppOf } from "../../domain/plan/private-app-policies";
import { CidrString, IpAddressString } from "../fields";
import {
  IdentitiesSchema,
  PolicyRefSchema,
  TrafficBlockSchema,
  toPolicyRefWire,
  toTrafficWire,
} from "../schemas/access";

export const WhoCanReachInput = z
  .strictObject({
    destination_ip: IpAddressString.optional(),
    cidr: CidrString.optional().openapi({
      description: "A destination range instead of one address (a bare address is a /32 or /128).",
      example: "10.128.0.0/24",
    }),
    port: z.number().int().min(1).max(65535).nullable().default(null).openapi({
      description: "One destination port; null or absent: every port (and ICMP, which has none).",
      example: 22,
    }),
    protocol: z
      .enum(["tcp", "udp", "icmp"])
      .nullable()
      .default(null)
      .openapi({ description: "One protocol; null or absent: every protocol." }),
  })
  .refine((b) => (b.destination_ip === undefined) !== (b.cidr === undefined), {
    message: "give exactly one of destination_ip or cidr",
    path: ["destination_ip"],
    params: { code: "one-destination" },
  })
  .refine((b) => b.port === null || b.protocol !== "icmp", {
    message: "an ICMP connection has no port",
    path: ["port"],
    params: { code: "icmp-port" },
  })
  .openapi("WhoCanReachInput");

export const AllowedBySchema = PolicyRefSchema.extend({
  grant_id: z
    .string()
    .nullable()
    .openapi({ description: "The grant whose allow policy this is, or null." }),
  private_app_id: z
    .string()
    .nullable()
    .openapi({ description: "The private app whose allow policy this is, or null." }),
}).openapi("AllowedBy");

const AllowedEntry = z.object({
  traffic: z.array(TrafficBlockSchema).openapi({
    description: "The part of what was asked that these people may reach, merged into ranges.",
  }),
  allowed_by: AllowedBySchema.nullable().openapi({
    description: "The allowing policy; null: no policy matches and Gateway allows by default.",
  }),
});

const Cost = {
  atoms: z
    .number()
    .int()
    .openapi({ description: "Destination × port × protocol atoms evaluated." }),
  classes: z.number().int().openapi({ description: "Identity classes evaluated." }),
  work_units: z.number().int().openapi({
    description: "atoms × classes + atoms × the policies evaluated at them.",
  }),
};

export const WhoCanReachResult = z
  .object({
    destination: z.string().openapi({ description: "The range asked about, canonical CIDR." }),
    port: z.number().int().nullable(),
    protocol: z.enum(["tcp", "udp", "icmp"]).nullable(),
    allowed: z.array(AllowedEntry.extend({ identities: IdentitiesSchema })).openapi({
      description:
        "Every identity class allowed somewhere in the range, per allowing policy, ordered by class (emails, regexes, contains, groups, posture checks, everyone else) then precedence. A class absent here is blocked everywhere in it.",
    }),
    ...Cost,
  })
  .openapi("WhoCanReach");

export const ReachableByInput = z
  .strictObject({
    email: z.email().max(254).openapi({
      description: "The person's email (case-insensitive).",
      example: "alice@example.com",
    }),
    groups: z
      .array(z.string().min(1).max(256))
      .max(100)
      .default([])
      .openapi({ description: "The person's identity provider group names." }),
    device_posture_checks: z
      .array(z.string().min(1).max(64))
      .max(100)
      .default([])
      .openapi({ description: "Ids of the device posture checks the person's device passes." }),
  })
  .openapi("ReachableByInput");

export const ReachableByResult = z
  .object({
    email: z.string(),
    groups: z.array(z.string()),
    allowed: z.array(AllowedEntry).openapi({
      description:
        "Every connection the person may make, per allowing policy in precedence order (the default allow, null, first).",
    }),
    ...Cost,
  })
  .openapi("ReachableBy");

/**
 * The wire form of an allowed entry: `grantIds` are the account's grants (a grant's policy takes
 * the grant's id).
 */
export function toAllowedWire(entry: Allowed, grantIds: ReadonlySet<string>) {
  const ref = toPolicyRefWire(entry.allowedBy);
  return {
    traffic: entry.traffic.map(toTrafficWire),
    allowed_by:
      ref === null
        ? null
        : {
            ...ref,
            grant_id: grantIds.has(ref.id) ? ref.id : null,
            private_app_id: privateAppOf(ref.id),
          },
  };
}
