/**
 * Split tunnels for every profile through the REST API: the effective lists and their reasons
 * (the seed's 172.31.0.0/16 case, the 10.20.0.0/16 case, Include mode), custom device profiles
 * (their match checked and stored in canonical text) and the virtual networks they follow, the
 * account-wide conflict list, the client LAN check, and the 422/409/404 cases with their exact
 * problem bodies.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { toConflictResource } from "../../src/api/conflicts/conflicts.schemas";
import { loadConflictCheckInput } from "../../src/api/conflicts/load";
import { createDb } from "../../src/db/client";
import { listAllObjects } from "../../src/db/desired-objects.repo";
import { findAccountConflicts } from "../../src/domain/conflicts/account";
import { call, del, get, post, put } from "../helpers/api";
import { sdk as sdkFor } from "../helpers/emulator";
import { expectAuthRequired, problemOf } from "../helpers/problems";
import { seedAccount } from "../helpers/seed";
import type { RunBody } from "../helpers/wire";

interface Obj {
  id: string;
  version: number;
  warnings?: { code: string; message: string }[];
  [field: string]: unknown;
}

const PENDING = {
  state: "pending",
  cloudflare_id: null,
  synced_version: null,
  synced_at: null,
  last_error: null,
  observed: null,
};

const TAIL_DEFAULTS = [
  ["192.0.0.0/24", ""],
  ["192.168.0.0/16", ""],
  ["224.0.0.0/24", ""],
  ["240.0.0.0/4", ""],
  ["255.255.255.255/32", "DHCP Broadcast"],
  ["fe80::/10", "IPv6 Link Local"],
  ["fd00::/8", ""],
  ["ff01::/16", ""],
  ["ff02::/16", ""],
  ["ff03::/16", ""],
  ["ff04::/16", ""],
  ["ff05::/16", ""],
] as const;

const warpDefault = (address: string, description = "") => ({
  address,
  description,
  source: { kind: "warp-default" },
});

const remainder = (address: string, parent: string, carvedBy: number) => ({
  address,
  description: "",
  source: { kind: "warp-default-remainder", parent, carved_by_count: carvedBy },
});

/** The fields a split tunnel read adds after the user's entries, for a list of `count` entries. */
const wholeList = (count: number) => ({
  effective_count: count,
  effective_next_cursor: null,
  fit: null,
});

const TEN_MINUS_TEN_TWENTY = [
  "10.0.0.0/12",
  "10.16.0.0/14",
  "10.21.0.0/16",
  "10.22.0.0/15",
  "10.24.0.0/13",
  "10.32.0.0/11",
  "10.64.0.0/10",
  "10.128.0.0/9",
];

const TEAM_DOMAIN_UNKNOWN =
  "Include mode needs the team domain (<team>.cloudflareaccess.com) in the list: set team_domain on the account so tunnelplane can add or check it";

async function tunnel(base: string, name: string): Promise<string> {
  return (await post<Obj>(`${base}/tunnels`, { name })).body.id;
}

async function route(
  base: string,
  network: string,
  tunnelId: string,
  virtualNetworkId: string | null = null,
) {
  return post<Obj>(`${base}/routes`, {
    network,
    tunnel_id: tunnelId,
    virtual_network_id: virtualNetworkId,
  });
}

describe("effective split tunnel lists", () => {
  it("the default profile carves 172.31.0.0/16 out of 172.16.0.0/12 and drops 10.0.0.0/8, saying why", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await route(base, "10.0.0.0/8", t);
    await route(base, "172.31.0.0/16", t);
    expect(
      (await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true })).status,
    ).toBe(200);

    const expected = {
      id: "default",
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      status: PENDING,
      mode: "exclude",
      auto: true,
      max_entries: 1000,
      entries: [],
      ...wholeList(18),
      effective: [
        warpDefault("100.64.0.0/10"),
        warpDefault("169.254.0.0/16", "DHCP Unspecified"),
        remainder("172.16.0.0/13", "172.16.0.0/12", 1),
        remainder("172.24.0.0/14", "172.16.0.0/12", 1),
        remainder("172.28.0.0/15", "172.16.0.0/12", 1),
        remainder("172.30.0.0/16", "172.16.0.0/12", 1),
        ...TAIL_DEFAULTS.map(([address, description]) => warpDefault(address, description)),
      ],
      problems: [],
    };
    const read = await get(`${base}/split-tunnels/default`);
    expect([read.status, read.headers.get("etag")]).toEqual([200, '"1"']);
    expect(read.body).toEqual(expected);
  });

  it("a device profile following one virtual network carves 10.20.0.0/16 into 8 prefixes and ignores other networks' routes", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    const lab = (await post<Obj>(`${base}/virtual-networks`, { name: "lab" })).body.id;
    await route(base, "172.31.0.0/16", t);
    await route(base, "10.20.0.0/16", t, lab);

    const created = await post<Obj>(`${base}/device-profiles`, {
      name: "Lab engineers",
      match: 'any(identity.groups.name[*] in {"lab"})',
      precedence: 10,
      virtual_network_ids: [lab],
      split_tunnel: {
        mode: "exclude",
        auto: true,
        entries: [{ host: "Updates.Example.com", description: "os updates" }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`${base}/device-profiles/${created.body.id}`);
    expect(created.body).toEqual({
      id: expect.any(String),
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      status: PENDING,
      name: "Lab engineers",
      description: "",
      match: 'any(identity.groups.name[*] in {"lab"})',
      precedence: 10,
      enabled: true,
      virtual_network_ids: [lab],
      split_tunnel: {
        mode: "exclude",
        auto: true,
        max_entries: 1000,
        entries: [{ host: "updates.example.com", description: "os updates" }],
      },
      warnings: [],
    });

    const effective = await get<Obj>(`${base}/split-tunnels/${created.body.id}`);
    expect([effective.status, effective.headers.get("etag")]).toEqual([200, '"1"']);
    expect(effective.body).toEqual({
      id: created.body.id,
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      status: PENDING,
      mode: "exclude",
      auto: true,
      max_entries: 1000,
      entries: [{ host: "updates.example.com", description: "os updates" }],
      ...wholeList(24),
      effective: [
        ...TEN_MINUS_TEN_TWENTY.map((a) => remainder(a, "10.0.0.0/8", 1)),
        warpDefault("100.64.0.0/10"),
        warpDefault("169.254.0.0/16", "DHCP Unspecified"),
        warpDefault("172.16.0.0/12"),
        ...TAIL_DEFAULTS.map(([address, description]) => warpDefault(address, description)),
        { host: "updates.example.com", description: "os updates", source: { kind: "user" } },
      ],
      problems: [],
    });
  });

  it("Include mode with auto lists the routed ranges as their minimal cover, naming the routes", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await route(base, "10.1.0.0/17", t);
    await route(base, "10.1.128.0/17", t);
    await route(base, "fd00:1234::/32", t);
    const created = await post<Obj>(`${base}/device-profiles`, {
      name: "Contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 5,
      split_tunnel: {
        mode: "include",
        entries: [{ host: "*.corp.example.com" }],
      },
    });
    const effective = await get<Obj>(`${base}/split-tunnels/${created.body.id}`);
    expect([effective.body.mode, effective.body.auto, effective.body.effective]).toEqual([
      "include",
      true,
      [
        {
          address: "10.1.0.0/16",
          description: "",
          source: { kind: "route", routes_count: 2 },
        },
        {
          address: "fd00:1234::/32",
          description: "",
          source: { kind: "route", routes_count: 1 },
        },
        { host: "*.corp.example.com", description: "", source: { kind: "user" } },
      ],
    ]);
  });

  it("answers 404 for a profile that does not exist and 401 without a key", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const missing = await get(`${base}/split-tunnels/9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f`);
    expect([missing.status, problemOf(missing)]).toEqual([
      404,
      {
        type: "http://tunnelplane/problems/not-found",
        title: "Not found",
        status: 404,
        detail: `No device profile 9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f in account ${accountId}.`,
        instance: `${base}/split-tunnels/9f0c3f5e-8a9b-4b7e-9a55-0f0b1c2d3e4f`,
      },
    ]);
    await expectAuthRequired(expect, "GET", `${base}/split-tunnels/anything`);
    await expectAuthRequired(expect, "GET", `${base}/device-profiles`);
    await expectAuthRequired(expect, "GET", `${base}/conflicts`);
    await expectAuthRequired(expect, "POST", `${base}/conflicts/check-client-lan`, {
      lan: "10.0.0.0/24",
    });
  });
});

describe("the account's team domain", () => {
  const invalid = (instance: string) => ({
    type: "http://tunnelplane/problems/validation-failed",
    title: "The request is not valid",
    status: 422,
    detail: "The request body has 1 invalid field(s).",
    instance,
    errors: [
      {
        pointer: "#/team_domain",
        detail: "a team domain: <team-name>.cloudflareaccess.com",
        code: "invalid-format",
      },
    ],
  });

  it("takes <team>.cloudflareaccess.com in lower case, refuses anything else at #/team_domain and changes nothing", async ({
    expect,
  }) => {
    const refusedCreate = await post("/v1/accounts", {
      account_id: "5".repeat(32),
      name: "Acme",
      api_token: "test-cloudflare-api-token-0123456789abcdef",
      team_domain: "acme.example.com",
    });
    expect([refusedCreate.status, problemOf(refusedCreate)]).toEqual([
      422,
      invalid("/v1/accounts"),
    ]);
    expect((await get(`/v1/accounts/${"5".repeat(32)}`)).status).toBe(404);

    const { base } = await seedAccount(expect, { teamDomain: "Acme.CloudflareAccess.com" });
    const created = await get<Obj>(base);
    expect([created.body.team_domain, created.body.version]).toEqual([
      "acme.cloudflareaccess.com",
      1,
    ]);
    for (const teamDomain of [
      "cloudflareaccess.com",
      "a.b.cloudflareaccess.com",
      "-acme.cloudflareaccess.com",
      "acme.cloudflareaccess.com.evil.test",
      "*.cloudflareaccess.com",
    ]) {
      const refused = await call("PATCH", base, { body: { team_domain: teamDomain } });
      expect([teamDomain, refused.status, problemOf(refused)]).toEqual([
        teamDomain,
        422,
        invalid(base),
      ]);
    }
    const unchanged = await get<Obj>(base);
    expect([unchanged.body.team_domain, unchanged.body.version]).toEqual([
      "acme.cloudflareaccess.com",
      1,
    ]);
    const cleared = await call<Obj>("PATCH", base, { body: { team_domain: null } });
    expect([cleared.status, cleared.body.team_domain, cleared.body.version]).toEqual([
      200,
      null,
      2,
    ]);
    const renamed = await call<Obj>("PATCH", base, {
      body: { team_domain: " globex.cloudflareaccess.com " },
    });
    expect([renamed.status, renamed.body.team_domain]).toEqual([
      200,
      "globex.cloudflareaccess.com",
    ]);
  });

  it("an Include + auto profile carries the team domain after its routes, and GET says why", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect, { teamDomain: "acme.cloudflareaccess.com" });
    const t = await tunnel(base, "dc1");
    expect((await route(base, "10.1.0.0/16", t)).status).toBe(201);
    const created = await post<Obj>(`${base}/device-profiles`, {
      name: "Contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 5,
      split_tunnel: { mode: "include", entries: [{ host: "*.corp.example.com" }] },
    });
    expect([created.status, created.body.warnings]).toEqual([201, []]);
    const effective = await get<Obj>(`${base}/split-tunnels/${created.body.id}`);
    expect([effective.status, effective.body.effective, effective.body.problems]).toEqual([
      200,
      [
        {
          address: "10.1.0.0/16",
          description: "",
          source: { kind: "route", routes_count: 1 },
        },
        {
          host: "acme.cloudflareaccess.com",
          description: "Zero Trust team domain: enrolment, posture and Access sessions",
          source: { kind: "team-domain" },
        },
        { host: "*.corp.example.com", description: "", source: { kind: "user" } },
      ],
      [],
    ]);

    const notIncluded =
      "the team domain acme.cloudflareaccess.com is not in the Include list: device enrolment, posture checks and Access sessions need it to go through WARP";
    const manual = await put<Obj>(`${base}/split-tunnels/default`, {
      mode: "include",
      auto: false,
      entries: [{ address: "10.1.0.0/16" }],
    });
    expect([manual.status, manual.body.warnings, manual.body.problems]).toEqual([
      200,
      [{ code: "team-domain-not-included", message: notIncluded }],
      [
        {
          code: "team-domain-not-included",
          severity: "warning",
          team_domain: "acme.cloudflareaccess.com",
          message: notIncluded,
        },
      ],
    ]);
    expect((await get(`${base}/conflicts`)).body).toEqual({
      items: [
        {
          code: "team-domain-not-included",
          severity: "warning",
          message: `In the default device profile, ${notIncluded}`,
          objects: [{ kind: "split_tunnel", id: "default" }],
          profile_id: "default",
          team_domain: "acme.cloudflareaccess.com",
        },
      ],
      counts: { errors: 0, warnings: 1 },
    });

    await call("PATCH", base, { body: { team_domain: null } });
    const unknown = await get<Obj>(`${base}/split-tunnels/${created.body.id}`);
    expect([unknown.body.effective, unknown.body.problems]).toEqual([
      [
        {
          address: "10.1.0.0/16",
          description: "",
          source: { kind: "route", routes_count: 1 },
        },
        { host: "*.corp.example.com", description: "", source: { kind: "user" } },
      ],
      [{ code: "team-domain-unknown", severity: "warning", message: TEAM_DOMAIN_UNKNOWN }],
    ]);
  });
});

describe("the account's initial resolved IP range", () => {
  const routeErrors = async (base: string, network: string, tunnelId: string) => {
    const answer = await route(base, network, tunnelId);
    return answer.status === 201
      ? 201
      : [answer.status, (answer.body as unknown as { errors: unknown[] }).errors];
  };
  const reservedAt = (network: string, range: string) => [
    422,
    [
      {
        pointer: "#/network",
        detail: `${network} is inside Cloudflare's reserved range ${range} (Gateway initial resolved IPs)`,
        code: "reserved-range",
      },
    ],
  ];

  it.for<[string, string | null, [string, number | unknown[]][]]>([
    [
      "the default 172.64.128.0/20 refuses its own subnets and takes 100.80.0.0/16 and a superset",
      null,
      [
        ["100.80.5.0/24", 201],
        ["172.64.130.0/24", reservedAt("172.64.130.0/24", "172.64.128.0/20")],
        ["172.64.0.0/13", 201],
      ],
    ],
    [
      "an older account's 100.80.0.0/16 is the other way round, and takes a superset too",
      "100.80.0.0/16",
      [
        ["100.80.5.0/24", reservedAt("100.80.5.0/24", "100.80.0.0/16")],
        ["172.64.130.0/24", 201],
        ["100.80.0.0/12", 201],
      ],
    ],
    [
      "a custom 10.200.0.0/16 refuses its subnets only",
      "10.200.0.0/16",
      [
        ["10.200.7.0/24", reservedAt("10.200.7.0/24", "10.200.0.0/16")],
        ["10.0.0.0/8", 201],
        ["172.64.130.0/24", 201],
        ["100.80.5.0/24", 201],
      ],
    ],
  ])("%s", async ([_reason, range, cases], { expect }) => {
    const { accountId, base } = await seedAccount(expect);
    if (range !== null) {
      const patched = await call("PATCH", `/v1/accounts/${accountId}`, {
        body: { initial_resolved_ipv4: range },
      });
      expect([patched.status, (patched.body as Obj).initial_resolved_ipv4]).toEqual([200, range]);
    }
    const t = await tunnel(base, "dc1");
    const answers = [];
    for (const [network] of cases) {
      answers.push([network, await routeErrors(base, network, t)]);
    }
    expect(answers).toEqual(cases);
  });

  // Cloudflare's setting decides: a run with hostname routes reads it and adopts it, once.
  it.for<[string, string | null, string[], [string, number | unknown[]]]>([
    [
      "Cloudflare's default 172.64.128.0/20 matches the stored one: nothing to adopt, WARP routes it itself",
      null,
      ["10.0.0.0/8", "100.64.0.0/10"],
      ["172.64.130.0/24", reservedAt("172.64.130.0/24", "172.64.128.0/20")],
    ],
    [
      "an older account's 100.80.0.0/16 is adopted and carved out of 100.64.0.0/10",
      "100.80.0.0/16",
      [
        "10.0.0.0/8",
        "100.64.0.0/12",
        "100.81.0.0/16",
        "100.82.0.0/15",
        "100.84.0.0/14",
        "100.88.0.0/13",
        "100.96.0.0/11",
      ],
      ["100.80.5.0/24", reservedAt("100.80.5.0/24", "100.80.0.0/16")],
    ],
    [
      "a custom 10.200.0.0/16 is adopted and carved out of 10.0.0.0/8",
      "10.200.0.0/16",
      [
        "10.0.0.0/9",
        "10.128.0.0/10",
        "10.192.0.0/13",
        "10.201.0.0/16",
        "10.202.0.0/15",
        "10.204.0.0/14",
        "10.208.0.0/12",
        "10.224.0.0/11",
        "100.64.0.0/10",
      ],
      ["10.200.7.0/24", reservedAt("10.200.7.0/24", "10.200.0.0/16")],
    ],
  ])("at a run: %s", async ([, real, excludes, [inside, refusal]], { expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const account_id = accountId;
    const cf = sdkFor();
    if (real !== null) {
      await cf.zeroTrust.networks.subnets.initialResolvedIP.update("v4", {
        account_id,
        network: real,
      });
    }
    const t = await tunnel(base, "apps");
    await post(`${base}/hostname-routes`, { hostname: "*.apps.acme.example", tunnel_id: t });
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    const adopted =
      real === null
        ? []
        : [
            {
              kind: "hostname_route",
              key: "initial_resolved_ip/v4",
              reason: `Cloudflare's initial resolved range is ${real}, not 172.64.128.0/20 as stored: tunnelplane adopts ${real} for reserved ranges and split tunnels`,
            },
          ];
    const plan = await post<{ warnings: unknown[] }>(`${base}/plan`);
    expect(plan.body.warnings).toEqual(
      adopted.map(({ reason, ...w }) => ({
        code: "initial-resolved-range-adopted",
        ...w,
        message: reason,
      })),
    );
    const run = await post<RunBody>(`${base}/reconcile`);
    expect([run.body.outcome, run.body.drift]).toEqual(["succeeded", adopted]);
    const account = (await get<Obj>(`/v1/accounts/${accountId}`)).body;
    expect([account.initial_resolved_ipv4, account.version]).toEqual(
      real === null ? ["172.64.128.0/20", 1] : [real, 2],
    );
    const written = (await cf.zeroTrust.devices.policies.default.excludes.get({ account_id }))
      .result as { address?: string }[];
    expect(
      written.flatMap((e) =>
        e.address?.startsWith("10.") || e.address?.startsWith("100.") ? [e.address] : [],
      ),
    ).toEqual(excludes);
    expect(await routeErrors(base, inside, t)).toEqual(refusal);
    const second = await post<RunBody>(`${base}/reconcile`);
    expect([second.body.drift, second.body.actions]).toEqual([[], []]);
  });

  it("takes only an IPv4 /8 to /24 clear of the reserved ranges and of the account's routes", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    expect((await get<Obj>(`/v1/accounts/${accountId}`)).body.initial_resolved_ipv4).toBe(
      "172.64.128.0/20",
    );
    const routeId = (await route(base, "10.9.8.0/24", await tunnel(base, "dc1"))).body.id;
    const refused = async (value: string) => {
      const answer = await call("PATCH", `/v1/accounts/${accountId}`, {
        body: { initial_resolved_ipv4: value },
      });
      return [answer.status, (answer.body as { errors: { detail: string }[] }).errors];
    };
    const at = (detail: string, code = "invalid-initial-resolved-range") => [
      422,
      [{ pointer: "#/initial_resolved_ipv4", detail, code }],
    ];
    expect(await refused("10.200.0.1/16")).toEqual(
      at("10.200.0.1/16 has host bits set; the canonical form is 10.200.0.0/16"),
    );
    expect(await refused("fd00::/64")).toEqual(
      at("fd00::/64 is not an IPv4 range (the IPv6 range is fixed)"),
    );
    expect(await refused("10.200.0.0/28")).toEqual(at("10.200.0.0/28 must be a /8 to /24"));
    expect(await refused("100.96.0.0/16")).toEqual(
      at("100.96.0.0/16 overlaps Cloudflare's reserved range 100.96.0.0/12 (Device IPs)"),
    );
    expect(await refused("10.9.0.0/16")).toEqual(
      at(
        `10.9.0.0/16 holds the route 10.9.8.0/24 (${routeId}); move or delete it first`,
        "reserved-range",
      ),
    );
    expect((await get<Obj>(`/v1/accounts/${accountId}`)).body.version).toBe(1);
  });

  it("with hostname routes, a custom range is carved out of auto Exclude lists and added to auto Include lists; the default one never is", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect, {
      teamDomain: "acme.cloudflareaccess.com",
    });
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    const include = await post<Obj>(`${base}/device-profiles`, {
      name: "Contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 5,
      split_tunnel: { mode: "include" },
    });
    const t = await tunnel(base, "apps");
    const cgnat = (entries: { address?: string }[]) =>
      entries.filter((e) => e.address?.startsWith("100.") === true);
    const lists = async () => [
      cgnat(
        (await get<{ effective: { address?: string }[] }>(`${base}/split-tunnels/default`)).body
          .effective,
      ),
      (await get<{ effective: unknown[] }>(`${base}/split-tunnels/${include.body.id}`)).body
        .effective,
    ];
    const teamDomain = {
      host: "acme.cloudflareaccess.com",
      description: "Zero Trust team domain: enrolment, posture and Access sessions",
      source: { kind: "team-domain" },
    };
    const before = [[warpDefault("100.64.0.0/10")], [teamDomain]];
    expect(await lists()).toEqual(before);
    await post(`${base}/hostname-routes`, { hostname: "wiki.acme.internal", tunnel_id: t });
    // WARP routes the default range itself.
    expect(await lists()).toEqual(before);

    await call("PATCH", `/v1/accounts/${accountId}`, {
      body: { initial_resolved_ipv4: "100.80.0.0/16" },
    });
    const excludes = await get<{ effective: { address?: string }[]; problems: unknown[] }>(
      `${base}/split-tunnels/default`,
    );
    expect(cgnat(excludes.body.effective)).toEqual(
      [
        "100.64.0.0/12",
        "100.81.0.0/16",
        "100.82.0.0/15",
        "100.84.0.0/14",
        "100.88.0.0/13",
        "100.96.0.0/11",
      ].map((address) => remainder(address, "100.64.0.0/10", 1)),
    );
    expect(excludes.body.problems).toEqual([]);
    expect((await lists())[1]).toEqual([
      {
        address: "100.80.0.0/16",
        description: "Gateway initial resolved IPs",
        source: { kind: "initial-resolved-ips" },
      },
      teamDomain,
    ]);
  });
});

describe("device profile writes", () => {
  const profileBody = (precedence: number, splitTunnel: unknown, extra: object = {}) => ({
    name: "Engineers",
    match: 'any(identity.groups.name[*] in {"engineers"})',
    precedence,
    split_tunnel: splitTunnel,
    ...extra,
  });

  it("refuses an auto list whose own entry excludes a route, pointing at the entry", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await route(base, "10.20.5.0/24", t);
    const refused = await post(
      `${base}/device-profiles`,
      profileBody(10, {
        mode: "exclude",
        auto: true,
        entries: [{ host: "printer.local" }, { address: "10.20.0.0/16", description: "lab" }],
      }),
    );
    expect([refused.status, problemOf(refused)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail: "The split tunnel would make routes unreachable.",
        instance: `${base}/device-profiles`,
        errors: [
          {
            pointer: "#/split_tunnel/entries/1",
            detail:
              "route 10.20.5.0/24 is unreachable through WARP: the Exclude entry 10.20.0.0/16 sends 10.20.5.0/24 around it",
            code: "route-excluded",
          },
        ],
      },
    ]);
    expect((await get<{ items: unknown[] }>(`${base}/device-profiles`)).body.items).toEqual([]);
  });

  it("keeps every list within the account's split_tunnel_entries, on both profiles", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const limited = await call("PATCH", base, { body: { limits: { split_tunnel_entries: 2 } } });
    expect(limited.status).toBe(200);
    const three = ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"].map((address) => ({ address }));
    const byHand = await put(`${base}/split-tunnels/default`, {
      mode: "include",
      auto: false,
      entries: three,
    });
    expect([byHand.status, problemOf(byHand)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/limit-exceeded",
        title: "The account's quota does not allow this",
        status: 422,
        detail: `A split tunnel list of 3 entries needs 3 split_tunnel_entries and the account's limit is 2; an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"split_tunnel_entries": 3}}.`,
        instance: `${base}/split-tunnels/default`,
        limit: "split_tunnel_entries",
        maximum: 2,
        current: 0,
        requested: 3,
      },
    ]);
    // An auto list holds up to max_entries (1,000 by default) as routes come and go.
    const auto = await post(
      `${base}/device-profiles`,
      profileBody(10, { mode: "exclude", auto: true }),
    );
    expect([auto.status, (auto.body as { detail: string }).detail]).toEqual([
      422,
      `An auto split tunnel list with max_entries 1000 needs 1000 split_tunnel_entries and the account's limit is 2; an admin can raise it with PATCH /v1/accounts/${accountId} {"limits": {"split_tunnel_entries": 1000}}.`,
    ]);
    expect((await get<{ items: unknown[] }>(`${base}/device-profiles`)).body.items).toEqual([]);
    const fitted = await post(
      `${base}/device-profiles`,
      profileBody(10, { mode: "exclude", auto: true, max_entries: 2 }),
    );
    expect(fitted.status).toBe(201);
    const two = await put(`${base}/split-tunnels/default`, {
      mode: "include",
      auto: false,
      entries: three.slice(0, 2),
    });
    expect(two.status).toBe(200);
  });

  it("accepts the same list written by hand, with the problem as a warning", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await route(base, "10.20.5.0/24", t);
    const created = await post<Obj>(
      `${base}/device-profiles`,
      profileBody(10, { mode: "exclude", auto: false, entries: [{ address: "10.20.0.0/16" }] }),
    );
    expect([created.status, created.body.warnings]).toEqual([
      201,
      [
        {
          code: "route-excluded",
          message:
            "route 10.20.5.0/24 is unreachable through WARP: the Exclude entry 10.20.0.0/16 sends 10.20.5.0/24 around it",
        },
      ],
    ]);
  });

  it("refuses unknown virtual networks and bad entries with one pointer each", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const unknown = await post(
      `${base}/device-profiles`,
      profileBody(10, { mode: "include" }, { virtual_network_ids: ["default", "nope"] }),
    );
    expect([unknown.status, problemOf(unknown)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail: "The profile refers to objects that do not exist.",
        instance: `${base}/device-profiles`,
        errors: [
          {
            pointer: "#/virtual_network_ids/1",
            detail: "no virtual network nope in this account",
            code: "unknown-reference",
          },
        ],
      },
    ]);
    const bad = await post(`${base}/device-profiles`, {
      name: "",
      match: "",
      precedence: 0,
      split_tunnel: {
        mode: "sideways",
        entries: [
          { address: "10.1.2.3/8" },
          { address: "10.0.0.0/8", host: "a.example" },
          { host: "10.0.0.1" },
        ],
      },
    });
    expect(bad.status).toBe(422);
    expect((bad.body as { errors: unknown[] }).errors).toEqual([
      { pointer: "#/name", detail: expect.any(String), code: "too-small" },
      { pointer: "#/match", detail: expect.any(String), code: "too-small" },
      { pointer: "#/precedence", detail: expect.any(String), code: "too-small" },
      { pointer: "#/split_tunnel/mode", detail: expect.any(String), code: "invalid-value" },
      {
        pointer: "#/split_tunnel/entries/0/address",
        detail: "10.1.2.3/8 has host bits set; the canonical form is 10.0.0.0/8",
        code: "cidr-host-bits-set",
      },
      {
        pointer: "#/split_tunnel/entries/1",
        detail: "an entry has exactly one of address or host",
        code: "address-xor-host",
      },
      {
        pointer: "#/split_tunnel/entries/2/host",
        detail: "an IP address goes in address, not host",
        code: "host-is-address",
      },
    ]);
  });

  it("refuses an invalid match at #/match with its offset, on create and replace, storing nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const kept = await post<Obj>(`${base}/device-profiles`, profileBody(10, { mode: "include" }));
    const path = `${base}/device-profiles/${kept.body.id}`;
    const refusals: [string, string, string][] = [
      [
        'os.name == "mac" and net.dst.ip in {10.0.0.0/8}',
        "not a device profile match expression at offset 21: unknown field `net.dst.ip`",
        "invalid-expression",
      ],
      [
        'identity.email matches ".*@example.com"',
        "not a device profile match expression at offset 15: operator `matches` does not apply to `identity.email` (use == or in)",
        "invalid-expression",
      ],
      [
        '(os.name == "linux"',
        "not a device profile match expression at offset 19: expected `)`",
        "invalid-expression",
      ],
      [
        `network=="${"a".repeat(488)}"`,
        "the expression is 501 characters in canonical form; Cloudflare takes at most 500",
        "match-too-long",
      ],
      [
        `${"(".repeat(1_985)}identity.email == "a"${")".repeat(1_985)}`,
        "not a device profile match expression at offset 64: nested more than 64 levels deep (each `not` counts two)",
        "invalid-expression",
      ],
    ];
    for (const [match, detail, code] of refusals) {
      const created = await post(
        `${base}/device-profiles`,
        profileBody(20, { mode: "include" }, { match }),
      );
      const replaced = await put(path, profileBody(10, { mode: "include" }, { match }), {
        "if-match": '"1"',
      });
      for (const [response, instance] of [
        [created, `${base}/device-profiles`],
        [replaced, path],
      ] as const) {
        expect([response.status, problemOf(response)]).toEqual([
          422,
          {
            type: "http://tunnelplane/problems/validation-failed",
            title: "The request is not valid",
            status: 422,
            detail: "The request body has 1 invalid field(s).",
            instance,
            errors: [{ pointer: "#/match", detail, code }],
          },
        ]);
      }
    }
    const items = (await get<{ items: Obj[] }>(`${base}/device-profiles`)).body.items;
    expect(items.map((p) => [p.id, p.version, p.match])).toEqual([
      [kept.body.id, 1, 'any(identity.groups.name[*] in {"engineers"})'],
    ]);
  });

  it("stores a match in canonical form, which reads back and writes back unchanged", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const canonical = 'os.name == "mac" and any(identity.groups.name[*] in {"eng"})';
    const created = await post<Obj>(
      `${base}/device-profiles`,
      profileBody(
        10,
        { mode: "include" },
        { match: ' os.name=="mac"\n&& any(identity.groups[*].name in {"eng"}) ' },
      ),
    );
    expect([created.status, created.body.match]).toEqual([201, canonical]);
    const path = `${base}/device-profiles/${created.body.id}`;
    const read = await get<Obj>(path);
    expect(read.body.match).toBe(canonical);
    const rewritten = await put<Obj>(
      path,
      profileBody(10, { mode: "include" }, { match: read.body.match }),
      { "if-match": '"1"' },
    );
    expect([rewritten.status, rewritten.body.version, rewritten.body.match]).toEqual([
      200,
      2,
      canonical,
    ]);
  });

  it("gives each precedence to one profile (409) and replaces a profile under If-Match", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const first = await post<Obj>(`${base}/device-profiles`, profileBody(10, { mode: "include" }));
    const clash = await post(`${base}/device-profiles`, profileBody(10, { mode: "exclude" }));
    expect([clash.status, problemOf(clash)]).toEqual([
      409,
      {
        type: "http://tunnelplane/problems/profile-precedence-taken",
        title: "Another device profile has this precedence",
        status: 409,
        detail: "Another device profile has precedence 10; precedences are unique.",
        instance: `${base}/device-profiles`,
      },
    ]);
    const path = `${base}/device-profiles/${first.body.id}`;
    const stale = await put(path, profileBody(20, { mode: "include" }), { "if-match": '"7"' });
    expect([stale.status, problemOf(stale)]).toEqual([
      412,
      {
        type: "http://tunnelplane/problems/version-mismatch",
        title: "The object changed since it was read",
        status: 412,
        detail: "The current version is 1; re-read and retry.",
        instance: path,
      },
    ]);
    const replaced = await put<Obj>(
      path,
      profileBody(20, { mode: "include" }, { enabled: false, description: "paused" }),
      { "if-match": '"1"' },
    );
    expect([replaced.status, replaced.body.version, replaced.body.precedence]).toEqual([
      200, 2, 20,
    ]);
    expect([replaced.body.enabled, replaced.body.description]).toEqual([false, "paused"]);
  });

  it("refuses to delete a virtual network a profile follows (409)", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const lab = (await post<Obj>(`${base}/virtual-networks`, { name: "lab" })).body.id;
    const profile = await post<Obj>(
      `${base}/device-profiles`,
      profileBody(10, { mode: "include" }, { virtual_network_ids: [lab] }),
    );
    const refused = await del(`${base}/virtual-networks/${lab}`);
    expect([refused.status, problemOf(refused)]).toEqual([
      409,
      {
        type: "http://tunnelplane/problems/in-use",
        title: "The object is still referenced",
        status: 409,
        detail: `Device profiles ${profile.body.id} follow this virtual network; change their virtual_network_ids first.`,
        instance: `${base}/virtual-networks/${lab}`,
      },
    ]);
  });
});

describe("route writes and split tunnels", () => {
  it("refuses a route an auto profile's own Exclude entry would send around WARP", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: true,
      entries: [{ address: "192.168.0.0/16", description: "home" }],
    });
    const refused = await route(base, "192.168.50.0/24", t);
    expect([refused.status, problemOf(refused)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail: "An auto split tunnel would send the route around WARP; change its entries first.",
        instance: `${base}/routes`,
        errors: [
          {
            pointer: "#/network",
            detail:
              "In the default device profile, route 192.168.50.0/24 is unreachable through WARP: the Exclude entry 192.168.0.0/16 sends 192.168.50.0/24 around it",
            code: "route-excluded",
          },
        ],
      },
    ]);
    expect((await get<{ items: unknown[] }>(`${base}/routes`)).body.items).toEqual([]);
  });

  it("returns the problems a route causes in hand-written lists as warnings", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: false,
      entries: [{ address: "192.168.0.0/16" }],
    });
    const profile = await post<Obj>(`${base}/device-profiles`, {
      name: "Kiosks",
      match: 'os.name == "chromeos"',
      precedence: 30,
      split_tunnel: { mode: "include", auto: false, entries: [{ address: "192.168.50.0/25" }] },
    });
    const created = await route(base, "192.168.50.0/24", t);
    expect([created.status, created.body.warnings]).toEqual([
      201,
      [
        {
          code: "route-excluded",
          message:
            "In the default device profile, route 192.168.50.0/24 is unreachable through WARP: the Exclude entry 192.168.0.0/16 sends 192.168.50.0/24 around it",
        },
        {
          code: "route-not-included",
          message: `In device profile ${profile.body.id}, route 192.168.50.0/24 is unreachable through WARP: no Include entry covers 192.168.50.128/25`,
        },
      ],
    ]);
  });
});

describe("routes that carve the local WARP defaults", () => {
  it("a route of 0.0.0.0/0 under an auto Exclude list warns about DHCP, link-local and local multicast, and conflicts lists it", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "egress");
    expect(
      (await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true })).status,
    ).toBe(200);
    const homeLan = (lan: string) =>
      `0.0.0.0/0 overlaps the common home LAN ${lan}; users on such a LAN cannot reach ${lan}`;
    const local = [
      {
        address: "169.254.0.0/16",
        description: "DHCP Unspecified",
        purpose: "IPv4 link-local addresses, which a device takes when DHCP gives it none",
      },
      {
        address: "224.0.0.0/24",
        description: "",
        purpose: "local network multicast: mDNS, LLMNR, routing protocols",
      },
      {
        address: "255.255.255.255/32",
        description: "DHCP Broadcast",
        purpose: "limited broadcast: DHCP discovery",
      },
    ];
    const sentence = (d: (typeof local)[number]) =>
      `route 0.0.0.0/0 sends ${d.address} through WARP instead of the device's own link: it carves ${d.address} (${d.purpose}) out of the WARP default Exclude list`;
    const lans = ["10.0.0.0/24", "192.168.0.0/24", "192.168.1.0/24", "172.16.0.0/24"];

    const created = await route(base, "0.0.0.0/0", t);
    expect([created.status, created.body.warnings]).toEqual([
      201,
      [
        ...lans.map((lan) => ({ code: "home-lan-overlap", message: homeLan(lan) })),
        ...local.map((d) => ({
          code: "local-default-routed",
          message: `In the default device profile, ${sentence(d)}`,
        })),
      ],
    ]);

    const view = await get<Obj>(`${base}/split-tunnels/default`);
    expect(view.body.problems).toEqual(
      local.map((d) => ({
        code: "local-default-routed",
        severity: "warning",
        route_network: "0.0.0.0/0",
        message: sentence(d),
      })),
    );

    const routeId = created.body.id;
    const conflicts = await get(`${base}/conflicts`);
    expect([conflicts.status, conflicts.body]).toEqual([
      200,
      {
        items: [
          ...lans.map((lan) => ({
            code: "home-lan-overlap",
            severity: "warning",
            message: homeLan(lan),
            objects: [{ kind: "tunnel_route", id: routeId }],
            route_id: routeId,
            network: "0.0.0.0/0",
            lan_range: lan,
            shadowed: [lan],
          })),
          ...local.map((d) => ({
            code: "local-default-routed",
            severity: "warning",
            message: `In the default device profile, ${sentence(d)}`,
            objects: [
              { kind: "split_tunnel", id: "default" },
              { kind: "tunnel_route", id: routeId },
            ],
            profile_id: "default",
            route_network: "0.0.0.0/0",
            route_ids: [routeId],
            entry: { address: d.address, description: d.description },
            purpose: d.purpose,
            unreachable: [d.address],
          })),
        ],
        counts: { errors: 0, warnings: 7 },
      },
    ]);
  });
});

describe("the conflicts endpoint", () => {
  it("reads only the routes conflicts can be about and answers as over every route", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const t1 = await tunnel(base, "dc1");
    const t2 = await tunnel(base, "dc2");
    const lab = (await post<Obj>(`${base}/virtual-networks`, { name: "lab" })).body.id;
    const qa = (await post<Obj>(`${base}/virtual-networks`, { name: "qa" })).body.id;
    await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: false,
      entries: [{ address: "10.70.0.0/16" }],
    });
    await post(`${base}/device-profiles`, {
      name: "Contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 10,
      virtual_network_ids: ["default"],
      split_tunnel: { mode: "exclude", auto: true },
    });
    const routes: [string, string, string | null][] = [
      ["10.200.0.0/24", t1, lab],
      ["10.50.0.0/16", t1, null],
      ["10.201.0.0/24", t1, null],
      ["10.50.1.0/24", t2, null],
      ["10.60.0.0/16", t1, lab],
      ["10.60.7.0/24", t2, lab],
      ["10.50.0.0/16", t2, qa],
      ["192.168.1.0/24", t1, null],
      ["10.70.5.0/24", t1, null],
      ["169.254.10.0/24", t1, null],
      ["10.202.0.0/24", t2, null],
    ];
    for (const [network, tunnelId, vnet] of routes) {
      expect((await route(base, network, tunnelId, vnet)).status).toBe(201);
    }

    const db = createDb(env.DB);
    const input = await loadConflictCheckInput(db, accountId);
    expect([input.isFocused, input.routes.map((r) => r.network)]).toEqual([
      true,
      [
        "10.50.0.0/16",
        "10.50.1.0/24",
        "10.60.0.0/16",
        "10.60.7.0/24",
        "10.50.0.0/16",
        "192.168.1.0/24",
        "10.70.5.0/24",
        "169.254.10.0/24",
      ],
    ]);
    const every = (await listAllObjects(db, accountId, "tunnel_route")).map((r) => ({
      id: r.id,
      ...r.spec,
    }));
    const whole = findAccountConflicts(
      every,
      input.profiles,
      input.defaultVirtualNetworkId,
      input.account,
      input.reservedRanges,
    ).map(toConflictResource);
    const conflicts = await get<{ items: { code: string; virtual_network_id?: string }[] }>(
      `${base}/conflicts`,
    );
    expect(conflicts.body.items).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(conflicts.body.items.map((c) => [c.code, c.virtual_network_id])).toEqual([
      ["route-overlap", lab],
      ["route-overlap", null],
      ["home-lan-overlap", undefined],
      ["route-excluded", undefined],
      ["local-default-routed", undefined],
    ]);
  });

  it("lists every conflict of a crafted account with stable codes and the objects involved", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t1 = await tunnel(base, "dc1");
    const t2 = await tunnel(base, "dc2");
    const lab = (await post<Obj>(`${base}/virtual-networks`, { name: "lab" })).body.id;
    const wide = await route(base, "10.0.0.0/8", t1);
    const narrow = await route(base, "10.20.0.0/16", t2);
    const home = await route(base, "192.168.1.0/24", t1, lab);
    await put(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: false,
      entries: [{ address: "192.168.0.0/16" }],
    });
    const profile = await post<Obj>(`${base}/device-profiles`, {
      name: "Contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 10,
      virtual_network_ids: ["default"],
      split_tunnel: { mode: "include", auto: false, entries: [{ address: "10.20.0.0/16" }] },
    });
    expect(wide.body.warnings).toEqual([
      {
        code: "home-lan-overlap",
        message:
          "10.0.0.0/8 overlaps the common home LAN 10.0.0.0/24; users on such a LAN cannot reach 10.0.0.0/24",
      },
    ]);
    const wideRef = {
      route_id: wide.body.id,
      network: "10.0.0.0/8",
      tunnel_id: t1,
      virtual_network_id: null,
    };
    const narrowRef = {
      route_id: narrow.body.id,
      network: "10.20.0.0/16",
      tunnel_id: t2,
      virtual_network_id: null,
    };

    const conflicts = await get(`${base}/conflicts`);
    expect(conflicts.status).toBe(200);
    expect(conflicts.body).toEqual({
      items: [
        {
          code: "route-overlap",
          severity: "warning",
          message: `10.20.0.0/16 (tunnel ${t2}) lies inside 10.0.0.0/8 (tunnel ${t1}); the longest prefix wins, so 10.20.0.0/16 goes to tunnel ${t2}`,
          objects: [
            { kind: "tunnel_route", id: narrow.body.id },
            { kind: "tunnel_route", id: wide.body.id },
          ],
          virtual_network_id: null,
          specific: narrowRef,
          general: wideRef,
          winner: { route_id: narrow.body.id, tunnel_id: t2, range: "10.20.0.0/16" },
        },
        {
          code: "home-lan-overlap",
          severity: "warning",
          message:
            "10.0.0.0/8 overlaps the common home LAN 10.0.0.0/24; users on such a LAN cannot reach 10.0.0.0/24",
          objects: [{ kind: "tunnel_route", id: wide.body.id }],
          route_id: wide.body.id,
          network: "10.0.0.0/8",
          lan_range: "10.0.0.0/24",
          shadowed: ["10.0.0.0/24"],
        },
        {
          code: "home-lan-overlap",
          severity: "warning",
          message:
            "192.168.1.0/24 overlaps the common home LAN 192.168.1.0/24; users on such a LAN cannot reach 192.168.1.0/24",
          objects: [{ kind: "tunnel_route", id: home.body.id }],
          route_id: home.body.id,
          network: "192.168.1.0/24",
          lan_range: "192.168.1.0/24",
          shadowed: ["192.168.1.0/24"],
        },
        {
          code: "route-excluded",
          severity: "warning",
          message:
            "In the default device profile, route 192.168.1.0/24 is unreachable through WARP: the Exclude entry 192.168.0.0/16 sends 192.168.1.0/24 around it",
          objects: [
            { kind: "split_tunnel", id: "default" },
            { kind: "tunnel_route", id: home.body.id },
          ],
          profile_id: "default",
          route_network: "192.168.1.0/24",
          route_ids: [home.body.id],
          entry: { address: "192.168.0.0/16", description: "" },
          unreachable: ["192.168.1.0/24"],
        },
        {
          code: "route-not-included",
          severity: "warning",
          message: `In device profile ${profile.body.id}, route 10.0.0.0/8 is unreachable through WARP: no Include entry covers ${TEN_MINUS_TEN_TWENTY.join(", ")}`,
          objects: [
            { kind: "device_profile", id: profile.body.id },
            { kind: "tunnel_route", id: wide.body.id },
          ],
          profile_id: profile.body.id,
          route_network: "10.0.0.0/8",
          route_ids: [wide.body.id],
          unreachable: TEN_MINUS_TEN_TWENTY,
        },
        {
          code: "team-domain-unknown",
          severity: "warning",
          message: `In device profile ${profile.body.id}, ${TEAM_DOMAIN_UNKNOWN}`,
          objects: [{ kind: "device_profile", id: profile.body.id }],
          profile_id: profile.body.id,
        },
      ],
      counts: { errors: 0, warnings: 6 },
    });

    const atHome = await post(`${base}/conflicts/check-client-lan`, { lan: "10.0.0.0/24" });
    expect([atHome.status, atHome.body]).toEqual([
      200,
      {
        lan: "10.0.0.0/24",
        routes: [{ ...wideRef, shadowed: ["10.0.0.0/24"], wholly_shadowed: false }],
      },
    ]);
    const wider = await post(`${base}/conflicts/check-client-lan`, { lan: "10.20.7.1/15" });
    expect(wider.body).toEqual({
      lan: "10.20.0.0/15",
      routes: [
        { ...wideRef, shadowed: ["10.20.0.0/15"], wholly_shadowed: false },
        { ...narrowRef, shadowed: ["10.20.0.0/16"], wholly_shadowed: true },
      ],
    });
    const lan = await post(`${base}/conflicts/check-client-lan`, { lan: "192.168.1.23/24" });
    expect(lan.body).toEqual({
      lan: "192.168.1.0/24",
      routes: [
        {
          route_id: home.body.id,
          network: "192.168.1.0/24",
          tunnel_id: t1,
          virtual_network_id: lab,
          shadowed: ["192.168.1.0/24"],
          wholly_shadowed: true,
        },
      ],
    });
  });

  it("an empty account has no conflicts and its LAN check names no route", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    expect((await get(`${base}/conflicts`)).body).toEqual({
      items: [],
      counts: { errors: 0, warnings: 0 },
    });
    expect((await post(`${base}/conflicts/check-client-lan`, { lan: "fd00::1" })).body).toEqual({
      lan: "fd00::1/128",
      routes: [],
    });
  });

  it("refuses a LAN that is not an address or CIDR (422) and an unknown account (404)", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const bad = await post(`${base}/conflicts/check-client-lan`, { lan: "10.0.0.0/33" });
    expect([bad.status, problemOf(bad)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail: "The request body has 1 invalid field(s).",
        instance: `${base}/conflicts/check-client-lan`,
        errors: [{ pointer: "#/lan", detail: expect.any(String), code: "invalid-cidr" }],
      },
    ]);
    const other = "/v1/accounts/00000000000000000000000000000000/conflicts";
    const missing = await get(other);
    expect([missing.status, problemOf(missing)]).toEqual([
      404,
      {
        type: "http://tunnelplane/problems/not-found",
        title: "Not found",
        status: 404,
        detail: "Account 00000000000000000000000000000000 is not registered.",
        instance: other,
      },
    ]);
  });
});

describe("hostname routes and the Gateway proxy", () => {
  it("a hostname route with UDP (or both protocols) off is an error in conflicts naming the route and what is missing, and a warning on both writes", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "apps");
    // Under no suffix of Cloudflare's default Local Domain Fallback (see the device profile tests).
    const created = await post<Obj>(`${base}/hostname-routes`, {
      hostname: "*.apps.acme.example",
      tunnel_id: t,
    });
    const unmanaged =
      "hostname route *.apps.acme.example needs the Gateway proxy with TCP and UDP on, and TCP and UDP are off (proxy settings are not managed by tunnelplane; Cloudflare's default is off)";
    expect(created.body.warnings).toEqual([
      { code: "hostname-route-proxy-off", message: unmanaged },
    ]);
    const conflicts = async () =>
      (await get<{ items: unknown[]; counts: unknown }>(`${base}/conflicts`)).body;
    expect(await conflicts()).toEqual({
      items: [
        {
          code: "hostname-route-proxy-off",
          severity: "error",
          message: unmanaged,
          objects: [{ kind: "hostname_route", id: created.body.id }],
          route_id: created.body.id,
          hostname: "*.apps.acme.example",
          missing: ["tcp", "udp"],
          proxy_managed: false,
        },
      ],
      counts: { errors: 1, warnings: 0 },
    });
    const udpOff = await put<Obj>(`${base}/proxy-settings`, { tcp: true, udp: false, icmp: false });
    const message =
      "hostname route *.apps.acme.example needs the Gateway proxy with TCP and UDP on, and UDP is off";
    expect(udpOff.body.warnings).toEqual([{ code: "hostname-route-proxy-off", message }]);
    expect(await conflicts()).toEqual({
      items: [
        {
          code: "hostname-route-proxy-off",
          severity: "error",
          message,
          objects: [
            { kind: "hostname_route", id: created.body.id },
            { kind: "proxy_settings", id: "default" },
          ],
          route_id: created.body.id,
          hostname: "*.apps.acme.example",
          missing: ["udp"],
          proxy_managed: true,
        },
      ],
      counts: { errors: 1, warnings: 0 },
    });
    const on = await put<Obj>(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: false });
    expect(on.body.warnings).toEqual([]);
    expect(await conflicts()).toEqual({ items: [], counts: { errors: 0, warnings: 0 } });
  });
});

describe("hostname route format through the API", () => {
  const long = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.example`;
  const REFUSED = [
    [
      "a partial leading wildcard",
      "*-dev.apps.acme.example",
      "a wildcard that is not the whole leading label",
    ],
    [
      "a partial trailing wildcard",
      "dev-*.apps.acme.example",
      "a wildcard that is not the whole leading label",
    ],
    ["a middle wildcard", "foo.*.acme.example", "a wildcard that is not the whole leading label"],
    [
      "a wildcard inside a label",
      "foo*bar.acme.example",
      "a wildcard that is not the whole leading label",
    ],
    ["two wildcards", "*.*.acme.example", "more than one wildcard"],
    ["255 characters or more", long, "255 characters or longer"],
    ["an empty label", "wiki..acme.example", "empty or with an empty label"],
    ["nothing but dots", "..", "empty or with an empty label"],
  ] as const;

  it("refuses every malformed form with 422 at #/hostname naming the rule, storing nothing", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "apps");
    const answers = [];
    for (const [reason, hostname] of REFUSED) {
      const answer = await post<{ errors: unknown[] }>(`${base}/hostname-routes`, {
        hostname,
        tunnel_id: t,
      });
      answers.push([reason, answer.status, answer.body.errors]);
    }
    expect(answers).toEqual(
      REFUSED.map(([reason, hostname, rule]) => [
        reason,
        422,
        [
          {
            pointer: "#/hostname",
            detail: `${hostname} is not a valid hostname route: ${rule}`,
            code: "invalid-hostname",
          },
        ],
      ]),
    );
    expect((await get<{ items: unknown[] }>(`${base}/hostname-routes`)).body.items).toEqual([]);
  });
});

describe("lists cut to max_entries, paged, and one entry with its routes", () => {
  it("cuts an Include list to max_entries over the fewest unrouted addresses, and pages through it", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    for (const network of ["10.0.0.0/25", "10.0.1.0/24", "10.0.4.0/24", "10.0.6.0/24"]) {
      expect((await route(base, network, t)).status).toBe(201);
    }
    const created = await post<Obj>(`${base}/device-profiles`, {
      name: "Contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 5,
      split_tunnel: { mode: "include", max_entries: 3 },
    });
    expect(created.status).toBe(201);
    const read = await get<Obj>(`${base}/split-tunnels/${created.body.id}`);
    const routeEntry = (address: string, count: number) => ({
      address,
      description: "",
      source: { kind: "route", routes_count: count },
    });
    expect([
      read.body.max_entries,
      read.body.effective,
      read.body.effective_count,
      read.body.fit,
    ]).toEqual([
      3,
      [routeEntry("10.0.0.0/25", 1), routeEntry("10.0.1.0/24", 1), routeEntry("10.0.4.0/22", 2)],
      3,
      {
        exact_entries: 4,
        extra_addresses: "512",
        protected_addresses: "0",
        extra_ranges: ["10.0.5.0/24", "10.0.7.0/24"],
        extra_ranges_count: 2,
      },
    ]);

    const first = await get<{ items: unknown[]; next_cursor: string | null }>(
      `${base}/split-tunnels/${created.body.id}/entries?limit=2`,
    );
    expect([first.status, first.body.items]).toEqual([
      200,
      [routeEntry("10.0.0.0/25", 1), routeEntry("10.0.1.0/24", 1)],
    ]);
    const second = await get(
      `${base}/split-tunnels/${created.body.id}/entries?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body).toEqual({ items: [routeEntry("10.0.4.0/22", 2)], next_cursor: null });

    const merged = await get(`${base}/split-tunnels/${created.body.id}/entries/10.0.4.0%2F22`);
    expect([merged.status, merged.body]).toEqual([
      200,
      {
        ...routeEntry("10.0.4.0/22", 2),
        routes: ["10.0.4.0/24", "10.0.6.0/24"],
        routes_next_cursor: null,
      },
    ]);

    // A new route shifts the list: the old cursor no longer names a place in it.
    expect((await route(base, "10.0.2.0/24", t)).status).toBe(201);
    const stale = await get(
      `${base}/split-tunnels/${created.body.id}/entries?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect([stale.status, problemOf(stale)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail:
          "The cursor is not one this API returned for the list as it is now; start again without one.",
        instance: `${base}/split-tunnels/${created.body.id}/entries`,
        errors: [
          { parameter: "cursor", detail: "unknown or stale cursor", code: "invalid-cursor" },
        ],
      },
    ]);
  });

  it("names the routes carving an entry's default, answers 404 for an entry not in the list and 422 for a non-network", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const t = await tunnel(base, "dc1");
    await route(base, "172.31.0.0/16", t);
    await route(base, "172.30.0.0/24", t);
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    const entry = await get(`${base}/split-tunnels/default/entries/172.16.0.0%2F13`);
    expect([entry.status, entry.body]).toEqual([
      200,
      {
        ...remainder("172.16.0.0/13", "172.16.0.0/12", 2),
        routes: ["172.30.0.0/24", "172.31.0.0/16"],
        routes_next_cursor: null,
      },
    ]);
    const untouched = await get(`${base}/split-tunnels/default/entries/100.64.0.0%2F10`);
    expect(untouched.body).toEqual({
      ...warpDefault("100.64.0.0/10"),
      routes: [],
      routes_next_cursor: null,
    });

    // The routes ride along a page of entries on request, a few at a time, and page on from there.
    const expanded = await get<{ items: Record<string, unknown>[] }>(
      `${base}/split-tunnels/default/entries?limit=2&expand=routes&routes_limit=1`,
    );
    const [first, second] = expanded.body.items;
    expect([expanded.status, first?.address, first?.routes, second]).toEqual([
      200,
      "10.0.0.0/8",
      [],
      { ...warpDefault("100.64.0.0/10"), routes: [], routes_next_cursor: null },
    ]);
    const carved = await get<{ items: Record<string, unknown>[] }>(
      `${base}/split-tunnels/default/entries?limit=1&cursor=${encodeURIComponent(
        (await get<{ next_cursor: string }>(`${base}/split-tunnels/default/entries?limit=3`)).body
          .next_cursor,
      )}&expand=routes&routes_limit=1`,
    );
    const next = carved.body.items[0]?.routes_next_cursor as string;
    expect(carved.body.items).toEqual([
      {
        ...remainder("172.16.0.0/13", "172.16.0.0/12", 2),
        routes: ["172.30.0.0/24"],
        routes_next_cursor: next,
      },
    ]);
    const rest = await get(
      `${base}/split-tunnels/default/entries/172.16.0.0%2F13?routes_limit=1&routes_cursor=${next}`,
    );
    expect(rest.body).toEqual({
      ...remainder("172.16.0.0/13", "172.16.0.0/12", 2),
      routes: ["172.31.0.0/16"],
      routes_next_cursor: null,
    });
    const tooMany = await get(
      `${base}/split-tunnels/default/entries?limit=1000&expand=routes&routes_limit=11`,
    );
    expect([tooMany.status, problemOf(tooMany)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail:
          "With expand=routes a page names at most 10000 routes: limit × routes_limit is 11000.",
        instance: `${base}/split-tunnels/default/entries`,
        errors: [
          { parameter: "routes_limit", detail: "at most 10 with limit 1000", code: "too-big" },
        ],
      },
    ]);
    const missing = await get(`${base}/split-tunnels/default/entries/172.31.0.0%2F16`);
    expect([missing.status, problemOf(missing)]).toEqual([
      404,
      {
        type: "http://tunnelplane/problems/not-found",
        title: "Not found",
        status: 404,
        detail: "The split tunnel of default has no entry 172.31.0.0/16.",
        instance: `${base}/split-tunnels/default/entries/172.31.0.0%2F16`,
      },
    ]);
    const invalid = await get(`${base}/split-tunnels/default/entries/172.16.0.1%2F13`);
    expect([invalid.status, problemOf(invalid)]).toEqual([
      422,
      {
        type: "http://tunnelplane/problems/validation-failed",
        title: "The request is not valid",
        status: 422,
        detail: "172.16.0.1/13 is not a network in canonical form.",
        instance: `${base}/split-tunnels/default/entries/172.16.0.1%2F13`,
        errors: [
          { parameter: "address", detail: "a CIDR such as 10.0.0.0/12", code: "invalid-cidr" },
        ],
      },
    ]);
    await expectAuthRequired(expect, "GET", `${base}/split-tunnels/default/entries`);
    await expectAuthRequired(expect, "GET", `${base}/split-tunnels/default/entries/10.0.0.0%2F8`);
  });

  it("at 10,000 routes spread over 10.0.0.0/8, every split tunnel answer stays under 1 MB", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    await insertSpreadRoutes(accountId, 10_000);
    const written = await put<Obj>(`${base}/split-tunnels/default`, {
      mode: "exclude",
      auto: true,
    });
    const profile = await post<Obj>(`${base}/device-profiles`, {
      name: "Everyone",
      match: 'identity.email == "c@example.com"',
      precedence: 1,
      split_tunnel: { mode: "include" },
    });
    const read = await get<Obj>(`${base}/split-tunnels/default`);
    const firstEntry = (read.body.effective as { address: string }[])[0]?.address ?? "";
    const answers = [
      written,
      profile,
      read,
      await get(`${base}/split-tunnels/${profile.body.id}`),
      await get(`${base}/split-tunnels/default/entries`),
      await get(`${base}/split-tunnels/${profile.body.id}/entries`),
      await get(`${base}/split-tunnels/default/entries/${encodeURIComponent(firstEntry)}`),
      await get(`${base}/split-tunnels/default/entries?expand=routes`),
      await get(`${base}/split-tunnels/default/entries?expand=routes&limit=100&routes_limit=100`),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 201, 200, 200, 200, 200, 200, 200, 200]);
    const sizes = answers.map((a) => JSON.stringify(a.body).length);
    expect(sizes.filter((size) => size >= 1_000_000)).toEqual([]);
    const fitOf = (body: unknown) => {
      const { fit } = body as { fit: Record<string, unknown> };
      return [fit.exact_entries, fit.extra_addresses, fit.extra_ranges_count];
    };
    const detail = answers[6]?.body as { routes: string[] } | undefined;
    const expandedRoutes = (answer: (typeof answers)[number] | undefined) =>
      ((answer?.body ?? { items: [] }) as { items: { routes: string[] }[] }).items.reduce(
        (sum, item) => sum + item.routes.length,
        0,
      );
    expect([
      read.body.effective_count,
      (read.body.effective as unknown[]).length,
      fitOf(read.body),
      fitOf(answers[3]?.body),
      detail?.routes.length,
      expandedRoutes(answers[7]),
      expandedRoutes(answers[8]),
    ]).toEqual([
      1000,
      1000,
      [26_399, "13204736", 25_396],
      [10_000, "12800512", 23_758],
      1000,
      9_890,
      10_000,
    ]);
    // Nine answers over 10,000 routes take 4-6 s here; the margin is for a loaded CI machine.
  }, 15_000);
});

/**
 * Stores `count` routes straight into D1, /24s spread across 10.0.0.0/8 one every 65,536 / count
 * /24s: through the API this many would take minutes.
 */
async function insertSpreadRoutes(accountId: string, count: number): Promise<void> {
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const slot = Math.floor((i * 65_536) / count);
    const network = `10.${slot >> 8}.${slot & 255}.0/24`;
    const spec = JSON.stringify({ network, tunnelId: "t", virtualNetworkId: null, comment: "" });
    rows.push(
      `('${accountId}', 'tunnel_route', 'r${i}', 'default|${network}', '${spec}', 1, 'pending', 0, 0)`,
    );
  }
  const statements = [];
  for (let at = 0; at < rows.length; at += 500) {
    statements.push(
      env.DB.prepare(
        `INSERT INTO desired_objects (account_id, kind, id, natural_key, spec_json, version, sync_state, created_at_ms, updated_at_ms) VALUES ${rows.slice(at, at + 500).join(", ")}`,
      ),
    );
  }
  await env.DB.batch(statements);
}
