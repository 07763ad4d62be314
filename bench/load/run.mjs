#!/usr/bin/env node
/**
 * Load figures (`npm run bench:load`, with `npm start` running): autocannon against the control
 * plane on 127.0.0.1:8787, one operation after another, each bounded by `--requests` (default
 * 300) and `--seconds` (default 10). Prints requests/s, p50 and p99 latency and each one's
 * throughput as a share of `GET /healthz` measured in the same run, so figures from machines
 * of different speed compare. Loopback only; it writes to accounts of its own (created once,
 * reused), never to the demo account.
 *
 * Usage: node bench/load/run.mjs [--requests N] [--seconds S] [--connections C]
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "300" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "4" },
  },
});
const API = "http://127.0.0.1:8787";
const HEADERS = { authorization: "Bearer dev-admin-key", "content-type": "application/json" };
/** One account holding 100 routes, one holding 1,000 (and taking the creates and grants). */
const SMALL = "10ad0100000000000000000000000100";
const LARGE = "10ad0100000000000000000000001000";
const LIMITS = { routes: 100_000, network_policies: 100_000 };

async function call(method, path, body, headers = {}) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: { ...HEADERS, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400 && response.status !== 404) {
    throw new Error(`${method} ${path}: ${response.status} ${text}`);
  }
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

/** The account with `routes` routes through one tunnel (10.<i>.<j>.0/24), created once. */
async function prepare(accountId, routes) {
  const base = `/v1/accounts/${accountId}`;
  if ((await call("GET", base)).status === 404) {
    await call("POST", "/v1/accounts", {
      account_id: accountId,
      name: `load ${routes}`,
      api_token: "token-for-the-local-emulator-0123456789ab",
      mode: "observe",
      reconcile_interval_s: 86_400,
      limits: LIMITS,
    });
  }
  const tunnels = (await call("GET", `${base}/tunnels?limit=1`)).body.items;
  const tunnel = tunnels[0] ?? (await call("POST", `${base}/tunnels`, { name: "load" })).body;
  let have = 0;
  let cursor = "";
  let first;
  do {
    const page = (await call("GET", `${base}/routes?limit=200&cursor=${cursor}`)).body;
    have += page.items.length;
    first ??= page.items[0];
    cursor = page.next_cursor ?? "";
  } while (cursor !== "");
  for (let i = have; i < routes; i++) {
    const route = { network: `10.${Math.floor(i / 256)}.${i % 256}.0/24`, tunnel_id: tunnel.id };
    const created = (await call("POST", `${base}/routes`, route)).body;
    first ??= created;
  }
  return { base, tunnelId: tunnel.id, routeId: first.id };
}

function measure(title, options) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        connections: Number(args.connections),
        // Whichever comes first: `amount` would override `duration`, this cap does not.
        maxOverallRequests: Number(args.requests),
        duration: Number(args.seconds),
        headers: HEADERS,
        ...options,
      },
      (error, result) => (error ? reject(error) : resolve({ title, result })),
    );
  });
}

const small = await prepare(SMALL, 100);
const large = await prepare(LARGE, 1000);
let created = 0;
let granted = 0;
const runId = Date.now().toString(36);
const runPrefix = `${(Math.floor(Date.now() / 1000) >>> 16).toString(16)}:${(Math.floor(Date.now() / 1000) & 0xffff).toString(16)}`;
const scenarios = [
  ["GET /healthz (baseline)", { url: `${API}/healthz` }],
  ["list routes: a page of 100 (of 100)", { url: `${API}${small.base}/routes?limit=100` }],
  ["list routes: a page of 200 (of 1,000)", { url: `${API}${large.base}/routes?limit=200` }],
  ["get one route", { url: `${API}${large.base}/routes/${large.routeId}` }],
  [
    "create a route",
    {
      url: `${API}${large.base}/routes`,
      requests: [
        {
          method: "POST",
          setupRequest: (request) => {
            const i = created++;
            return {
              ...request,
              body: JSON.stringify({
                // IPv6, under a prefix of this run's own, so no run collides with an earlier one.
                network: `fd10:${runPrefix}::${i.toString(16)}/128`,
                tunnel_id: large.tunnelId,
                comment: `load ${runId}`,
              }),
            };
          },
        },
      ],
    },
  ],
  [
    "explain (1,000 routes)",
    {
      url: `${API}${large.base}/explain`,
      method: "POST",
      body: JSON.stringify({
        email: "alice@example.com",
        destination_ip: "10.3.7.9",
        port: 22,
        protocol: "tcp",
      }),
    },
  ],
  [
    "create a grant",
    {
      url: `${API}${large.base}/grants`,
      requests: [
        {
          method: "POST",
          setupRequest: (request) => {
            const i = granted++;
            return {
              ...request,
              headers: { ...request.headers, "idempotency-key": `load-${runId}-${i}` },
              body: JSON.stringify({
                ticket: { system: "load", id: `LOAD-${runId}-${i}` },
                subject_email: "alice@example.com",
                destinations: ["10.3.7.9"],
                ports: [22],
                reason: "load figures",
                duration_s: 3600,
              }),
            };
          },
        },
      ],
    },
  ],
];

const rows = [];
for (const [title, options] of scenarios) {
  const { result } = await measure(title, options);
  rows.push({
    title,
    requests: result.requests.total,
    failed: result.non2xx + result.errors,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
  });
}
const baseline = rows[0]?.rps ?? 1;
console.log(
  `\n${args.connections} connections, at most ${args.requests} requests or ${args.seconds} s each\n`,
);
console.log(
  `${"operation".padEnd(40)} ${"requests".padStart(8)} ${"failed".padStart(6)} ${"req/s".padStart(8)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"vs /healthz".padStart(11)}`,
);
for (const row of rows) {
  console.log(
    `${row.title.padEnd(40)} ${String(row.requests).padStart(8)} ${String(row.failed).padStart(6)} ${row.rps.toFixed(1).padStart(8)} ${String(row.p50).padStart(7)} ${String(row.p99).padStart(7)} ${(row.rps / baseline).toFixed(3).padStart(11)}`,
  );
}
process.exit(rows.some((r) => r.failed > 0) ? 1 : 0);
