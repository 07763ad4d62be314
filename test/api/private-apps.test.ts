/**
 * Private-network apps: each destination group becomes an allow for the app's identities and a
 * block for everyone else, placed together, reconciled like stored policies, kept in line when
 * the app changes and removed with it; explain and precedence uniqueness see them.
 */
import { describe, it } from "vitest";
import { del, get, post, put } from "../helpers/api";
import { callsOf, lastSeq, sdk } from "../helpers/emulator";
import { seedAccount } from "../helpers/seed";
import type { RunBody } from "../helpers/wire";

interface App {
  id: string;
  precedence: number;
  policies: unknown[];
  status: { state: string; cloudflare_id: string | null };
}

const DB_APP = {
  name: "db-prod",
  destinations: [
    { cidr: "10.128.0.8", ports: [22], protocol: "tcp" },
    { cidr: "10.128.1.0/24", ports: ["5432"] },
    { cidr: "10.128.0.7", ports: ["22"], protocol: "tcp" },
  ],
  emails: ["Contractor@Other.test"],
  email_domains: ["@Example.com"],
};

const DOMAIN_REGEX = "^[^@]+@(?:example\\.com)$";

async function rules(accountId: string) {
  const list = (await sdk().zeroTrust.gateway.rules.list({ account_id: accountId })).result;
  return list.map((r) => ({
    name: r.name,
    action: r.action,
    precedence: r.precedence,
    traffic: r.traffic,
    identity: r.identity,
    description: r.description,
  }));
}

describe("private apps", () => {
  it("becomes an allow then a block per destination group, lands in Cloudflare and converges", async ({
    expect,
  }) => {
    const { accountId, base } = await seedAccount(expect);
    const created = await post<App>(`${base}/private-apps`, DB_APP);
    expect(created.status).toBe(201);
    const app = created.body;
    expect([app.precedence, app.policies]).toEqual([
      1000,
      [
        {
          key: "allow-0",
          name: "db-prod #1: allow",
          action: "allow",
          precedence: 1000,
          traffic:
            'net.dst.ip in {10.128.0.7 10.128.0.8} and net.dst.port in {22} and net.protocol in {"tcp"}',
          identity: `(identity.email in {"contractor@other.test"} or identity.email matches "${DOMAIN_REGEX}")`,
        },
        {
          key: "block-0",
          name: "db-prod #1: block everyone else",
          action: "block",
          precedence: 1001,
          traffic:
            'net.dst.ip in {10.128.0.7 10.128.0.8} and net.dst.port in {22} and net.protocol in {"tcp"}',
          identity: "",
        },
        {
          key: "allow-1",
          name: "db-prod #2: allow",
          action: "allow",
          precedence: 1002,
          traffic: "net.dst.ip in {10.128.1.0/24} and net.dst.port in {5432}",
          identity: `(identity.email in {"contractor@other.test"} or identity.email matches "${DOMAIN_REGEX}")`,
        },
        {
          key: "block-1",
          name: "db-prod #2: block everyone else",
          action: "block",
          precedence: 1003,
          traffic: "net.dst.ip in {10.128.1.0/24} and net.dst.port in {5432}",
          identity: "",
        },
      ],
    ]);

    const run = await post<RunBody>(`${base}/reconcile`);
    expect(run.body.outcome).toBe("succeeded");
    // The blocks narrow access and go first, so no allow is ever in place without its block.
    expect(run.body.actions.map((a) => [a.op, a.key])).toEqual([
      ["create", `${app.id}-block-0`],
      ["create", `${app.id}-block-1`],
      ["create", `${app.id}-allow-0`],
      ["create", `${app.id}-allow-1`],
    ]);
    const landed = await rules(accountId);
    expect(landed.map((r) => [r.name, r.action, r.precedence, r.description])).toEqual([
      ["db-prod #1: allow", "allow", 1000, `tunnelplane:${app.id}-allow-0`],
      ["db-prod #1: block everyone else", "block", 1001, `tunnelplane:${app.id}-block-0`],
      ["db-prod #2: allow", "allow", 1002, `tunnelplane:${app.id}-allow-1`],
      ["db-prod #2: block everyone else", "block", 1003, `tunnelplane:${app.id}-block-1`],
    ]);
    const synced = await get<App>(`${base}/private-apps/${app.id}`);
    const allowRule = (
      await sdk().zeroTrust.gateway.rules.list({ account_id: accountId })
    ).result.find((r) => r.description === `tunnelplane:${app.id}-allow-0`);
    expect(synced.body.status).toMatchObject({ state: "synced", cloudflare_id: allowRule?.id });

    const since = await lastSeq(accountId);
    expect((await post<RunBody>(`${base}/reconcile`)).body.actions).toEqual([]);
    expect((await callsOf(accountId, since)).filter((c) => c.method !== "GET")).toEqual([]);
  });

  it("follows a change of the app and goes with it", async ({ expect }) => {
    const { accountId, base } = await seedAccount(expect);
    const app = (await post<App>(`${base}/private-apps`, DB_APP)).body;
    await post(`${base}/reconcile`);
    const changed = await put<App>(`${base}/private-apps/${app.id}`, {
      ...DB_APP,
      destinations: [
        { cidr: "10.128.0.7", ports: [22], protocol: "tcp" },
        { cidr: "10.128.0.8", ports: [22], protocol: "tcp" },
      ],
      emails: ["contractor@other.test", "auditor@other.test"],
    });
    expect([changed.status, changed.body.precedence]).toEqual([200, 1000]);
    const run = await post<RunBody>(`${base}/reconcile`);
    // One group left: the names lose their "#1", so both policies of the pair are rewritten.
    // Narrowing first: the second group's allow goes, then the block is rewritten.
    expect(run.body.actions.map((a) => [a.op, a.key, a.reason])).toEqual([
      ["delete", `${app.id}-allow-1`, "no longer desired"],
      ["update", `${app.id}-block-0`, "differs from the desired state"],
      ["update", `${app.id}-allow-0`, "differs from the desired state"],
      ["delete", `${app.id}-block-1`, "no longer desired"],
    ]);
    expect((await rules(accountId)).map((r) => [r.name, r.precedence, r.identity])).toEqual([
      [
        "db-prod: allow",
        1000,
        `(identity.email in {"auditor@other.test" "contractor@other.test"} or identity.email matches "${DOMAIN_REGEX}")`,
      ],
      ["db-prod: block everyone else", 1001, ""],
    ]);

    expect((await del(`${base}/private-apps/${app.id}`)).status).toBe(204);
    const gone = await post<RunBody>(`${base}/reconcile`);
    expect(gone.body.actions.map((a) => [a.op, a.key])).toEqual([
      ["delete", `${app.id}-allow-0`],
      ["delete", `${app.id}-block-0`],
    ]);
    expect(await rules(accountId)).toEqual([]);
  });

  it("holds its precedences: policies and other apps cannot take them", async ({ expect }) => {
    const { base } = await seedAccount(expect);
    const app = (await post<App>(`${base}/private-apps`, { ...DB_APP, precedence: 500 })).body;
    const clash = await post(`${base}/policies`, {
      name: "x",
      action: "block",
      precedence: 502,
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({
      type: "http://tunnelplane/problems/precedence-taken",
      detail: `Private app ${app.id} holds precedence 502; precedences are unique.`,
    });
    const policy = await post<{ id: string; precedence: number }>(`${base}/policies`, {
      name: "after the app",
      action: "block",
    });
    expect(policy.body.precedence).toBe(1000);
    const overlapping = await post(`${base}/private-apps`, {
      ...DB_APP,
      name: "other",
      precedence: 998,
    });
    expect(overlapping.status).toBe(409);
    expect(overlapping.body).toMatchObject({
      detail: `The app needs precedences 998..1001; 1000 is taken by ${policy.body.id}.`,
    });
    const sameName = await post(`${base}/private-apps`, { ...DB_APP, precedence: 3000 });
    expect(sameName.status).toBe(409);
    const noOne = await post(`${base}/private-apps`, {
      name: "nobody",
      destinations: [{ cidr: "10.1.2.3/8" }],
    });
    expect(noOne.status).toBe(422);
    expect((noOne.body as { errors: unknown[] }).errors).toEqual([
      {
        pointer: "#/destinations/0/cidr",
        detail: "10.1.2.3/8 has host bits set; the canonical form is 10.0.0.0/8",
        code: "cidr-host-bits-set",
      },
      {
        pointer: "#/emails",
        detail: "name who may reach the app: emails, email_domains, email_regex or groups",
        code: "no-identity",
      },
    ]);
  });

  it("explain sees the app: its identities pass, an unanchored look-alike domain does not", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const tunnel = (await post<{ id: string }>(`${base}/tunnels`, { name: "dc1" })).body;
    await post(`${base}/routes`, { network: "10.128.0.0/16", tunnel_id: tunnel.id });
    await put(`${base}/proxy-settings`, { tcp: true, udp: true, icmp: true });
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    const app = (await post<App>(`${base}/private-apps`, DB_APP)).body;
    const verdict = async (email: string) =>
      (
        await post<{ verdict: string; policy: { decided_by: { id: string } } }>(`${base}/explain`, {
          email,
          destination_ip: "10.128.0.7",
          port: 22,
        })
      ).body;
    expect(await verdict("user@example.com")).toMatchObject({
      verdict: "allowed",
      policy: { decided_by: { id: `${app.id}-allow-0` } },
    });
    expect(await verdict("contractor@other.test")).toMatchObject({ verdict: "allowed" });
    expect(await verdict("x@example.com.evil.test")).toMatchObject({
      verdict: "blocked_by_policy",
      policy: { decided_by: { id: `${app.id}-block-0` } },
    });
  });
});

describe("private apps that cannot work", () => {
  it("are accepted with a warning naming the destination and the reason, and appear in conflicts", async ({
    expect,
  }) => {
    const { base } = await seedAccount(expect);
    const nas = await post<{ id: string; warnings: unknown[] }>(`${base}/private-apps`, {
      name: "nas",
      destinations: [{ cidr: "192.168.4.50/32", ports: [7575] }],
      email_domains: ["example.com"],
    });
    const notRouted = {
      code: "private-app-not-routed",
      message: 'private app "nas" cannot reach 192.168.4.50/32: no route carries 192.168.4.50/32',
    };
    const excluded = {
      code: "private-app-excluded",
      message:
        'private app "nas" cannot reach 192.168.4.50/32: the Exclude entry 192.168.0.0/16 of the default profile sends 192.168.4.50/32 around WARP',
    };
    expect([nas.status, nas.body.warnings]).toEqual([201, [notRouted, excluded]]);

    const tunnel = (await post<{ id: string }>(`${base}/tunnels`, { name: "home" })).body.id;
    await post(`${base}/routes`, { network: "192.168.4.0/24", tunnel_id: tunnel });
    const conflicts = async () =>
      (await get<{ items: { code: string }[] }>(`${base}/conflicts`)).body.items.filter((c) =>
        c.code.startsWith("private-app"),
      );
    // The default list is Cloudflare's until tunnelplane manages it: 192.168.0.0/16 still excludes.
    expect(await conflicts()).toEqual([
      {
        ...excluded,
        severity: "warning",
        objects: [{ kind: "private_app", id: nas.body.id }],
        app_id: nas.body.id,
        destination: "192.168.4.50/32",
        entry: { address: "192.168.0.0/16", description: "" },
        unreachable: ["192.168.4.50/32"],
      },
    ]);
    await put(`${base}/split-tunnels/default`, { mode: "exclude", auto: true });
    expect(await conflicts()).toEqual([]);
    const fine = await put<{ warnings: unknown[] }>(`${base}/private-apps/${nas.body.id}`, {
      name: "nas",
      destinations: [{ cidr: "192.168.4.50/32", ports: [7575] }],
      email_domains: ["example.com"],
    });
    expect(fine.body.warnings).toEqual([]);
  });
});
