import { describe, it } from "vitest";
import { api, newAccountId, sdk, TIMESTAMP, UUID } from "./harness";

describe("envelope", () => {
  it("answers a list with the v4 envelope and a default vnet", async ({ expect }) => {
    const accountId = newAccountId();
    const response = await api(`/accounts/${accountId}/teamnet/virtual_networks`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({
      success: true,
      errors: [],
      messages: [],
      result: [
        {
          id: expect.stringMatching(UUID),
          name: "default",
          comment: "",
          is_default_network: true,
          created_at: expect.stringMatching(TIMESTAMP),
          deleted_at: null,
        },
      ],
    });
    const cf = sdk();
    const vnets = await cf.zeroTrust.networks.virtualNetworks.list({ account_id: accountId });
    expect(vnets.result.map((v) => v.name)).toEqual(["default"]);
  });
});
