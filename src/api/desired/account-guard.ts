/** Account-scoped endpoints answer 404 for an account tunnelplane does not manage. */
import { type AccountRecord, getAccount } from "../../db/accounts.repo";
import type { Db } from "../../db/client";
import { ProblemError } from "../problem";

/**
 * The account, or a 404 problem.
 * @throws ProblemError not-found
 */
export async function requireAccount(db: Db, accountId: string): Promise<AccountRecord> {
  const account = await getAccount(db, accountId);
  if (account === undefined) {
    throw new ProblemError("not-found", `Account ${accountId} is not registered.`);
  }
  return account;
}
