/** Wire shapes of an account's grant settings: the write-only callback secret and its rotation. */
import { z } from "@hono/zod-openapi";
import type { CallbackReceiverView } from "../../db/callback-receivers.repo";
import type { GrantSettingsView } from "../../db/grant-settings.repo";
import { AccountIdParam } from "../contract";
import { CallbackSecret } from "../schemas/callbacks";

/** Longest overlap in which a replaced callback secret still signs, seconds (7 days). */
export const MAX_SECRET_OVERLAP_S = 7 * 86_400;

const SecretOverlap = z.number().int().min(0).max(MAX_SECRET_OVERLAP_S).default(86_400).openapi({
  description:
    "When callback_secret replaces a secret: seconds during which callbacks carry a signature under both (0: the old one stops at once).",
});

/** `PUT grant-settings`: every field optional; the secret is required only the first time. */
export const GrantSettingsInput = z
  .strictObject({
    callback_secret: CallbackSecret.optional().openapi({
      description:
        "Write-only; 32..256 printable ASCII characters. Required the first time; a new one replaces the current secret, which keeps signing beside it for previous_secret_valid_for_s.",
    }),
    previous_secret_valid_for_s: SecretOverlap,
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

/** `PUT grant-settings/receivers/{ticket_system}`: a ticket system's own secret. */
export const CallbackReceiverInput = z
  .strictObject({
    callback_secret: CallbackSecret.openapi({
      description:
        "Write-only; 32..256 printable ASCII characters. Signs the callbacks of this ticket system's grants instead of the account's secret.",
    }),
    previous_secret_valid_for_s: SecretOverlap,
  })
  .openapi("CallbackReceiverInput");

/** Path parameters of one receiver: the account and the ticket system (as grants spell it). */
export const ReceiverParams = z.object({
  account_id: AccountIdParam,
  ticket_system: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "1..64 of a-z 0-9 . _ -")
    .openapi({ param: { name: "ticket_system", in: "path" }, example: "servicenow" }),
});

/** A receiver as the API shows it: never its secret. */
export const CallbackReceiver = z
  .object({
    ticket_system: z.string(),
    updated_at: z.string(),
    previous_secret_valid_until: z.string().nullable().openapi({
      description: "Until when the replaced secret still signs (RFC 3339), or null.",
    }),
  })
  .openapi("CallbackReceiver");

/** The wire form of a receiver (never its secret). */
export function toCallbackReceiverResource(
  view: CallbackReceiverView,
  nowMs: number,
): z.output<typeof CallbackReceiver> {
  const until = view.previousSecretUntilMs;
  return {
    ticket_system: view.ticketSystem,
    updated_at: new Date(view.updatedAtMs).toISOString(),
    previous_secret_valid_until:
      until === null || until <= nowMs ? null : new Date(until).toISOString(),
  };
}

/** The account's callback settings as the API shows them: never a secret. */
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
