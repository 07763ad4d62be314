/**
 * The seed scenario end to end: desired state over REST, reconciled by the real SDK into the
 * emulator, converged runs that write nothing, drift repaired by the scheduled run, unmanaged
 * objects left alone, and one reconcile at a time per account.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import worker from "../../src/index";
import type { ReconcileMessage } from "../../src/reconciler/continue";
import { del, get, post } from "../helpers/api";
import { runCronTick } from "../helpers/cron";
import { callsOf, control, lastSeq, sdk } from "../helpers/emulator";
import { describeSeedScenario } from "../helpers/scenario";
import { seedAccount } from "../helpers/seed";
import type { RunBody } from "../helpers/wire";

const EXPECTED_EXCLUDES = [
  { address: "100.64.0.0/10" },
  { address: "169.254.0.0/16", description: "DHCP Unspecified" },
  { address: "172.16.0.0/13" },
  { address: "172.24.0.0/14" },
  { address: "172.28.0.0/15" },
  { address: "172.30.0.0/16" },
  { address: "192.0.0.0/24" },
  { address: "192.168.0.0/16" },
  { address: "224.0.0.0/24" },
  { address: "240.0.0.0/4" },
  { address: "255.255.255.255/32", description: "DHCP Broadcast" },
  { address: "fd00::/8" },
  { address: "fe80::/10", description: "IPv6 Link Local" },
  { address: "ff01::/16" },
  { address: "ff02::/16" },
  { address: "ff03::/16" },
  { address: "ff04::/16" },
  { address: "ff05::/16" },
];

const sortByAddress = <T extends object>(list: T[]) =>
  [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Runs the Cron Trigger as if it fired `aheadMs` from now, then feeds this account's message to the queue consumer. */
async function runScheduled(accountId: string, aheadMs: number) {
  const sent = await runCronTick(Date.now() + aheadMs);
  const mine = sent.filter((m) => m.account_id === accountId);
  const batch = createMessageBatch<ReconcileMessage>(
    "tunnelplane-reconcile",
    mine.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return { enqueued: mine, result: await getQueueResult(batch, ctx) };
}

describe("the seed scenario", () => {
  it("lands exactly the desired objects in Cloudflare with one reconcile", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);

    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.status).toBe(200);
    expect(run.body.outcome).toBe("succeeded");
    expect(run.body.counts).toMatchObject({ planned: 7, applied: 7, failed: 0, deferred: 0 });

    const cf = sdk();
    const tunnels = (
      await cf.zeroTrust.tunnels.cloudflared.list({ account_id: accountId, is_deleted: false })
    ).result;
    expect(tunnels.map((t) => [t.name, t.config_src])).toEqual([["dc1", "cloudflare"]]);
    const routes = (
      await cf.zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
    ).result;
    expect(routes.map((r) => [r.network, r.tunnel_id, r.comment])).toEqual([
      ["10.0.0.0/8", tunnels[0]?.id, `tunnelplane:${ids.wide.id}`],
      ["172.31.0.0/16", tunnels[0]?.id, `tunnelplane:${ids.narrow.id}`],
    ]);
    const excludes = (
      await cf.zeroTrust.devices.policies.default.excludes.get({ account_id: accountId })
    ).result;
    expect(sortByAddress(excludes.map((e) => ({ ...e })))).toEqual(
      sortByAddress(EXPECTED_EXCLUDES),
    );
    const device = await cf.zeroTrust.devices.settings.get({ account_id: accountId });
    expect([device?.gateway_proxy_enabled, device?.gateway_udp_proxy_enabled]).toEqual([
      true,
      true,
    ]);
    const connectivity = await cf.zeroTrust.connectivitySettings.get({ account_id: accountId });
    expect(connectivity.icmp_proxy_enabled).toBe(true);
    const rules = (await cf.zeroTrust.gateway.rules.list({ account_id: accountId })).result;
    expect(
      rules.map((r) => ({
        name: r.name,
        action: r.action,
        precedence: r.precedence,
        enabled: r.enabled,
        filters: r.filters,
        traffic: r.traffic,
        identity: r.identity,
        description: r.description,
      })),
    ).toEqual([
      {
        name: "Allow example.com to db",
        action: "allow",
        precedence: 1000,
        enabled: true,
        filters: ["l4"],
        traffic: "net.dst.ip in {10.128.0.7}",
        identity: 'identity.email matches ".*@example.com"',
        description: `tunnelplane:${ids.allow.id}`,
      },
      {
        name: "Block db for everyone else",
        action: "block",
        precedence: 2000,
        enabled: true,
        filters: ["l4"],
        traffic: "net.dst.ip in {10.128.0.7}",
        identity: "",
        description: `tunnelplane:${ids.block.id}`,
      },
    ]);

    const route = await get<{ status: { state: string; cloudflare_id: string } }>(
      `${base}/routes/${ids.wide.id}`,
    );
    expect(route.body.status).toMatchObject({ state: "synced", cloudflare_id: routes[0]?.id });
  });

  it("a second reconcile right after a converged one makes no write call", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    const since = await lastSeq(accountId);
    const statuses = async () =>
      (await get<{ items: { status: unknown }[] }>(`${base}/routes`)).body.items.map(
        (r) => r.status,
      );
    const before = await statuses();

    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body).toMatchObject({ outcome: "succeeded", actions: [], drift: [] });
    // Nothing changed, so no status row was written: each still says when it was first synced.
    expect(await statuses()).toEqual(before);
    const calls = await callsOf(accountId, since);
    expect(calls.filter((c) => c.method !== "GET")).toEqual([]);
    // Observation: vnets, tunnels (one page: its total_pages says it is the last), routes
    // (same), the default profile, device settings, connectivity settings, gateway rules.
    expect(calls.length).toBe(7);
    expect(second.body.counts.subrequests).toBe(7);
  });

  it("the next scheduled run restores a route deleted and a policy edited out of band, and names them as drift", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const ids = await describeSeedScenario(base);
    await post(`${base}/reconcile`);
    const cf = sdk();
    const routes = (
      await cf.zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
    ).result;
    const wide = routes.find((r) => r.network === "10.0.0.0/8");
    await cf.zeroTrust.networks.routes.delete(wide?.id ?? "", { account_id: accountId });
    const rules = (await cf.zeroTrust.gateway.rules.list({ account_id: accountId })).result;
    const allow = rules.find((r) => r.precedence === 1000);
    await cf.zeroTrust.gateway.rules.update(allow?.id ?? "", {
      account_id: accountId,
      name: "edited by hand",
      action: "allow",
      filters: ["l4"],
      precedence: 1000,
      traffic: "net.dst.ip in {10.0.0.0/8}",
      enabled: true,
      description: allow?.description ?? "",
    });

    const { enqueued, result } = await runScheduled(accountId, 3_600_000);
    expect(enqueued).toEqual([{ account_id: accountId }]);
    expect(result.explicitAcks).toEqual(["m0"]);

    const runs = await get<{ items: RunBody[] }>(`${base}/runs`);
    const latest = runs.body.items[0];
    expect(latest?.drift).toEqual([
      { kind: "tunnel_route", key: ids.wide.id, reason: "missing in Cloudflare" },
      { kind: "network_policy", key: ids.allow.id, reason: "differs from the desired state" },
    ]);
    expect(latest?.outcome).toBe("succeeded");
    const after = (
      await cf.zeroTrust.networks.routes.list({ account_id: accountId, is_deleted: false })
    ).result;
    expect(after.map((r) => r.network).sort()).toEqual(["10.0.0.0/8", "172.31.0.0/16"]);
    const restored = await cf.zeroTrust.gateway.rules.get(allow?.id ?? "", {
      account_id: accountId,
    });
    expect([restored.name, restored.traffic, restored.identity]).toEqual([
      "Allow example.com to db",
      "net.dst.ip in {10.128.0.7}",
      'identity.email matches ".*@example.com"',
    ]);
  });

  it("an unmanaged route created directly in Cloudflare survives every run and is reported", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    await post(`${base}/reconcile`);
    const cf = sdk();
    const tunnels = (
      await cf.zeroTrust.tunnels.cloudflared.list({ account_id: accountId, is_deleted: false })
    ).result;
    const handMade = await cf.zeroTrust.networks.routes.create({
      account_id: accountId,
      network: "192.168.50.0/24",
      tunnel_id: tunnels[0]?.id ?? "",
      comment: "made by hand",
    });

    await post(`${base}/reconcile`);
    await runScheduled(accountId, 3_600_000);
    const plan = await post<{ actions: unknown[]; unmanaged: unknown[] }>(`${base}/plan`);
    expect(plan.body.actions).toEqual([]);
    expect(plan.body.unmanaged).toEqual([
      { kind: "virtual_network", cloudflare_id: expect.any(String), label: "default" },
      { kind: "tunnel_route", cloudflare_id: handMade.id, label: "192.168.50.0/24" },
    ]);
    const still = await cf.zeroTrust.networks.routes.get(handMade.id ?? "", {
      account_id: accountId,
    });
    expect([still.network, still.comment, still.deleted_at ?? null]).toEqual([
      "192.168.50.0/24",
      "made by hand",
      null,
    ]);
  });

  it("two concurrent reconciles: one runs, the other gets 409 with Retry-After", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeSeedScenario(base);
    // Slow the first observation down so the two requests overlap.
    await control("/faults", "POST", {
      method: "GET",
      path_prefix: `/client/v4/accounts/${accountId}/teamnet/virtual_networks`,
      delay_ms: 300,
      times: 1,
    });

    const [a, b] = await Promise.all([
      post<RunBody>(`${base}/reconcile`),
      post<RunBody>(`${base}/reconcile`),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const held = a.status === 409 ? a : b;
    expect(held.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(held.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(held.body).toMatchObject({
      status: 409,
      type: "http://tunnelplane/problems/lease-held",
    });
    const runs = await get<{ items: RunBody[] }>(`${base}/runs`);
    expect(runs.body.items.map((r) => r.outcome)).toEqual(["succeeded"]);
  });
});

describe("hostname routes", () => {
  it("land in Cloudflare's form, converge with zero writes, and come back after a delete by hand", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const tunnel = await post<{ id: string }>(`${base}/tunnels`, { name: "apps" });
    const created = await post<{ id: string; hostname: string; cloudflare_hostname: string }>(
      `${base}/hostname-routes`,
      { hostname: ".*.Apps.Acme.Internal.", tunnel_id: tunnel.body.id, comment: "apps" },
    );
    expect([created.status, created.body.hostname, created.body.cloudflare_hostname]).toEqual([
      201,
      "*.apps.acme.internal",
      "apps.acme.internal",
    ]);
    const twin = await post<{ type: string; detail: string }>(`${base}/hostname-routes`, {
      hostname: "apps.acme.internal",
      tunnel_id: tunnel.body.id,
    });
    expect([twin.status, twin.body.type, twin.body.detail]).toEqual([
      409,
      "http://tunnelplane/problems/duplicate-route",
      "apps.acme.internal is already routed; *.x and x are one route to Cloudflare.",
    ]);
    const refused = await post<{ errors: unknown[] }>(`${base}/hostname-routes`, {
      hostname: "dev-*.acme.internal",
      tunnel_id: tunnel.body.id,
    });
    expect([refused.status, refused.body.errors]).toEqual([
      422,
      [
        {
          pointer: "#/hostname",
          detail:
            "dev-*.acme.internal is not a valid hostname route: a wildcard that is not the whole leading label",
          code: "invalid-hostname",
        },
      ],
    ]);

    const prefix = `/client/v4/accounts/${accountId}`;
    const since = await lastSeq(accountId);
    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.outcome).toBe("succeeded");
    const writes = async (from: number) =>
      (await callsOf(accountId, from))
        .filter((c) => c.method !== "GET")
        .map((c) => `${c.method} ${c.path}`);
    expect(await writes(since)).toEqual([
      `POST ${prefix}/cfd_tunnel`,
      `POST ${prefix}/zerotrust/routes/hostname`,
    ]);
    const hostnames = sdk().zeroTrust.networks.hostnameRoutes;
    const live = async () =>
      (await hostnames.list({ account_id: accountId, is_deleted: false })).result.map((r) => [
        r.hostname,
        r.tunnel_name,
        r.comment,
      ]);
    expect(await live()).toEqual([
      ["apps.acme.internal", "apps", `apps tunnelplane:${created.body.id}`],
    ]);

    const quiet = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body).toMatchObject({ outcome: "succeeded", actions: [], drift: [] });
    expect(await writes(quiet)).toEqual([]);

    const [landed] = (await hostnames.list({ account_id: accountId })).result;
    await hostnames.delete(landed?.id ?? "", { account_id: accountId });
    const beforeRepair = await lastSeq(accountId);
    const repair = await post<RunBody>(`${base}/reconcile`);
    expect(repair.body.drift).toEqual([
      { kind: "hostname_route", key: created.body.id, reason: "missing in Cloudflare" },
    ]);
    expect(await writes(beforeRepair)).toEqual([`POST ${prefix}/zerotrust/routes/hostname`]);
    expect(await live()).toEqual([
      ["apps.acme.internal", "apps", `apps tunnelplane:${created.body.id}`],
    ]);

    const [restored] = (await hostnames.list({ account_id: accountId, is_deleted: false })).result;
    expect((await del(`${base}/hostname-routes/${created.body.id}`)).status).toBe(204);
    const beforeDelete = await lastSeq(accountId);
    await post<RunBody>(`${base}/reconcile`);
    expect(await writes(beforeDelete)).toEqual([
      `DELETE ${prefix}/zerotrust/routes/hostname/${restored?.id}`,
    ]);
    expect(await live()).toEqual([]);
  });
});
