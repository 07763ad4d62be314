/**
 * SDK failures -> UpstreamError, here and nowhere else. The reconciler reads `retryable` and
 * `retryAfterMs` to decide whether to wait, back off or record a terminal error.
 */
import Cloudflare from "cloudflare";
import {
  describeTokenProblem,
  MISSING_PERMISSION_CODE,
  neededPermission,
  type PermissionArea,
  permissionAreaOf,
} from "../domain/token-permissions";
import { BudgetExhaustedError, CallsHeldError, REFUSED_REQUEST_HEADER } from "./client";

/** A failed Cloudflare API call, classified. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 for a network failure. */
    readonly status: number,
    /** True for 429, 5xx and network failures. */
    readonly retryable: boolean,
    /** Wait asked for by `Retry-After`, in ms, or null when absent. */
    readonly retryAfterMs: number | null,
    /** Cloudflare error codes from the body's `errors[]`. */
    readonly codes: number[],
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/**
 * A call Cloudflare refused with 403 / 10000: the account's API token lacks the permission of
 * `area`. Terminal: never retried, and no other call of the area is worth sending in the run
 * (a new token or new permissions are needed).
 */
export class MissingPermissionError extends UpstreamError {
  constructor(
    /** The area whose permission is missing. */
    readonly area: PermissionArea,
    /** The refused request, e.g. `GET gateway/rules` (the path after the account). */
    readonly request: string,
  ) {
    super(
      describeTokenProblem({
        permission: neededPermission(area, !request.startsWith("GET ")).label,
        request,
      }),
      403,
      false,
      null,
      [MISSING_PERMISSION_CODE],
    );
    this.name = "MissingPermissionError";
  }
}

/** The MissingPermissionError of a 403 carrying code 10000 on a known path, else null. */
function missingPermissionOf(
  status: number,
  codes: number[],
  headers: Headers | undefined,
): MissingPermissionError | null {
  const request = headers?.get(REFUSED_REQUEST_HEADER) ?? null;
  if (status !== 403 || !codes.includes(MISSING_PERMISSION_CODE) || request === null) {
    return null;
  }
  const area = permissionAreaOf(request.slice(request.indexOf(" ") + 1));
  return area === null ? null : new MissingPermissionError(area, request);
}

function retryAfterMsOf(headers: Headers | undefined): number | null {
  const value = headers?.get("retry-after");
  if (value === null || value === undefined) {
    return null;
  }
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : null;
}

/**
 * Classifies anything a SDK call threw. A BudgetExhaustedError or CallsHeldError passes through
 * unchanged: it is not an upstream failure but the run's own limit. Errors that are not Cloudflare's become terminal
 * UpstreamErrors carrying their own message (they come from our code, never hold a token).
 * @returns an UpstreamError whose message holds Cloudflare's error messages, never the token.
 */
export function toUpstreamError(
  error: unknown,
): UpstreamError | BudgetExhaustedError | CallsHeldError {
  if (
    error instanceof BudgetExhaustedError ||
    error instanceof CallsHeldError ||
    error instanceof UpstreamError
  ) {
    return error;
  }
  // The SDK wraps whatever its fetch throws in an APIConnectionError, our own refusals included.
  if (
    error instanceof Cloudflare.APIConnectionError &&
    (error.cause instanceof BudgetExhaustedError || error.cause instanceof CallsHeldError)
  ) {
    return error.cause;
  }
  if (error instanceof Cloudflare.APIError && error.status !== undefined) {
    const items = (error.errors ?? []) as { code?: number; message?: string }[];
    const codes = items.map((e) => e.code).filter((c): c is number => typeof c === "number");
    const text = items.map((e) => `${e.code ?? "?"}: ${e.message ?? ""}`).join("; ");
    const status = error.status;
    const missing = missingPermissionOf(status, codes, error.headers as Headers | undefined);
    if (missing !== null) {
      return missing;
    }
    return new UpstreamError(
      `Cloudflare answered ${status}${text === "" ? "" : ` (${text})`}`,
      status,
      status === 429 || status >= 500,
      retryAfterMsOf(error.headers as Headers | undefined),
      codes,
    );
  }
  if (error instanceof Cloudflare.APIConnectionError) {
    return new UpstreamError("Cloudflare could not be reached", 0, true, null, []);
  }
  // Not a Cloudflare answer (e.g. a reference that could not be resolved): terminal for this run.
  return new UpstreamError(
    error instanceof Error ? error.message : String(error),
    0,
    false,
    null,
    [],
  );
}
