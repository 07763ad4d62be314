/**
 * Identity tables: API keys (only a SHA-256 of the secret is stored, with a short visible prefix)
 * and the role bindings of Cloudflare Access emails. Must not import from `cloudflare:*`.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    /** Unique, shown as the actor in the audit log. */
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "operator", "viewer", "ticketing"] }).notNull(),
    /** JSON array of account ids, or `"*"` for every account. */
    accountsJson: text("accounts_json").notNull(),
    /** The ticket system a `ticketing` key speaks for (lower case); null for other roles. */
    ticketSystem: text("ticket_system"),
    /** The first characters of the secret, to tell keys apart; not enough to use it. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the secret, lower-case hex. */
    secretHash: text("secret_hash").notNull(),
    expiresAtMs: integer("expires_at_ms"),
    revokedAtMs: integer("revoked_at_ms"),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("api_keys_name").on(t.name),
    uniqueIndex("api_keys_secret_hash").on(t.secretHash),
    index("api_keys_created").on(t.createdAtMs, t.id),
  ],
);

export const accessRoleBindings = sqliteTable(
  "access_role_bindings",
  {
    id: text("id").primaryKey(),
    /** The Access identity's email, lower case. */
    email: text("email").notNull(),
    role: text("role", { enum: ["admin", "operator", "viewer"] }).notNull(),
    /** JSON array of account ids, or `"*"` for every account. */
    accountsJson: text("accounts_json").notNull(),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("access_role_bindings_email").on(t.email),
    index("access_role_bindings_created").on(t.createdAtMs, t.id),
  ],
);
