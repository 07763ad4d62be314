/**
 * Custom device profiles end to end: described over REST, reconciled by the real SDK into the
 * emulator's per-profile endpoints with exact call counts, converged runs that write nothing,
 * drift on a profile's list or fields repaired with only the call that differs, the mode read and
 * switched (PUT the new list, then clear the old) whether Cloudflare shows the list not in force
 * as absent, `[]` or null,
 * deletion, Include lists carrying the account's team domain, a loosely written match sent in
 * canonical text, and a profile made by hand left alone. The profile's list carves an IPv6 route out of `fd00::/8` and an IPv4 one out of
 * `10.0.0.0/8`.
 */
import { describe, it } from "vitest";
import { del, get, post, put } from "../helpers/api";
import { type Call, callsOf, control, failureOf, lastSeq, sdk } from "../helpers/emulator";
import { seedAccount } from "../helpers/seed";
import type { Created, RunBody } from "../helpers/wire";

interface WireEntry {
  address?: string;
  host?: string;
  description?: string;
}

const FD00_MINUS_ROUTE = [
  "fd00::/20",
  "fd00:1000::/23",
  "fd00:1200::/27",
  "fd00:1220::/28",
  "fd00:1230::/30",
  "fd00:1235::/32",
  "fd00:1236::/31",
  "fd00:1238::/29",
  "fd00:1240::/26",
  "fd00:1280::/25",
  "fd00:1300::/24",
  "fd00:1400::/22",
  "fd00:1800::/21",
  "fd00:2000::/19",
  "fd00:4000::/18",
  "fd00:8000::/17",
  "fd01::/16",
  "fd02::/15",
  "fd04::/14",
  "fd08::/13",
  "fd10::/12",
  "fd20::/11",
  "fd40::/10",
  "fd80::/9",
];

const TEN_MINUS_ROUTE = [
  "10.0.0.0/12",
  "10.16.0.0/14",
  "10.21.0.0/16",
  "10.22.0.0/15",
  "10.24.0.0/13",
  "10.32.0.0/11",
  "10.64.0.0/10",
  "10.128.0.0/9",
];

/** The profile's whole Exclude list as Cloudflare should hold it (descriptions left out when ""). */
const EXPECTED_EXCLUDES: WireEntry[] = [
  ...TEN_MINUS_ROUTE.map((address) => ({ address })),
  { address: "100.64.0.0/10" },
  { address: "169.254.0.0/16", description: "DHCP Unspecified" },
  { address: "172.16.0.0/12" },
  { address: "192.0.0.0/24" },
  { address: "192.168.0.0/16" },
  { address: "224.0.0.0/24" },
  { address: "240.0.0.0/4" },
  { address: "255.255.255.255/32", description: "DHCP Broadcast" },
  { address: "fe80::/10", description: "IPv6 Link Local" },
  ...FD00_MINUS_ROUTE.map((address) => ({ address })),
  { address: "ff01::/16" },
  { address: "ff02::/16" },
  { address: "ff03::/16" },
  { address: "ff04::/16" },
  { address: "ff05::/16" },
  { address: "203.0.113.0/24", description: "partner" },
];

const sorted = (list: WireEntry[]) =>
  [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const PROFILE = {
  name: "Engineers",
  description: "eng laptops",
  match: 'any(identity.groups.name[*] in {"engineers"})',
  precedence: 10,
  split_tunnel: {
    mode: "exclude",
    auto: true,
    entries: [{ address: "203.0.113.0/24", description: "partner" }],
  },
};

/** A tunnel, routes 10.20.0.0/16 and fd00:1234::/32, and the Engineers profile. */
async function describeAccount(base: string) {
  const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
  for (const network of ["10.20.0.0/16", "fd00:1234::/32"]) {
    await post(`${base}/routes`, { network, tunnel_id: tunnel.id });
  }
  const created = await post<Created>(`${base}/device-profiles`, PROFILE);
  return created.body.id;
}

/** The Cloudflare policy id of the only profile marked with `profileId`. */
async function cloudflareIdOf(accountId: string, profileId: string): Promise<string> {
  const list = await sdk().zeroTrust.devices.policies.custom.list({ account_id: accountId });
  const ours = list.result.filter((p) => p.description?.endsWith(`tunnelplane:${profileId}`));
  return ours.length === 1 ? (ours[0]?.policy_id ?? "") : `${ours.length} profiles`;
}

const writes = (calls: Call[]) =>
  calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`);

describe("custom device profiles", () => {
  it("lands a profile with its carved Exclude list (IPv4 and IPv6) in one call, then converges", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const profileId = await describeAccount(base);
    const since = await lastSeq(accountId);

    const run = await post<RunBody>(`${base}/reconcile`);
    expect([run.body.outcome, run.body.counts]).toEqual([
      "succeeded",
      {
        observed: 1,
        planned: 4,
        applied: 4,
        failed: 0,
        deferred: 0,
        unmanaged: 1,
        subrequests: 11,
      },
    ]);
    const prefix = `/client/v4/accounts/${accountId}`;
    const calls = await callsOf(accountId, since);
    expect(writes(calls)).toEqual([
      `POST ${prefix}/cfd_tunnel`,
      `POST ${prefix}/teamnet/routes`,
      `POST ${prefix}/teamnet/routes`,
      `POST ${prefix}/devices/policy`,
    ]);
    expect(calls.length).toBe(11);

    const policyId = await cloudflareIdOf(accountId, profileId);
    const custom = sdk().zeroTrust.devices.policies.custom;
    const profile = (await custom.get(policyId, { account_id: accountId })) as Record<
      string,
      unknown
    >;
    expect({
      name: profile.name,
      description: profile.description,
      match: profile.match,
      precedence: profile.precedence,
      enabled: profile.enabled,
      hasInclude: "include" in profile,
    }).toEqual({
      name: "Engineers",
      description: `eng laptops tunnelplane:${profileId}`,
      match: 'any(identity.groups.name[*] in {"engineers"})',
      precedence: 10,
      enabled: true,
      hasInclude: false,
    });
    const excludes = (await custom.excludes.get(policyId, { account_id: accountId })).result;
    expect(excludes.length).toBe(47);
    expect(sorted(excludes.map((e) => ({ ...e })))).toEqual(sorted(EXPECTED_EXCLUDES));
    const status = await get<{ status: { state: string; cloudflare_id: string } }>(
      `${base}/device-profiles/${profileId}`,
    );
    expect(status.body.status).toMatchObject({ state: "synced", cloudflare_id: policyId });

    const quiet = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body).toMatchObject({ outcome: "succeeded", actions: [], drift: [] });
    const secondCalls = await callsOf(accountId, quiet);
    expect(writes(secondCalls)).toEqual([]);
    // vnets, tunnels (one page: its totals say it is the last), routes (same), device profiles
    // (custom and default in one list), device settings, connectivity settings, gateway rules.
    expect([secondCalls.length, second.body.counts.subrequests]).toEqual([7, 7]);
  });

  it("reads each profile's Local Domain Fallback only with hostname routes when profiles leave it out, and conflicts name each profile whose list covers a route", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const account_id = accountId;
    const profileId = await describeAccount(base);
    await control("/behaviour", "PUT", {
      account_id,
      behaviour: { profile_fallback_domains: "absent" },
    });
    const reads = async (since: number) =>
      (await callsOf(accountId, since))
        .filter((c) => c.method === "GET")
        .map((c) => c.path.replace(`/client/v4/accounts/${accountId}/`, ""))
        .filter((path) => path.includes("fallback") || path.includes("subnets"));
    // No hostname routes: not one request for the lists or the range.
    const quiet = await lastSeq(accountId);
    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    expect(await reads(quiet)).toEqual([]);
    const policyId = await cloudflareIdOf(accountId, profileId);
    await sdk().zeroTrust.devices.policies.custom.fallbackDomains.update(policyId, {
      account_id,
      domains: [{ suffix: "lan" }, { suffix: "corp" }],
    });

    const tunnel = (await post<Created>(`${base}/tunnels`, { name: "apps" })).body.id;
    const created = await post<Created & { warnings: unknown[] }>(`${base}/hostname-routes`, {
      hostname: "*.apps.acme.internal",
      tunnel_id: tunnel,
    });
    const assumed =
      "hostname route *.apps.acme.internal cannot work for the default device profile: its Local Domain Fallback lists internal (Cloudflare's default list; not yet observed), so devices resolve those names with their own DNS and the query never reaches Gateway; remove internal from that list";
    expect(created.body.warnings).toEqual([
      {
        code: "hostname-route-proxy-off",
        message:
          "hostname route *.apps.acme.internal needs the Gateway proxy with TCP and UDP on, and TCP and UDP are off (proxy settings are not managed by tunnelplane; Cloudflare's default is off)",
      },
      { code: "hostname-route-local-fallback", message: assumed },
      // No run has read the profile's list yet (the first run had no hostname route to read it for).
      {
        code: "hostname-route-local-fallback",
        message: assumed.replace("the default device profile", `device profile ${profileId}`),
      },
    ]);
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: false });
    const since = await lastSeq(accountId);
    expect((await post<RunBody>(`${base}/reconcile`)).body.outcome).toBe("succeeded");
    // One GET per profile whose object left the list out, and the account's range.
    expect((await reads(since)).sort()).toEqual(
      [
        "devices/policy/fallback_domains",
        `devices/policy/${policyId}/fallback_domains`,
        "zerotrust/subnets/initial_resolved_ip/v4",
      ].sort(),
    );
    const conflicts = await get<{ items: unknown[]; counts: unknown }>(`${base}/conflicts`);
    expect(conflicts.body).toEqual({
      items: [
        {
          code: "hostname-route-local-fallback",
          severity: "error",
          message: assumed.replace(" (Cloudflare's default list; not yet observed)", ""),
          objects: [
            { kind: "hostname_route", id: created.body.id },
            { kind: "split_tunnel", id: "default" },
          ],
          route_id: created.body.id,
          hostname: "*.apps.acme.internal",
          profile_id: "default",
          suffix: "internal",
          assumed_default: false,
        },
      ],
      counts: { errors: 1, warnings: 0 },
    });
  });

  it("repairs drift on a profile's list with one PUT and on its fields with one PATCH", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const profileId = await describeAccount(base);
    await post(`${base}/reconcile`);
    const policyId = await cloudflareIdOf(accountId, profileId);
    const custom = sdk().zeroTrust.devices.policies.custom;
    const prefix = `/client/v4/accounts/${accountId}`;

    await custom.excludes.update(policyId, {
      account_id: accountId,
      body: [{ address: "10.0.0.0/8" }],
    });
    const since = await lastSeq(accountId);
    const repaired = await post<RunBody>(`${base}/reconcile`);
    expect(repaired.body.drift).toEqual([
      { kind: "device_profile", key: profileId, reason: "differs from the desired state" },
    ]);
    expect(repaired.body.actions.map((a) => [a.op, a.kind, a.outcome])).toEqual([
      ["update", "device_profile", "applied"],
    ]);
    expect(writes(await callsOf(accountId, since))).toEqual([
      `PUT ${prefix}/devices/policy/${policyId}/exclude`,
    ]);
    const restored = (await custom.excludes.get(policyId, { account_id: accountId })).result;
    expect(sorted(restored.map((e) => ({ ...e })))).toEqual(sorted(EXPECTED_EXCLUDES));

    await custom.edit(policyId, { account_id: accountId, name: "renamed by hand", enabled: false });
    const before = await lastSeq(accountId);
    await post<RunBody>(`${base}/reconcile`);
    expect(writes(await callsOf(accountId, before))).toEqual([
      `PATCH ${prefix}/devices/policy/${policyId}`,
    ]);
    const fixed = await custom.get(policyId, { account_id: accountId });
    expect([fixed?.name, fixed?.enabled]).toEqual(["Engineers", true]);
  });

  // Cloudflare may show the list not in force as absent, [] or null (undocumented): each is read
  // as the same mode, and a switch PUTs the new list and then clears the old one, as a PATCH
  // swapping exclude for include is refused with 500.
  it.for(["absent", "empty", "null"] as const)(
    "with the inactive list %s, reads the mode, switches it by PUT then clear, converges and deletes",
    async (style, { expect }) => {
      const { accountId, base } = await seedAccount(expect);
      await control("/behaviour", "PUT", {
        account_id: accountId,
        behaviour: { inactive_split_tunnel: style },
      });
      const profileId = await describeAccount(base);
      await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
      await post(`${base}/reconcile`);
      const policyId = await cloudflareIdOf(accountId, profileId);
      const prefix = `/client/v4/accounts/${accountId}`;
      const converged = await lastSeq(accountId);
      expect((await post<RunBody>(`${base}/reconcile`)).body.actions).toEqual([]);
      expect(writes(await callsOf(accountId, converged))).toEqual([]);

      const custom = sdk().zeroTrust.devices.policies.custom;
      const swap = custom.edit(policyId, { account_id: accountId, include: [{ host: "x.test" }] });
      expect(await failureOf(swap)).toEqual({
        type: "InternalServerError",
        status: 500,
        errors: [{ code: 1000, message: "Internal server error" }],
      });

      const switched = await put(`${base}/device-profiles/${profileId}`, {
        ...PROFILE,
        split_tunnel: { mode: "include", auto: true, entries: [{ host: "wiki.example.com" }] },
      });
      expect(switched.status).toBe(200);
      await put(`${base}/split-tunnels/default`, { mode: "include", auto: true });
      const since = await lastSeq(accountId);
      const run = await post<RunBody>(`${base}/reconcile`);
      expect(run.body.actions.map((a) => [a.op, a.kind, a.outcome])).toEqual([
        ["update", "split_tunnel", "applied"],
        ["update", "device_profile", "applied"],
      ]);
      expect(writes(await callsOf(accountId, since))).toEqual([
        `PUT ${prefix}/devices/policy/include`,
        `PUT ${prefix}/devices/policy/exclude`,
        `PUT ${prefix}/devices/policy/${policyId}/include`,
        `PUT ${prefix}/devices/policy/${policyId}/exclude`,
      ]);
      const routed = [{ address: "10.20.0.0/16" }, { address: "fd00:1234::/32" }];
      const inactive = { absent: undefined, empty: [], null: null }[style];
      const shown = async (got: unknown) => {
        const lists = got as { include?: unknown; exclude?: unknown };
        return [lists.include, "exclude" in lists, lists.exclude];
      };
      expect(await shown(await custom.get(policyId, { account_id: accountId }))).toEqual([
        [...routed, { host: "wiki.example.com" }],
        style !== "absent",
        inactive,
      ]);
      const defaults = sdk().zeroTrust.devices.policies.default;
      expect(await shown(await defaults.get({ account_id: accountId }))).toEqual([
        routed,
        style !== "absent",
        inactive,
      ]);
      const settled = await lastSeq(accountId);
      expect((await post<RunBody>(`${base}/reconcile`)).body.actions).toEqual([]);
      expect(writes(await callsOf(accountId, settled))).toEqual([]);

      expect((await del(`${base}/device-profiles/${profileId}`)).status).toBe(204);
      const beforeDelete = await lastSeq(accountId);
      const deleted = await post<RunBody>(`${base}/reconcile`);
      expect(deleted.body.actions.map((a) => [a.op, a.kind, a.key, a.reason, a.outcome])).toEqual([
        ["delete", "device_profile", profileId, "no longer desired", "applied"],
      ]);
      expect(writes(await callsOf(accountId, beforeDelete))).toEqual([
        `DELETE ${prefix}/devices/policy/${policyId}`,
      ]);
      const left = await custom.list({ account_id: accountId });
      expect(left.result.map((p) => [p.default, p.policy_id ?? null])).toEqual([[true, null]]);
    },
  );

  it("sends Include lists with the routes' cover and the team domain host, then converges", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect, {
      teamDomain: "acme.cloudflareaccess.com",
    });
    const tunnel = (await post<Created>(`${base}/tunnels`, { name: "dc1" })).body;
    for (const network of ["10.20.0.0/16", "10.21.0.0/16", "fd00:1234::/32"]) {
      await post(`${base}/routes`, { network, tunnel_id: tunnel.id });
    }
    await put(`${base}/split-tunnels/default`, { mode: "include", auto: true });
    const created = await post<Created>(`${base}/device-profiles`, {
      ...PROFILE,
      split_tunnel: { mode: "include", auto: true, entries: [{ host: "wiki.example.com" }] },
    });
    const since = await lastSeq(accountId);
    const run = await post<RunBody>(`${base}/reconcile`);
    const prefix = `/client/v4/accounts/${accountId}`;
    expect([run.body.outcome, writes(await callsOf(accountId, since))]).toEqual([
      "succeeded",
      [
        `POST ${prefix}/cfd_tunnel`,
        `POST ${prefix}/teamnet/routes`,
        `POST ${prefix}/teamnet/routes`,
        `POST ${prefix}/teamnet/routes`,
        `PUT ${prefix}/devices/policy/include`,
        `PUT ${prefix}/devices/policy/exclude`,
        `POST ${prefix}/devices/policy`,
      ],
    ]);
    const routesAndTeam = [
      { address: "10.20.0.0/15" },
      { address: "fd00:1234::/32" },
      {
        host: "acme.cloudflareaccess.com",
        description: "Zero Trust team domain: enrolment, posture and Access sessions",
      },
    ];
    const policies = sdk().zeroTrust.devices.policies;
    const defaultIncludes = await policies.default.includes.get({ account_id: accountId });
    expect(defaultIncludes.result).toEqual(routesAndTeam);
    const policyId = await cloudflareIdOf(accountId, created.body.id);
    const customIncludes = await policies.custom.includes.get(policyId, {
      account_id: accountId,
    });
    expect(customIncludes.result).toEqual([...routesAndTeam, { host: "wiki.example.com" }]);

    const quiet = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body).toMatchObject({ outcome: "succeeded", actions: [], drift: [] });
    expect(writes(await callsOf(accountId, quiet))).toEqual([]);
  });

  it("sends a match written loosely in its canonical text and then writes nothing", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const created = await post<Created>(`${base}/device-profiles`, {
      ...PROFILE,
      match: 'os.name=="linux"  ||\n(any(identity.groups[*].name in {"ops"}))',
      split_tunnel: { mode: "include", auto: false, entries: [{ address: "10.9.0.0/16" }] },
    });
    await post(`${base}/reconcile`);
    const policyId = await cloudflareIdOf(accountId, created.body.id);
    const custom = sdk().zeroTrust.devices.policies.custom;
    const profile = await custom.get(policyId, { account_id: accountId });
    expect(profile?.match).toBe('os.name == "linux" or any(identity.groups.name[*] in {"ops"})');

    const since = await lastSeq(accountId);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect(second.body).toMatchObject({ outcome: "succeeded", actions: [], drift: [] });
    expect(writes(await callsOf(accountId, since))).toEqual([]);
  });

  it("leaves a profile made by hand alone and reports it as unmanaged", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    await describeAccount(base);
    const custom = sdk().zeroTrust.devices.policies.custom;
    const handMade = await custom.create({
      account_id: accountId,
      name: "Hand made",
      match: 'os.name == "linux"',
      precedence: 99,
      include: [{ address: "10.99.0.0/16" }],
    });
    const handMadeId = handMade?.policy_id ?? "";

    await post(`${base}/reconcile`);
    const since = await lastSeq(accountId);
    const plan = await post<{ actions: unknown[]; unmanaged: unknown[] }>(`${base}/plan`);
    expect(plan.body.actions).toEqual([]);
    expect(plan.body.unmanaged).toEqual([
      { kind: "virtual_network", cloudflare_id: expect.any(String), label: "default" },
      { kind: "device_profile", cloudflare_id: handMadeId, label: "Hand made" },
    ]);
    await post(`${base}/reconcile`);
    expect(writes(await callsOf(accountId, since))).toEqual([]);
    const still = (await custom.get(handMadeId, { account_id: accountId })) as Record<
      string,
      unknown
    >;
    expect([still.name, still.description, still.precedence, still.include]).toEqual([
      "Hand made",
      "",
      99,
      [{ address: "10.99.0.0/16" }],
    ]);
  });
});
