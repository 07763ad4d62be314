/** API keys for tests: minted through the API with the admin key, each with a unique name. */
import type { ExpectStatic } from "vitest";
import { post } from "./api";

/** A minted key: its secret (for `call(..., { key })`) and the actor name the audit log uses. */
export interface TestKey {
  id: string;
  name: string;
  secret: string;
  actor: string;
}

/** Creates a key with `role` for `accounts` (`"*"` for all); ticketing keys need `ticketSystem`. */
export async function mintKey(
  expect: ExpectStatic,
  role: "admin" | "operator" | "viewer" | "ticketing",
  accounts: "*" | string[],
  ticketSystem: string | null = null,
): Promise<TestKey> {
  const name = `${role}-${crypto.randomUUID().slice(0, 8)}`;
  const response = await post<{ id: string; secret: string }>("/v1/api-keys", {
    name,
    role,
    accounts,
    ticket_system: ticketSystem,
  });
  expect(response.status).toBe(201);
  return { id: response.body.id, name, secret: response.body.secret, actor: `key:${name}` };
}
