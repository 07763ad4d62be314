/**
 * `/v1/accounts/{account_id}/private-apps`: private-network applications. Each becomes, per group
 * of destinations sharing ports and protocol, an allow policy for the app's identities followed
 * by a block for everyone else, at consecutive precedences from the app's own (the allow of
 * group i at `precedence + 2i`, its block at `+ 2i + 1`). The response shows the policies the
 * app becomes; they are reconciled like stored policies and follow every change of the app.
 */

import { z } from "@hono/zod-openapi";
import { getObject } from "../../db/desired-objects.repo";
import { describePrivateAppProblem } from "../../domain/conflicts/private-apps";
import type { PrivateAppSpec } from "../../domain/model";
import { newObject } from "../../domain/model";
import {
  MAX_PRIVATE_APP_NAME_LENGTH,
  privateAppPolicies,
  privateAppSpan,
} from "../../domain/plan/private-app-policies";
import { renderNetworkPolicy } from "../../domain/policies/render";
import { compareCidrs } from "../../domain/policies/selectors";
import type { CollectionDefinition, WriteContext } from "../desired/collection";
import { CidrString, canonical, EmailDomain } from "../fields";
import { EmailRegex, PortSpec, parsePort } from "../policies";
import { bottomPrecedence, loadPrecedenceState } from "../policies/precedence";
import { ProblemError } from "../problem";
import { privateAppProblems } from "./reach";

const Destination = z
  .strictObject({
    cidr: CidrString,
    ports: z
      .array(PortSpec)
      .max(20)
      .default([])
      .openapi({ description: "Ports and inclusive ranges; empty means every port." }),
    protocol: z
      .enum(["tcp", "udp"])
      .nullable()
      .default(null)
      .openapi({ description: "tcp or udp; null means every protocol." }),
  })
  .openapi("PrivateAppDestination");

const input = z
  .strictObject({
    name: z.string().trim().min(1).max(MAX_PRIVATE_APP_NAME_LENGTH).openapi({ example: "db-prod" }),
    precedence: z.number().int().min(1).max(2_147_483_000).optional().openapi({
      description:
        "Precedence of the app's first policy; the app holds 2 per destination group from there. Left out: the next multiple of 1000 below every policy (a PUT keeps the current value).",
    }),
    enabled: z.boolean().default(true),
    destinations: z.array(Destination).min(1).max(50),
    emails: z.array(z.email().max(254)).max(1000).default([]),
    email_domains: z.array(EmailDomain).max(100).default([]),
    email_regex: EmailRegex.nullable().default(null),
    groups: z.array(z.string().min(1).max(256)).max(100).default([]),
  })
  .refine(
    (b) => b.emails.length + b.email_domains.length + b.groups.length > 0 || b.email_regex !== null,
    {
      message: "name who may reach the app: emails, email_domains, email_regex or groups",
      path: ["emails"],
      params: { code: "no-identity" },
    },
  )
  .openapi("PrivateAppInput");

const DerivedPolicy = z
  .object({
    key: z.string().openapi({
      description:
        "`allow-<n>` or `block-<n>`; the Cloudflare rule carries the marker `tunnelplane:<app id>-<key>`.",
    }),
    name: z.string(),
    action: z.enum(["allow", "block"]),
    precedence: z.number().int(),
    traffic: z.string(),
    identity: z.string(),
  })
  .openapi("PrivateAppPolicy");

const portText = (p: { from: number; to: number }) =>
  p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;

/**
 * The precedence of the app: the one given, the current one on a PUT, or the bottom; refused
 * when any precedence of its span is held by a policy or another app.
 * @throws ProblemError precedence-taken (409)
 */
async function precedenceFor(
  body: z.output<typeof input>,
  spec: Omit<PrivateAppSpec, "precedence">,
  ctx: WriteContext,
): Promise<number> {
  const state = await loadPrecedenceState(ctx.db, ctx.accountId, ctx.id);
  const current = await getObject(ctx.db, ctx.accountId, "private_app", ctx.id);
  const precedence = body.precedence ?? current?.spec.precedence ?? bottomPrecedence(state);
  const span = privateAppSpan(spec);
  const clash = state.slots.find(
    (s) => s.precedence >= precedence && s.precedence < precedence + span,
  );
  if (clash !== undefined) {
    throw new ProblemError(
      "precedence-taken",
      `The app needs precedences ${precedence}..${precedence + span - 1}; ${clash.precedence} is taken by ${clash.id}.`,
    );
  }
  return precedence;
}

/** A validated body in canonical form, precedence aside (lists sorted and deduplicated). */
export function privateAppSelectorsOf(
  body: z.output<typeof input>,
): Omit<PrivateAppSpec, "precedence"> {
  return {
    name: body.name,
    enabled: body.enabled,
    destinations: body.destinations
      .map((d) => ({
        cidr: canonical(d.cidr),
        ports: d.ports.map((p) => {
          const [from, to] = parsePort(p);
          return { from, to };
        }),
        protocol: d.protocol,
      }))
      .sort((a, b) => compareCidrs(a.cidr, b.cidr)),
    emails: [...new Set(body.emails.map((e) => e.toLowerCase()))].sort(),
    emailDomains: [...new Set(body.email_domains)].sort(),
    emailRegex: body.email_regex,
    groups: [...new Set(body.groups)].sort(),
  };
}

export const privateApps: CollectionDefinition<
  "private_app",
  typeof input,
  {
    name: z.ZodString;
    precedence: z.ZodNumber;
    enabled: z.ZodBoolean;
    destinations: z.ZodArray<z.ZodType>;
    emails: z.ZodArray<z.ZodString>;
    email_domains: z.ZodArray<z.ZodString>;
    email_regex: z.ZodNullable<z.ZodString>;
    groups: z.ZodArray<z.ZodString>;
    policies: z.ZodArray<typeof DerivedPolicy>;
  }
> = {
  kind: "private_app",
  path: "private-apps",
  tag: "Private apps",
  singular: "PrivateApp",
  plural: "PrivateApps",
  input,
  output: {
    name: z.string(),
    precedence: z.number().int(),
    enabled: z.boolean(),
    destinations: z.array(
      z.object({ cidr: z.string(), ports: z.array(z.string()), protocol: z.string().nullable() }),
    ),
    emails: z.array(z.string()),
    email_domains: z.array(z.string()),
    email_regex: z.string().nullable(),
    groups: z.array(z.string()),
    policies: z.array(DerivedPolicy).openapi({
      description: "The Gateway policies the app becomes, in evaluation order.",
    }),
  },
  async toSpec(body, ctx) {
    const spec = privateAppSelectorsOf(body);
    return { ...spec, precedence: await precedenceFor(body, spec, ctx) };
  },
  toWire(spec) {
    const policies = privateAppPolicies(newObject("private_app", "<app>", spec));
    return {
      name: spec.name,
      precedence: spec.precedence,
      enabled: spec.enabled,
      destinations: spec.destinations.map((d) => ({
        cidr: d.cidr,
        ports: d.ports.map(portText),
        protocol: d.protocol,
      })),
      emails: spec.emails,
      email_domains: spec.emailDomains,
      email_regex: spec.emailRegex,
      groups: spec.groups,
      policies: policies.map((p) => ({
        key: p.id.replace("<app>-", ""),
        name: p.spec.name,
        action: p.spec.action,
        precedence: p.spec.precedence,
        ...renderNetworkPolicy(p.spec),
      })),
    };
  },
  async warnings(spec, ctx) {
    const app = { id: ctx.id, name: spec.name, destinations: spec.destinations.map((d) => d.cidr) };
    return (await privateAppProblems(ctx.db, ctx.accountId, [app])).map((problem) => ({
      code: problem.code,
      message: describePrivateAppProblem(problem),
    }));
  },
  naturalKey: (spec) => spec.name,
  conflict: {
    slug: "name-taken",
    detail: (spec) => `Another private app is named ${JSON.stringify(spec.name)}.`,
  },
};
