/**
 * The device profiles' Local Domain Fallback lists as the API's checks see them: the ones the
 * last run observed (tunnelplane does not manage them), and Cloudflare's default list for a
 * profile no run has observed yet.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { listAllObjects } from "../../db/desired-objects.repo";
import { accounts } from "../../db/schema";
import {
  CLOUDFLARE_DEFAULT_FALLBACK_SUFFIXES,
  describeLocalFallbackConflict,
  findLocalFallbackConflicts,
  type ProfileFallback,
} from "../../domain/routes/local-fallback";
import type { WriteWarning } from "../desired/collection";

/**
 * Every profile's list: the default profile, the live custom profiles by ascending precedence,
 * then profiles tunnelplane does not own (`cloudflare:<policy_id>`) as last observed, by key.
 * Two queries.
 */
export async function loadProfileFallbacks(db: Db, accountId: string): Promise<ProfileFallback[]> {
  const [rows, profiles] = await Promise.all([
    db
      .select({ json: accounts.fallbackDomainsJson })
      .from(accounts)
      .where(eq(accounts.id, accountId)),
    listAllObjects(db, accountId, "device_profile"),
  ]);
  const json = rows[0]?.json ?? null;
  const observed = json === null ? {} : (JSON.parse(json) as Record<string, string[]>);
  const owned = [
    "default",
    ...[...profiles].sort((a, b) => a.spec.precedence - b.spec.precedence).map((p) => p.id),
  ];
  const others = Object.keys(observed)
    .filter((key) => key.startsWith("cloudflare:"))
    .sort();
  return [...owned, ...others].map((profile) => {
    const suffixes = observed[profile];
    return suffixes === undefined
      ? { profile, suffixes: CLOUDFLARE_DEFAULT_FALLBACK_SUFFIXES, assumedDefault: true }
      : { profile, suffixes, assumedDefault: false };
  });
}

/** The `hostname-route-local-fallback` errors of `routes`, as write warnings. */
export function localFallbackWarnings(
  routes: readonly { id: string; hostname: string }[],
  profiles: readonly ProfileFallback[],
): WriteWarning[] {
  return findLocalFallbackConflicts(routes, profiles).map((conflict) => ({
    code: conflict.code,
    message: describeLocalFallbackConflict(conflict),
  }));
}
