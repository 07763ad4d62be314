/** Who is calling: the identity every request carries after authentication. */

/** The roles, from most to least powerful; the operations each may call are in `authz/operations.ts`. */
export const ROLES = ["admin", "operator", "viewer", "ticketing"] as const;

/** A role of an API key or an Access role binding. */
export type Role = (typeof ROLES)[number];

/** The accounts an identity may see: every account, or the listed Cloudflare account ids. */
export type AccountScope = "*" | readonly string[];

/** The authenticated caller. */
export interface Identity {
  /** Name in the audit log: `key:<name>`, `access:<email>` or `bootstrap-admin`. */
  actor: string;
  role: Role;
  accounts: AccountScope;
  /** The ticket system a `ticketing` identity speaks for (lower case); null otherwise. */
  ticketSystem: string | null;
}

/** Whether `identity` may see `accountId` (others answer 404, as if the account did not exist). */
export function canReachAccount(identity: Identity, accountId: string): boolean {
  return identity.accounts === "*" || identity.accounts.includes(accountId);
}

/** The identity of the bootstrap `ADMIN_API_KEY`. */
export const BOOTSTRAP_ADMIN: Identity = {
  actor: "bootstrap-admin",
  role: "admin",
  accounts: "*",
  ticketSystem: null,
};
