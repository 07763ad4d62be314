import { afterEach, describe, it } from "vitest";
import {
  api,
  callsOf,
  control,
  emulator,
  failureOf,
  lastSeq,
  newAccountId,
  sdk,
  TIMESTAMP,
  UUID,
} from "../helpers/emulator";

const cf = sdk();

async function createTunnel(accountId: string, name: string) {
  return cf.zeroTrust.tunnels.cloudflared.create({
    account_id: accountId,
    name,
    config_src: "cloudflare",
  });
}

async function defaultVnetId(accountId: string): Promise<string> {
  const page = await cf.zeroTrust.networks.virtualNetworks.list({
    account_id: accountId,
    is_default_network: true,
  });
  const id = page.result[0]?.id;
  if (id === undefined) {
    throw new Error("no default vnet");
  }
  return id;
}

describe("envelope, auth and routing", () => {
  it("answers with the v4 envelope and seeds a default vnet on first touch", async ({ expect }) => {
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
  });

  it("refuses unknown paths, bad account ids, missing tokens and wrong methods", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const bodies = await Promise.all(
      [
        api(`/accounts/${accountId}/no/such/thing`),
        api("/accounts/not-an-account/cfd_tunnel"),
        api(`/accounts/${accountId}/cfd_tunnel`, { headers: {} }),
        api(`/accounts/${accountId}/cfd_tunnel`, { headers: { authorization: "Bearer " } }),
        api(`/accounts/${accountId}/teamnet/routes`, { method: "PUT", body: {} }),
      ].map(async (pending) => {
        const response = await pending;
        return {
          status: response.status,
          type: response.headers.get("content-type"),
          body: await response.json(),
        };
      }),
    );
    const failure = (status: number, code: number, message: string) => ({
      status,
      type: "application/json",
      body: { success: false, errors: [{ code, message }], messages: [], result: null },
    });
    expect(bodies).toEqual([
      failure(404, 7003, "No route for the URI"),
      failure(404, 7003, "No route for the URI"),
      failure(400, 6003, "Invalid request headers"),
      failure(400, 6003, "Invalid request headers"),
      failure(405, 10405, "Method not allowed for this route"),
    ]);
  });

  it("refuses malformed JSON with 400/1002 and a missing body with 400/1001", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const missing = await api(`/accounts/${accountId}/cfd_tunnel`, { method: "POST" });
    expect({ status: missing.status, body: await missing.json() }).toEqual({
      status: 400,
      body: {
        success: false,
        errors: [{ code: 1001, message: "The request body must be a JSON object" }],
        messages: [],
        result: null,
      },
    });
    const raw = await emulator().fetch(
      `http://emulator/client/v4/accounts/${newAccountId()}/cfd_tunnel`,
      {
        method: "POST",
        headers: { authorization: "Bearer t", "content-type": "application/json" },
        body: "{not json",
      },
    );
    expect({ status: raw.status, body: await raw.json() }).toEqual({
      status: 400,
      body: {
        success: false,
        errors: [{ code: 1002, message: "Malformed JSON in request body" }],
        messages: [],
        result: null,
      },
    });
  });
});

describe("virtual networks", () => {
  it("keeps exactly one default: promoting demotes, the default cannot be deleted", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const vnets = cf.zeroTrust.networks.virtualNetworks;
    const firstDefault = await defaultVnetId(accountId);
    const prod = await vnets.create({
      account_id: accountId,
      name: "prod",
      comment: "production",
      is_default_network: true,
    });
    const list = await vnets.list({ account_id: accountId });
    expect(list.result.map((v) => [v.name, v.is_default_network])).toEqual([
      ["default", false],
      ["prod", true],
    ]);
    expect(await failureOf(vnets.delete(prod.id, { account_id: accountId }))).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 1049,
          message: "Cannot delete the Virtual Network because: it is the default virtual network",
        },
      ],
    });
    expect(
      await failureOf(vnets.edit(prod.id, { account_id: accountId, is_default_network: false })),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 1051,
          message:
            "Cannot unset the default virtual network: make another virtual network the default",
        },
      ],
    });
    const back = await vnets.edit(firstDefault, {
      account_id: accountId,
      is_default_network: true,
    });
    expect(back.is_default_network).toBe(true);
    expect((await vnets.get(prod.id, { account_id: accountId })).is_default_network).toBe(false);
    const deleted = await vnets.delete(prod.id, { account_id: accountId });
    expect(deleted).toEqual({
      id: prod.id,
      name: "prod",
      comment: "production",
      is_default_network: false,
      created_at: prod.created_at,
      deleted_at: expect.stringMatching(TIMESTAMP),
    });
    expect((await vnets.get(prod.id, { account_id: accountId })).deleted_at).toBe(
      deleted.deleted_at,
    );
    const names = async (isDeleted?: boolean) =>
      (await vnets.list({ account_id: accountId, is_deleted: isDeleted })).result.map(
        (v) => v.name,
      );
    expect([await names(), await names(true), await names(false)]).toEqual([
      ["default", "prod"],
      ["prod"],
      ["default"],
    ]);
  });

  it("refuses a duplicate live name and deleting a vnet that routes still use", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const vnets = cf.zeroTrust.networks.virtualNetworks;
    const staging = await vnets.create({ account_id: accountId, name: "staging" });
    expect(await failureOf(vnets.create({ account_id: accountId, name: "staging" }))).toEqual({
      type: "ConflictError",
      status: 409,
      errors: [{ code: 1012, message: "You already have a virtual network with this name" }],
    });
    const tunnel = await createTunnel(accountId, "edge");
    const route = await cf.zeroTrust.networks.routes.create({
      account_id: accountId,
      network: "10.9.0.0/16",
      tunnel_id: tunnel.id ?? "",
      virtual_network_id: staging.id,
    });
    expect(await failureOf(vnets.delete(staging.id, { account_id: accountId }))).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 1050,
          message: "Cannot delete the Virtual Network because: it is used by one or more routes",
        },
      ],
    });
    await cf.zeroTrust.networks.routes.delete(route.id ?? "", { account_id: accountId });
    expect((await vnets.delete(staging.id, { account_id: accountId })).deleted_at).toMatch(
      TIMESTAMP,
    );
    expect((await vnets.create({ account_id: accountId, name: "staging" })).name).toBe("staging");
  });
});

describe("tunnels", () => {
  it("creates an inactive tunnel whose token comes from its own endpoint, refuses a duplicate name", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const created = (await createTunnel(accountId, "edge-1")) as Record<string, unknown>;
    const id = String(created.id);
    const token = await cf.zeroTrust.tunnels.cloudflared.token.get(id, { account_id: accountId });
    const decoded = JSON.parse(atob(token)) as { a: string; t: string; s: string };
    expect(decoded).toEqual({ a: accountId, t: id, s: expect.any(String) });
    expect(atob(decoded.s).length).toBe(32);
    expect(created).toEqual({
      id: expect.stringMatching(UUID),
      account_tag: accountId,
      name: "edge-1",
      config_src: "cloudflare",
      remote_config: true,
      status: "inactive",
      tun_type: "cfd_tunnel",
      created_at: expect.stringMatching(TIMESTAMP),
      deleted_at: null,
      conns_active_at: null,
      conns_inactive_at: created.created_at,
      connections: [],
      metadata: {},
    });
    expect(
      await failureOf(
        cf.zeroTrust.tunnels.cloudflared.create({ account_id: accountId, name: "edge-1" }),
      ),
    ).toEqual({
      type: "ConflictError",
      status: 409,
      errors: [{ code: 1013, message: "You already have a tunnel with this name" }],
    });
    expect(
      await failureOf(
        cf.zeroTrust.tunnels.cloudflared.get(crypto.randomUUID(), {
          account_id: accountId,
        }),
      ),
    ).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 1003, message: "Tunnel not found" }],
    });
  });

  it("lists with name, prefix, status and is_deleted filters", async ({ expect }) => {
    const accountId = newAccountId();
    const tunnels = cf.zeroTrust.tunnels.cloudflared;
    const a = await createTunnel(accountId, "app-a");
    await createTunnel(accountId, "app-b");
    await createTunnel(accountId, "db-a");
    await tunnels.delete(a.id ?? "", { account_id: accountId });
    await createTunnel(accountId, "app-a");
    const names = async (query: Record<string, unknown>) =>
      (await tunnels.list({ account_id: accountId, ...query })).result.map(
        (t) => `${t.name}${t.deleted_at === null ? "" : " (deleted)"}`,
      );
    expect(await names({})).toEqual(["app-a (deleted)", "app-b", "db-a", "app-a"]);
    expect(await names({ is_deleted: false })).toEqual(["app-b", "db-a", "app-a"]);
    expect(await names({ is_deleted: true })).toEqual(["app-a (deleted)"]);
    expect(await names({ name: "app-a", is_deleted: false })).toEqual(["app-a"]);
    expect(await names({ include_prefix: "app-", is_deleted: false })).toEqual(["app-b", "app-a"]);
    expect(await names({ exclude_prefix: "app-" })).toEqual(["db-a"]);
    expect(await names({ status: "inactive", uuid: a.id })).toEqual(["app-a (deleted)"]);
    expect(await names({ status: "healthy" })).toEqual([]);
  });

  it("refuses deleting a connected tunnel and cascades a delete to its routes", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const tunnels = cf.zeroTrust.tunnels.cloudflared;
    const tunnel = await createTunnel(accountId, "edge");
    const tunnelId = tunnel.id ?? "";
    const route = await cf.zeroTrust.networks.routes.create({
      account_id: accountId,
      network: "10.1.0.0/16",
      tunnel_id: tunnelId,
    });
    expect(await control(`/tunnels/${tunnelId}/status`, "POST", { status: "healthy" })).toEqual({
      tunnel_id: tunnelId,
      status: "healthy",
    });
    const connections = await tunnels.connections.get(tunnelId, { account_id: accountId });
    expect(connections.result.map((c) => c.conns?.length)).toEqual([4]);
    expect(await failureOf(tunnels.delete(tunnelId, { account_id: accountId }))).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 1022,
          message:
            "This tunnel has active connections. Stop cloudflared or clean up its connections first",
        },
      ],
    });
    await control(`/tunnels/${tunnelId}/status`, "POST", { status: "down" });
    expect((await tunnels.connections.get(tunnelId, { account_id: accountId })).result).toEqual([]);
    const deleted = await tunnels.delete(tunnelId, { account_id: accountId });
    expect([deleted.status, deleted.deleted_at]).toEqual([
      "down",
      expect.stringMatching(TIMESTAMP),
    ]);
    expect((await tunnels.get(tunnelId, { account_id: accountId })).deleted_at).toBe(
      deleted.deleted_at,
    );
    const gone = await cf.zeroTrust.networks.routes.get(route.id ?? "", {
      account_id: accountId,
    });
    expect(gone.deleted_at).toBe(deleted.deleted_at);
    expect(
      await failureOf(
        cf.zeroTrust.networks.routes.delete(route.id ?? "", { account_id: accountId }),
      ),
    ).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [
        {
          code: 1015,
          message:
            "You are trying to modify the route for a network that isn't routed. Please check the network and try again",
        },
      ],
    });
  });
});

describe("routes", () => {
  it("canonicalises networks and fills in the default vnet", async ({ expect }) => {
    const accountId = newAccountId();
    const tunnel = await createTunnel(accountId, "edge");
    const vnetId = await defaultVnetId(accountId);
    const networks: string[] = [];
    for (const network of ["10.1.2.3/8", "192.0.2.7", "2001:DB8:0:0::1/64", "2001:db8::1"]) {
      const route = await cf.zeroTrust.networks.routes.create({
        account_id: accountId,
        network,
        tunnel_id: tunnel.id ?? "",
        comment: `from ${network}`,
      });
      expect(route.virtual_network_id).toBe(vnetId);
      networks.push(route.network ?? "");
    }
    expect(networks).toEqual(["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/64", "2001:db8::1/128"]);
    const first = await cf.zeroTrust.networks.routes.list({ account_id: accountId, per_page: 1 });
    expect(first.result).toEqual([
      {
        id: expect.stringMatching(UUID),
        network: "10.0.0.0/8",
        tunnel_id: tunnel.id,
        virtual_network_id: vnetId,
        comment: "from 10.1.2.3/8",
        created_at: expect.stringMatching(TIMESTAMP),
        deleted_at: null,
        tun_type: "cfd_tunnel",
        tunnel_name: "edge",
        virtual_network_name: "default",
      },
    ]);
    expect(first.result_info).toEqual({
      page: 1,
      per_page: 1,
      count: 1,
      total_count: 4,
    });
  });

  it("refuses bad input: unparsable networks, long comments, unknown tunnels", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const tunnel = await createTunnel(accountId, "edge");
    const create = (body: { network: string; tunnel_id: string; comment?: string }) =>
      failureOf(cf.zeroTrust.networks.routes.create({ account_id: accountId, ...body }));
    const bad = (input: string) => ({
      type: "BadRequestError",
      status: 400,
      errors: [
        { code: 1001, message: `Could not parse input: invalid address "${input}" in network` },
      ],
    });
    const tunnelId = tunnel.id ?? "";
    expect(await create({ network: "10.0.0.0/33", tunnel_id: tunnelId })).toEqual(
      bad("10.0.0.0/33"),
    );
    expect(await create({ network: "10.1/16", tunnel_id: tunnelId })).toEqual(bad("10.1/16"));
    expect(await create({ network: "intranet", tunnel_id: tunnelId })).toEqual(bad("intranet"));
    expect(
      await create({ network: "10.0.0.0/8", tunnel_id: tunnelId, comment: "x".repeat(101) }),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 1001, message: "comment must be at most 100 characters" }],
    });
    const missing = crypto.randomUUID();
    expect(await create({ network: "10.0.0.0/8", tunnel_id: missing })).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 1003, message: `Tunnel not found or deleted: ${missing}` }],
    });
    const list = await cf.zeroTrust.networks.routes.list({ account_id: accountId });
    expect(list.result).toEqual([]);
  });

  it("refuses the same network twice in one vnet, even from another tunnel", async ({ expect }) => {
    const accountId = newAccountId();
    const routes = cf.zeroTrust.networks.routes;
    const one = await createTunnel(accountId, "one");
    const two = await createTunnel(accountId, "two");
    const lab = await cf.zeroTrust.networks.virtualNetworks.create({
      account_id: accountId,
      name: "lab",
    });
    const first = await routes.create({
      account_id: accountId,
      network: "172.16.0.0/12",
      tunnel_id: one.id ?? "",
    });
    const duplicate = {
      type: "ConflictError",
      status: 409,
      errors: [
        { code: 1014, message: "You already have a route defined for this exact IP subnet" },
      ],
    };
    expect(
      await failureOf(
        routes.create({ account_id: accountId, network: "172.16.0.1/12", tunnel_id: two.id ?? "" }),
      ),
    ).toEqual(duplicate);
    const inLab = await routes.create({
      account_id: accountId,
      network: "172.16.0.0/12",
      tunnel_id: two.id ?? "",
      virtual_network_id: lab.id,
    });
    const nested = await routes.create({
      account_id: accountId,
      network: "172.16.5.0/24",
      tunnel_id: two.id ?? "",
    });
    expect(
      await failureOf(
        routes.edit(nested.id ?? "", { account_id: accountId, network: "172.16.0.0/12" }),
      ),
    ).toEqual(duplicate);
    expect(
      await failureOf(
        routes.edit(inLab.id ?? "", {
          account_id: accountId,
          virtual_network_id: first.virtual_network_id,
        }),
      ),
    ).toEqual(duplicate);
    const moved = await routes.edit(nested.id ?? "", {
      account_id: accountId,
      network: "172.17.0.0/16",
      tunnel_id: one.id,
      comment: "moved",
    });
    expect([moved.network, moved.tunnel_id, moved.comment]).toEqual([
      "172.17.0.0/16",
      one.id,
      "moved",
    ]);
    await routes.delete(first.id ?? "", { account_id: accountId });
    const again = await routes.create({
      account_id: accountId,
      network: "172.16.0.0/12",
      tunnel_id: two.id ?? "",
    });
    expect(again.network).toBe("172.16.0.0/12");
  });

  it("filters by subset, superset, tunnel, vnet, comment, tun_types and is_deleted", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const routes = cf.zeroTrust.networks.routes;
    const one = await createTunnel(accountId, "one");
    const two = await createTunnel(accountId, "two");
    const make = (network: string, tunnelId: string, comment: string) =>
      routes.create({ account_id: accountId, network, tunnel_id: tunnelId, comment });
    const wide = await make("10.0.0.0/8", one.id ?? "", "wide");
    await make("10.1.0.0/16", one.id ?? "", "mid");
    await make("10.1.2.0/24", two.id ?? "", "narrow");
    await make("fd00:1::/48", two.id ?? "", "v6");
    await routes.delete(wide.id ?? "", { account_id: accountId });
    const networks = async (query: Record<string, unknown>) =>
      (await routes.list({ account_id: accountId, ...query })).result.map((r) => r.network);
    expect(await networks({})).toEqual(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "fd00:1::/48"]);
    expect(await networks({ is_deleted: false })).toEqual([
      "10.1.0.0/16",
      "10.1.2.0/24",
      "fd00:1::/48",
    ]);
    expect(await networks({ is_deleted: true })).toEqual(["10.0.0.0/8"]);
    expect(await networks({ network_subset: "10.1.0.0/16" })).toEqual([
      "10.1.0.0/16",
      "10.1.2.0/24",
    ]);
    expect(await networks({ network_superset: "10.1.2.0/24", is_deleted: false })).toEqual([
      "10.1.0.0/16",
      "10.1.2.0/24",
    ]);
    expect(
      await networks({ network_subset: "10.1.0.0/16", network_superset: "10.1.0.0/16" }),
    ).toEqual(["10.1.0.0/16"]);
    expect(await networks({ tunnel_id: two.id })).toEqual(["10.1.2.0/24", "fd00:1::/48"]);
    expect(await networks({ comment: "mid" })).toEqual(["10.1.0.0/16"]);
    expect(await networks({ tun_types: ["warp_connector", "cfd_tunnel"], comment: "v6" })).toEqual([
      "fd00:1::/48",
    ]);
    expect(await networks({ tun_types: ["warp_connector"] })).toEqual([]);
    const commaSeparated = await api(
      `/accounts/${accountId}/teamnet/routes?tun_types=warp_connector,cfd_tunnel&comment=v6`,
    );
    const body = (await commaSeparated.json()) as { result: { network: string }[] };
    expect(body.result.map((r) => r.network)).toEqual(["fd00:1::/48"]);
  });

  it("pages 2500 routes in 4 GETs of per_page 1000 and answers [] past the end", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    // 2500 routes need a raised account limit, and 2500 creates a token of their own that may
    // send more than Cloudflare's 1200 calls per window.
    await control("/limits", "PUT", { account_id: accountId, limits: { routes: 2500 } });
    await control("/rate-limit", "PUT", { limit: 3000 });
    const bulk = sdk("bulk-token");
    const tunnel = await bulk.zeroTrust.tunnels.cloudflared.create({
      account_id: accountId,
      name: "bulk",
      config_src: "cloudflare",
    });
    const created: string[] = [];
    for (let batch = 0; batch < 25; batch++) {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          bulk.zeroTrust.networks.routes.create({
            account_id: accountId,
            network: `10.${batch}.${index}.0/24`,
            tunnel_id: tunnel.id ?? "",
          }),
        ),
      );
      created.push(...results.map((route) => route.id ?? ""));
    }
    await control("/rate-limit", "PUT", { limit: 1200 });
    const since = await lastSeq(accountId);
    const seen: string[] = [];
    for await (const route of cf.zeroTrust.networks.routes.list({
      account_id: accountId,
      per_page: 1000,
    })) {
      seen.push(route.id ?? "");
    }
    expect(seen.length).toBe(2500);
    expect(new Set(seen).size).toBe(2500);
    expect([...seen].sort()).toEqual([...created].sort());
    const calls = await callsOf(accountId, since);
    expect(calls.map((call) => [call.method, call.path, call.query, call.status])).toEqual([
      ["GET", `/client/v4/accounts/${accountId}/teamnet/routes`, "per_page=1000", 200],
      ["GET", `/client/v4/accounts/${accountId}/teamnet/routes`, "per_page=1000&page=2", 200],
      ["GET", `/client/v4/accounts/${accountId}/teamnet/routes`, "per_page=1000&page=3", 200],
      ["GET", `/client/v4/accounts/${accountId}/teamnet/routes`, "per_page=1000&page=4", 200],
    ]);
    const last = await cf.zeroTrust.networks.routes.list({
      account_id: accountId,
      per_page: 1000,
      page: 4,
    });
    expect([last.result, last.result_info]).toEqual([
      [],
      { page: 4, per_page: 1000, count: 0, total_count: 2500 },
    ]);
    const tooMany = await api(`/accounts/${accountId}/teamnet/routes?per_page=1001`);
    expect(tooMany.status).toBe(400);
  }, 120_000);
});

describe("hostname routes", () => {
  it("stores Cloudflare's form and refuses partial, middle and multiple wildcards", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const tunnelId = (await createTunnel(accountId, "edge")).id ?? "";
    const hostnames = cf.zeroTrust.networks.hostnameRoutes;
    const create = (hostname: string) =>
      hostnames.create({ account_id: accountId, hostname, tunnel_id: tunnelId, comment: "c" });
    const wild = await create("*.apps.acme.internal");
    expect(wild).toEqual({
      id: expect.stringMatching(UUID),
      hostname: "apps.acme.internal",
      tunnel_id: tunnelId,
      tunnel_name: "edge",
      tun_type: "cfd_tunnel",
      comment: "c",
      created_at: expect.stringMatching(TIMESTAMP),
      deleted_at: null,
    });
    expect((await create(".Wiki.Acme.Internal.")).hostname).toBe("wiki.acme.internal");
    const refused = async (hostname: string) =>
      (await failureOf(create(hostname))).errors.map((e) => (e.message ?? "").split(": ")[1]);
    const leading = "a wildcard must be the whole leading label (*.example.internal)";
    expect(await refused("*-dev.acme.internal")).toEqual([leading]);
    expect(await refused("dev-*.acme.internal")).toEqual([leading]);
    expect(await refused("foo.*.acme.internal")).toEqual([leading]);
    expect(await refused("foo*bar.acme.internal")).toEqual([leading]);
    expect(await refused("*")).toEqual([leading]);
    expect(await refused("*.*.acme.internal")).toEqual(["at most one wildcard is allowed"]);
    expect(await refused(`${"a".repeat(252)}.io`)).toEqual(["must be under 255 characters"]);
    expect(await refused("a..b")).toEqual(["must not be empty or have empty labels"]);
    expect((await create(`${"a".repeat(250)}.io`)).hostname).toHaveLength(253);
    // `*.apps.acme.internal` and `apps.acme.internal` are the same route to Cloudflare.
    expect(await failureOf(create("apps.acme.internal"))).toEqual({
      type: "ConflictError",
      status: 409,
      errors: [{ code: 1014, message: "You already have a route defined for apps.acme.internal" }],
    });
    const listed = async (query: Record<string, string | boolean>) =>
      (await hostnames.list({ account_id: accountId, ...query })).result.map((r) => r.hostname);
    await hostnames.delete(wild.id ?? "", { account_id: accountId });
    expect(await listed({ is_deleted: false })).toEqual([
      "wiki.acme.internal",
      `${"a".repeat(250)}.io`,
    ]);
    expect(await listed({ is_deleted: true })).toEqual(["apps.acme.internal"]);
    expect(await listed({ hostname: "*.apps.acme.internal" })).toEqual(["apps.acme.internal"]);
    expect(await failureOf(hostnames.delete(wild.id ?? "", { account_id: accountId }))).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 1015, message: "Hostname route not found or deleted" }],
    });
    const again = await create("*.apps.acme.internal");
    const edited = await hostnames.edit(again.id ?? "", {
      account_id: accountId,
      hostname: "*.web.acme.internal",
    });
    expect([edited.hostname, edited.comment]).toEqual(["web.acme.internal", "c"]);
  });

  it("shares the 1,000 routes limit with CIDR routes and goes with its tunnel", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const tunnelId = (await createTunnel(accountId, "edge")).id ?? "";
    await control("/limits", "PUT", { account_id: accountId, limits: { routes: 2 } });
    await cf.zeroTrust.networks.routes.create({
      account_id: accountId,
      network: "10.0.0.0/8",
      tunnel_id: tunnelId,
    });
    const hostnames = cf.zeroTrust.networks.hostnameRoutes;
    const one = await hostnames.create({
      account_id: accountId,
      hostname: "a.internal",
      tunnel_id: tunnelId,
    });
    const limit = {
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 1019,
          message: "Account limit reached: at most 2 routes in this account are allowed",
        },
      ],
    };
    expect(
      await failureOf(
        hostnames.create({ account_id: accountId, hostname: "b.internal", tunnel_id: tunnelId }),
      ),
    ).toEqual(limit);
    expect(
      await failureOf(
        cf.zeroTrust.networks.routes.create({
          account_id: accountId,
          network: "10.1.0.0/16",
          tunnel_id: tunnelId,
        }),
      ),
    ).toEqual(limit);
    await cf.zeroTrust.tunnels.cloudflared.delete(tunnelId, { account_id: accountId });
    const gone = await hostnames.get(one.id ?? "", { account_id: accountId });
    expect(gone.deleted_at).toMatch(TIMESTAMP);
  });
});

describe("initial resolved IP subnets", () => {
  it("default to 172.64.128.0/20 and a fixed IPv6 range; a custom IPv4 range keeps clear of routes and reserved subnets", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const subnets = cf.zeroTrust.networks.subnets.initialResolvedIP;
    const v4 = await subnets.get("v4", { account_id: accountId });
    expect(v4).toEqual({
      id: expect.stringMatching(UUID),
      name: "IPv4 Gateway initial resolved IPs",
      comment: "",
      network: "172.64.128.0/20",
      is_default_network: true,
      subnet_type: "initial_resolved_ip",
      created_at: expect.stringMatching(TIMESTAMP),
      deleted_at: null,
    });
    expect((await subnets.get("v6", { account_id: accountId })).network).toBe(
      "2606:4700:cf1:4000::/64",
    );
    const tunnelId = (await createTunnel(accountId, "edge")).id ?? "";
    const route = await cf.zeroTrust.networks.routes.create({
      account_id: accountId,
      network: "10.5.1.0/24",
      tunnel_id: tunnelId,
    });
    const put = (network: string, family: "v4" | "v6" = "v4") =>
      subnets.update(family, { account_id: accountId, network });
    const refusal = (code: number, message: string) => ({
      type: "BadRequestError",
      status: 400,
      errors: [{ code, message }],
    });
    expect(await failureOf(put("10.5.0.0/16"))).toEqual(
      refusal(1060, `10.5.0.0/16 conflicts with the route 10.5.1.0/24 (${route.id})`),
    );
    expect(await failureOf(put("100.96.0.0/16"))).toEqual(
      refusal(1060, "100.96.0.0/16 conflicts with the reserved Device IPs subnet 100.96.0.0/12"),
    );
    expect(await failureOf(put("10.9.0.0/28"))).toEqual(
      refusal(1001, "network must be a /8 to /24"),
    );
    expect(await failureOf(put("2001:db8::/64", "v6"))).toEqual(
      refusal(1001, "The IPv6 initial resolved IP range is fixed"),
    );
    const moved = await put("100.80.0.0/16");
    expect([moved.id, moved.network]).toEqual([v4.id, "100.80.0.0/16"]);
    expect((await subnets.get("v4", { account_id: accountId })).network).toBe("100.80.0.0/16");
  });
});

describe("gateway rules", () => {
  it("assigns precedence from 1000 upward and refuses a clash", async ({ expect }) => {
    const accountId = newAccountId();
    const rules = cf.zeroTrust.gateway.rules;
    const first = await rules.create({
      account_id: accountId,
      name: "allow",
      action: "allow",
      filters: ["l4"],
    });
    const second = await rules.create({
      account_id: accountId,
      name: "block",
      action: "block",
      filters: ["l4"],
    });
    const early = await rules.create({
      account_id: accountId,
      name: "early",
      action: "allow",
      filters: ["l4"],
      precedence: 10,
    });
    expect([first.precedence, second.precedence, early.precedence]).toEqual([1000, 2000, 10]);
    expect(
      await failureOf(
        rules.create({
          account_id: accountId,
          name: "clash",
          action: "block",
          filters: ["l4"],
          precedence: 2000,
        }),
      ),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 2003,
          message: `Precedence 2000 is already used by rule ${second.id}; precedence must be unique`,
        },
      ],
    });
    const list = await rules.list({ account_id: accountId });
    expect(list.result.map((rule) => [rule.name, rule.precedence])).toEqual([
      ["early", 10],
      ["allow", 1000],
      ["block", 2000],
    ]);
    expect(
      await failureOf(
        rules.create({
          account_id: accountId,
          name: "two",
          action: "block",
          filters: ["l4", "dns"],
        }),
      ),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 2001,
          message: "filters must hold exactly one of http, dns, l4, egress, dns_resolver",
        },
      ],
    });
  });

  it("rewrites expression whitespace, and PUT resets what it leaves out", async ({ expect }) => {
    const accountId = newAccountId();
    const rules = cf.zeroTrust.gateway.rules;
    const created = await rules.create({
      account_id: accountId,
      name: "allow employees",
      description: "tunnelplane:1",
      action: "allow",
      enabled: true,
      filters: ["l4"],
      traffic: "  net.dst.ip in {10.0.0.0/8\n   10.1.0.0/16}  and\tnet.dst.port == 22 ",
      identity: 'identity.email matches  "a  b@example.com"',
      precedence: 5000,
    });
    expect(created).toEqual({
      id: expect.stringMatching(UUID),
      name: "allow employees",
      description: "tunnelplane:1",
      action: "allow",
      enabled: true,
      filters: ["l4"],
      traffic: "net.dst.ip in {10.0.0.0/8 10.1.0.0/16} and net.dst.port == 22",
      identity: 'identity.email matches "a  b@example.com"',
      device_posture: "",
      precedence: 5000,
      rule_settings: {},
      schedule: null,
      expiration: null,
      read_only: false,
      sharable: false,
      source_account: accountId,
      warning_status: null,
      version: 1,
      created_at: expect.stringMatching(TIMESTAMP),
      updated_at: created.created_at,
      deleted_at: null,
    });
    const replaced = await rules.update(created.id ?? "", {
      account_id: accountId,
      name: "allow employees",
      action: "block",
      filters: ["l4"],
    });
    expect(replaced).toEqual({
      ...created,
      description: "",
      action: "block",
      enabled: false,
      traffic: "",
      identity: "",
      version: 2,
      updated_at: expect.stringMatching(TIMESTAMP),
    });
    expect(await rules.get(created.id ?? "", { account_id: accountId })).toEqual(replaced);
    expect(
      await failureOf(
        rules.create({
          account_id: accountId,
          name: "broken",
          action: "block",
          filters: ["l4"],
          traffic: "net.dst.ip in {10.0.0.0/8",
        }),
      ),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 2001, message: "traffic: Filter parsing error (1:26): expected `}`" }],
    });
    expect(await rules.delete(created.id ?? "", { account_id: accountId })).toEqual({});
    expect(await failureOf(rules.get(created.id ?? "", { account_id: accountId }))).toEqual({
      type: "NotFoundError",
      status: 404,
      errors: [{ code: 2002, message: "Rule not found" }],
    });
  });
});

const DEFAULT_EXCLUDES = [
  { address: "10.0.0.0/8" },
  { address: "100.64.0.0/10" },
  { address: "169.254.0.0/16", description: "DHCP Unspecified" },
  { address: "172.16.0.0/12" },
  { address: "192.0.0.0/24" },
  { address: "192.168.0.0/16" },
  { address: "224.0.0.0/24" },
  { address: "240.0.0.0/4" },
  { address: "255.255.255.255/32", description: "DHCP Broadcast" },
  { address: "fe80::/10", description: "IPv6 Link Local" },
  { address: "fd00::/8" },
  { address: "ff01::/16" },
  { address: "ff02::/16" },
  { address: "ff03::/16" },
  { address: "ff04::/16" },
  { address: "ff05::/16" },
];

/** Cloudflare's default Local Domain Fallback list, in its order. */
const DEFAULT_FALLBACK = [
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
].map((suffix) => ({ suffix }));

describe("default device profile and split tunnels", () => {
  it("starts in Exclude mode with the 16 default excludes", async ({ expect }) => {
    const accountId = newAccountId();
    const profile = cf.zeroTrust.devices.policies.default;
    const excludes: unknown[] = [];
    for await (const entry of profile.excludes.get({ account_id: accountId })) {
      excludes.push(entry);
    }
    expect(excludes).toEqual(DEFAULT_EXCLUDES);
    expect((await profile.includes.get({ account_id: accountId })).result).toEqual([]);
    expect(await profile.get({ account_id: accountId })).toEqual({
      allow_mode_switch: false,
      allow_updates: false,
      allowed_to_leave: true,
      auto_connect: 0,
      captive_portal: 180,
      default: true,
      disable_auto_fallback: false,
      enabled: true,
      exclude: DEFAULT_EXCLUDES,
      exclude_office_ips: false,
      fallback_domains: DEFAULT_FALLBACK,
      gateway_unique_id: accountId,
      profile_type: "warp",
      register_interface_ip_with_dns: true,
      sccm_vpn_boundary_support: false,
      service_mode_v2: { mode: "warp" },
      support_url: "",
      switch_locked: false,
      tunnel_protocol: "wireguard",
    });
  });

  it("serves each profile's Local Domain Fallback list: the 14 defaults, replaced by PUT", async ({
    expect,
  }) => {
    const account_id = newAccountId();
    const policies = cf.zeroTrust.devices.policies;
    const custom = await policies.custom.create({
      account_id,
      name: "eng",
      match: 'identity.email == "a@example.com"',
      precedence: 10,
    });
    const policyId = custom?.policy_id ?? "";
    expect(custom?.fallback_domains).toEqual(DEFAULT_FALLBACK);
    expect((await policies.default.fallbackDomains.get({ account_id })).result).toEqual(
      DEFAULT_FALLBACK,
    );
    const written = await policies.custom.fallbackDomains.update(policyId, {
      account_id,
      domains: [
        { suffix: "Corp.Example", description: "office", dns_server: ["10.0.0.53", "fd00::53"] },
        { suffix: "lan" },
      ],
    });
    const stored = [
      { suffix: "corp.example", description: "office", dns_server: ["10.0.0.53", "fd00::53"] },
      { suffix: "lan" },
    ];
    expect(written.result).toEqual(stored);
    expect((await policies.custom.fallbackDomains.get(policyId, { account_id })).result).toEqual(
      stored,
    );
    expect((await policies.custom.get(policyId, { account_id }))?.fallback_domains).toEqual(stored);
    await policies.default.fallbackDomains.update({ account_id, domains: [] });
    expect((await policies.default.get({ account_id }))?.fallback_domains).toEqual([]);
    await control("/behaviour", "PUT", {
      account_id,
      behaviour: { profile_fallback_domains: "absent" },
    });
    const listed = await policies.custom.list({ account_id });
    expect(listed.result.map((p) => "fallback_domains" in p)).toEqual([false, false]);
    expect((await policies.custom.fallbackDomains.get(policyId, { account_id })).result).toEqual(
      stored,
    );
  });

  it.for([
    ["not an array", { suffix: "corp" }, "The fallback domain list must be a JSON array"],
    ["no suffix", [{ description: "x" }], "suffix is required"],
    ["a wildcard", [{ suffix: "*.corp" }], 'entry 0: invalid suffix "*.corp"'],
    ["an IP address", [{ suffix: "10.0.0.1" }], 'entry 0: invalid suffix "10.0.0.1"'],
    ["twice", [{ suffix: "lan" }, { suffix: "LAN" }], 'entry 1: suffix "lan" is listed twice'],
    [
      "a long description",
      [{ suffix: "lan", description: "d".repeat(101) }],
      "description must be at most 100 characters",
    ],
    [
      "a DNS server that is no address",
      [{ suffix: "lan", dns_server: ["dns.example"] }],
      "entry 0: dns_server must be a list of IP addresses",
    ],
  ] as const)(
    "refuses a fallback list with %s (400 / 2101)",
    async ([, body, message], { expect }) => {
      const accountId = newAccountId();
      const path = `/accounts/${accountId}/devices/policy/fallback_domains`;
      const response = await api(path, { method: "PUT", body });
      expect([response.status, await response.json()]).toEqual([
        400,
        { success: false, errors: [{ code: 2101, message }], messages: [], result: null },
      ]);
      expect(
        (await cf.zeroTrust.devices.policies.default.fallbackDomains.get({ account_id: accountId }))
          .result,
      ).toEqual(DEFAULT_FALLBACK);
    },
  );

  it("switches mode with the last list written and shows only the active key", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const profile = cf.zeroTrust.devices.policies.default;
    const written = await profile.includes.update({
      account_id: accountId,
      body: [
        { address: "10.1.0.0/16", description: "office" },
        { host: "*.corp.example.com" },
        { address: "2001:DB8::5" },
      ],
    });
    const included = [
      { address: "10.1.0.0/16", description: "office" },
      { host: "*.corp.example.com" },
      { address: "2001:db8::5/128" },
    ];
    expect(written.result).toEqual(included);
    expect((await profile.excludes.get({ account_id: accountId })).result).toEqual([]);
    const got = (await profile.get({ account_id: accountId })) as Record<string, unknown>;
    expect([got.include, "exclude" in got]).toEqual([included, false]);
    const patched = (await profile.edit({
      account_id: accountId,
      exclude: [{ address: "192.168.0.0/16" }],
      auto_connect: 600,
    })) as Record<string, unknown>;
    expect([patched.exclude, "include" in patched, patched.auto_connect]).toEqual([
      [{ address: "192.168.0.0/16" }],
      false,
      600,
    ]);
    expect((await profile.includes.get({ account_id: accountId })).result).toEqual([]);
  });

  it("refuses empty PATCH bodies, both lists at once and malformed entries", async ({ expect }) => {
    const accountId = newAccountId();
    const profile = cf.zeroTrust.devices.policies.default;
    const refusal = (message: string) => ({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 2101, message }],
    });
    expect(await failureOf(profile.edit({ account_id: accountId }))).toEqual(
      refusal("The request body must set at least one field"),
    );
    expect(
      await failureOf(
        profile.edit({
          account_id: accountId,
          exclude: [{ address: "10.0.0.0/8" }],
          include: [{ address: "10.0.0.0/8" }],
        }),
      ),
    ).toEqual(refusal("Both exclude and include cannot be set in the same request"));
    const put = (body: unknown[]) =>
      failureOf(
        profile.excludes.update({ account_id: accountId, body: body as { address: string }[] }),
      );
    expect(await put([{ address: "10.0.0.0/8", host: "example.com" }])).toEqual(
      refusal("entry 0 must have exactly one of address or host"),
    );
    expect(await put([{ address: "10.0.0.0/8" }, { address: "10.0.0.300/32" }])).toEqual(
      refusal('entry 1: invalid address "10.0.0.300/32"'),
    );
    expect(await put([{ host: "bad host" }])).toEqual(refusal('entry 0: invalid host "bad host"'));
    expect(await put([{ address: "10.0.0.0/8", description: "d".repeat(101) }])).toEqual(
      refusal("description must be at most 100 characters"),
    );
    expect((await profile.excludes.get({ account_id: accountId })).result).toEqual(
      DEFAULT_EXCLUDES,
    );
  });
});

describe("device and connectivity settings", () => {
  it("start all false and merge PATCH bodies", async ({ expect }) => {
    const accountId = newAccountId();
    const settings = cf.zeroTrust.devices.settings;
    const connectivity = cf.zeroTrust.connectivitySettings;
    expect(await settings.get({ account_id: accountId })).toEqual({
      disable_for_time: 0,
      external_emergency_signal_enabled: false,
      gateway_proxy_enabled: false,
      gateway_udp_proxy_enabled: false,
      root_certificate_installation_enabled: false,
      use_zt_virtual_ip: false,
    });
    await settings.edit({ account_id: accountId, gateway_proxy_enabled: true });
    const merged = await settings.edit({ account_id: accountId, gateway_udp_proxy_enabled: true });
    expect(merged).toEqual({
      disable_for_time: 0,
      external_emergency_signal_enabled: false,
      gateway_proxy_enabled: true,
      gateway_udp_proxy_enabled: true,
      root_certificate_installation_enabled: false,
      use_zt_virtual_ip: false,
    });
    expect(await connectivity.get({ account_id: accountId })).toEqual({
      icmp_proxy_enabled: false,
      offramp_warp_enabled: false,
    });
    await connectivity.edit({ account_id: accountId, icmp_proxy_enabled: true });
    expect(await connectivity.edit({ account_id: accountId, offramp_warp_enabled: true })).toEqual({
      icmp_proxy_enabled: true,
      offramp_warp_enabled: true,
    });
    expect(
      await failureOf(
        settings.edit({
          account_id: accountId,
          gateway_proxy_enabled: "yes" as unknown as boolean,
        }),
      ),
    ).toEqual({
      type: "BadRequestError",
      status: 400,
      errors: [{ code: 1001, message: "gateway_proxy_enabled must be a boolean" }],
    });
  });
});

describe("controls", () => {
  it("injects a 429 with retry-after, seen as RateLimitError and logged", async ({ expect }) => {
    const accountId = newAccountId();
    const prefix = `/client/v4/accounts/${accountId}/teamnet/routes`;
    const fault = await control("/faults", "POST", {
      method: "GET",
      path_prefix: prefix,
      status: 429,
      retry_after: 1,
      times: 2,
    });
    expect(fault).toEqual({
      fault: {
        id: expect.any(Number),
        method: "GET",
        path_prefix: prefix,
        status: 429,
        retry_after: 1,
        times: 2,
        after_apply: false,
        delay_ms: 0,
        should_retry: null,
        share: 1,
        seen: 0,
      },
    });
    const since = await lastSeq(accountId);
    const outcomes: unknown[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const page = await cf.zeroTrust.networks.routes.list({ account_id: accountId });
        outcomes.push(page.result);
      } catch (error) {
        if (!(error instanceof Error && "headers" in error && error.headers instanceof Headers)) {
          throw error;
        }
        outcomes.push([error.constructor.name, error.headers.get("retry-after")]);
      }
    }
    expect(outcomes).toEqual([["RateLimitError", "1"], ["RateLimitError", "1"], []]);
    expect((await callsOf(accountId, since)).map((call) => call.status)).toEqual([429, 429, 200]);
    expect(await control("/faults")).toEqual({ faults: [] });
  });

  it("performs the operation and then fails when after_apply is set", async ({ expect }) => {
    const accountId = newAccountId();
    const tunnel = await createTunnel(accountId, "edge");
    await control("/faults", "POST", {
      method: "POST",
      path_prefix: `/client/v4/accounts/${accountId}/teamnet/routes`,
      status: 502,
      after_apply: true,
    });
    expect(
      await failureOf(
        cf.zeroTrust.networks.routes.create({
          account_id: accountId,
          network: "10.20.0.0/16",
          tunnel_id: tunnel.id ?? "",
          comment: "tunnelplane:abc",
        }),
      ),
    ).toEqual({
      type: "InternalServerError",
      status: 502,
      errors: [{ code: 1000, message: "Internal server error (injected fault)" }],
    });
    const list = await cf.zeroTrust.networks.routes.list({ account_id: accountId });
    expect(list.result.map((route) => [route.network, route.comment])).toEqual([
      ["10.20.0.0/16", "tunnelplane:abc"],
    ]);
  });

  it("mixes faults by share: 10% 5xx, then a third of the rest 429, spread evenly", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    const prefix = `/client/v4/accounts/${accountId}/teamnet/routes`;
    await control("/faults", "POST", { path_prefix: prefix, status: 503, share: 0.1, times: 99 });
    await control("/faults", "POST", {
      path_prefix: prefix,
      status: 429,
      retry_after: 0,
      share: 1 / 3,
      times: 99,
    });
    for (let i = 0; i < 20; i++) {
      await api(`/accounts/${accountId}/teamnet/routes`);
    }
    const statuses = (await callsOf(accountId)).map((c) => c.status);
    expect(statuses).toEqual([
      200, 200, 429, 200, 200, 429, 200, 200, 429, 503, 200, 200, 429, 200, 200, 429, 200, 200, 429,
      503,
    ]);
    expect(await control("/faults", "DELETE")).toEqual({ faults: [] });
    const refused = await emulator().fetch("http://emulator/__emulator/faults", {
      method: "POST",
      body: JSON.stringify({ path_prefix: prefix, status: 500, share: 0 }),
    });
    expect([refused.status, ((await refused.json()) as { errors: unknown[] }).errors]).toEqual([
      400,
      [{ code: 1001, message: "share must be a number above 0 and at most 1" }],
    ]);
  });

  it("lists and clears pending faults", async ({ expect }) => {
    const prefix = `/client/v4/accounts/${newAccountId()}/gateway/rules`;
    await control("/faults", "POST", { path_prefix: prefix, status: 503, should_retry: false });
    const pending = (await control("/faults")) as { faults: { path_prefix: string }[] };
    expect(pending.faults.filter((f) => f.path_prefix === prefix).length).toBe(1);
    expect(await control("/faults", "DELETE")).toEqual({ faults: [] });
    expect(await control("/faults")).toEqual({ faults: [] });
  });

  it("resets one account to a fresh state", async ({ expect }) => {
    const accountId = newAccountId();
    const other = newAccountId();
    await createTunnel(accountId, "edge");
    await createTunnel(other, "edge");
    await cf.zeroTrust.devices.settings.edit({
      account_id: accountId,
      gateway_proxy_enabled: true,
    });
    expect(await control("/reset", "POST", { account_id: accountId })).toEqual({ ok: true });
    expect(await callsOf(accountId)).toEqual([]);
    const tunnels = await cf.zeroTrust.tunnels.cloudflared.list({ account_id: accountId });
    expect(tunnels.result).toEqual([]);
    const settings = await cf.zeroTrust.devices.settings.get({ account_id: accountId });
    expect(settings?.gateway_proxy_enabled).toBe(false);
    const kept = await cf.zeroTrust.tunnels.cloudflared.list({ account_id: other });
    expect(kept.result.map((t) => t.name)).toEqual(["edge"]);
    expect((await callsOf(accountId)).map((call) => [call.method, call.status])).toEqual([
      ["GET", 200],
      ["GET", 200],
    ]);
  });
});

/** Hex SHA-256, as the emulator names a token in `GET /__emulator/rate-limit`. */
async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RateLimitReport {
  config: { limit: number; window_s: number; lockout_s: number; omit_retry_after: boolean };
  tokens: {
    token_hash: string;
    calls_in_window: number;
    max_calls_in_any_window: number;
    rate_limited_calls: number;
    calls_during_lockout: number;
    locked_until: string | null;
  }[];
}

async function tokenReport(token: string) {
  const report = (await control("/rate-limit")) as RateLimitReport;
  const hash = await sha256(token);
  const { token_hash: _hash, ...counters } = report.tokens.find((t) => t.token_hash === hash) ?? {
    token_hash: hash,
  };
  return counters;
}

/** Status, the rate-limit headers and the body of a raw call with `token`. */
async function limited(path: string, token: string) {
  const response = await api(path, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: response.status,
    ratelimit: response.headers.get("ratelimit"),
    policy: response.headers.get("ratelimit-policy"),
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as { success: boolean; errors: unknown[] },
  };
}

const RATE_LIMITED = {
  success: false,
  errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }],
  messages: [],
  result: null,
};

describe("rate limit", () => {
  afterEach(async () => {
    await control("/reset", "POST");
  });

  it("counts calls per token in a sliding window, answers 429/971 past it and locks out", async ({
    expect,
  }) => {
    await control("/rate-limit", "PUT", { limit: 5, window_s: 1, lockout_s: 1.5 });
    const accountId = newAccountId();
    const path = `/accounts/${accountId}/teamnet/virtual_networks`;
    const served = [];
    for (let call = 0; call < 5; call++) {
      const { status, ratelimit, policy, retryAfter } = await limited(path, "rl-token");
      served.push([status, ratelimit, policy, retryAfter]);
    }
    expect(served).toEqual(
      [4, 3, 2, 1, 0].map((remaining) => [
        200,
        `"default";r=${remaining};t=1`,
        '"default";q=5;w=1',
        null,
      ]),
    );
    const sixth = await limited(path, "rl-token");
    const seventh = await limited(path, "rl-token");
    const otherToken = await limited(path, "rl-other");
    expect([sixth, seventh]).toEqual(
      [sixth, seventh].map(() => ({
        status: 429,
        ratelimit: '"default";r=0;t=2',
        policy: '"default";q=5;w=1',
        retryAfter: "2",
        body: RATE_LIMITED,
      })),
    );
    expect([otherToken.status, otherToken.ratelimit]).toEqual([200, '"default";r=4;t=1']);
    expect(await tokenReport("rl-token")).toEqual({
      calls_in_window: 7,
      max_calls_in_any_window: 7,
      rate_limited_calls: 2,
      calls_during_lockout: 1,
      locked_until: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    await sleep(1600);
    const after = await limited(path, "rl-token");
    expect([after.status, after.ratelimit, after.retryAfter]).toEqual([
      200,
      '"default";r=4;t=1',
      null,
    ]);
    expect(await tokenReport("rl-token")).toEqual({
      calls_in_window: 1,
      max_calls_in_any_window: 7,
      rate_limited_calls: 2,
      calls_during_lockout: 1,
      locked_until: null,
    });
    const calls = await callsOf(accountId);
    expect(calls.map((call) => call.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 200, 200]);
  });

  it("keeps the largest window seen, counts unknown paths, and leaves controls alone", async ({
    expect,
  }) => {
    await control("/rate-limit", "PUT", { limit: 100, window_s: 0.5 });
    const accountId = newAccountId();
    const path = `/accounts/${accountId}/cfd_tunnel`;
    for (let call = 0; call < 3; call++) {
      await limited(path, "rl-window");
    }
    await sleep(600);
    const unknown = await limited(`/accounts/${accountId}/no/such/thing`, "rl-window");
    expect([unknown.status, unknown.ratelimit]).toEqual([404, '"default";r=99;t=1']);
    const controlAnswer = await emulator().fetch("http://emulator/__emulator/rate-limit");
    expect(controlAnswer.headers.get("ratelimit")).toBeNull();
    await controlAnswer.json();
    expect(await tokenReport("rl-window")).toEqual({
      calls_in_window: 1,
      max_calls_in_any_window: 3,
      rate_limited_calls: 0,
      calls_during_lockout: 0,
      locked_until: null,
    });
  });

  it("can answer the lockout without Retry-After; the SDK sees a RateLimitError", async ({
    expect,
  }) => {
    expect(
      await control("/rate-limit", "PUT", { limit: 1, window_s: 1, omit_retry_after: true }),
    ).toEqual({ config: { limit: 1, window_s: 1, lockout_s: 300, omit_retry_after: true } });
    const accountId = newAccountId();
    const client = sdk("rl-sdk");
    await client.zeroTrust.networks.virtualNetworks.list({ account_id: accountId });
    expect(
      await failureOf(client.zeroTrust.networks.virtualNetworks.list({ account_id: accountId })),
    ).toEqual({ type: "RateLimitError", status: 429, errors: RATE_LIMITED.errors });
    const locked = await limited(`/accounts/${accountId}/cfd_tunnel`, "rl-sdk");
    expect([locked.status, locked.ratelimit, locked.retryAfter]).toEqual([
      429,
      '"default";r=0;t=300',
      null,
    ]);
  });

  it("keeps injected 429s apart from the model but counts calls sent while they are pending", async ({
    expect,
  }) => {
    await control("/rate-limit", "PUT", { lockout_s: 0.3 });
    const accountId = newAccountId();
    const path = `/accounts/${accountId}/cfd_tunnel`;
    await control("/faults", "POST", { path_prefix: "/client/v4/", status: 429, retry_after: 1 });
    const faulted = await limited(path, "rl-fault");
    const during = await limited(path, "rl-fault");
    expect([faulted.status, faulted.retryAfter, faulted.ratelimit, faulted.body]).toEqual([
      429,
      "1",
      '"default";r=1199;t=300',
      RATE_LIMITED,
    ]);
    expect([during.status, during.ratelimit]).toEqual([200, '"default";r=1198;t=300']);
    await control("/faults", "POST", { path_prefix: "/client/v4/", status: 429 });
    const withoutHeader = await limited(path, "rl-fault-2");
    const pending = await limited(path, "rl-fault-2");
    await sleep(350);
    const later = await limited(path, "rl-fault-2");
    expect([withoutHeader.status, withoutHeader.retryAfter, pending.status, later.status]).toEqual([
      429,
      null,
      200,
      200,
    ]);
    const counters = { calls_during_lockout: 1, rate_limited_calls: 0, locked_until: null };
    expect(await tokenReport("rl-fault")).toMatchObject(counters);
    expect(await tokenReport("rl-fault-2")).toMatchObject({ ...counters, calls_in_window: 3 });
  });

  it("validates its settings and returns to Cloudflare's on reset", async ({ expect }) => {
    const refusals = await Promise.all(
      [{ limit: 0 }, { window_s: 0 }, { lockout_s: -1 }, { omit_retry_after: 1 }, { burst: 1 }].map(
        async (body) => {
          const response = await emulator().fetch("http://emulator/__emulator/rate-limit", {
            method: "PUT",
            body: JSON.stringify(body),
          });
          return [response.status, ((await response.json()) as typeof RATE_LIMITED).errors];
        },
      ),
    );
    expect(refusals.map(([status]) => status)).toEqual([400, 400, 400, 400, 400]);
    await control("/rate-limit", "PUT", { limit: 7, window_s: 2.5 });
    const accountId = newAccountId();
    await control("/limits", "PUT", { account_id: accountId, limits: { routes: 5000 } });
    await limited(`/accounts/${accountId}/cfd_tunnel`, "rl-reset");
    expect(((await control("/rate-limit")) as RateLimitReport).tokens.length).toBe(1);
    await control("/reset", "POST");
    expect(await control("/rate-limit")).toEqual({
      config: { limit: 1200, window_s: 300, lockout_s: 300, omit_retry_after: false },
      tokens: [],
    });
    const limits = (await control(`/limits?account_id=${accountId}`)) as {
      limits: { routes: number };
    };
    expect(limits.limits.routes).toBe(1000);
  });
});

describe("account limits", () => {
  it("has Cloudflare's defaults and refuses a create past a raised or lowered limit", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    expect(await control(`/limits?account_id=${accountId}`)).toEqual({
      account_id: accountId,
      limits: {
        tunnels: 1000,
        routes: 1000,
        virtual_networks: 1000,
        gateway_rules: 500,
        device_profiles: null,
        access_apps: 500,
        access_policies: 500,
        split_tunnel_entries: 1000,
      },
    });
    const lowered = {
      tunnels: 1,
      routes: 1,
      virtual_networks: 2,
      gateway_rules: 1,
      device_profiles: 1,
      access_apps: 1,
      access_policies: 1,
      split_tunnel_entries: 1000,
    };
    expect(await control("/limits", "PUT", { account_id: accountId, limits: lowered })).toEqual({
      account_id: accountId,
      limits: lowered,
    });
    const account_id = accountId;
    const zt = cf.zeroTrust;
    const tunnel = await createTunnel(accountId, "first");
    const tunnel_id = tunnel.id ?? "";
    const route = await zt.networks.routes.create({
      account_id,
      network: "10.0.0.0/24",
      tunnel_id,
    });
    await zt.networks.virtualNetworks.create({ account_id, name: "second" });
    await zt.gateway.rules.create({ account_id, name: "l4", action: "allow", filters: ["l4"] });
    await zt.gateway.rules.create({ account_id, name: "dns", action: "allow", filters: ["dns"] });
    const profile = { account_id, match: "true", precedence: 10 };
    await zt.devices.policies.custom.create({ ...profile, name: "one" });
    const app = { account_id, type: "self_hosted", domain: "a.example.com" } as const;
    await zt.access.applications.create({ ...app, name: "one" });
    const policy = { account_id, decision: "allow" as const, include: [{ everyone: {} }] };
    await zt.access.policies.create({ ...policy, name: "one" });
    const refusals = await Promise.all([
      failureOf(createTunnel(accountId, "second")),
      failureOf(zt.networks.routes.create({ account_id, network: "10.0.1.0/24", tunnel_id })),
      failureOf(zt.networks.virtualNetworks.create({ account_id, name: "third" })),
      failureOf(
        zt.gateway.rules.create({ account_id, name: "l4", action: "block", filters: ["l4"] }),
      ),
      failureOf(zt.devices.policies.custom.create({ ...profile, name: "two", precedence: 20 })),
      failureOf(zt.access.applications.create({ ...app, name: "two" })),
      failureOf(zt.access.policies.create({ ...policy, name: "two" })),
    ]);
    const refusal = (code: number, what: string) => ({
      type: "BadRequestError",
      status: 400,
      errors: [
        { code, message: `Account limit reached: at most ${what} in this account are allowed` },
      ],
    });
    expect(refusals).toEqual([
      refusal(1018, "1 tunnels"),
      refusal(1019, "1 routes"),
      refusal(1020, "2 virtual networks"),
      refusal(2004, "1 rules of one filter type"),
      refusal(2104, "1 device settings profiles"),
      refusal(12006, "1 Access applications"),
      refusal(12007, "1 reusable Access policies"),
    ]);
    await zt.networks.routes.delete(route.id ?? "", { account_id });
    await zt.networks.routes.create({ account_id, network: "10.0.1.0/24", tunnel_id });
    await control("/limits", "PUT", { account_id: accountId, limits: { tunnels: null } });
    await createTunnel(accountId, "second");
    const limits = (await control(`/limits?account_id=${accountId}`)) as { limits: object };
    expect(limits.limits).toEqual({ ...lowered, tunnels: null });
  });

  it("holds one profile's split tunnel and fallback entries to the limit", async ({ expect }) => {
    const accountId = newAccountId();
    const account_id = accountId;
    // 17 split tunnel entries plus the 14 default fallback domains.
    await control("/limits", "PUT", { account_id, limits: { split_tunnel_entries: 31 } });
    const entries = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ address: `10.0.${index}.0/24` }));
    const excludes = cf.zeroTrust.devices.policies.default.excludes;
    const tooMany = await failureOf(excludes.update({ account_id, body: entries(18) }));
    expect((await excludes.update({ account_id, body: entries(17) })).result).toHaveLength(17);
    const fallback = await failureOf(
      cf.zeroTrust.devices.policies.default.edit({
        account_id,
        fallback_domains: [...DEFAULT_FALLBACK, { suffix: "corp.example" }],
      } as Parameters<typeof cf.zeroTrust.devices.policies.default.edit>[0]),
    );
    const put = await failureOf(
      cf.zeroTrust.devices.policies.default.fallbackDomains.update({
        account_id,
        domains: [...DEFAULT_FALLBACK, { suffix: "corp.example" }],
      }),
    );
    const refusal = {
      type: "BadRequestError",
      status: 400,
      errors: [
        {
          code: 2105,
          message:
            "Account limit reached: at most 31 split tunnel and local domain fallback entries in one device profile are allowed",
        },
      ],
    };
    expect([tooMany, fallback, put]).toEqual([refusal, refusal, refusal]);
    expect((await excludes.get({ account_id })).result).toHaveLength(17);
  });

  it("refuses malformed limits", async ({ expect }) => {
    const accountId = newAccountId();
    const answers = await Promise.all(
      [
        { account_id: accountId, limits: { routes: -1 } },
        { account_id: accountId, limits: { routes: 1.5 } },
        { account_id: accountId, limits: { hostname_routes: 1 } },
        { account_id: accountId, limits: [] },
        { account_id: "nope", limits: {} },
      ].map(async (body) => {
        const response = await emulator().fetch("http://emulator/__emulator/limits", {
          method: "PUT",
          body: JSON.stringify(body),
        });
        await response.json();
        return response.status;
      }),
    );
    expect(answers).toEqual([400, 400, 400, 400, 400]);
  });
});

describe("list paging", () => {
  it("takes per_page up to 1000 on every paged list and sends result_info without total_pages", async ({
    expect,
  }) => {
    const accountId = newAccountId();
    await createTunnel(accountId, "one");
    const paged = ["cfd_tunnel", "tunnels", "teamnet/routes", "access/apps", "access/policies"];
    const answers = await Promise.all(
      paged.map(async (list) => {
        const largest = await api(`/accounts/${accountId}/${list}?per_page=1000`);
        const tooLarge = await api(`/accounts/${accountId}/${list}?per_page=1001`);
        const body = (await largest.json()) as { result_info: unknown };
        await tooLarge.json();
        return [list, largest.status, body.result_info, tooLarge.status];
      }),
    );
    const info = (count: number) => ({ page: 1, per_page: 1000, count, total_count: count });
    expect(answers).toEqual([
      ["cfd_tunnel", 200, info(1), 400],
      ["tunnels", 200, info(1), 400],
      ["teamnet/routes", 200, info(0), 400],
      ["access/apps", 200, info(0), 400],
      ["access/policies", 200, info(0), 400],
    ]);
    const single = ["teamnet/virtual_networks", "gateway/rules", "devices/policies"];
    const keys = await Promise.all(
      single.map(async (list) => {
        const response = await api(`/accounts/${accountId}/${list}?per_page=1000`);
        return Object.keys((await response.json()) as object);
      }),
    );
    expect(keys).toEqual(single.map(() => ["success", "errors", "messages", "result"]));
  });
});
