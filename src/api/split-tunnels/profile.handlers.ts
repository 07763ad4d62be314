/**
 * Handler of `GET split-tunnels/{profile}` for device profiles. `default` never reaches it: the
 * default profile's singleton route is mounted first and answers with the same fields.
 */
import { createDb } from "../../db/client";
import { getObject, listAllObjects } from "../../db/desired-objects.repo";
import { effectiveSplitTunnel } from "../../domain/split-tunnels/effective";
import { routedNetworksFor } from "../../domain/split-tunnels/profile-routes";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { toEnvelope } from "../desired/object.schemas";
import { etagOf } from "../middleware/etag";
import { ProblemError } from "../problem";
import type * as endpoints from "./profile.endpoints";
import { presentSplitTunnel } from "./split-tunnel.schemas";

export const getProfileSplitTunnel: AppHandler<typeof endpoints.getProfileSplitTunnel> = async (
  c,
) => {
  const { account_id, profile } = c.req.valid("param");
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, account_id);
  const found = await getObject(db, account_id, "device_profile", profile);
  if (found === undefined) {
    throw new ProblemError("not-found", `No device profile ${profile} in account ${account_id}.`);
  }
  const [routes, vnets] = await Promise.all([
    listAllObjects(db, account_id, "tunnel_route"),
    listAllObjects(db, account_id, "virtual_network"),
  ]);
  const networks = routedNetworksFor(
    found.spec.virtualNetworkIds,
    routes.map((r) => r.spec),
    vnets.find((v) => v.spec.isDefault)?.id ?? null,
  );
  const spec = found.spec.splitTunnel;
  const effective = effectiveSplitTunnel(spec, networks, { teamDomain: account.teamDomain });
  c.header("ETag", etagOf(found.version));
  return c.json({ ...toEnvelope(found), ...presentSplitTunnel(spec, effective) }, 200);
};
