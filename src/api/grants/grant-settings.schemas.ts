/** Wire shapes of an account's grant settings: the write-only callback secret and its rotation. */
import { z } from "@hono/zod-openapi";
import type { GrantSettingsView } from "../../db/grant-settings.repo";

/** Longest overlap in which a replaced callback secret still signs, seconds (7 days). */
export const MAX_SECRET_OVERLAP_S = 7 * 86_400;

export const GrantSettingsInput = z
  .strictObject({
    callback_secret: z
      .string()
      .min(32)
      .max(256)
      .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
      .optional()
      .openapi({
        description:
          "Write-only; 32..256 printable ASCII characters. Required the first time; a new one replaces the current secret, which keeps signing beside it for previous_secret_valid_for_s.",
      }),
    previous_secret_valid_for_s: z
      .number()
      .int()
      .min(0)
      .max(MAX_SECRET_OVERLAP_S)
      .default(86_400)
      .openapi({
        description:
          "When callback_secret replaces a secret: seconds during which callbacks carry a signature under both (0: the old one stops at once).",
      }),
    callback_allowed_ports: z
      .array(z.number().int().min(1).max(65_535))
      .max(20)
      .refine((ports) => new Set(ports).size === ports.length, "each port once")
      .optional()
      .openapi({
        description: "Ports other than 443 that callback URLs may use; omitted: unchanged.",
        example: [8443],
      }),
  })
  .openapi("GrantSettingsInput");

export const GrantSettings = z
  .object({
    callback_secret_set: z.boolean(),
    updated_at: z.string().nullable(),
    previous_secret_valid_until: z.string().nullable().openapi({
      description: "Until when the replaced secret still signs (RFC 3339), or null.",
    }),
    callback_allowed_ports: z.array(z.number()),
  })
  .openapi("GrantSettings");

/** The wire form of the settings (never a secret); `undefined` means never set. */
export function toGrantSettingsResource(
  view: GrantSettingsView | undefined,
  nowMs: number,
): z.output<typeof GrantSettings> {
  const until = view?.previousSecretUntilMs ?? null;
  return {
    callback_secret_set: view !== undefined,
    updated_at: view === undefined ? null : new Date(view.updatedAtMs).toISOString(),
    previous_secret_valid_until:
      until === null || until <= nowMs ? null : new Date(until).toISOString(),
    callback_allowed_ports: view?.callbackAllowedPorts ?? [],
  };
}
