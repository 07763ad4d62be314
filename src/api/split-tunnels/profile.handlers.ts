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
import { entriesCursor, entriesOffset } from "./entries.schemas";
import { loadSplitTunnel } from "./load";
import type * as endpoints from "./profile.endpoints";
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
  const { cursor, limit } = c.req.valid("query");
  const db = createDb(c.env.DB);
  const { effective } = await loadSplitTunnel(db, await requireAccount(db, account_id), profile);
  const offset = entriesOffset(effective.entries, cursor);
  const page = effective.entries.slice(offset, offset + limit);
  return c.json(
    {
      items: page.map(effectiveEntryToWire),
      next_cursor: entriesCursor(effective.entries, offset + limit),
    },
    200,
  );
};

export const getSplitTunnelEntry: AppHandler<typeof endpoints.getSplitTunnelEntry> = async (c) => {
  const { account_id, profile, address } = c.req.valid("param");
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
  const { source } = entry;
  const routes =
    source.kind === "warp-default-remainder"
      ? source.carvedBy
      : source.kind === "route"
        ? source.routes
        : [];
  return c.json({ ...effectiveEntryToWire(entry), routes }, 200);
};
