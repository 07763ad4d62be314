/**
 * What an answer read from Cloudflare left out because the API token lacks a permission, and
 * when the shared Gateway rules it relied on were read: shared by plan, explain, import, the
 * policy analysis and grant checks.
 */
import { z } from "@hono/zod-openapi";
import type { SkippedKinds } from "../../reconciler/observe-now";
import { RefusalFields, toRefusalResource } from "./refusal";

export const SkippedSchema = z
  .object({
    kinds: z.array(z.string()).openapi({
      description: "The kinds left out of the answer: nothing of them was read or planned.",
      example: ["split_tunnel", "device_profile", "proxy_settings", "network_policy"],
    }),
    permission: z.string().openapi({
      description:
        "The token permission that would let tunnelplane read them (Edit for an enforce account, which writes there next; Read for an observe one), as the dashboard's token editor names it.",
      example: "Zero Trust: Edit",
    }),
    ...RefusalFields,
  })
  .openapi("SkippedKinds");

export const SkippedList = z.array(SkippedSchema).openapi({
  description:
    "Kinds Cloudflare refused to let the account's API token read (403 / 10000), one entry per permission; the answer covers every other kind. Also recorded as the account's token_problems. Empty when the token read everything.",
});

/** The wire form of what an observation skipped. */
export function toSkippedResource(skipped: readonly SkippedKinds[]): z.infer<typeof SkippedList> {
  return skipped.map((s) => ({
    kinds: s.kinds,
    ...toRefusalResource(s.problem),
  }));
}

export const SharedRulesObservedAt = z.string().nullable().openapi({
  description:
    "When the rules shared read-only from a parent account (Cloudflare Organizations), which this answer evaluates first, were last read from Cloudflare (RFC 3339): by a run, a plan, explain with state=observed or an import. Read now for answers that read Cloudflare. null: never read, so no shared rule is known.",
  example: "2026-01-01T00:00:00.000Z",
});

/** The wire form of when the shared rules were read (`atMs` epoch ms, undefined: never). */
export function sharedRulesObservedAt(atMs: number | undefined): string | null {
  return atMs === undefined ? null : new Date(atMs).toISOString();
}
