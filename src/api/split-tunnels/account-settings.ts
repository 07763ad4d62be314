/** What the account adds to every split tunnel list, read from D1 for the API's checks. */
import { type AccountRecord, getAccount } from "../../db/accounts.repo";
import type { Db } from "../../db/client";
import { countObjects } from "../../db/desired-objects.repo";
import type { SplitTunnelAccountSettings } from "../../domain/split-tunnels/effective";

/**
 * The account's team domain, and its initial resolved range when it has live hostname routes
 * (as `splitTunnelSettingsOf` reads them from a desired state). `account` saves a query when the
 * caller has it. Two queries at most.
 */
export async function loadSplitTunnelSettings(
  db: Db,
  accountId: string,
  account?: AccountRecord,
): Promise<SplitTunnelAccountSettings> {
  const [record, hostnameRoutes] = await Promise.all([
    account ?? getAccount(db, accountId),
    countObjects(db, accountId, "hostname_route"),
  ]);
  return {
    teamDomain: record?.teamDomain ?? null,
    initialResolvedIpv4: hostnameRoutes > 0 ? (record?.initialResolvedIpv4 ?? null) : null,
  };
}
