/** Wire shapes of API keys and Access role bindings. A key's secret appears once, on creation. */
import { z } from "@hono/zod-openapi";
import type { AccessRoleBindingRecord } from "../../db/access-role-bindings.repo";
import type { ApiKeyRecord } from "../../db/api-keys.repo";
import { AccountIdParam } from "../contract";

/** `"*"` (every account) or a list of Cloudflare account ids. */
export const AccountScope = z
  .union([z.literal("*"), z.array(AccountIdParam).min(1).max(100)])
  .openapi({
    description:
      'The accounts the identity may see: `"*"` for all, or account ids. Other accounts answer 404.',
    example: ["0123456789abcdef0123456789abcdef"],
  });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const ApiKeyInput = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case letters, digits, `.`, `_`, `-`")
      .openapi({
        description: "Unique; the audit log names the key by it.",
        example: "servicenow",
      }),
    role: z.enum(["admin", "operator", "viewer", "ticketing"]).openapi({
      description:
        "admin: everything, incl. accounts and keys. operator: desired state, plan, reconcile, import, grant decisions, tunnel tokens. viewer: read only, never a secret. ticketing: create, read and cancel its own system's grants.",
    }),
    accounts: AccountScope,
    ticket_system: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "1..64 of a-z 0-9 . _ -")
      .nullable()
      .default(null)
      .openapi({
        description:
          "Required for (and only for) ticketing keys: every grant the key creates carries this system, whatever the body says, and the key sees only this system's grants.",
        example: "servicenow",
      }),
    expires_at: z.iso
      .datetime({ offset: true })
      .nullable()
      .default(null)
      .openapi({ description: "RFC 3339; the key stops working then. null: never." }),
  })
  .superRefine((body, ctx) => {
    if (body.role === "admin" && body.accounts !== "*") {
      ctx.addIssue({
        code: "custom",
        path: ["accounts"],
        message: 'an admin key manages accounts and keys, so its scope is "*"',
        params: { code: "admin-scope" },
      });
    }
    if ((body.role === "ticketing") !== (body.ticket_system !== null)) {
      ctx.addIssue({
        code: "custom",
        path: ["ticket_system"],
        message:
          body.role === "ticketing"
            ? "a ticketing key needs its ticket_system"
            : "only ticketing keys have a ticket_system",
        params: { code: "ticket-system" },
      });
    }
  })
  .openapi("ApiKeyInput");

export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(["admin", "operator", "viewer", "ticketing"]),
    accounts: AccountScope,
    ticket_system: z.string().nullable(),
    prefix: z.string().openapi({
      description: "The secret's first characters, to tell keys apart.",
      example: "tp_3fK9aQ",
    }),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi("ApiKey");

export const ApiKeyCreated = ApiKey.extend({
  secret: z.string().openapi({
    description:
      "The key. Shown this once; only its SHA-256 is stored. Send as `Authorization: Bearer <secret>`.",
  }),
}).openapi("ApiKeyCreated");

/** The wire form of a key (never its secret or hash). */
export function toApiKeyResource(k: ApiKeyRecord): z.input<typeof ApiKey> {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    accounts: k.accounts,
    ticket_system: k.ticketSystem,
    prefix: k.prefix,
    expires_at: iso(k.expiresAtMs),
    revoked_at: iso(k.revokedAtMs),
    created_by: k.createdBy,
    created_at: new Date(k.createdAtMs).toISOString(),
  };
}

export const AccessRoleBindingInput = z
  .strictObject({
    email: z.email().max(254).toLowerCase().openapi({ example: "alice@example.com" }),
    role: z.enum(["admin", "operator", "viewer"]),
    accounts: AccountScope,
  })
  .superRefine((body, ctx) => {
    if (body.role === "admin" && body.accounts !== "*") {
      ctx.addIssue({
        code: "custom",
        path: ["accounts"],
        message: 'an admin manages accounts and keys, so its scope is "*"',
        params: { code: "admin-scope" },
      });
    }
  })
  .openapi("AccessRoleBindingInput");

export const AccessRoleBinding = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(["admin", "operator", "viewer"]),
    accounts: AccountScope,
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi("AccessRoleBinding");

/** The wire form of a binding. */
export function toBindingResource(b: AccessRoleBindingRecord): z.input<typeof AccessRoleBinding> {
  return {
    id: b.id,
    email: b.email,
    role: b.role,
    accounts: b.accounts,
    created_by: b.createdBy,
    created_at: new Date(b.createdAtMs).toISOString(),
  };
}

export const WhoAmI = z
  .object({
    actor: z.string().openapi({ example: "key:servicenow" }),
    role: z.enum(["admin", "operator", "viewer", "ticketing"]),
    accounts: AccountScope,
    ticket_system: z.string().nullable(),
  })
  .openapi("WhoAmI");
