/**
 * What a desired-state write and `plan` cost at scale, measured on the Worker as it runs: the
 * bundled `src/index.ts` in workerd (Miniflare) with a local D1, the AccountLock Durable Object
 * and the emulator Worker behind `CLOUDFLARE_API`, as in `npm start`. Bulk state is inserted in
 * D1 directly (each kind's stored spec copied from one written through the API), then:
 * - route create at 100, 1,000 and 10,000 routes (each account also holds 200 assertions and a
 *   default `auto` Exclude list), 20 creates each: server time per create (the request's wall
 *   time seen from Node, loopback included) and workerd CPU per create (Worker and local D1,
 *   10 ms ticks from /proc); then one create over an assertion's destination, which re-runs it,
 *   and one `GET conflicts`;
 * - `plan` with 1,000 routes + 500 policies + 200 assertions: wall time, and the CPU of
 *   tunnelplane's workerd process apart from the emulator's, which runs in its own process here
 *   and is reached over HTTP (the same CPU ticks, per process).
 * Goals (issue 11): route create 10,000 : 100 ≤ 2; plan ≤ 250 ms CPU.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createDb } from "../src/db/client";
import { loadDesiredState } from "../src/db/desired-objects.repo";
import { EMPTY_OBSERVED } from "../src/domain/model";
import { planAccount } from "../src/domain/plan/plan";
import {
  applyMigrations,
  type Bench,
  cloneRows,
  must,
  seedNetwork,
  send,
  slash24,
  startEmulator,
  startWorkers,
} from "./workerd";

const ASSERTIONS = 200;
const CREATES = 20;

/** The workerd processes Miniflare runs for this process, from /proc. */
function workerdPids(): Set<number> {
  const pids = new Set<number>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/stat`, "utf8");
      const parent = Number(status.slice(status.lastIndexOf(")") + 2).split(" ")[1]);
      if (
        parent === process.pid &&
        readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")
      ) {
        pids.add(Number(pid));
      }
    } catch {
      // A process that ended while /proc was read is not ours to count.
    }
  }
  return pids;
}

/** CPU ms (user + system, 10 ms ticks) of the workerd processes `pids` (default: all of them). */
function workerdCpuMs(pids: ReadonlySet<number> = workerdPids()): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = status.slice(status.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // A process that ended while /proc was read is not ours to count.
    }
  }
  return ticks * 10;
}

/** An account with `routes` routes, `policies` policies and 200 assertions; its path. */
async function seedAccount(bench: Bench, routes: number, policies: number): Promise<string> {
  const accountId = crypto.randomUUID().replaceAll("-", "");
  await must(bench, "POST", "/v1/accounts", {
    account_id: accountId,
    name: `bench ${routes}`,
    api_token: "bench-cloudflare-api-token-0123456789abcdef",
    mode: "enforce",
  });
  const base = `/v1/accounts/${accountId}`;
  await must(bench, "PATCH", base, {
    limits: { routes: 50_000, network_policies: 5000 },
  });
  const tunnel = await seedNetwork(bench, accountId, routes, policies);
  const assertion = await must(bench, "POST", `${base}/assertions`, {
    name: "a0",
    email: "user0@example.com",
    destination_ip: "10.0.0.7",
    port: 22,
    expect: "allow",
  });
  await cloneRows(bench, accountId, assertion.id as string, ASSERTIONS - 1, (spec, i) => ({
    spec: {
      ...spec,
      name: `a${i + 1}`,
      email: `user${i % 50}@example.com`,
      destinationIp: slash24((i * 13) % routes).replace(".0/24", ".7"),
    },
    naturalKey: null,
  }));
  // Any one-off work a first write does on this account (filling indexes) is not timed.
  await must(bench, "POST", `${base}/routes`, { network: "10.255.255.0/24", tunnel_id: tunnel });
  return base;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function benchRouteCreates(bench: Bench, routes: number): Promise<number> {
  const base = await seedAccount(bench, routes, 0);
  const tunnel = ((await must(bench, "GET", `${base}/tunnels`)).items as { id: string }[])[0]?.id;
  const times: number[] = [];
  const cpuStart = workerdCpuMs();
  for (let k = 0; k < CREATES; k++) {
    const created = await send(bench, "POST", `${base}/routes`, {
      network: `10.250.${k}.0/24`,
      tunnel_id: tunnel,
    });
    if (created.status !== 201) {
      throw new Error(`route create: ${created.status} ${JSON.stringify(created.json)}`);
    }
    times.push(created.ms);
  }
  const cpuMs = (workerdCpuMs() - cpuStart) / CREATES;
  const p50 = median(times);
  // A route over an assertion's destination (a0's 10.0.0.7) re-runs it on the whole state.
  const reachingCpuStart = workerdCpuMs();
  const reaching = await send(bench, "POST", `${base}/routes`, {
    network: "10.0.0.7/32",
    tunnel_id: tunnel,
  });
  const reachingCpuMs = workerdCpuMs() - reachingCpuStart;
  console.log(
    `route create at ${routes} routes (+${ASSERTIONS} assertions): p50 ${p50.toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms, workerd CPU ${cpuMs.toFixed(1)} ms/create; one over an assertion's destination: ${reaching.status} in ${reaching.ms.toFixed(0)} ms, CPU ${reachingCpuMs} ms`,
  );
  const conflictsCpuStart = workerdCpuMs();
  const conflicts = await send(bench, "GET", `${base}/conflicts`);
  console.log(
    `  GET conflicts at ${routes} routes: ${conflicts.status} in ${conflicts.ms.toFixed(0)} ms, CPU ${workerdCpuMs() - conflictsCpuStart} ms, answer ${JSON.stringify(conflicts.json).length} bytes`,
  );
  return p50;
}

/**
 * `plan` on tunnelplane in one workerd process (with its local D1) and the emulator in another,
 * reached over HTTP, so the CPU of each is measured apart.
 */
async function benchPlan(): Promise<void> {
  const before = workerdPids();
  const emulator = await startEmulator();
  const emulatorPids = new Set([...workerdPids()].filter((pid) => !before.has(pid)));
  const mf = await startWorkers({ emulatorUrl: emulator.url });
  // workerd is spawned once Miniflare is ready, not when it is made.
  await mf.ready;
  const tunnelplanePids = new Set(
    [...workerdPids()].filter((pid) => !before.has(pid) && !emulatorPids.has(pid)),
  );
  try {
    const db = await mf.getD1Database("DB", "tunnelplane");
    await applyMigrations(db);
    await benchPlanOn({ mf, db }, tunnelplanePids, emulatorPids);
  } finally {
    await mf.dispose();
    await emulator.mf.dispose();
  }
}

async function benchPlanOn(
  bench: Bench,
  tunnelplanePids: ReadonlySet<number>,
  emulatorPids: ReadonlySet<number>,
): Promise<void> {
  const base = await seedAccount(bench, 1000, 500);
  await must(bench, "POST", `${base}/plan`);
  const runs = 5;
  const times: number[] = [];
  const cpuStart = workerdCpuMs(tunnelplanePids);
  const emulatorCpuStart = workerdCpuMs(emulatorPids);
  let size = 0;
  for (let k = 0; k < runs; k++) {
    const planned = await send(bench, "POST", `${base}/plan`);
    if (planned.status !== 200) {
      throw new Error(`plan: ${planned.status} ${JSON.stringify(planned.json).slice(0, 500)}`);
    }
    size = JSON.stringify(planned.json).length;
    times.push(planned.ms);
  }
  const cpuMs = (workerdCpuMs(tunnelplanePids) - cpuStart) / runs;
  const emulatorCpuMs = (workerdCpuMs(emulatorPids) - emulatorCpuStart) / runs;
  console.log(
    `plan, 1,000 routes + 500 policies + ${ASSERTIONS} assertions: p50 ${median(times).toFixed(0)} ms wall; CPU per plan: tunnelplane's workerd (Worker + local D1) ${cpuMs.toFixed(0)} ms, the emulator's (observe calls, its own process) ${emulatorCpuMs.toFixed(0)} ms; answer ${size} bytes`,
  );
  // The planner alone on the same state, in Node: what is left of the plan once the access
  // delta is taken out.
  const desired = await loadDesiredState(createDb(bench.db), base.slice("/v1/accounts/".length));
  const planned: number[] = [];
  for (let k = 0; k < runs; k++) {
    const start = performance.now();
    planAccount(desired, EMPTY_OBSERVED);
    planned.push(performance.now() - start);
  }
  console.log(
    `  of which planAccount over the same desired state: ${median(planned).toFixed(0)} ms`,
  );
}

/** Prints route create times at 100, 1,000 and 10,000 routes, and the time of one `plan`. */
export async function runWritePathBench(): Promise<void> {
  console.log("\n== write path and plan on the bundled Worker in workerd (Miniflare, local D1) ==");
  const mf = await startWorkers();
  try {
    const db = await mf.getD1Database("DB", "tunnelplane");
    await applyMigrations(db);
    const bench = { mf, db };
    const at100 = await benchRouteCreates(bench, 100);
    await benchRouteCreates(bench, 1000);
    const at10k = await benchRouteCreates(bench, 10_000);
    console.log(`route create 10,000 : 100 = ${(at10k / at100).toFixed(2)} (goal <= 2)`);
  } finally {
    await mf.dispose();
  }
  await benchPlan();
}
