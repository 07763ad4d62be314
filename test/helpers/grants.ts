/**
 * Grant test helpers: the callback receiver Worker (bound as CALLBACK_FETCH), signature checks,
 * the account's AccountLock alarm, and a clock moved forward without sleeping.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { put } from "./api";

/** The callback secret the tests set on their accounts. */
export const CALLBACK_SECRET = "test-callback-secret-0123456789abcdef";

/** One callback as the receiver recorded it. */
export interface ReceivedCallback {
  headers: Record<string, string>;
  body: string;
}

function receiver(): Fetcher {
  const fetcher = env.CALLBACK_FETCH;
  if (fetcher === undefined) {
    throw new Error("CALLBACK_FETCH is not bound");
  }
  return fetcher;
}

/** A fresh hook URL on the receiver. */
export function newHook(): { name: string; url: string } {
  const name = `h${crypto.randomUUID().slice(0, 8)}`;
  return { name, url: `http://receiver/hooks/${name}` };
}

/** What the receiver got on a hook, in arrival order. */
export async function receivedOn(name: string): Promise<ReceivedCallback[]> {
  const response = await receiver().fetch(`http://receiver/__control/received?name=${name}`);
  return (await response.json()) as ReceivedCallback[];
}

/** Makes the receiver answer 503 to the next `times` deliveries on a hook. */
export async function failNext(name: string, times: number): Promise<void> {
  await receiver().fetch(`http://receiver/__control/fail?name=${name}&times=${times}`, {
    method: "POST",
  });
}

/** Verifies a callback's signature the way a receiver would: HMAC-SHA256 over `<ts>.<body>`. */
export async function hasValidSignature(callback: ReceivedCallback): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(CALLBACK_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const hex = callback.headers["x-tunnelplane-signature"]?.replace(/^sha256=/, "") ?? "";
  const signature = new Uint8Array((hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)));
  const message = `${callback.headers["x-tunnelplane-timestamp"]}.${callback.body}`;
  return crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(message));
}

/** Sets the account's callback secret. */
export async function setCallbackSecret(base: string): Promise<void> {
  const response = await put(`${base}/grant-settings`, { callback_secret: CALLBACK_SECRET });
  if (response.status !== 200) {
    throw new Error(`grant-settings answered ${response.status}`);
  }
}

/**
 * Runs the account's AccountLock alarm as if the clock read `atMs` (only `Date` is faked, so
 * nothing sleeps). Returns whether an alarm was scheduled.
 */
export async function fireAlarmAt(accountId: string, atMs: number): Promise<boolean> {
  const stub = env.ACCOUNT_LOCK.get(env.ACCOUNT_LOCK.idFromName(accountId));
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(atMs);
  try {
    return await runDurableObjectAlarm(stub);
  } finally {
    vi.useRealTimers();
  }
}
