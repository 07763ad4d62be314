import { describe, it } from "vitest";
import { parseExpression } from "../../src/domain/policies/parse";
import {
  normalizeExpression,
  renderDevicePosture,
  renderNetworkPolicy,
} from "../../src/domain/policies/render";
import { api, newAccountId } from "../helpers/emulator";
import {
  ACCEPTED,
  DIVERGENT,
  type ExpressionCase,
  MALFORMED,
  RENDERED,
} from "../helpers/expression-table";

/** Creates an `l4` rule with the case's expression and answers what the emulator made of it. */
async function emulatorOutcome(
  accountId: string,
  slot: ExpressionCase["slot"],
  text: string,
): Promise<ExpressionCase["emulator"]> {
  const response = await api(`/accounts/${accountId}/gateway/rules`, {
    method: "POST",
    body: { name: "case", action: "allow", filters: ["l4"], [slot]: text },
  });
  const body = (await response.json()) as {
    result: Record<string, string> | null;
    errors: { code: number; message: string }[];
  };
  if (response.status === 200 && body.result !== null) {
    return { stored: body.result[slot] ?? "" };
  }
  return {
    refused: `${response.status} ${body.errors.map((e) => `${e.code} ${e.message}`).join("; ")}`,
  };
}

function expected(outcome: ExpressionCase["emulator"]): ExpressionCase["emulator"] {
  return "refused" in outcome ? { refused: `400 2001 ${outcome.refused}` } : outcome;
}

describe("the shared expression table", () => {
  it("holds the emulator and tunnelplane's parser to each case", async ({ expect }) => {
    const accountId = newAccountId();
    const cases = [...ACCEPTED, ...MALFORMED, ...DIVERGENT];
    const outcomes = [];
    for (const { slot, text } of cases) {
      outcomes.push({
        emulator: await emulatorOutcome(accountId, slot, text),
        tunnelplane: parseExpression(text).ok,
      });
    }
    expect(outcomes).toEqual(
      cases.map((c) => ({ emulator: expected(c.emulator), tunnelplane: c.tunnelplane })),
    );
  });

  it("stores what tunnelplane renders in the form tunnelplane compares", async ({ expect }) => {
    const accountId = newAccountId();
    for (const { selectors, posture } of RENDERED) {
      const rendered = {
        ...renderNetworkPolicy(selectors),
        device_posture: renderDevicePosture(posture),
      };
      const response = await api(`/accounts/${accountId}/gateway/rules`, {
        method: "POST",
        body: { name: "rendered", action: "allow", filters: ["l4"], ...rendered },
      });
      const { result } = (await response.json()) as { result: typeof rendered };
      const stored = {
        traffic: result.traffic,
        identity: result.identity,
        device_posture: result.device_posture,
      };
      expect(stored).toEqual({
        traffic: normalizeExpression(rendered.traffic),
        identity: normalizeExpression(rendered.identity),
        device_posture: normalizeExpression(rendered.device_posture),
      });
      expect(Object.values(stored).map((text) => parseExpression(text).ok)).toEqual([
        true,
        true,
        true,
      ]);
    }
  });
});
