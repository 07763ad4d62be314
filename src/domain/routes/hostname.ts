/**
 * Private hostname routes: Cloudflare's format rules and the form Cloudflare stores. A hostname
 * is under 255 characters once its leading and trailing dots are trimmed; it may hold one
 * wildcard, and only as the whole leading label (`*.apps.acme.internal`), which Cloudflare stores
 * without its `*.` (as `apps.acme.internal`) and matches exactly one label below it. Split-tunnel
 * host entries match differently (every depth), so the two never share this matcher.
 * @see /work/shared/reference/cloudflare-api.md §9.2
 */
import { err, ok, type Result } from "../result";

/** Longest hostname Cloudflare accepts, in characters ("under 255"). */
export const MAX_HOSTNAME_LENGTH = 254;

/** A hostname route's name in both forms. */
export interface ParsedHostname {
  /** As the user means it, trimmed and lower case (`*.apps.acme.internal`). */
  hostname: string;
  /** As Cloudflare stores and answers it (`apps.acme.internal`): compare in this form. */
  cloudflareForm: string;
}

/** Why a hostname is refused, in words a user can act on. */
export type HostnameError =
  | "empty or with an empty label"
  | "255 characters or longer"
  | "more than one wildcard"
  | "a wildcard that is not the whole leading label";

/** Parses a hostname route's name by Cloudflare's rules; pure. */
export function parseHostname(input: string): Result<ParsedHostname, HostnameError> {
  const hostname = input
    .trim()
    .replace(/^\.+|\.+$/g, "")
    .toLowerCase();
  const labels = hostname.split(".");
  if (hostname === "" || labels.some((label) => label === "")) {
    return err("empty or with an empty label");
  }
  if (hostname.length > MAX_HOSTNAME_LENGTH) {
    return err("255 characters or longer");
  }
  const wildcards = hostname.split("*").length - 1;
  if (wildcards > 1) {
    return err("more than one wildcard");
  }
  if (wildcards === 0) {
    return ok({ hostname, cloudflareForm: hostname });
  }
  if (labels[0] !== "*" || labels.length < 2) {
    return err("a wildcard that is not the whole leading label");
  }
  return ok({ hostname, cloudflareForm: labels.slice(1).join(".") });
}

/** The form Cloudflare stores for a hostname that passed parseHostname (else the input). */
export function cloudflareHostname(hostname: string): string {
  const parsed = parseHostname(hostname);
  return parsed.ok ? parsed.value.cloudflareForm : hostname;
}
