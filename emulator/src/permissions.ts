/**
 * API token permission groups. A token registered through `PUT /__emulator/tokens` may call only
 * what its groups allow; every other credential may call everything (as before tokens existed).
 * A call its groups do not cover answers 403 with code 10000 "Authentication error".
 * Groups per endpoint follow the `x-api-token-group` lists of Cloudflare's OpenAPI document
 * (`cloudflare/api-schemas`): any one listed group suffices.
 */
import { ApiFailure } from "./http";

/** Which groups allow reading and writing one area of the API. */
interface Area {
  /** Path after `/accounts/{id}/` starts with one of these. */
  prefixes: string[];
  read: string[];
  write: string[];
}

const AREAS: Area[] = [
  {
    prefixes: ["cfd_tunnel", "tunnels"],
    write: [
      "Cloudflare Tunnel Write",
      "Cloudflare One Connectors Write",
      "Cloudflare One Connector: cloudflared Write",
    ],
    read: [
      "Cloudflare Tunnel Read",
      "Cloudflare One Connectors Read",
      "Cloudflare One Connector: cloudflared Read",
    ],
  },
  {
    prefixes: ["teamnet/", "zerotrust/routes/", "zerotrust/subnets/"],
    write: ["Cloudflare Tunnel Write", "Cloudflare One Networks Write"],
    read: ["Cloudflare Tunnel Read", "Cloudflare One Networks Read"],
  },
  {
    prefixes: ["gateway/", "devices/", "zerotrust/"],
    write: ["Zero Trust Write"],
    read: ["Zero Trust Read"],
  },
  {
    prefixes: ["access/"],
    write: ["Access: Apps and Policies Write"],
    read: ["Access: Apps and Policies Read"],
  },
];

/** Every group name the control accepts. */
export const PERMISSION_GROUPS: readonly string[] = [
  ...new Set(AREAS.flatMap((area) => [...area.write, ...area.read])),
];

/**
 * The groups any one of which allows `method` on `path` (after `/accounts/{id}/`): a write group
 * also allows reading, as the schema lists both for reads.
 */
export function groupsFor(method: string, path: string): string[] {
  const area = AREAS.find((candidate) => candidate.prefixes.some((p) => path.startsWith(p)));
  if (area === undefined) {
    return [];
  }
  return method === "GET" ? [...area.write, ...area.read] : area.write;
}

/** Registered tokens and their groups, by credential hash, in SQLite. */
export class TokenBook {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS tokens (token_hash TEXT PRIMARY KEY, groups TEXT NOT NULL)",
    );
  }

  /** Registers (or replaces) a token's groups. */
  set(tokenHash: string, groups: string[]): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO tokens (token_hash, groups) VALUES (?, ?)",
      tokenHash,
      JSON.stringify(groups),
    );
  }

  /** Forgets every registered token. */
  clear(): void {
    this.sql.exec("DELETE FROM tokens");
  }

  /** Throws 403/10000 when a registered token's groups do not allow the call. */
  assertAllowed(tokenHash: string | undefined, method: string, path: string): void {
    if (tokenHash === undefined) {
      return;
    }
    const row = this.sql
      .exec<{ groups: string }>("SELECT groups FROM tokens WHERE token_hash = ?", tokenHash)
      .toArray()[0];
    if (row === undefined) {
      return;
    }
    const held = JSON.parse(row.groups) as string[];
    const needed = groupsFor(method, path);
    if (needed.length > 0 && !needed.some((group) => held.includes(group))) {
      throw new ApiFailure(403, 10000, "Authentication error");
    }
  }
}

/** Reads a `PUT /__emulator/tokens` body: `{token, permission_groups}`; 400/1001 otherwise. */
export function readTokenGrant(body: unknown): { token: string; groups: string[] } {
  const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const { token, permission_groups: groups } = input;
  if (typeof token !== "string" || token.trim() === "") {
    throw new ApiFailure(400, 1001, "token must be a non-empty string");
  }
  if (
    !Array.isArray(groups) ||
    !groups.every((group) => typeof group === "string" && PERMISSION_GROUPS.includes(group))
  ) {
    throw new ApiFailure(
      400,
      1001,
      `permission_groups must list some of: ${PERMISSION_GROUPS.join(", ")}`,
    );
  }
  return { token, groups: groups as string[] };
}
