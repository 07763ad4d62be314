/** Wire shapes shared by the exact access answers: the plan's delta, who-can-reach, reachable-by. */
import { z } from "@hono/zod-openapi";
import type { PolicyRef } from "../../domain/access/delta";
import type { TrafficBlock } from "../../domain/access/merge";

export const TrafficBlockSchema = z
  .object({
    protocols: z.array(z.enum(["icmp", "tcp", "udp"])).openapi({
      description: "Protocols sharing these ports and destinations; ICMP is always alone.",
    }),
    ports: z
      .array(z.string())
      .nullable()
      .openapi({
        description:
          "Inclusive port ranges ('22', '8000-8099'), merged and ascending; null for ICMP (no port).",
        example: ["22", "8000-8099"],
      }),
    destinations: z.array(z.string()).openapi({
      description:
        "Canonical CIDRs (IPv6 in RFC 5952 form): the minimal cover of the destinations, IPv4 first.",
      example: ["10.128.0.0/24"],
    }),
  })
  .openapi("TrafficBlock");

export const PolicyRefSchema = z
  .object({
    id: z.string().openapi({
      description:
        "tunnelplane id (a grant's id for a grant's policy), or `cloudflare:<id>` for an unmanaged rule.",
    }),
    name: z.string(),
    action: z.enum(["allow", "block"]),
    precedence: z.number().int(),
  })
  .openapi("PolicyRef");

export const IdentitiesSchema = z.array(z.string()).openapi({
  description:
    "The identity class: people the policies treat alike. `email:<address>` (that person), `regex:<pattern>` (other addresses matching that regex, like the address built from it), `lookalike:<pattern>` (that address with `.lookalike.invalid` appended, for an unanchored regex), `contains:<text>`, `group:<name>` (a member of that group only, with an unnamed address), `posture:<check id>` (a device passing that check only), `everyone-else`, or `person:<email>` for the person asked about.",
  example: ["email:alice@example.com"],
});

function portText(p: { from: number; to: number }): string {
  return p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;
}

/** The wire form of a traffic block. */
export function toTrafficWire(block: TrafficBlock): z.infer<typeof TrafficBlockSchema> {
  return {
    protocols: block.protocols,
    ports: block.ports === null ? null : block.ports.map(portText),
    destinations: block.destinations,
  };
}

/** The wire form of a policy reference (already snake_case-free). */
export function toPolicyRefWire(ref: PolicyRef | null): z.infer<typeof PolicyRefSchema> | null {
  return ref === null
    ? null
    : { id: ref.id, name: ref.name, action: ref.action, precedence: ref.precedence };
}
