/** Grant settings handlers: the callback secret is sealed before it is stored, never returned. */
import { createDb } from "../../db/client";
import { getGrantSettings, putGrantSettings } from "../../db/grant-settings.repo";
import { loadKeyRing, sealSecret } from "../../lib/key-ring";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { validationProblem } from "../problem";
import { toGrantSettingsResource } from "./grant-settings.schemas";
import type * as endpoints from "./grants.endpoints";

export const getSettings: AppHandler<typeof endpoints.getSettings> = async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  return c.json(toGrantSettingsResource(await getGrantSettings(db, account_id), Date.now()), 200);
};

export const putSettings: AppHandler<typeof endpoints.putSettings> = async (c) => {
  const { account_id } = c.req.valid("param");
  const body = c.req.valid("json");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const nowMs = Date.now();
  const overlapMs = body.previous_secret_valid_for_s * 1000;
  const secret =
    body.callback_secret === undefined
      ? undefined
      : {
          sealed: await sealSecret(await loadKeyRing(c.env), body.callback_secret, {
            accountId: account_id,
            purpose: "callback-secret",
          }),
          previousUntilMs: overlapMs === 0 ? null : nowMs + overlapMs,
        };
  const written = await putGrantSettings(
    db,
    account_id,
    { sealedSecret: secret, callbackAllowedPorts: body.callback_allowed_ports },
    nowMs,
  );
  if (!written) {
    throw validationProblem("The account has no callback secret yet.", [
      {
        pointer: "#/callback_secret",
        detail: "required the first time",
        code: "callback-secret-missing",
      },
    ]);
  }
  return c.json(toGrantSettingsResource(await getGrantSettings(db, account_id), nowMs), 200);
};
