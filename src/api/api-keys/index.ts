/**
 * `/v1/api-keys` and `/v1/access-role-bindings` (admin only, see authz/operations.ts) and
 * `/v1/whoami`. A key's secret is generated here, answered once and stored as its SHA-256.
 */
import {
  deleteAccessRoleBinding,
  getAccessRoleBinding,
  insertAccessRoleBinding,
  listAccessRoleBindings,
} from "../../db/access-role-bindings.repo";
import {
  type ApiKeyRecord,
  getApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
} from "../../db/api-keys.repo";
import { createDb, isUniqueViolation } from "../../db/client";
import { toPage } from "../../db/pagination";
import { toBase64Url } from "../../lib/base64";
import { sha256Hex } from "../../lib/hmac";
import { createRouter } from "../context";
import { cursorPosition } from "../paging";
import { ProblemError, validationProblem } from "../problem";
import * as endpoints from "./api-keys.endpoints";
import { toApiKeyResource, toBindingResource } from "./api-keys.schemas";

/** Random bytes in a secret: 192 bits. */
const SECRET_BYTES = 24;
/** Characters of the secret kept in clear: `tp_` and 7 of the random part (42 bits). */
const PREFIX_LENGTH = 10;

async function insertOrConflict(write: () => Promise<void>, detail: string): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ProblemError("name-taken", detail);
    }
    throw error;
  }
}

export const apiKeysRouter = createRouter()
  .openapi(endpoints.createKey, async (c) => {
    const body = c.req.valid("json");
    const nowMs = Date.now();
    const expiresAtMs = body.expires_at === null ? null : Date.parse(body.expires_at);
    if (expiresAtMs !== null && expiresAtMs <= nowMs) {
      throw validationProblem("The key would be expired already.", [
        { pointer: "#/expires_at", detail: "must be in the future", code: "expires-in-past" },
      ]);
    }
    const secret = `tp_${toBase64Url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
    const key: ApiKeyRecord = {
      id: crypto.randomUUID(),
      name: body.name,
      role: body.role,
      accounts: body.accounts === "*" ? "*" : [...new Set(body.accounts)],
      ticketSystem: body.ticket_system,
      prefix: secret.slice(0, PREFIX_LENGTH),
      expiresAtMs,
      revokedAtMs: null,
      createdBy: c.get("actor"),
      createdAtMs: nowMs,
    };
    const db = createDb(c.env.DB);
    await insertOrConflict(
      async () => insertApiKey(db, key, await sha256Hex(secret)),
      `An API key named ${body.name} exists.`,
    );
    c.header("Location", `/v1/api-keys/${key.id}`);
    return c.json({ ...toApiKeyResource(key), secret }, 201);
  })
  .openapi(endpoints.listKeys, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listApiKeys(createDb(c.env.DB), cursorPosition(cursor), limit);
    const page = toPage(rows, limit, (k) => ({ atMs: k.createdAtMs, id: k.id }));
    return c.json({ items: page.items.map(toApiKeyResource), next_cursor: page.nextCursor }, 200);
  })
  .openapi(endpoints.getKey, async (c) => {
    const { id } = c.req.valid("param");
    const key = await getApiKey(createDb(c.env.DB), id);
    if (key === undefined) {
      throw new ProblemError("not-found", `No API key ${id}.`);
    }
    return c.json(toApiKeyResource(key), 200);
  })
  .openapi(endpoints.revokeKey, async (c) => {
    const { id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    const key = await getApiKey(db, id);
    if (key === undefined) {
      throw new ProblemError("not-found", `No API key ${id}.`);
    }
    c.set("auditBefore", toApiKeyResource(key));
    await revokeApiKey(db, id, Date.now());
    return c.body(null, 204);
  })
  .openapi(endpoints.createBinding, async (c) => {
    const body = c.req.valid("json");
    const binding = {
      id: crypto.randomUUID(),
      email: body.email,
      role: body.role,
      accounts: body.accounts === "*" ? ("*" as const) : [...new Set(body.accounts)],
      createdBy: c.get("actor"),
      createdAtMs: Date.now(),
    };
    const db = createDb(c.env.DB);
    await insertOrConflict(
      () => insertAccessRoleBinding(db, binding),
      `${body.email} has a role binding already; delete it first.`,
    );
    c.header("Location", `/v1/access-role-bindings/${binding.id}`);
    return c.json(toBindingResource(binding), 201);
  })
  .openapi(endpoints.listBindings, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listAccessRoleBindings(createDb(c.env.DB), cursorPosition(cursor), limit);
    const page = toPage(rows, limit, (b) => ({ atMs: b.createdAtMs, id: b.id }));
    return c.json({ items: page.items.map(toBindingResource), next_cursor: page.nextCursor }, 200);
  })
  .openapi(endpoints.deleteBinding, async (c) => {
    const { id } = c.req.valid("param");
    const db = createDb(c.env.DB);
    const binding = await getAccessRoleBinding(db, id);
    if (binding === undefined) {
      throw new ProblemError("not-found", `No Access role binding ${id}.`);
    }
    c.set("auditBefore", toBindingResource(binding));
    await deleteAccessRoleBinding(db, id);
    return c.body(null, 204);
  })
  .openapi(endpoints.whoAmI, (c) => {
    const identity = c.get("identity");
    return c.json(
      {
        actor: identity.actor,
        role: identity.role,
        accounts: identity.accounts === "*" ? ("*" as const) : [...identity.accounts],
        ticket_system: identity.ticketSystem,
      },
      200,
    );
  });
