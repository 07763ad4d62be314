/** Import of an unmanaged Gateway network rule, structured only when that loses nothing. */
import type { Db } from "../../db/client";
import type { Actor } from "../../db/desired-objects.repo";
import { insertObject } from "../../db/desired-objects.repo";
import { newObject, type ObservedState } from "../../domain/model";
import { readMarker } from "../../domain/plan/ownership";
import { importNetworkPolicy } from "../../domain/policies/import";
import { guardAssertions } from "../assertions/guard";
import { toEnvelope } from "../desired/object.schemas";
import { toPolicyWire } from "../policies";
import { holderOf, loadPrecedenceState } from "../policies/precedence";
import { ProblemError } from "../problem";
import type { ImportedBody } from "./import.schemas";

/**
 * Stores the rule `cloudflareId` of `observed` as a desired network policy bound to it.
 * @throws ProblemError not-found, already-managed, not-importable, precedence-taken, assertion-failed
 */
export async function importPolicy(
  db: Db,
  accountId: string,
  observed: ObservedState,
  cloudflareId: string,
  actor: Actor,
): Promise<ImportedBody> {
  const rule = observed.networkPolicies.find((r) => r.cloudflareId === cloudflareId);
  if (rule === undefined) {
    throw new ProblemError("not-found", `No Gateway rule ${cloudflareId} in account ${accountId}.`);
  }
  const owner = readMarker(rule.description).ownerId;
  if (owner !== null) {
    throw new ProblemError("already-managed", `Gateway rule ${cloudflareId} is owned by ${owner}.`);
  }
  const imported = importNetworkPolicy(rule);
  if (!imported.ok) {
    throw new ProblemError(
      "not-importable",
      `Gateway rule ${cloudflareId} cannot be imported without loss: ${imported.error.reason}.`,
      {
        errors: [
          { pointer: "#/cloudflare_id", detail: imported.error.reason, code: "not-importable" },
        ],
      },
    );
  }
  const spec = imported.value;
  const holder = holderOf(await loadPrecedenceState(db, accountId), spec.precedence);
  if (holder !== undefined) {
    throw new ProblemError(
      "precedence-taken",
      `Precedence ${spec.precedence} is desired for ${holder.id}; move it before importing.`,
    );
  }
  const id = crypto.randomUUID();
  await guardAssertions(db, accountId, [
    { op: "put", object: newObject("network_policy", id, spec) },
  ]);
  const stored = await insertObject(
    db,
    accountId,
    { kind: "network_policy", id, spec, naturalKey: `${spec.precedence}`, cloudflareId },
    actor,
    Date.now(),
  );
  return {
    kind: "network_policy",
    cloudflare_id: cloudflareId,
    policy: { ...toEnvelope(stored), ...toPolicyWire(spec) },
    before: { traffic: rule.traffic, identity: rule.identity, device_posture: rule.devicePosture },
  };
}
