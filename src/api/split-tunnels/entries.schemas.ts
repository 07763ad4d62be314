/**
 * Wire pieces for effective lists that run to thousands of entries: the cursors of the next page
 * of entries and of the routes behind one entry, and what cutting a list to `max_entries` costs,
 * with the ranges it sends through WARP listed up to a fixed number.
 */
import { z } from "@hono/zod-openapi";
import { decodeCursor, encodeCursor } from "../../db/pagination";
import { type BudgetNetwork, networkText } from "../../domain/split-tunnels/budget";
import type {
  EffectiveSplitTunnelEntry,
  SplitTunnelFit,
} from "../../domain/split-tunnels/effective";
import { ProblemError } from "../problem";

/** How many of the ranges a cut sends through WARP a read lists (`extra_ranges_count`: all). */
export const EXTRA_RANGES_SHOWN = 100;

/** What cutting the list costs, on reads; null when the exact list fits. */
export const FitSchema = z
  .object({
    exact_entries: z.number().int().openapi({ description: "Entries of the exact list." }),
    extra_addresses: z.string().openapi({
      description:
        "Unrouted addresses the cut list sends through WARP (IPv4 and IPv6), a decimal string: IPv6 counts exceed 2^53.",
      example: "12740608",
    }),
    protected_addresses: z.string().openapi({
      description:
        "Of those, addresses in home-router subnets or link-local and multicast defaults: 0 unless the budget leaves no other way.",
      example: "0",
    }),
    extra_ranges: z.array(z.string()).openapi({
      description: `The first ${EXTRA_RANGES_SHOWN} of the disjoint CIDRs holding those addresses, IPv4 first, ascending.`,
    }),
    extra_ranges_count: z.number().int(),
  })
  .nullable()
  .openapi("SplitTunnelFit");

/** `fit` on the wire. */
export function fitToWire(fit: SplitTunnelFit | undefined): z.infer<typeof FitSchema> {
  if (fit === undefined) {
    return null;
  }
  const { cost } = fit;
  return {
    exact_entries: fit.exactEntries,
    extra_addresses: cost.extraAddresses.toString(),
    protected_addresses: cost.protectedAddresses.toString(),
    extra_ranges: cost.extraRanges
      .slice(0, EXTRA_RANGES_SHOWN)
      .map((range: BudgetNetwork) => networkText(range)),
    extra_ranges_count: cost.extraRanges.length,
  };
}

/** The key an entry is found by: its address, or its host. */
export function entryKey(entry: { address: string } | { host: string }): string {
  return "address" in entry ? entry.address : entry.host;
}

/**
 * The cursor of the page starting at `offset` of a list of `length` keys, naming `lastKey`, the
 * key before the page; null when the list ends before the page.
 */
function cursorAt(lastKey: string | undefined, offset: number, length: number): string | null {
  return offset >= length || lastKey === undefined
    ? null
    : encodeCursor({ atMs: offset, id: lastKey });
}

/**
 * Where the page a cursor (the query parameter `parameter`) starts: 0 without one. `keyAt`
 * gives the key at a position of the list as it is now.
 * @throws ProblemError validation-failed (422) for a cursor this API did not return, or one whose
 * list has changed since (the key before the page is another one).
 */
function offsetOf(
  keyAt: (position: number) => string | undefined,
  cursor: string | undefined,
  parameter: string,
): number {
  if (cursor === undefined || cursor === "") {
    return 0;
  }
  const position = decodeCursor(cursor);
  const last = position === undefined ? undefined : keyAt(position.atMs - 1);
  if (position === undefined || last === undefined || last !== position.id) {
    throw new ProblemError(
      "validation-failed",
      "The cursor is not one this API returned for the list as it is now; start again without one.",
      { errors: [{ parameter, detail: "unknown or stale cursor", code: "invalid-cursor" }] },
    );
  }
  return position.atMs;
}

/** The cursor of the page of entries starting at `offset`, or null when `entries` ends before it. */
export function entriesCursor(
  entries: readonly ({ address: string } | { host: string })[],
  offset: number,
): string | null {
  const last = entries[offset - 1];
  return cursorAt(last === undefined ? undefined : entryKey(last), offset, entries.length);
}

/**
 * Where the page of entries a cursor names starts: 0 without one.
 * @throws ProblemError validation-failed (422) at `cursor` for a cursor this API did not return,
 * or one whose list has changed since (the entry before the page is another one).
 */
export function entriesOffset(
  entries: readonly ({ address: string } | { host: string })[],
  cursor: string | undefined,
): number {
  return offsetOf(
    (at) => {
      const entry = entries[at];
      return entry === undefined ? undefined : entryKey(entry);
    },
    cursor,
    "cursor",
  );
}

/** The routes behind an entry, canonical and sorted (empty for kinds without routes). */
export function routesOf(entry: EffectiveSplitTunnelEntry): readonly string[] {
  const { source } = entry;
  return source.kind === "warp-default-remainder"
    ? source.carvedBy
    : source.kind === "route"
      ? source.routes
      : [];
}

/** One page of the routes behind an entry, and the cursor of the next (`routes_cursor`). */
export function routesPage(
  entry: EffectiveSplitTunnelEntry,
  cursor: string | undefined,
  limit: number,
): { routes: string[]; routes_next_cursor: string | null } {
  const routes = routesOf(entry);
  const offset = offsetOf((at) => routes[at], cursor, "routes_cursor");
  const end = offset + limit;
  return {
    routes: routes.slice(offset, end),
    routes_next_cursor: cursorAt(routes[end - 1], end, routes.length),
  };
}
