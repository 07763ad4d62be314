/**
 * Handlers of `GET split-tunnels/{profile}` and its entries. The profile read never sees
 * `default`: the default profile's singleton route is mounted first and answers with the same
 * fields; the entries endpoints take `default` too.
 */
import { createDb } from "../../db/client";
import { canonicalCidr } from "../../domain/cidr";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { toEnvelope } from "../desired/object.schemas";
import { etagOf } from "../middleware/etag";
import { ProblemError } from "../problem";
import { entriesCursor, entriesOffset, routesPage } from "./entries.schemas";
import { loadSplitTunnel } from "./load";
import type * as endpoints from "./profile.endpoints";
import { MAX_ROUTES_PER_PAGE } from "./profile.endpoints";
import { effectiveEntryToWire, presentSplitTunnel } from "./split-tunnel.schemas";

export const getProfileSplitTunnel: AppHandler<typeof endpoints.getProfileSplitTunnel> = async (
  c,
) => {
  const { account_id, profile } = c.req.valid("param");
  const db = createDb(c.env.DB);
  const loaded = await loadSplitTunnel(db, await requireAccount(db, account_id), profile);
  c.header("ETag", etagOf(loaded.object.version));
  return c.json(
    { ...toEnvelope(loaded.object), ...presentSplitTunnel(loaded.spec, loaded.effective) },
    200,
  );
};

export const listSplitTunnelEntries: AppHandler<typeof endpoints.listSplitTunnelEntries> = async (
  c,
) => {
  const { account_id, profile } = c.req.valid("param");
  const { cursor, limit, expand, routes_limit } = c.req.valid("query");
  if (expand === "routes" && limit * routes_limit > MAX_ROUTES_PER_PAGE) {
    throw new ProblemError(
      "validation-failed",
      `With expand=routes a page names at most ${MAX_ROUTES_PER_PAGE} routes: limit × routes_limit is ${limit * routes_limit}.`,
      {
        errors: [
          {
            parameter: "routes_limit",
            detail: `at most ${Math.floor(MAX_ROUTES_PER_PAGE / limit)} with limit ${limit}`,
            code: "too-big",
          },
        ],
      },
    );
  }
  const db = createDb(c.env.DB);
  const { effective } = await loadSplitTunnel(db, await requireAccount(db, account_id), profile);
  const offset = entriesOffset(effective.entries, cursor);
  const page = effective.entries.slice(offset, offset + limit);
  return c.json(
    {
      items: page.map((entry) =>
        expand === "routes"
          ? { ...effectiveEntryToWire(entry), ...routesPage(entry, undefined, routes_limit) }
          : effectiveEntryToWire(entry),
      ),
      next_cursor: entriesCursor(effective.entries, offset + limit),
    },
    200,
  );
};

export const getSplitTunnelEntry: AppHandler<typeof endpoints.getSplitTunnelEntry> = async (c) => {
  const { account_id, profile, address } = c.req.valid("param");
  const { routes_cursor, routes_limit } = c.req.valid("query");
  const canonical = canonicalCidr(address);
  if (!canonical.ok) {
    throw new ProblemError("validation-failed", `${address} is not a network in canonical form.`, {
      errors: [
        { parameter: "address", detail: "a CIDR such as 10.0.0.0/12", code: "invalid-cidr" },
      ],
    });
  }
  const db = createDb(c.env.DB);
  const { effective } = await loadSplitTunnel(db, await requireAccount(db, account_id), profile);
  const entry = effective.entries.find((e) => "address" in e && e.address === canonical.value);
  if (entry === undefined) {
    throw new ProblemError(
      "not-found",
      `The split tunnel of ${profile} has no entry ${canonical.value}.`,
    );
  }
  return c.json(
    { ...effectiveEntryToWire(entry), ...routesPage(entry, routes_cursor, routes_limit) },
    200,
  );
};
