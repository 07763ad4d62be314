/**
 * `/v1/accounts/{account_id}/policies`: Gateway network policies in structured form. The response
 * shows the `traffic` and `identity` expressions tunnelplane renders for Cloudflare.
 */
import { z } from "@hono/zod-openapi";
import { checkEmailRegex } from "../../domain/policies/email-regex";
import { renderNetworkPolicy } from "../../domain/policies/render";
import { normalizeSelectors } from "../../domain/policies/selectors";
import type { CollectionDefinition } from "../desired/collection";
import { CidrString, canonical } from "../fields";

/** A port or inclusive port range on the wire. */
export const PortSpec = z
  .union([
    z.number().int().min(1).max(65535),
    z
      .string()
      .regex(
        /^[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?$/,
        "a port (22) or an inclusive range (8000-8099)",
      ),
  ])
  .superRefine((value, ctx) => {
    const [from, to] = parsePort(value);
    if (from > 65535 || to > 65535 || from > to) {
      ctx.addIssue({
        code: "custom",
        message: "ports are 1..65535 and a range goes upward",
        params: { code: "invalid-port" },
      });
    }
  })
  .openapi({ description: "A port (22) or an inclusive range ('8000-8099').", example: 22 });

/** The inclusive range of a value that passed PortSpec. */
export function parsePort(value: number | string): [number, number] {
  if (typeof value === "number") {
    return [value, value];
  }
  const [from, to = from] = value.split("-").map(Number);
  return [from ?? 0, to ?? 0];
}

const EmailRegex = z
  .string()
  .max(1024)
  .superRefine((value, ctx) => {
    const checked = checkEmailRegex(value);
    if (!checked.ok) {
      ctx.addIssue({
        code: "custom",
        message: checked.error.message,
        params: { code: checked.error.code },
      });
    }
  })
  .openapi({
    description:
      "Gateway `identity.email matches` regex (Rust regex syntax: no look-around or back-references). Gateway matches it unanchored.",
    example: "^[^@]+@example\\.com$",
  });

const input = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: "Allow employees to db-prod" }),
    action: z.enum(["allow", "block"]),
    precedence: z.number().int().min(1).max(2_147_483_647).openapi({
      description: "Ascending evaluation order, unique in the account; first match decides.",
    }),
    enabled: z.boolean().default(true),
    destinations: z
      .array(CidrString)
      .max(1000)
      .default([])
      .openapi({ description: "Destination IPs/CIDRs; empty means any." }),
    ports: z
      .array(PortSpec)
      .max(100)
      .default([])
      .openapi({ description: "Destination ports; empty means any." }),
    protocols: z
      .array(z.enum(["tcp", "udp", "icmp"]))
      .max(3)
      .default([])
      .openapi({ description: "Empty means every proxied protocol." }),
    emails: z
      .array(z.email().max(254))
      .max(1000)
      .default([])
      .openapi({ description: "Exact user emails (case-insensitive)." }),
    email_regex: EmailRegex.nullable().default(null),
  })
  .openapi("NetworkPolicyInput");

const portText = (p: { from: number; to: number }) =>
  p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;

export const networkPolicies: CollectionDefinition<
  "network_policy",
  typeof input,
  {
    name: z.ZodString;
    action: z.ZodEnum<{ allow: "allow"; block: "block" }>;
    precedence: z.ZodNumber;
    enabled: z.ZodBoolean;
    destinations: z.ZodArray<z.ZodString>;
    ports: z.ZodArray<z.ZodString>;
    protocols: z.ZodArray<z.ZodString>;
    emails: z.ZodArray<z.ZodString>;
    email_regex: z.ZodNullable<z.ZodString>;
    traffic: z.ZodString;
    identity: z.ZodString;
  }
> = {
  kind: "network_policy",
  path: "policies",
  tag: "Network policies",
  singular: "NetworkPolicy",
  plural: "NetworkPolicies",
  input,
  output: {
    name: z.string(),
    action: z.enum(["allow", "block"]),
    precedence: z.number().int(),
    enabled: z.boolean(),
    destinations: z.array(z.string()),
    ports: z.array(z.string()),
    protocols: z.array(z.string()),
    emails: z.array(z.string()),
    email_regex: z.string().nullable(),
    traffic: z
      .string()
      .openapi({ description: "The Gateway `traffic` expression tunnelplane renders." }),
    identity: z
      .string()
      .openapi({ description: "The Gateway `identity` expression tunnelplane renders." }),
  },
  async toSpec(body) {
    const selectors = normalizeSelectors({
      destinations: body.destinations.map(canonical),
      ports: body.ports.map((p) => {
        const [from, to] = parsePort(p);
        return { from, to };
      }),
      protocols: body.protocols,
      emails: body.emails.map((e) => e.toLowerCase()),
      emailRegex: body.email_regex,
    });
    return {
      name: body.name,
      action: body.action,
      precedence: body.precedence,
      enabled: body.enabled,
      destinations: selectors.destinations,
      ports: selectors.ports,
      protocols: selectors.protocols,
      emails: selectors.emails,
      emailRegex: selectors.emailRegex,
    };
  },
  toWire(spec) {
    const { traffic, identity } = renderNetworkPolicy(spec);
    return {
      name: spec.name,
      action: spec.action,
      precedence: spec.precedence,
      enabled: spec.enabled,
      destinations: spec.destinations,
      ports: spec.ports.map(portText),
      protocols: spec.protocols,
      emails: spec.emails,
      email_regex: spec.emailRegex,
      traffic,
      identity,
    };
  },
  naturalKey: (spec) => `${spec.precedence}`,
  conflict: {
    slug: "precedence-taken",
    detail: (spec) => `Another policy has precedence ${spec.precedence}; precedences are unique.`,
  },
  async warnings(spec) {
    if (spec.emailRegex === null) {
      return [];
    }
    const checked = checkEmailRegex(spec.emailRegex);
    return checked.ok
      ? checked.value.warnings.map((w) => ({ code: w.code, message: w.message }))
      : [];
  },
};
