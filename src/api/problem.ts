/**
 * API errors as RFC 9457 problem details. Every error the API returns is a ProblemError with a
 * slug from one catalogue, so a slug always has the same status and title.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
import type { z } from "@hono/zod-openapi";

/** Every problem the API can return: slug -> status and fixed title. */
export const PROBLEMS = {
  "malformed-request": { status: 400, title: "The request body cannot be parsed" },
  "payload-too-large": { status: 413, title: "The request body is too large" },
  "unsupported-media-type": { status: 415, title: "The request body must be application/json" },
  unauthorized: { status: 401, title: "Missing or invalid API key" },
  forbidden: { status: 403, title: "The caller's role does not allow this" },
  "grant-self-approval": {
    status: 403,
    title: "The requester of a grant cannot decide it",
  },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "The path does not answer this method" },
  "account-exists": { status: 409, title: "The account is already registered" },
  "name-taken": { status: 409, title: "The name is already in use" },
  "duplicate-route": {
    status: 409,
    title: "The network is already routed in this virtual network",
  },
  "precedence-taken": { status: 409, title: "Another policy has this precedence" },
  "profile-precedence-taken": {
    status: 409,
    title: "Another device profile has this precedence",
  },
  "default-virtual-network-exists": {
    status: 409,
    title: "Another virtual network is the default",
  },
  "in-use": { status: 409, title: "The object is still referenced" },
  "already-managed": {
    status: 409,
    title: "The Cloudflare object is already managed by tunnelplane",
  },
  "tunnel-not-created": { status: 409, title: "The tunnel does not exist in Cloudflare yet" },
  "lease-held": { status: 409, title: "Another reconcile of this account is running" },
  "idempotency-key-reused": {
    status: 409,
    title: "The Idempotency-Key was already used with another request body",
  },
  "idempotency-key-in-progress": {
    status: 409,
    title: "A request with this Idempotency-Key is still running",
  },
  "grant-transition-refused": { status: 409, title: "The grant cannot make this transition" },
  "version-mismatch": { status: 412, title: "The object changed since it was read" },
  "precondition-required": {
    status: 428,
    title: "The request must name the version it expects (If-Match)",
  },
  "validation-failed": { status: 422, title: "The request is not valid" },
  "assertion-failed": { status: 422, title: "The change would break an assertion" },
  "limit-exceeded": { status: 422, title: "The account's quota does not allow this" },
  "not-importable": {
    status: 422,
    title: "The Cloudflare object cannot be imported without loss",
  },
  "upstream-failed": { status: 502, title: "The Cloudflare API call failed" },
  "internal-error": { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

/** Most `errors[]` entries one answer lists; the detail says how many there were in all. */
export const MAX_REPORTED_ERRORS = 100;

/** Longest part of an input (a value, a key) quoted back in an answer, in characters. */
export const QUOTED_INPUT_MAX = 80;

/** The input as quoted in an answer: cut to QUOTED_INPUT_MAX characters, `…` marking the cut. */
export function quoteInput(input: string): string {
  return input.length > QUOTED_INPUT_MAX ? `${input.slice(0, QUOTED_INPUT_MAX)}…` : input;
}

/** A problem slug. */
export type ProblemSlug = keyof typeof PROBLEMS;

/** One invalid input: a JSON pointer into the body, or the name of a query/path/header parameter. */
export type InvalidField =
  | { pointer: string; detail: string; code: string }
  | { parameter: string; detail: string; code: string };

/**
 * An error the API renders as application/problem+json. `options.errors` is cut to the first
 * MAX_REPORTED_ERRORS entries, so no input can make the answer grow without bound.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: InvalidField[] | undefined;

  constructor(
    readonly slug: ProblemSlug,
    /** This occurrence, safe to show to the caller. */
    readonly detail: string,
    readonly options: {
      errors?: InvalidField[];
      headers?: Record<string, string>;
      /** RFC 9457 extension members added to the body (e.g. the broken assertions). */
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = "ProblemError";
    this.status = PROBLEMS[slug].status;
    this.title = PROBLEMS[slug].title;
    this.errors = options.errors?.slice(0, MAX_REPORTED_ERRORS);
  }
}

/**
 * RFC 6901 pointer for a zod issue path, as a URI fragment (`#/destinations/0`). A key longer
 * than QUOTED_INPUT_MAX is cut (`…` marks it), so a 1 MB key is never echoed whole.
 */
export function toPointer(path: readonly PropertyKey[]): string {
  const escaped = path.map((p) => quoteInput(String(p)).replace(/~/g, "~0").replace(/\//g, "~1"));
  return `#/${escaped.join("/")}`;
}

function kebab(code: string): string {
  return code.replaceAll("_", "-");
}

/**
 * Converts zod issues of one request part into `errors[]` entries: the first
 * MAX_REPORTED_ERRORS of them, and how many there were in all (`total`). A strict object's
 * `unrecognized_keys` issue becomes one `unknown-field` entry per field, each pointing at the
 * field itself (`#/split_tunnel/entries/0/adress`), so a misspelt field is named, not dropped;
 * keys are quoted at most QUOTED_INPUT_MAX characters long. Codes are kebab-case (`too-small`).
 */
export function zodIssuesToFields(
  issues: readonly z.core.$ZodIssue[],
  target: string,
): { errors: InvalidField[]; total: number } {
  const field = (path: readonly PropertyKey[], detail: string, code: string): InvalidField =>
    target === "json"
      ? { pointer: toPointer(path), detail, code }
      : { parameter: quoteInput(String(path[0] ?? target)), detail, code };
  const errors: InvalidField[] = [];
  let total = 0;
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      total += issue.keys.length;
      for (const key of issue.keys.slice(0, MAX_REPORTED_ERRORS - errors.length)) {
        const detail = `unknown field ${JSON.stringify(quoteInput(key))}`;
        errors.push(field([...issue.path, key], detail, "unknown-field"));
      }
      continue;
    }
    total += 1;
    if (errors.length < MAX_REPORTED_ERRORS) {
      // zod's own codes are snake_case; every code the API answers is kebab-case, like slugs.
      const code =
        issue.code === "custom" ? String(issue.params?.code ?? "invalid") : kebab(issue.code);
      errors.push(field(issue.path, issue.message, code));
    }
  }
  return { errors, total };
}

/** A 422 for domain rule violations found after schema validation. */
export function validationProblem(detail: string, errors: InvalidField[]): ProblemError {
  return new ProblemError("validation-failed", detail, { errors });
}
