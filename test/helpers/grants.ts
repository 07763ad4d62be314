/**
 * Grant test helpers: the callback receiver Worker (bound as CALLBACK_FETCH), signature checks,
 * the account's AccountLock alarm, and a clock moved forward without sleeping.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
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

/**
 * A fresh hook URL. It names a public host; CALLBACK_FETCH carries every callback to the
 * receiver Worker whatever the host.
 */
export function newHook(): { name: string; url: string } {
  const name = `h${crypto.randomUUID().slice(0, 8)}`;
  return { name, url: `https://hooks.example.com/hooks/${name}` };
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

/** Makes the receiver answer every delivery on a hook with a 307 to a loopback address. */
export async function redirectAll(name: string): Promise<void> {
  await receiver().fetch(`http://receiver/__control/redirect?name=${name}`, { method: "POST" });
}

/** Makes the receiver hold every delivery on a hook `ms` before answering (0: answer at once). */
export async function holdAll(name: string, ms: number): Promise<void> {
  await receiver().fetch(`http://receiver/__control/hold?name=${name}&ms=${ms}`, {
    method: "POST",
  });
}

/** How many requests reached a hook, answered or not. */
export async function startedOn(name: string): Promise<number> {
  const response = await receiver().fetch(`http://receiver/__control/started?name=${name}`);
  return ((await response.json()) as { started: number }).started;
}

async function verifies(secret: string, mac: string, content: string): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signature = new Uint8Array((mac.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)));
  return crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(content));
}

/**
 * For each secret, whether one of the callback's `v1=` signatures verifies under it, the way a
 * receiver checks: HMAC-SHA256 over `<timestamp>.<delivery id>.<event>.<raw body>`.
 */
export async function signedUnder(
  callback: ReceivedCallback,
  secrets: string[],
): Promise<boolean[]> {
  const h = callback.headers;
  const content = `${h["x-tunnelplane-timestamp"]}.${h["x-tunnelplane-delivery"]}.${h["x-tunnelplane-event"]}.${callback.body}`;
  const macs = (h["x-tunnelplane-signature"] ?? "")
    .split(",")
    .map((part) => /^v1=([0-9a-f]{64})$/.exec(part)?.[1] ?? "");
  return Promise.all(
    secrets.map(async (secret) => {
      const results = await Promise.all(macs.map((mac) => verifies(secret, mac, content)));
      return results.includes(true);
    }),
  );
}

/** Whether the callback carries a valid signature under the tests' CALLBACK_SECRET. */
export async function hasValidSignature(callback: ReceivedCallback): Promise<boolean> {
  return (await signedUnder(callback, [CALLBACK_SECRET]))[0] === true;
}

/**
 * Reads `read()` until `done` holds (every 20 ms, at most 5 s): for work the account's alarm does
 * on its own after a response.
 * @throws Error naming the last value when it never holds.
 */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean) {
  let value = await read();
  for (let i = 0; i < 250 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  if (!done(value)) {
    throw new Error(`still not done: ${JSON.stringify(value)}`);
  }
  return value;
}

/** The time the account's AccountLock alarm is set for (epoch ms), or null. */
export async function alarmOf(accountId: string): Promise<number | null> {
  const stub = env.ACCOUNT_LOCK.get(env.ACCOUNT_LOCK.idFromName(accountId));
  return runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
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
