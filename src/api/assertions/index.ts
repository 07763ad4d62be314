/**
 * `/v1/accounts/{account_id}/assertions`: policy tests stored with the account, and
 * `POST …/assertions/run` to run them now on the desired state. Every other desired-state write
 * runs them too (see guard.ts). Assertions have no Cloudflare counterpart; the planner ignores
 * them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AccountRecord } from "../../db/accounts.repo";
import { createDb } from "../../db/client";
import { listAllObjects } from "../../db/desired-objects.repo";
import { runAssertions } from "../../domain/explain/assertions";
import { DEFAULT_PROFILE, desiredView } from "../../domain/explain/view";
import type { AssertionSpec } from "../../domain/model";
import { evaluationUnits } from "../../domain/policies/access-delta";
import { requestWork } from "../../domain/quotas";
import { createRouter } from "../context";
import { AccountParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import type { CollectionDefinition, WriteContext } from "../desired/collection";
import { ExplanationSchema, IpAddressString } from "../explain/explain.schemas";
import { loadDesiredNetwork, viewOr422 } from "../explain/network";
import { enforceWorkBudget } from "../quotas";
import { toAssertionResultResource } from "./guard";

const input = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional().openapi({
      description: "What is tested; defaults to `<email> -> <ip>[:<port>] <expect>`.",
      example: "user@example.com can reach db-prod over SSH",
    }),
    email: z.email().max(254).openapi({ example: "user@example.com" }),
    groups: z.array(z.string().min(1).max(256)).max(100).default([]),
    destination_ip: IpAddressString,
    port: z.number().int().min(1).max(65535).nullable().default(null).openapi({ example: 22 }),
    protocol: z
      .enum(["tcp", "udp", "icmp"])
      .nullable()
      .default(null)
      .openapi({ description: "Null means tcp." }),
    expect: z.enum(["allow", "deny"]).openapi({
      description: "allow: the verdict must be `allowed`; deny: any other verdict.",
    }),
  })
  .openapi("AssertionInput");

const AssertionResult = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    destination_ip: z.string(),
    port: z.number().int().nullable(),
    protocol: z.string().nullable(),
    expect: z.enum(["allow", "deny"]),
    passed: z.boolean(),
    verdict: z.string(),
    explanation: ExplanationSchema,
  })
  .openapi("AssertionResult");

/**
 * Runs every assertion on the desired state; with `account`, first refuses the run when it would
 * cost more than the account's work budget.
 * @throws ProblemError limit-exceeded
 */
async function resultsNow(ctx: Pick<WriteContext, "db" | "accountId">, account?: AccountRecord) {
  const { desired, tunnelHealth } = await loadDesiredNetwork(ctx.db, ctx.accountId);
  const view = viewOr422(desiredView(desired, DEFAULT_PROFILE, tunnelHealth), "#");
  const assertions = await listAllObjects(ctx.db, ctx.accountId, "assertion");
  if (account !== undefined) {
    const units = evaluationUnits(view.policies);
    enforceWorkBudget(account, requestWork("assertions", units, 0, assertions.length));
  }
  return runAssertions(view, assertions);
}

function target(spec: AssertionSpec): string {
  return `${spec.destinationIp}${spec.port === null ? "" : `:${spec.port}`}`;
}

export const assertions: CollectionDefinition<
  "assertion",
  typeof input,
  {
    name: z.ZodString;
    email: z.ZodString;
    groups: z.ZodArray<z.ZodString>;
    destination_ip: z.ZodString;
    port: z.ZodNullable<z.ZodNumber>;
    protocol: z.ZodNullable<z.ZodString>;
    expect: z.ZodEnum<{ allow: "allow"; deny: "deny" }>;
  }
> = {
  kind: "assertion",
  path: "assertions",
  tag: "Assertions",
  singular: "Assertion",
  plural: "Assertions",
  input,
  output: {
    name: z.string(),
    email: z.string(),
    groups: z.array(z.string()),
    destination_ip: z.string(),
    port: z.number().int().nullable(),
    protocol: z.string().nullable(),
    expect: z.enum(["allow", "deny"]),
  },
  unguarded: true,
  async toSpec(body) {
    const email = body.email.toLowerCase();
    const spec: Omit<AssertionSpec, "name"> = {
      email,
      groups: body.groups,
      destinationIp: body.destination_ip,
      port: body.port,
      protocol: body.protocol,
      expect: body.expect,
    };
    return {
      name: body.name ?? `${email} -> ${target({ ...spec, name: "" })} ${body.expect}`,
      ...spec,
    };
  },
  toWire: (spec) => ({
    name: spec.name,
    email: spec.email,
    groups: spec.groups,
    destination_ip: spec.destinationIp,
    port: spec.port,
    protocol: spec.protocol,
    expect: spec.expect,
  }),
  naturalKey: () => null,
  conflict: { slug: "name-taken", detail: () => "An assertion with this key exists." },
  async warnings(_spec, ctx) {
    const mine = (await resultsNow(ctx)).find((r) => r.id === ctx.id);
    return mine === undefined || mine.passed
      ? []
      : [
          {
            code: "assertion-fails-now",
            message: `The assertion fails on the desired state as it is: ${mine.explanation.summary}`,
          },
        ];
  },
};

const runRoute = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/assertions/run",
  operationId: "runAssertions",
  tags: ["Assertions"],
  security,
  summary: "Run every assertion now against the desired state",
  request: { params: AccountParams },
  responses: {
    200: {
      description: "Each assertion's outcome with its explanation, oldest first",
      content: {
        "application/json": {
          schema: z
            .object({
              passed: z.number().int(),
              failed: z.number().int(),
              results: z.array(AssertionResult),
            })
            .openapi("AssertionRun"),
        },
      },
    },
    ...problemResponses("not-found", "validation-failed", "limit-exceeded"),
  },
});

/** `POST …/assertions/run`; mount before the collection so `run` is not read as an id. */
export const assertionsRunRouter = createRouter().openapi(runRoute, async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, account_id);
  const results = await resultsNow({ db, accountId: account_id }, account);
  const passed = results.filter((r) => r.passed).length;
  return c.json(
    {
      passed,
      failed: results.length - passed,
      results: results.map(toAssertionResultResource),
    },
    200,
  );
});
