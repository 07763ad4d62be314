/**
 * Enrollment rules reconciled to device enrollment permissions: one reusable Access policy per
 * rule, marked in its name, linked to the `warp` app next to the links someone made by hand,
 * converged with zero writes, and unlinked before deletion.
 */
import type Cloudflare from "cloudflare";
import { describe, it } from "vitest";
import { del, post } from "../helpers/api";
import { callsOf, lastSeq, sdk } from "../helpers/emulator";
import { seedAccount } from "../helpers/seed";
import type { RunBody } from "../helpers/wire";

async function warpApp(cf: Cloudflare, accountId: string) {
  const apps = await cf.zeroTrust.access.applications.list({ account_id: accountId });
  const app = apps.result.find((a) => (a as { type?: string }).type === "warp") as
    | {
        id: string;
        name: string;
        session_duration: string;
        policies: { id: string; precedence: number }[];
      }
    | undefined;
  return app;
}

async function policyNames(cf: Cloudflare, accountId: string) {
  const list = await cf.zeroTrust.access.policies.list({ account_id: accountId });
  return list.result.map((p) => [p.name, p.include]);
}

describe("enrollment rules", () => {
  it("become marked Access policies linked to the warp app after the hand-made link, then converge", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const cf = sdk();
    const hand = await cf.zeroTrust.access.policies.create({
      account_id: accountId,
      name: "service tokens",
      decision: "allow",
      include: [{ everyone: {} }],
    });
    const app = (await cf.zeroTrust.access.applications.create({
      account_id: accountId,
      type: "warp",
      session_duration: "12h",
      policies: [{ id: hand.id ?? "", precedence: 1 }],
    } as unknown as Parameters<typeof cf.zeroTrust.access.applications.create>[0])) as {
      id: string;
    };
    const employees = (
      await post<{ id: string }>(`${base}/enrollment-rules`, {
        name: "Employees",
        email_domains: ["@Example.com"],
        groups: ["2f1e7c3a-group"],
      })
    ).body;
    const contractors = (
      await post<{ id: string }>(`${base}/enrollment-rules`, {
        name: "Contractors",
        emails: ["b@other.test", "A@other.test"],
      })
    ).body;

    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.outcome).toBe("succeeded");
    expect(run.body.actions.map((a) => [a.op, a.key, a.outcome])).toEqual([
      ["create", employees.id, "applied"],
      ["create", contractors.id, "applied"],
      ["update", "warp-app", "applied"],
    ]);
    expect(await policyNames(cf, accountId)).toEqual([
      ["service tokens", [{ everyone: {} }]],
      [
        `Employees tunnelplane:${employees.id}`,
        [{ email_domain: { domain: "example.com" } }, { group: { id: "2f1e7c3a-group" } }],
      ],
      [
        `Contractors tunnelplane:${contractors.id}`,
        [{ email: { email: "a@other.test" } }, { email: { email: "b@other.test" } }],
      ],
    ]);
    const linked = await warpApp(cf, accountId);
    const policies = (await cf.zeroTrust.access.policies.list({ account_id: accountId })).result;
    expect([
      linked?.id,
      linked?.session_duration,
      linked?.policies.map((p) => [p.id, p.precedence]),
    ]).toEqual([
      app.id,
      "12h",
      [
        [hand.id, 1],
        [policies[1]?.id, 2],
        [policies[2]?.id, 3],
      ],
    ]);

    const since = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body.actions).toEqual([]);
    const calls = await callsOf(accountId, since);
    expect(calls.filter((c) => c.method !== "GET")).toEqual([]);
    // The usual 7 reads, plus Access policies and apps (one page each).
    expect(calls.length).toBe(9);

    expect((await del(`${base}/enrollment-rules/${contractors.id}`)).status).toBe(204);
    const removal = await post<RunBody>(`${base}/reconcile`);
    expect(removal.body.actions.map((a) => [a.op, a.key, a.outcome])).toEqual([
      ["update", "warp-app", "applied"],
      ["delete", contractors.id, "applied"],
    ]);
    expect((await warpApp(cf, accountId))?.policies.map((p) => p.id)).toEqual([
      hand.id,
      policies[1]?.id,
    ]);
    expect((await policyNames(cf, accountId)).map(([name]) => name)).toEqual([
      "service tokens",
      `Employees tunnelplane:${employees.id}`,
    ]);
  });

  it("creates the warp app when the account has none, and repairs a policy edited by hand", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const cf = sdk();
    const rule = (
      await post<{ id: string }>(`${base}/enrollment-rules`, {
        name: "Employees",
        email_domains: ["example.com"],
      })
    ).body;
    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.actions.map((a) => [a.op, a.key, a.outcome])).toEqual([
      ["create", rule.id, "applied"],
      ["create", "warp-app", "applied"],
    ]);
    const app = await warpApp(cf, accountId);
    const [policy] = (await cf.zeroTrust.access.policies.list({ account_id: accountId })).result;
    expect([app?.name, app?.policies.map((p) => p.id)]).toEqual(["Warp Login App", [policy?.id]]);

    await cf.zeroTrust.access.policies.update(policy?.id ?? "", {
      account_id: accountId,
      name: policy?.name ?? "",
      decision: "allow",
      include: [{ everyone: {} }],
    });
    const repair = await post<RunBody & { drift: { key: string }[] }>(`${base}/reconcile`);
    expect(repair.body.actions.map((a) => [a.op, a.key])).toEqual([["update", rule.id]]);
    expect(repair.body.drift.map((d) => d.key)).toEqual([rule.id]);
    expect((await policyNames(cf, accountId))[0]?.[1]).toEqual([
      { email_domain: { domain: "example.com" } },
    ]);
    const invalid = await post(`${base}/enrollment-rules`, { name: "nobody" });
    expect(invalid.status).toBe(422);
  });
});
