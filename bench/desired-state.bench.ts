/**
 * Time to diff and apply a desired-state document of 10,000 routes and 500 policies, beside the
 * time to create the same routes one by one through `POST routes`, measured in the same run on
 * the same D1. Creating 10,000 one by one would hold the bench for minutes, so a sample of creates
 * is timed on an empty account and on one already holding the document's 10,000 routes and 500
 * policies, and the total is extrapolated from them (the cost per create taken as growing
 * linearly with the routes the account holds; the output says so). The API runs in-process (createApp(), as the Worker runs it);
 * D1 is Miniflare's: the same workerd SQLite engine `wrangler dev` and the tests use, reached from
 * Node through Miniflare's binding proxy, so every query pays a loopback round trip, as a Worker
 * pays one to D1. The Cloudflare plan is left out of the diff (`plan=false`): it depends on
 * Cloudflare's answer times, not on tunnelplane; its pure part is timed on its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { createApp } from "../src/api/app";
import { planAccessDelta } from "../src/api/runs/access-delta";
import { createDb } from "../src/db/client";
import { loadDesiredState } from "../src/db/desired-objects.repo";
import { EMPTY_OBSERVED } from "../src/domain/model";
import { planAccount } from "../src/domain/plan/plan";

const ADMIN_KEY = "tp_bench_admin_key";
const ROUTES = 10_000;
const POLICIES = 500;
/** Routes created one by one through POST routes at each of the two sizes sampled. */
const SAMPLE = 50;
const APPLY = "apply to an empty account (one D1 batch)";

async function migrate(db: D1Database): Promise<void> {
  const dir = path.resolve("migrations");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const statements = readFileSync(path.join(dir, file), "utf8").split("--> statement-breakpoint");
    for (const statement of statements.map((s) => s.trim()).filter((s) => s !== "")) {
      await db.prepare(statement).run();
    }
  }
}

function documentOf(routes: number, policies: number) {
  return {
    format: "tunnelplane.desired-state/v1",
    tunnels: [{ name: "dc1" }, { name: "dc2" }],
    routes: Array.from({ length: routes }, (_, i) => ({
      network: `10.${i >> 8}.${i & 255}.0/24`,
      tunnel: i % 2 === 0 ? "dc1" : "dc2",
      comment: `route ${i}`,
    })),
    proxy_settings: { tcp: true, udp: true, icmp: false },
    policies: Array.from({ length: policies }, (_, i) => ({
      name: `policy ${i}`,
      action: i % 2 === 0 ? "allow" : "block",
      precedence: 1000 + i * 10,
      destinations: [`10.${(i * 7) % 40}.${i % 256}.0/24`, `10.${(i * 3) % 40}.0.0/16`],
      ports: [22, 443],
      emails: [`user${i}@example.com`],
    })),
  };
}

/** Wall ms of each timed step, by label. */
const took = new Map<string, number>();

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await run();
  took.set(label, performance.now() - start);
  console.log(`${label}: ${(performance.now() - start).toFixed(0)} ms`);
  return value;
}

/** Prints the timings; numbers are printed, never asserted. */
export async function runDesiredStateBench(): Promise<void> {
  console.log(`\n== desired-state document: ${ROUTES} routes + ${POLICIES} policies (wall ms) ==`);
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
    d1Databases: ["DB"],
  });
  try {
    const DB = await mf.getD1Database("DB");
    await migrate(DB);
    const env = {
      DB,
      ADMIN_API_KEY: ADMIN_KEY,
      TOKEN_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    };
    const app = createApp();
    const send = async (method: string, url: string, body?: unknown, ifMatch?: string) => {
      const response = await app.request(
        `http://tunnelplane${url}`,
        {
          method,
          headers: {
            authorization: `Bearer ${ADMIN_KEY}`,
            "content-type": "application/json",
            ...(ifMatch === undefined ? {} : { "if-match": ifMatch }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        env,
      );
      const json = (await response.json()) as Record<string, unknown>;
      if (response.status >= 300) {
        throw new Error(
          `${method} ${url}: ${response.status} ${JSON.stringify(json).slice(0, 400)}`,
        );
      }
      return json;
    };
    const account = async (n: number) => {
      const id = n.toString(16).padStart(32, "0");
      await send("POST", "/v1/accounts", {
        account_id: id,
        name: `bench ${n}`,
        api_token: "x".repeat(40),
      });
      await send("PATCH", `/v1/accounts/${id}`, {
        limits: { routes: 20_000, network_policies: 1_000, selector_units: 100_000 },
      });
      return `/v1/accounts/${id}`;
    };

    const base = await account(1);
    const document = documentOf(ROUTES, POLICIES);
    console.log(`document: ${(JSON.stringify(document).length / 1_048_576).toFixed(2)} MB of JSON`);
    const diff = await timed("diff against an empty account (plan=false)", () =>
      send("POST", `${base}/desired-state/diff?plan=false`, document),
    );
    console.log(
      `  summary ${JSON.stringify(diff.summary)}, ${(diff.problems as unknown[]).length} problems`,
    );
    const applied = await timed(APPLY, () => send("PUT", `${base}/desired-state`, document, "*"));
    const exported = await timed("export", () => send("GET", `${base}/desired-state`));
    await timed("diff of the unchanged document", () =>
      send("POST", `${base}/desired-state/diff?plan=false`, exported),
    );
    await timed("apply of the unchanged document (writes nothing)", () =>
      send("PUT", `${base}/desired-state`, exported, `"${applied.version}"`),
    );
    const edited = {
      ...exported,
      routes: (exported.routes as unknown[]).slice(100),
      policies: (exported.policies as { precedence: number }[]).map((p) => ({
        ...p,
        precedence: p.precedence + 1,
      })),
    };
    const changed = await timed("apply of 100 route deletes + 500 policy updates", () =>
      send("PUT", `${base}/desired-state`, edited, `"${applied.version}"`),
    );
    console.log(`  summary ${JSON.stringify(changed.summary)}`);

    const desired = await loadDesiredState(createDb(DB), base.split("/")[3] ?? "");
    const plan = await timed(
      "planAccount of the applied state against an empty Cloudflare",
      async () => planAccount(desired, EMPTY_OBSERVED),
    );
    console.log(`  ${plan.actions.length} actions`);
    await timed("access delta of that plan (work_units default)", async () =>
      planAccessDelta(desired, EMPTY_OBSERVED, 4_000_000),
    );

    // One by one: a sample of creates on an empty account and on one holding the whole document.
    const empty = await account(2);
    const full = await account(3);
    await send("PUT", `${full}/desired-state`, document, "*");
    // Interleaved, one create on each account in turn, so the shared machine's load swings
    // reach both samples alike; one untimed create each first warms the code path.
    const create = async (at: string, tunnelId: unknown, n: number) => {
      const start = performance.now();
      await send("POST", `${at}/routes`, { network: `10.200.${n}.0/24`, tunnel_id: tunnelId });
      return performance.now() - start;
    };
    const [emptyTunnel, fullTunnel] = [
      (await send("POST", `${empty}/tunnels`, { name: "one-by-one" })).id,
      (await send("POST", `${full}/tunnels`, { name: "one-by-one" })).id,
    ];
    await create(empty, emptyTunnel, SAMPLE);
    await create(full, fullTunnel, SAMPLE);
    let [atEmpty, atFull] = [0, 0];
    for (let i = 0; i < SAMPLE; i += 1) {
      atEmpty += (await create(empty, emptyTunnel, i)) / SAMPLE;
      atFull += (await create(full, fullTunnel, i)) / SAMPLE;
    }
    const total = (ROUTES * (atEmpty + atFull)) / 2;
    console.log(
      `one by one (POST routes), ${SAMPLE} creates sampled at each size, interleaved: ${atEmpty.toFixed(1)} ms per create at 0 routes, ${atFull.toFixed(1)} ms at ${ROUTES} routes + ${POLICIES} policies`,
    );
    console.log(
      `  ${ROUTES} routes one by one, extrapolated (cost per create growing linearly between the two samples): ${(total / 1000).toFixed(1)} s, against ${((took.get(APPLY) ?? 0) / 1000).toFixed(1)} s for the document's apply`,
    );
  } finally {
    await mf.dispose();
  }
}
