/**
 * `/v1/accounts/{account_id}/policies`: Gateway network policies in structured form. The response
 * shows the `traffic`, `identity` and `device_posture` expressions tunnelplane renders for
 * Cloudflare. A new policy takes an explicit precedence or a position (before/after another
 * policy, top, bottom); placing it renumbers the fewest neighbours when there is no gap.
 */
import { z } from "@hono/zod-openapi";
import { getObject } from "../../db/desired-objects.repo";
import type { NetworkPolicySpec } from "../../domain/model";
import { checkEmailRegex } from "../../domain/policies/email-regex";
import { planInsert } from "../../domain/policies/precedence";
import { renderDevicePosture, renderNetworkPolicy } from "../../domain/policies/render";
import { normalizeSelectors } from "../../domain/policies/selectors";
import type { CollectionDefinition, WriteContext } from "../desired/collection";
import { CidrString, canonical } from "../fields";
import { ProblemError, validationProblem } from "../problem";
import {
  appOfSlot,
  holderOf,
  loadPrecedenceState,
  precedenceProblem,
  renumberingWrites,
} from "./precedence";

/** A port or inclusive port range on the wire. */
export const PortSpec = z
  .union([
    z.number().int().min(1).max(65535),
    z
      .string()
      .regex(
        /^[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?$/,
        "a port (22) or an inclusive range (8000-8099)",
      )
      .openapi({ example: "8000-8099" }),
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

/** A Gateway email regex, checked against Gateway's syntax. */
export const EmailRegex = z
  .string()
  .max(1024, { abort: true })
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

/** Where to put a policy: right before or after another one, or at the top or bottom. */
export const PositionSchema = z
  .strictObject({
    before: z.string().min(1).max(64).optional(),
    after: z.string().min(1).max(64).optional(),
    at: z.enum(["top", "bottom"]).optional(),
  })
  .refine((p) => [p.before, p.after, p.at].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of before, after or at",
    params: { code: "one-position" },
  })
  .openapi("PolicyPosition", {
    description: "Exactly one of `before` / `after` (a policy id) or `at` (`top` or `bottom`).",
    example: { after: "9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f" },
  });

/** The planner's form of a validated position. */
export function toPosition(
  p: z.infer<typeof PositionSchema>,
): { before: string } | { after: string } | { at: "top" | "bottom" } {
  if (p.before !== undefined) {
    return { before: p.before };
  }
  return p.after !== undefined ? { after: p.after } : { at: p.at ?? "bottom" };
}

const GroupName = z.string().min(1).max(256);

/** The selector fields shared by policies and imports. */
export const selectorFields = {
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
    .openapi({ description: "Destination ports and inclusive ranges; empty means any." }),
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
  groups: z
    .array(GroupName)
    .max(100)
    .default([])
    .openapi({ description: "Identity provider group names (`identity.groups.name`)." }),
  device_posture_ids: z.array(z.string().min(1).max(64)).max(100).default([]).openapi({
    description: "Device posture check ids; the device must pass at least one.",
  }),
  description: z.string().max(200).default("").openapi({
    description: "Free text kept in Cloudflare before tunnelplane's ownership marker.",
  }),
};

const input = z
  .strictObject({
    name: z.string().trim().min(1).max(200).openapi({ example: "Allow employees to db-prod" }),
    action: z.enum(["allow", "block"]),
    precedence: z.number().int().min(1).max(2_147_483_647).optional().openapi({
      description:
        "Ascending evaluation order, unique in the account; first match decides. Leave out to use `position` (a PUT without either keeps the current value).",
    }),
    position: PositionSchema.optional(),
    ...selectorFields,
  })
  .refine((b) => b.precedence === undefined || b.position === undefined, {
    message: "give precedence or position, not both",
    path: ["position"],
    params: { code: "precedence-and-position" },
  })
  .openapi("NetworkPolicyInput");

const portText = (p: { from: number; to: number }) =>
  p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;

/** The selectors, name and action of a validated body, in canonical form (precedence aside). */
export function selectorsOf(
  body: z.output<z.ZodObject<typeof selectorFields>> & { name: string; action: "allow" | "block" },
): Omit<NetworkPolicySpec, "precedence"> {
  const selectors = normalizeSelectors({
    destinations: body.destinations.map(canonical),
    ports: body.ports.map((p) => {
      const [from, to] = parsePort(p);
      return { from, to };
    }),
    protocols: body.protocols,
    emails: body.emails.map((e) => e.toLowerCase()),
    emailRegex: body.email_regex,
    groups: body.groups,
  });
  return {
    name: body.name,
    action: body.action,
    enabled: body.enabled,
    ...selectors,
    devicePostureIds: [...new Set(body.device_posture_ids)].sort(),
    description: body.description,
  };
}

/**
 * The precedence of a written policy: the one given (refused when a private app holds it), the
 * current one on a PUT without either, or a place planned from `position` (default: bottom),
 * whose renumbering of neighbours becomes companion writes.
 * @throws ProblemError precedence-taken (409), validation-failed (unknown position reference).
 */
async function precedenceFor(body: z.output<typeof input>, ctx: WriteContext): Promise<number> {
  const state = await loadPrecedenceState(ctx.db, ctx.accountId, ctx.id);
  if (body.precedence !== undefined) {
    const holder = holderOf(state, body.precedence);
    const app = holder === undefined ? null : appOfSlot(holder.id);
    if (app !== null) {
      throw new ProblemError(
        "precedence-taken",
        `Private app ${app} holds precedence ${body.precedence}; precedences are unique.`,
      );
    }
    return body.precedence;
  }
  const current = await getObject(ctx.db, ctx.accountId, "network_policy", ctx.id);
  if (current !== undefined) {
    if (body.position !== undefined) {
      throw validationProblem("A PUT does not move a policy.", [
        {
          pointer: "#/position",
          detail: `use POST /v1/accounts/${ctx.accountId}/policies/${ctx.id}/move`,
          code: "use-move",
        },
      ]);
    }
    return current.spec.precedence;
  }
  const position = toPosition(body.position ?? { at: "bottom" });
  const placed = planInsert(state.slots, position);
  if (!placed.ok) {
    return precedenceProblem(
      placed.error,
      "before" in position ? "#/position/before" : "#/position/after",
    );
  }
  ctx.companions.push(...renumberingWrites(state, placed.value.changes));
  return placed.value.precedence;
}

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
    groups: z.ZodArray<z.ZodString>;
    device_posture_ids: z.ZodArray<z.ZodString>;
    description: z.ZodString;
    traffic: z.ZodString;
    identity: z.ZodString;
    device_posture: z.ZodString;
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
    groups: z.array(z.string()),
    device_posture_ids: z.array(z.string()),
    description: z.string(),
    traffic: z
      .string()
      .openapi({ description: "The Gateway `traffic` expression tunnelplane renders." }),
    identity: z
      .string()
      .openapi({ description: "The Gateway `identity` expression tunnelplane renders." }),
    device_posture: z
      .string()
      .openapi({ description: "The Gateway `device_posture` expression tunnelplane renders." }),
  },
  async toSpec(body, ctx) {
    return { ...selectorsOf(body), precedence: await precedenceFor(body, ctx) };
  },
  toWire: toPolicyWire,
  naturalKey: (spec) => `${spec.precedence}`,
  conflict: {
    slug: "precedence-taken",
    detail: (spec) => `Another policy has precedence ${spec.precedence}; precedences are unique.`,
  },
  async warnings(spec, ctx) {
    const renumbered = ctx.companions.map(
      (w) =>
        `${w.current.id} ${(w.current.spec as NetworkPolicySpec).precedence} -> ${(w.spec as NetworkPolicySpec).precedence}`,
    );
    const regex = spec.emailRegex === null ? undefined : checkEmailRegex(spec.emailRegex);
    return [
      ...(regex?.ok ? regex.value.warnings.map((w) => ({ code: w.code, message: w.message })) : []),
      ...(renumbered.length === 0
        ? []
        : [
            {
              code: "precedence-renumbered",
              message: `To make room, ${renumbered.length} policies were renumbered: ${renumbered.join(", ")}`,
            },
          ]),
    ];
  },
};

/** The wire form of a network policy spec. */
export function toPolicyWire(spec: NetworkPolicySpec) {
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
    groups: spec.groups ?? [],
    device_posture_ids: spec.devicePostureIds ?? [],
    description: spec.description ?? "",
    traffic,
    identity,
    device_posture: renderDevicePosture(spec.devicePostureIds ?? []),
  };
}
