/** Wire pieces every desired object shares: id, version, timestamps and reconciliation status. */
import { z } from "@hono/zod-openapi";
import type { StoredObject } from "../../db/desired-objects.repo";

/** The status block filled by reconciliation. */
export const StatusSchema = z
  .object({
    state: z.enum(["pending", "synced", "drifted", "error"]).openapi({
      description:
        "pending: not yet applied; synced: equal in Cloudflare; drifted: Cloudflare changed and the account is in observe mode or the fix is not applied yet; error: the last apply failed.",
    }),
    cloudflare_id: z
      .string()
      .nullable()
      .openapi({ description: "Id of the Cloudflare object, once known." }),
    synced_version: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The version last confirmed in Cloudflare." }),
    synced_at: z
      .string()
      .nullable()
      .openapi({ description: "When it was last confirmed, RFC 3339." }),
    last_error: z.string().nullable(),
    observed: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "What the last run observed (e.g. a tunnel's `health`)." }),
  })
  .openapi("ObjectStatus");

/** Fields added to every desired object on the wire. */
export const objectEnvelope = {
  id: z.string().openapi({ example: "9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f" }),
  version: z.number().int().openapi({ description: "Increases on every change; the ETag." }),
  created_at: z.string().openapi({ description: "RFC 3339." }),
  updated_at: z.string().openapi({ description: "RFC 3339." }),
  status: StatusSchema,
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The envelope fields of a stored object. */
export function toEnvelope(object: StoredObject) {
  return {
    id: object.id,
    version: object.version,
    created_at: new Date(object.createdAtMs).toISOString(),
    updated_at: new Date(object.updatedAtMs).toISOString(),
    status: {
      state: object.syncState,
      cloudflare_id: object.cloudflareId,
      synced_version: object.syncedVersion,
      synced_at: iso(object.syncedAtMs),
      last_error: object.lastError,
      observed: object.observed,
    },
  };
}
