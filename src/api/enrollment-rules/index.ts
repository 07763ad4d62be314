/**
 * `/v1/accounts/{account_id}/enrollment-rules`: who may enroll a WARP device. Each rule becomes a
 * reusable Access policy (decision allow; include: the emails, email domains and Access groups)
 * whose name ends with tunnelplane's marker, linked to the account's device enrollment app
 * (Access app of type `warp`), which is created when missing. Links to other policies are kept.
 */
import { z } from "@hono/zod-openapi";
import type { CollectionDefinition } from "../desired/collection";
import { EmailDomain } from "../fields";

const input = z
  .strictObject({
    name: z.string().trim().min(1).max(150).openapi({
      description:
        "The Access policy's name; tunnelplane appends its ownership marker (Access policies have no description).",
      example: "Employees",
    }),
    emails: z.array(z.email().max(254)).max(1000).default([]),
    email_domains: z.array(EmailDomain).max(100).default([]),
    groups: z
      .array(z.string().min(1).max(64))
      .max(100)
      .default([])
      .openapi({ description: "Access group ids (Cloudflare's `group` rule)." }),
  })
  .refine((b) => b.emails.length + b.email_domains.length + b.groups.length > 0, {
    message: "name who may enroll: emails, email_domains or groups",
    path: ["emails"],
    params: { code: "no-identity" },
  })
  .openapi("EnrollmentRuleInput");

export const enrollmentRules: CollectionDefinition<
  "enrollment_rule",
  typeof input,
  {
    name: z.ZodString;
    emails: z.ZodArray<z.ZodString>;
    email_domains: z.ZodArray<z.ZodString>;
    groups: z.ZodArray<z.ZodString>;
  }
> = {
  kind: "enrollment_rule",
  path: "enrollment-rules",
  tag: "Enrollment rules",
  singular: "EnrollmentRule",
  plural: "EnrollmentRules",
  input,
  output: {
    name: z.string(),
    emails: z.array(z.string()),
    email_domains: z.array(z.string()),
    groups: z.array(z.string()),
  },
  // Who may enroll a device changes no route, list or policy an assertion depends on.
  unguarded: true,
  async toSpec(body) {
    return {
      name: body.name,
      emails: [...new Set(body.emails.map((e) => e.toLowerCase()))].sort(),
      emailDomains: [...new Set(body.email_domains)].sort(),
      groups: [...new Set(body.groups)].sort(),
    };
  },
  toWire: (spec) => ({
    name: spec.name,
    emails: spec.emails,
    email_domains: spec.emailDomains,
    groups: spec.groups,
  }),
  naturalKey: (spec) => spec.name,
  conflict: {
    slug: "name-taken",
    detail: (spec) => `Another enrollment rule is named ${JSON.stringify(spec.name)}.`,
  },
};
