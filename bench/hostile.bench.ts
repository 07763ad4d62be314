/**
 * What hostile inputs cost: the regex checks at and past their bounds, and 150 network policies
 * at the selector limits (1,000 destinations, 100 ports, 100 groups each) through the domain
 * steps behind `plan`, `explain` and `policies/analysis`, with and without the work budget.
 */
import { RE2JS } from "re2js";
import { createApp } from "../src/api/app";
import { accessDelta } from "../src/domain/access/delta";
import { policyUsage } from "../src/domain/access/usage";
import { explain } from "../src/domain/explain/explain";
import { desiredPolicies, desiredView, toEvaluable } from "../src/domain/explain/view";
import {
  type DesiredObject,
  type DesiredState,
  EMPTY_OBSERVED,
  newObject,
} from "../src/domain/model";
import { planAccount } from "../src/domain/plan/plan";
import { checkEmailRegex } from "../src/domain/policies/email-regex";
import { DEFAULT_QUOTAS, policySelectorUnits, requestWork } from "../src/domain/quotas";
import { policyAtLimits } from "../test/fixtures/wide-policies";

function timeMs<T>(run: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = run();
  return { ms: performance.now() - start, value };
}

function runRegexBench(): void {
  console.log("\n== hostile regexes (checkEmailRegex; wall ms) ==");
  const cases: [string, string][] = [
    [
      "1 MB pattern (refused by the schema's length check before this)",
      `(${"a".repeat(1_000_000)}`,
    ],
    ["(ab|cd){1000} x78, 1,014 chars: refused unrolled", "(ab|cd){1000}".repeat(78)],
    ["a{1000} x146, 1,022 chars: refused unrolled", "a{1000}".repeat(146)],
    ["(ab|cd){200}: at the 1,000-atom bound", "(ab|cd){200}"],
    ["a{0,1000}: at the bound", "a{0,1000}"],
    ["\\w{500}\\W{499}: at the bound", "\\w{500}\\W{499}"],
    ["strict email pattern (780 atoms)", "^[^@]{1,64}@(?:[a-z0-9-]{1,63}\\.){1,10}[a-z]{2,63}$"],
  ];
  for (const [label, pattern] of cases) {
    const { ms, value } = timeMs(() => checkEmailRegex(pattern));
    console.log(`${label}: ${ms.toFixed(1)} ms -> ${value.ok ? "accepted" : value.error.code}`);
  }
  const raw = timeMs(() => RE2JS.compile("(ab|cd){1000}".repeat(78)));
  console.log(
    `for comparison, re2js compiling (ab|cd){1000} x78 unchecked: ${raw.ms.toFixed(0)} ms`,
  );
}

function runPolicyBench(): void {
  console.log("\n== 150 policies at the selector limits (wall ms) ==");
  const objects: DesiredObject[] = Array.from({ length: 150 }, (_, i) =>
    newObject("network_policy", `p${i}`, policyAtLimits(i)),
  );
  const desired: DesiredState = { accountId: "0".repeat(32), objects };
  const plan = timeMs(() => planAccount(desired, EMPTY_OBSERVED));
  console.log(`planAccount (150 creates): ${plan.ms.toFixed(0)} ms`);
  const after = desiredPolicies(desired, []).map(toEvaluable);
  const exact = timeMs(() => accessDelta([], after, DEFAULT_QUOTAS.work_units));
  console.log(
    `exact access delta (150 creates): ${exact.value.ok ? `${exact.value.value.atoms} atoms` : `refused past ${exact.value.error.budget} work units (counted ${exact.value.error.work})`} in ${exact.ms.toFixed(0)} ms`,
  );
  const usage = timeMs(() => policyUsage(after, DEFAULT_QUOTAS.work_units));
  console.log(
    `exact analysis: ${usage.value.ok ? `${usage.value.value.atoms} atoms` : `refused past ${usage.value.error.budget} work units (counted ${usage.value.error.work})`} in ${usage.ms.toFixed(0)} ms`,
  );
  const view = desiredView(desired, "default", new Map());
  if (view.ok) {
    const request = {
      email: "alice@example.com",
      groups: [],
      passedPostureChecks: [],
      destinationIp: "10.3.0.1",
      port: 2010,
      protocol: "tcp" as const,
    };
    const explained = timeMs(() => explain(view.value, request));
    console.log(`explain, one request: ${explained.ms.toFixed(0)} ms`);
  }
  const specUnits = desiredPolicies(desired, []).reduce(
    (sum, p) => sum + policySelectorUnits(p.spec),
    0,
  );
  for (const request of ["plan", "explain"] as const) {
    const work = requestWork(request, specUnits, 150);
    const verdict = work > DEFAULT_QUOTAS.work_units ? "refused (422 limit-exceeded)" : "runs";
    console.log(`${request}: ${work} work units of ${DEFAULT_QUOTAS.work_units}: ${verdict}`);
  }
}

const BENCH_KEY = "bench-admin-key";
const ACCOUNT = `/v1/accounts/${"0".repeat(32)}`;

/** The hostile bodies: each is refused by validation before any storage is read. */
function hostileRequests(): [string, string, string][] {
  const manyKeys: Record<string, unknown> = { name: "k", action: "allow" };
  for (let i = 0; i < 90_000; i++) {
    manyKeys[`k${i}`] = 0;
  }
  return [
    [
      "1 MB email_regex",
      `${ACCOUNT}/policies`,
      JSON.stringify({ name: "r", action: "allow", email_regex: "a".repeat(1_000_000) }),
    ],
    ["90,000 unknown keys", `${ACCOUNT}/policies`, JSON.stringify(manyKeys)],
    [
      "1 MB destination_ip",
      `${ACCOUNT}/explain`,
      JSON.stringify({ email: "a@example.com", destination_ip: "1".repeat(1_000_000) }),
    ],
    [
      "1 MB unknown key",
      `${ACCOUNT}/policies`,
      JSON.stringify({ name: "r", action: "allow", ["x".repeat(1_000_000)]: 1 }),
    ],
  ];
}

/**
 * The API in this process (Node, one thread like a Worker isolate): the time to refuse each
 * hostile body, and how long `/healthz` waits when it arrives together with all four.
 */
async function runHttpBench(): Promise<void> {
  console.log("\n== hostile requests through createApp() in-process (wall ms) ==");
  const app = createApp();
  const env = { ADMIN_API_KEY: BENCH_KEY } as unknown as Env;
  const send = async (path: string, body?: string): Promise<Response> =>
    await app.fetch(
      new Request(`http://tunnelplane${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${BENCH_KEY}`, "content-type": "application/json" },
        body,
      }),
      env,
    );
  const requests = hostileRequests();
  await send("/healthz");
  for (const [label, path, body] of requests) {
    const start = performance.now();
    const response = await send(path, body);
    const size = (await response.text()).length;
    const ms = performance.now() - start;
    console.log(`${label}: ${response.status} in ${ms.toFixed(0)} ms, answer ${size} bytes`);
  }
  const start = performance.now();
  let healthzMs = 0;
  await Promise.all([
    ...requests.map(([, path, body]) => send(path, body).then((r) => r.text())),
    send("/healthz").then(async (r) => {
      await r.text();
      healthzMs = performance.now() - start;
    }),
  ]);
  const allMs = performance.now() - start;
  console.log(
    `/healthz sent with all four: answered after ${healthzMs.toFixed(0)} ms (all five done in ${allMs.toFixed(0)} ms)`,
  );
}

/** Prints the regex, policy and in-process HTTP measurements. */
export async function runHostileBench(): Promise<void> {
  runRegexBench();
  runPolicyBench();
  await runHttpBench();
}
