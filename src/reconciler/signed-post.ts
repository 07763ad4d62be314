/**
 * One signed POST to a receiver, shared by grant callbacks and event webhooks. The body is
 * signed with HMAC-SHA256 over `<timestamp>.<delivery id>.<event>.<body>`:
 *   X-Tunnelplane-Event: <event>
 *   X-Tunnelplane-Delivery: <delivery id>
 *   X-Tunnelplane-Timestamp: <unix seconds>
 *   X-Tunnelplane-Signature: v1=<hex>[,v1=<hex>]   (two while a replaced secret still overlaps)
 * The URL is checked again before each attempt; redirects are not followed (a 3xx is a failed
 * attempt); an attempt that takes longer than CALLBACK_ATTEMPT_TIMEOUT_MS fails. The outcome
 * keeps the status code, never the receiver's body or the network error's text.
 */
import type { DeliveryAttempt } from "../db/grant-deliveries.repo";
import { checkCallbackUrl, describeCallbackUrlError } from "../domain/grants/callback-url";
import { hmacSha256Hex } from "../lib/hmac";
import type { ReconcileDeps } from "./deps";

/** What one delivery sends: its id, event name, target and exact body. */
export interface SignedMessage {
  id: string;
  event: string;
  url: string;
  payloadJson: string;
}

/** What one delivery is signed over: everything a receiver acts on. */
export function signedContent(
  timestampS: number,
  deliveryId: string,
  event: string,
  body: string,
): string {
  return `${timestampS}.${deliveryId}.${event}.${body}`;
}

/**
 * The `X-Tunnelplane-Signature` value: `v1=<hex HMAC-SHA256>` under each secret, comma-separated
 * (the current secret first).
 */
export async function signCallback(
  secrets: readonly string[],
  timestampS: number,
  message: Pick<SignedMessage, "id" | "event" | "payloadJson">,
): Promise<string> {
  const content = signedContent(timestampS, message.id, message.event, message.payloadJson);
  const macs = await Promise.all(secrets.map((secret) => hmacSha256Hex(secret, content)));
  return macs.map((mac) => `v1=${mac}`).join(",");
}

/**
 * How one attempt ended: the receiver's status (`error` null on 2xx), or not sent and why, in
 * our words. `final` is true when retrying cannot help (the URL is refused).
 */
export type AttemptResult = DeliveryAttempt & { final: boolean };

/**
 * POSTs `message` signed under `secrets`, once.
 * @param allowedPorts ports other than 443 the account allows for callback URLs.
 */
export async function postSigned(
  deps: Pick<ReconcileDeps, "nowMs" | "config" | "callbackFetch">,
  message: SignedMessage,
  secrets: readonly string[],
  allowedPorts: readonly number[],
): Promise<AttemptResult> {
  const atMs = deps.nowMs();
  const target = checkCallbackUrl(message.url, allowedPorts);
  if (!target.ok) {
    const error = `callback URL refused: ${describeCallbackUrlError(target.error)}`;
    return { atMs, statusCode: null, error, final: true };
  }
  const timeoutMs = deps.config.callbackAttemptTimeoutMs;
  const timestampS = Math.floor(atMs / 1000);
  let response: Response;
  try {
    response = await deps.callbackFetch(
      new Request(target.value.url, {
        method: "POST",
        redirect: "manual",
        headers: {
          "Content-Type": "application/json",
          "X-Tunnelplane-Event": message.event,
          "X-Tunnelplane-Delivery": message.id,
          "X-Tunnelplane-Timestamp": `${timestampS}`,
          "X-Tunnelplane-Signature": await signCallback(secrets, timestampS, message),
        },
        body: message.payloadJson,
        signal: AbortSignal.timeout(timeoutMs),
      }),
    );
  } catch (error) {
    // The error's own text may describe the receiver's network; only its kind is kept.
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    const reason = timedOut ? `no response within ${timeoutMs} ms` : "no response";
    return { atMs, statusCode: null, error: reason, final: false };
  }
  await response.body?.cancel();
  const status = response.status;
  const error =
    status >= 300 && status < 400
      ? "redirects are not followed"
      : response.ok
        ? null
        : "the receiver did not answer 2xx";
  return { atMs, statusCode: status, error, final: false };
}
