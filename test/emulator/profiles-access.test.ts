import { describe, it } from "vitest";
import { api, control, failureOf, newAccountId, sdk, TIMESTAMP, UUID } from "../helpers/emulator";

const cf = sdk();

const DEFAULT_EXCLUDE_ADDRESSES = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "224.0.0.0/24",
  "240.0.0.0/4",
  "255.255.255.255/32",
  "fe80::/10",
  "fd00::/8",
  "ff01::/16",
  "ff02::/16",
  "ff03::/16",
  "ff04::/16",
  "ff05::/16",
];

describe("custom device profiles", () => {
  it("start from the default excludes and list before the default profile", async ({ expect }) => {
    const accountId = newAccountId();
    const custom = cf.zeroTrust.devices.policies.custom;
    const engineers = await custom.create({
      account_id: accountId,
      name: "engineers",
      match: 'any(identity.groups.name[*] in {"engineers"})',
      precedence: 20,
    });
    const contractors = await custom.create({
      account_id: accountId,
      name: "contractors",
      match: 'identity.email == "c@example.com"',
      precedence: 10,
      include: [{ address: "10.50.0.0/16" }],
    });
    const engineersId = engineers?.policy_id ?? "";
    const contractorsId = contractors?.policy_id ?? "";
    expect(engineers).toEqual({
      allow_mode_switch: false,
      allow_updates: false,
      allowed_to_leave: true,
      auto_connect: 0,
      captive_portal: 180,
      default: false,
      description: "",
      disable_auto_fallback: false,
      enabled: true,
      exclude: DEFAULT_EXCLUDE_ADDRESSES.map((address) => expect.objectContaining({ address })),
      exclude_office_ips: false,
      fallback_domains: [
        "intranet",
        "internal",
        "private",
        "localdomain",
        "domain",
        "lan",
        "home",
        "host",
        "corp",
        "local",
        "localhost",
        "home.arpa",
        "invalid",
        "test",
      ].map((suffix) => ({ suffix })),
      gateway_unique_id: accountId,
      match: 'any(identity.groups.name[*] in {"engineers"})',
      name: "engineers",
      policy_id: expect.stringMatching(UUID),
      precedence: 20,
      profile_type: "warp",
      register_interface_ip_with_dns: true,
      sccm_vpn_boundary_support: false,
      service_mode_v2: { mode: "warp" },
      support_url: "",
      switch_locked: false,
      tunnel_protocol: "wireguard",
      created_at: expect.stringMatching(TIMESTAMP),
      updated_at: expect.stringMatching(TIMESTAMP),
    });
    const excludes = await custom.excludes.get(engineersId, { account_id: accountId });
    expect(excludes.result.map((entry) => (entry as { address?: string }).address)).toEqual(
      DEFAULT_EXCLUDE_ADDRESSES,
    );
    expect((await custom.includes.get(contractorsId, { account_id: accountId })).result).toEqual([
      { address: "10.50.0.0/16" },
    ]);
    const list = await custom.list({ account_id: accountId });
    expect(list.result.map((p) => [p.name ?? "(default)", p.default, p.precedence])).toEqual([
      ["contractors", false, 10],
      ["engineers", false, 20],
      ["(default)", true, undefined],
    ]);
    expect(
      await failureOf(
        custom.create({
          account_id: accountId,
          name: "clash",
          match: 'os.name == "linux"',
          precedence: 10,
        }),
      ),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        { code: 2103, message: `Precedence 10 is already used by profile ${contractorsId}` },
      ],
    });
    expect(
      await failureOf(custom.create({ account_id: accountId, name: "no match", precedence: 30 })),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 2101, message: "match is required" }],
    });
  });

  it("switches a custom profile's mode, edits it and deletes it", async ({ expect }) => {
    const accountId = newAccountId();
    const custom = cf.zeroTrust.devices.policies.custom;
    const created = await custom.create({
      account_id: accountId,
      name: "ops",
      match: 'identity.email == "ops@example.com"',
      precedence: 5,
    });
    const id = created?.policy_id ?? "";
    const written = await custom.includes.update(id, {
      account_id: accountId,
      body: [{ address: "10.9.9.9" }, { host: "intranet.example.com", description: "wiki" }],
    });
    expect(written.result).toEqual([
      { address: "10.9.9.9/32" },
      { host: "intranet.example.com", description: "wiki" },
    ]);
    expect((await custom.excludes.get(id, { account_id: accountId })).result).toEqual([]);
    const edited = (await custom.edit(id, {
      account_id: accountId,
      name: "operations",
      precedence: 7,
      enabled: false,
    })) as Record<string, unknown>;
    expect([edited.name, edited.precedence, edited.enabled, "exclude" in edited]).toEqual([
      "operations",
      7,
      false,
      false,
    ]);
    expect((edited.include as unknown[]).length).toBe(2);
    const remaining: unknown[] = [];
    for await (const profile of custom.delete(id, { account_id: accountId })) {
      remaining.push(profile.default);
    }
    expect(remaining).toEqual([true]);
    expect(await failureOf(custom.get(id, { account_id: accountId }))).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 2102, message: "Device settings profile not found" }],
    });
  });
});

describe("route lookup by IP", () => {
  it("finds the longest prefix in the given or default vnet, 404 when none", async ({ expect }) => {
    const accountId = newAccountId();
    const routes = cf.zeroTrust.networks.routes;
    const tunnel = await cf.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "edge",
    });
    const lab = await cf.zeroTrust.networks.virtualNetworks.create({
      account_id: accountId,
      name: "lab",
    });
    const make = (network: string, vnetId?: string) =>
      routes.create({
        account_id: accountId,
        network,
        tunnel_id: tunnel.id ?? "",
        virtual_network_id: vnetId,
      });
    await make("10.0.0.0/8");
    const mid = await make("10.1.0.0/16");
    const narrow = await make("10.1.2.0/24");
    const inLab = await make("10.1.2.0/25", lab.id);
    const v6 = await make("fd00:1::/48");
    const lookup = async (ip: string, vnetId?: string) =>
      (await routes.ips.get(ip, { account_id: accountId, virtual_network_id: vnetId })).id;
    expect(await lookup("10.1.2.3")).toBe(narrow.id);
    expect(await lookup("10.1.3.3")).toBe(mid.id);
    expect(await lookup("10.1.2.3", lab.id)).toBe(inLab.id);
    expect(await lookup("fd00:1::7")).toBe(v6.id);
    const found = await routes.ips.get("10.1.2.3", { account_id: accountId });
    expect([found.tunnel_name, found.virtual_network_name, found.network]).toEqual([
      "edge",
      "default",
      "10.1.2.0/24",
    ]);
    expect(await failureOf(routes.ips.get("192.0.2.1", { account_id: accountId }))).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 1016, message: "No route found for IP 192.0.2.1" }],
    });
    expect(
      await failureOf(
        routes.ips.get("10.1.129.1", { account_id: accountId, virtual_network_id: lab.id }),
      ),
    ).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 1016, message: "No route found for IP 10.1.129.1" }],
    });
  });
});

describe("access policies and applications", () => {
  it("creates a reusable policy and a private app that embeds it", async ({ expect }) => {
    const accountId = newAccountId();
    const access = cf.zeroTrust.access;
    const policy = await access.policies.create({
      account_id: accountId,
      name: "employees",
      decision: "allow",
      include: [{ email_domain: { domain: "example.com" } }],
    });
    expect(policy).toEqual({
      id: expect.stringMatching(UUID),
      name: "employees",
      decision: "allow",
      include: [{ email_domain: { domain: "example.com" } }],
      exclude: [],
      require: [],
      session_duration: "24h",
      reusable: true,
      app_count: 0,
      created_at: expect.stringMatching(TIMESTAMP),
      updated_at: expect.stringMatching(TIMESTAMP),
    });
    const app = (await access.applications.create({
      account_id: accountId,
      type: "self_hosted",
      name: "db-prod",
      destinations: [
        { type: "private", cidr: "10.128.0.7", port_range: "5432", l4_protocol: "tcp" },
        { type: "private", hostname: "wiki.internal.local", port_range: "443" },
      ],
      policies: [{ id: policy.id ?? "", precedence: 1 }],
    } as unknown as Parameters<typeof access.applications.create>[0])) as Record<string, unknown>;
    expect(app).toEqual({
      id: expect.stringMatching(UUID),
      aud: expect.stringMatching(/^[0-9a-f]{64}$/),
      type: "self_hosted",
      name: "db-prod",
      domain: "10.128.0.7/32",
      destinations: [
        { type: "private", cidr: "10.128.0.7/32", port_range: "5432", l4_protocol: "tcp" },
        { type: "private", hostname: "wiki.internal.local", port_range: "443" },
      ],
      policies: [{ ...policy, app_count: 1, precedence: 1 }],
      session_duration: "24h",
      allowed_idps: [],
      auto_redirect_to_identity: false,
      created_at: expect.stringMatching(TIMESTAMP),
      updated_at: expect.stringMatching(TIMESTAMP),
    });
    const appId = String(app.id);
    expect(await access.applications.get(String(app.aud), { account_id: accountId })).toEqual(app);
    expect(
      await failureOf(access.policies.delete(policy.id ?? "", { account_id: accountId })),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 12004,
          message: "Access policy is used by 1 application(s); remove it from them first",
        },
      ],
    });
    const replaced = (await access.applications.update(appId, {
      account_id: accountId,
      type: "self_hosted",
      name: "db-prod",
      domain: "db.internal",
      destinations: [{ type: "private", cidr: "10.128.0.0/24" }],
    } as unknown as Parameters<typeof access.applications.update>[1])) as Record<string, unknown>;
    expect([replaced.domain, replaced.destinations, replaced.policies]).toEqual([
      "db.internal",
      [{ type: "private", cidr: "10.128.0.0/24" }],
      [],
    ]);
    expect(await access.policies.delete(policy.id ?? "", { account_id: accountId })).toEqual({
      id: policy.id,
    });
    expect(await access.applications.delete(appId, { account_id: accountId })).toEqual({
      id: appId,
    });
    expect(await failureOf(access.applications.get(appId, { account_id: accountId }))).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 12002, message: "Access application not found" }],
    });
  });

  it("refuses bad destinations, bad policies and a second warp app", async ({ expect }) => {
    const accountId = newAccountId();
    const access = cf.zeroTrust.access;
    const createApp = (body: Record<string, unknown>) =>
      failureOf(
        access.applications.create({ account_id: accountId, ...body } as unknown as Parameters<
          typeof access.applications.create
        >[0]),
      );
    const refusal = (code: number, message: string) => ({
      type: "BadRequestError",
      status: 400,
      errors: [{ code, message }],
    });
    expect(
      await createApp({
        type: "self_hosted",
        name: "x",
        destinations: [{ type: "private", cidr: "10.0.0.0/8", port_range: "22,80" }],
      }),
    ).toEqual(
      refusal(12001, "destinations[0].port_range must be a port or a range like 8000-8099"),
    );
    expect(
      await createApp({
        type: "self_hosted",
        name: "x",
        destinations: [{ type: "private", cidr: "10.0.0.0/8", hostname: "a.example" }],
      }),
    ).toEqual(refusal(12001, "destinations[0] must have exactly one of cidr or hostname"));
    expect(await createApp({ type: "self_hosted", name: "x" })).toEqual(
      refusal(12001, "a self_hosted application needs a domain or at least one destination"),
    );
    const missing = crypto.randomUUID();
    expect(
      await createApp({ type: "self_hosted", name: "x", domain: "x.example", policies: [missing] }),
    ).toEqual(refusal(12001, `policies[0]: reusable policy not found: ${missing}`));
    expect(
      await failureOf(
        access.policies.create({
          account_id: accountId,
          name: "nobody",
          decision: "allow",
          include: [],
        }),
      ),
    ).toEqual(refusal(12001, "include must be a non-empty array of rules"));
    const warp = (await access.applications.create({
      account_id: accountId,
      type: "warp",
    } as unknown as Parameters<typeof access.applications.create>[0])) as Record<string, unknown>;
    expect([warp.type, warp.name, warp.domain, "destinations" in warp]).toEqual([
      "warp",
      "Warp Login App",
      "",
      false,
    ]);
    expect(await createApp({ type: "warp" })).toEqual(
      refusal(12003, "This account already has a device enrollment (warp) application"),
    );
  });

  it("pages applications and policies", async ({ expect }) => {
    const accountId = newAccountId();
    const access = cf.zeroTrust.access;
    for (let index = 0; index < 5; index++) {
      await access.policies.create({
        account_id: accountId,
        name: `policy-${index}`,
        decision: "allow",
        include: [{ everyone: {} }],
      });
      await access.applications.create({
        account_id: accountId,
        type: "self_hosted",
        name: `app-${index}`,
        domain: `app-${index}.internal`,
      } as unknown as Parameters<typeof access.applications.create>[0]);
    }
    const names: string[] = [];
    for await (const policy of access.policies.list({ account_id: accountId, per_page: 2 })) {
      names.push(policy.name ?? "");
    }
    for await (const app of access.applications.list({ account_id: accountId, per_page: 3 })) {
      names.push(String((app as Record<string, unknown>).name));
    }
    expect(names).toEqual([
      "policy-0",
      "policy-1",
      "policy-2",
      "policy-3",
      "policy-4",
      "app-0",
      "app-1",
      "app-2",
      "app-3",
      "app-4",
    ]);
    const exact = await access.applications.list({
      account_id: accountId,
      name: "app-3",
      exact: true,
    });
    expect(exact.result.map((app) => (app as Record<string, unknown>).domain)).toEqual([
      "app-3.internal",
    ]);
  });
});

describe("answer styles and strictness like Cloudflare", () => {
  it("shows the inactive split tunnel list in each style and refuses an exclude→include PATCH", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const profile = cf.zeroTrust.devices.policies.default;
    const shown = async () => {
      const got = (await profile.get({ account_id: accountId })) as Record<string, unknown>;
      return [(got.exclude as unknown[] | undefined)?.length, "include" in got, got.include];
    };
    expect(await shown()).toEqual([16, false, undefined]);
    for (const style of ["empty", "null"]) {
      await control("/behaviour", "PUT", {
        account_id: accountId,
        behaviour: { inactive_split_tunnel: style },
      });
      expect(await shown()).toEqual([16, true, style === "empty" ? [] : null]);
    }
    expect(
      await failureOf(
        profile.edit({ account_id: accountId, include: [{ address: "10.0.0.0/8" }] }),
      ),
    ).toEqual({
      type: "InternalServerError",
      status: 500,
      errors: [{ code: 1000, message: "Internal server error" }],
    });
    await profile.includes.update({ account_id: accountId, body: [{ address: "10.0.0.0/8" }] });
    await profile.excludes.update({ account_id: accountId, body: [] });
    const got = (await profile.get({ account_id: accountId })) as Record<string, unknown>;
    expect([got.include, got.exclude]).toEqual([[{ address: "10.0.0.0/8" }], null]);
    expect(
      await failureOf(
        profile.includes.update({ account_id: accountId, body: [{ host: "10.0.0.1" }] }),
      ),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 2101, message: 'entry 0: host "10.0.0.1" is an IP address; use address' }],
    });
    expect(await control(`/behaviour?account_id=${accountId}`)).toEqual({
      account_id: accountId,
      behaviour: {
        inactive_split_tunnel: "null",
        profile_fallback_domains: "shown",
        ignore_page: [],
        list_deleted: [],
      },
    });
  });

  it("gives registered tokens only their permission groups: 403/10000 otherwise", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    await control("/tokens", "PUT", {
      token: "tunnel-writer",
      permission_groups: ["Cloudflare Tunnel Write"],
    });
    await control("/tokens", "PUT", { token: "zt-reader", permission_groups: ["Zero Trust Read"] });
    const tunnels = sdk("tunnel-writer");
    const created = await tunnels.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "edge",
    });
    expect(created.name).toBe("edge");
    const denied = {
      type: "PermissionDeniedError",
      status: 403,
      errors: [{ code: 10000, message: "Authentication error" }],
    };
    expect(
      await failureOf(tunnels.zeroTrust.gateway.rules.list({ account_id: accountId })),
    ).toEqual(denied);
    const reader = sdk("zt-reader");
    expect((await reader.zeroTrust.gateway.rules.list({ account_id: accountId })).result).toEqual(
      [],
    );
    expect(
      await failureOf(
        reader.zeroTrust.gateway.rules.create({
          account_id: accountId,
          name: "x",
          action: "allow",
          filters: ["l4"],
        }),
      ),
    ).toEqual(denied);
    expect(
      await failureOf(reader.zeroTrust.tunnels.cloudflared.list({ account_id: accountId }).then()),
    ).toEqual(denied);
    expect(
      await control("/tokens", "PUT", { token: "t", permission_groups: ["DNS Write"] }),
    ).toEqual({
      success: false,
      errors: [
        {
          code: 1001,
          message: expect.stringMatching(
            /^permission_groups must list some of: Cloudflare Tunnel Write/,
          ),
        },
      ],
      messages: [],
      result: null,
    });
  });

  it("can ignore page on a paged list, echoing the page asked for", async ({ expect }) => {
    const accountId = newAccountId();
    for (const name of ["a", "b", "c"]) {
      await cf.zeroTrust.tunnels.cloudflared.create({ account_id: accountId, name });
    }
    await control("/behaviour", "PUT", {
      account_id: accountId,
      behaviour: { ignore_page: ["cfd_tunnel"] },
    });
    const response = await api(`/accounts/${accountId}/cfd_tunnel?per_page=2&page=2`);
    const body = (await response.json()) as {
      result: { name: string }[];
      result_info: Record<string, number>;
    };
    expect([body.result.map((t) => t.name), body.result_info]).toEqual([
      ["a", "b"],
      { page: 2, per_page: 2, count: 2, total_count: 3 },
    ]);
  });

  it("answers a deleted route by id with 200 and deleted_at", async ({ expect }) => {
    const accountId = newAccountId();
    const tunnel = await cf.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "edge",
    });
    const routes = cf.zeroTrust.networks.routes;
    const route = await routes.create({
      account_id: accountId,
      network: "10.5.0.0/16",
      tunnel_id: tunnel.id ?? "",
    });
    const deleted = await routes.delete(route.id ?? "", { account_id: accountId });
    const got = await routes.get(route.id ?? "", { account_id: accountId });
    expect([got.network, got.deleted_at]).toEqual(["10.5.0.0/16", deleted.deleted_at]);
    expect(got.deleted_at).toMatch(TIMESTAMP);
  });

  it("keeps shared rules read-only and outside the account's precedences", async ({ expect }) => {
    const accountId = newAccountId();
    const rules = cf.zeroTrust.gateway.rules;
    const { rule: shared } = (await control("/shared-rules", "POST", {
      account_id: accountId,
      rule: {
        name: "parent block",
        action: "block",
        enabled: true,
        filters: ["l4"],
        traffic: "net.dst.ip in {10.0.0.0/8}",
        precedence: 90000,
        warning_status: "unreachable",
      },
    })) as { rule: { id: string } };
    const owned = await rules.create({
      account_id: accountId,
      name: "local allow",
      action: "allow",
      filters: ["l4"],
      precedence: 90000,
    });
    const listed = (await rules.list({ account_id: accountId })).result.map((rule) => [
      rule.id === owned.id || rule.id === shared.id,
      rule.name,
      rule.precedence,
      rule.read_only,
      rule.sharable,
      rule.source_account,
      rule.warning_status,
    ]);
    // Equal precedences list by id, so compare by name.
    expect(listed.sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      [true, "local allow", 90000, false, false, accountId, null],
      [true, "parent block", 90000, true, true, "0123456789abcdef0123456789abcdef", "unreachable"],
    ]);
    const readOnly = {
      type: "PermissionDeniedError",
      status: 403,
      errors: [
        {
          code: 2005,
          message: `Rule ${shared.id} is shared from account 0123456789abcdef0123456789abcdef and is read-only`,
        },
      ],
    };
    expect(
      await failureOf(
        rules.update(shared.id, {
          account_id: accountId,
          name: "x",
          action: "allow",
          filters: ["l4"],
        }),
      ),
    ).toEqual(readOnly);
    expect(await failureOf(rules.delete(shared.id, { account_id: accountId }))).toEqual(readOnly);
    const tenant = await rules.listTenant({ account_id: accountId });
    expect(tenant.result.map((rule) => rule.id)).toEqual([shared.id]);
  });

  it("holds l4 rules, vnets, tunnels and Access payloads to the schema", async ({ expect }) => {
    const accountId = newAccountId();
    const refused = (code: number, message: string) => ({
      type: "BadRequestError",
      status: 400,
      errors: [{ code, message }],
    });
    const rule = { account_id: accountId, name: "r", filters: ["l4" as const] };
    expect(
      await failureOf(
        cf.zeroTrust.gateway.rules.create({
          ...rule,
          action: "allow",
          schedule: { mon: "08:00-12:30" },
        }),
      ),
    ).toEqual(refused(2001, "schedule is settable only on dns and dns_resolver rules"));
    expect(
      await failureOf(
        cf.zeroTrust.gateway.rules.create({
          ...rule,
          action: "allow",
          rule_settings: { block_reason: "no" },
        }),
      ),
    ).toEqual(
      refused(2001, "rule_settings.block_reason is not settable on l4 rules with action allow"),
    );
    expect(
      await failureOf(
        cf.zeroTrust.gateway.rules.create({
          ...rule,
          action: "allow",
          rule_settings: { override_ips: ["1.1.1.1"] },
        }),
      ),
    ).toEqual(refused(2001, "rule_settings.override_ips is not settable on l4 rules"));
    const checked = await cf.zeroTrust.gateway.rules.create({
      ...rule,
      action: "allow",
      rule_settings: { check_session: { enforce: true, duration: "1h" }, block_reason: null },
    });
    expect(checked.rule_settings).toEqual({ check_session: { enforce: true, duration: "1h" } });
    const vnets = cf.zeroTrust.networks.virtualNetworks;
    expect(
      await failureOf(vnets.create({ account_id: accountId, name: "v", comment: "c".repeat(257) })),
    ).toEqual(refused(1001, "comment must be at most 256 characters"));
    const vnet = await vnets.create({ account_id: accountId, name: "v", comment: "c".repeat(256) });
    expect(
      await failureOf(vnets.edit(vnet.id, { account_id: accountId, is_default: true } as never)),
    ).toEqual(refused(1001, "is_default is not a field of this request; use is_default_network"));
    const tunnel = (await cf.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "t",
    })) as Record<string, unknown>;
    expect(["token" in tunnel, "credentials_file" in tunnel]).toEqual([false, false]);
    const policies = cf.zeroTrust.access.policies;
    for (const [include, message] of [
      [{ email: {} }, "include[0].email.email is required"],
      [{ email_domain: { domain: "" } }, "include[0].email_domain.domain is required"],
      [{ group: { name: "x" } }, "include[0].group.id is required"],
    ] as const) {
      expect(
        await failureOf(
          policies.create({
            account_id: accountId,
            name: "p",
            decision: "allow",
            include: [include as never],
          }),
        ),
      ).toEqual(refused(12001, message));
    }
    const apps = cf.zeroTrust.access.applications;
    expect(
      await failureOf(apps.create({ account_id: accountId, type: "warp", name: "Mine" } as never)),
    ).toEqual(refused(12001, "warp applications have no field name"));
    expect(
      await failureOf(
        apps.create({
          account_id: accountId,
          type: "self_hosted",
          name: "a",
          domain: "a.example.com",
          colour: "red",
        } as never),
      ),
    ).toEqual(refused(12001, "self_hosted applications have no field colour"));
  });
});
