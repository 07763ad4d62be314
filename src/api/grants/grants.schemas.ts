/** Wire shapes of grants (snake_case, RFC 3339 instants) and their mappers. */
import { z } from "@hono/zod-openapi";
import type { DeliveryRecord } from "../../db/grant-deliveries.repo";
import type { GrantEventRecord, GrantRecord } from "../../db/grants.repo";
import { GRANT_STATES } from "../../domain/grants/grant";
import { describePathProblem } from "../../domain/grants/path-check";
import { redactUrl } from "../../lib/redact";
import { CidrString } from "../fields";
import { PortSpec } from "../policies";
import { CallbackUrl } from "../schemas/callbacks";
import { SharedRulesObservedAt, sharedRulesObservedAt } from "../schemas/skipped";

/** Longest grant anyone may ask for, seconds (30 days): a hard limit before any rule. */
export const MAX_GRANT_DURATION_S = 30 * 86_400;

const Instant = z.iso
  .datetime({ offset: true })
  .openapi({ description: "RFC 3339 instant.", example: "2026-05-01T09:00:00Z" });

export const GrantInput = z
  .strictObject({
    ticket: z.strictObject({
      system: z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "1..64 of a-z 0-9 . _ -")
        .openapi({ description: "Requester system.", example: "servicenow" }),
      id: z.string().trim().min(1).max(128).openapi({ example: "CHG0031337" }),
      url: z
        .url({ protocol: /^https$/, error: "an https URL" })
        .max(2048)
        .nullable()
        .default(null)
        .openapi({ description: "The ticket's page; https only." }),
    }),
    subject_email: z.email().max(254).openapi({ example: "contractor@example.com" }),
    destinations: z
      .array(CidrString)
      .min(1)
      .max(100)
      .openapi({ description: "IPs/CIDRs the subject may reach." }),
    ports: z.array(PortSpec).max(100).default([]).openapi({ description: "Empty means any." }),
    protocols: z
      .array(z.enum(["tcp", "udp", "icmp"]))
      .max(3)
      .default([])
      .openapi({ description: "Empty means every proxied protocol." }),
    reason: z.string().trim().min(1).max(2000),
    starts_at: Instant.optional().openapi({ description: "Default: now." }),
    duration_s: z
      .number()
      .int()
      .min(60)
      .max(MAX_GRANT_DURATION_S)
      .optional()
      .openapi({ description: "Length in seconds; give this or ends_at." }),
    ends_at: Instant.optional().openapi({ description: "Exclusive end; give this or duration_s." }),
    callback_url: CallbackUrl.nullable().default(null).openapi({
      description:
        "Receives every state change, signed (see README): https to a public host, port 443 unless the account's grant-settings allow another.",
      example: "https://tickets.example.com/hooks/tunnelplane",
    }),
    extends_grant_id: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .default(null)
      .openapi({ description: "The grant this request extends." }),
  })
  .superRefine((body, ctx) => {
    if ((body.duration_s === undefined) === (body.ends_at === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["duration_s"],
        message: "give exactly one of duration_s and ends_at",
        params: { code: "duration-xor-ends-at" },
      });
    }
  })
  .openapi("GrantInput");

export const DecisionInput = z
  .strictObject({ reason: z.string().trim().min(1).max(2000).optional() })
  .openapi("GrantDecisionInput");

const Check = z
  .object({
    phase: z.enum(["before-approval", "after-activation"]),
    checked_at: z.string(),
    shared_rules_observed_at: SharedRulesObservedAt,
    ok: z.boolean(),
    problems: z.array(z.object({ code: z.string(), destination: z.string(), message: z.string() })),
    destinations: z.array(
      z.object({
        destination: z.string(),
        route: z.object({ network: z.string(), tunnel_id: z.string() }).nullable(),
        through_warp: z.boolean(),
        probe: z.object({ ip: z.string(), port: z.number().nullable(), protocol: z.string() }),
        decision: z.enum(["allow", "block"]),
        decided_by: z
          .object({
            id: z.string(),
            name: z.string(),
            precedence: z.number(),
            shared_from: z.string().optional().openapi({
              description:
                "For a read-only rule shared from a parent account: that account's id (evaluated before every rule of this account).",
            }),
          })
          .nullable(),
      }),
    ),
  })
  .openapi("GrantPathCheck");

const Delivery = z
  .object({
    id: z.string(),
    event: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.array(
      z.object({
        at: z.string(),
        status_code: z.number().nullable(),
        error: z.string().nullable(),
      }),
    ),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
  })
  .openapi("GrantDelivery");

export const GrantResource = z
  .object({
    id: z.string(),
    version: z.number().int(),
    state: z.enum(GRANT_STATES),
    ticket: z.object({ system: z.string(), id: z.string(), url: z.string().nullable() }),
    subject_email: z.string(),
    destinations: z.array(z.string()),
    ports: z.array(z.string()),
    protocols: z.array(z.string()),
    reason: z.string(),
    starts_at: z.string(),
    ends_at: z.string(),
    callback_url: z.string().nullable().openapi({
      description:
        "The full URL for admins and ticket systems. Operators, viewers, and the audit log's before/after for everyone, see only its scheme and host (`https://tickets.example.com/…`).",
    }),
    extends_grant_id: z.string().nullable(),
    requested_by: z.string(),
    decision: z
      .object({ by: z.string(), rule_id: z.string().nullable(), reason: z.string() })
      .nullable(),
    check: Check.nullable(),
    policy: z
      .object({
        state: z.enum(["none", "pending", "synced", "drifted", "error"]),
        precedence: z.number().int().nullable(),
        cloudflare_id: z.string().nullable(),
        last_error: z.string().nullable(),
      })
      .openapi({ description: "The Gateway allow policy of an active grant." }),
    deliveries: z.array(Delivery),
    activated_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Grant");

export const GrantEvent = z
  .object({
    id: z.string(),
    event: z.string(),
    from_state: z.string().nullable(),
    to_state: z.string(),
    actor: z.string(),
    reason: z.string().nullable(),
    at: z.string(),
  })
  .openapi("GrantEvent");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const portText = (p: { from: number; to: number }) =>
  p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;

/**
 * A stored grant and its deliveries on the wire; `fullUrl` false cuts the callback URL to scheme
 * and host (`redactUrl`).
 */
export function toGrantResource(
  g: GrantRecord,
  deliveries: DeliveryRecord[],
  fullUrl: boolean,
): z.input<typeof GrantResource> {
  return {
    id: g.id,
    version: g.version,
    state: g.state,
    ticket: g.ticket,
    subject_email: g.subjectEmail,
    destinations: g.destinations,
    ports: g.ports.map(portText),
    protocols: g.protocols,
    reason: g.reason,
    starts_at: new Date(g.startsAtMs).toISOString(),
    ends_at: new Date(g.endsAtMs).toISOString(),
    callback_url: g.callbackUrl === null || fullUrl ? g.callbackUrl : redactUrl(g.callbackUrl),
    extends_grant_id: g.extendsGrantId,
    requested_by: g.requestedBy,
    decision:
      g.decision === null
        ? null
        : { by: g.decision.by, rule_id: g.decision.ruleId, reason: g.decision.reason },
    check:
      g.check === null
        ? null
        : {
            phase: g.check.phase,
            checked_at: new Date(g.check.checkedAtMs).toISOString(),
            shared_rules_observed_at: sharedRulesObservedAt(g.check.sharedRulesObservedAtMs),
            ok: g.check.ok,
            problems: g.check.problems.map((p) => ({
              code: p.code,
              destination: p.destination,
              message: describePathProblem(p),
            })),
            destinations: g.check.destinations.map((d) => ({
              destination: d.destination,
              route:
                d.route === null ? null : { network: d.route.network, tunnel_id: d.route.tunnelId },
              through_warp: d.throughWarp,
              probe: d.probe,
              decision: d.decision,
              decided_by:
                d.decidedBy === null
                  ? null
                  : {
                      id: d.decidedBy.id,
                      name: d.decidedBy.name,
                      precedence: d.decidedBy.precedence,
                      ...(d.decidedBy.sharedFrom === undefined
                        ? {}
                        : { shared_from: d.decidedBy.sharedFrom }),
                    },
            })),
          },
    policy: {
      state: g.policySyncState,
      precedence: g.policyPrecedence,
      cloudflare_id: g.policyCloudflareId,
      last_error: g.policyLastError,
    },
    deliveries: deliveries.map((d) => ({
      id: d.id,
      event: d.event,
      status: d.status,
      attempts: d.attempts.map((a) => ({
        at: new Date(a.atMs).toISOString(),
        status_code: a.statusCode,
        error: a.error,
      })),
      next_attempt_at: iso(d.nextAttemptAtMs),
      delivered_at: iso(d.deliveredAtMs),
    })),
    activated_at: iso(g.activatedAtMs),
    ended_at: iso(g.endedAtMs),
    created_at: new Date(g.createdAtMs).toISOString(),
    updated_at: new Date(g.updatedAtMs).toISOString(),
  };
}

/** An audit-trail entry on the wire. */
export function toGrantEvent(e: GrantEventRecord): z.input<typeof GrantEvent> {
  return {
    id: e.id,
    event: e.event,
    from_state: e.fromState,
    to_state: e.toState,
    actor: e.actor,
    reason: e.reason,
    at: new Date(e.atMs).toISOString(),
  };
}
