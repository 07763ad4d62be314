#!/usr/bin/env node
/**
 * The loop an internal tool or a CI pipeline runs on a desired-state document kept under review:
 *
 *   node scripts/desired-state.mjs export network.yaml     # the account as a document
 *   $EDITOR network.yaml                                    # change it in a pull request
 *   node scripts/desired-state.mjs diff network.yaml        # the review: changes, problems,
 *                                                           # conflicts, assertions, access delta
 *   node scripts/desired-state.mjs apply network.yaml --if-match <stored version the diff names>
 *
 * Environment: TUNNELPLANE_URL (e.g. http://localhost:8787), TUNNELPLANE_API_KEY (an operator
 * key; an admin key to change grant approval rules), TUNNELPLANE_ACCOUNT (the Cloudflare account
 * id). `--keep` applies with prune=false; without it, apply needs `--if-match`.
 * Exit codes: 0 done (diff: acceptable), 1 refused or not acceptable, 2 usage or transport error.
 */
import { readFile, writeFile } from "node:fs/promises";

const [command, file, ...flags] = process.argv.slice(2);
const { TUNNELPLANE_URL, TUNNELPLANE_API_KEY, TUNNELPLANE_ACCOUNT } = process.env;

function usage(message) {
  console.error(
    `${message}\nusage: desired-state.mjs export|diff|apply <file.yaml|file.json> [--keep] [--if-match <version>]`,
  );
  process.exit(2);
}

if (!["export", "diff", "apply"].includes(command ?? "") || file === undefined) {
  usage("unknown command or missing file");
}
if (!TUNNELPLANE_URL || !TUNNELPLANE_API_KEY || !TUNNELPLANE_ACCOUNT) {
  usage("set TUNNELPLANE_URL, TUNNELPLANE_API_KEY and TUNNELPLANE_ACCOUNT");
}

const yaml = /\.ya?ml$/i.test(file);
const type = yaml ? "application/yaml" : "application/json";
const base = `${TUNNELPLANE_URL}/v1/accounts/${TUNNELPLANE_ACCOUNT}/desired-state`;
const prune = flags.includes("--keep") ? "false" : "true";
const ifMatchAt = flags.indexOf("--if-match");
const ifMatch = ifMatchAt === -1 ? undefined : flags[ifMatchAt + 1];
// The API refuses a pruning apply without If-Match (428): say so before sending the document.
if (command === "apply" && prune === "true" && ifMatch === undefined) {
  usage(
    "apply deletes what the document leaves out, so it needs --if-match <the stored version, as the diff's last line names it> (or --keep)",
  );
}

async function send(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${TUNNELPLANE_API_KEY}`,
      accept: type,
      ...(body === undefined ? {} : { "content-type": type }),
      ...(method === "PUT" && ifMatch !== undefined ? { "if-match": `"${ifMatch}"` } : {}),
    },
    body,
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  return { status: response.status, etag: response.headers.get("etag"), body: json };
}

function printProblems(problems) {
  for (const p of problems ?? []) {
    console.log(`  ✗ ${p.pointer ?? p.parameter}: ${p.detail} (${p.code})`);
  }
}

function printDiff(diff) {
  const s = diff.summary;
  console.log(
    `version ${diff.version} -> ${diff.document_version}: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged`,
  );
  for (const c of diff.changes) {
    const fields = c.fields.map(
      (f) => `${f.field}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`,
    );
    console.log(
      `  ${c.op.padEnd(6)} ${c.kind} ${c.key}${fields.length > 0 ? ` (${fields.join("; ")})` : ""}`,
    );
  }
  printProblems(diff.problems);
  for (const c of diff.conflicts.filter((x) => x.severity === "warning")) {
    console.log(`  ! ${c.message}`);
  }
  for (const a of diff.assertions) {
    console.log(`  ${a.passed ? "✓" : "✗"} assertion ${a.name}: ${a.summary}`);
  }
  const delta = diff.plan?.access_delta;
  if (delta !== undefined) {
    console.log(
      `access delta (${delta.changes.length} change(s) over ${delta.atoms} atoms and ${delta.classes} identity classes):`,
    );
    for (const d of delta.changes) {
      const by = d.decided_by === null ? "no policy (Gateway allows)" : `"${d.decided_by.name}"`;
      console.log(`  ${d.identities.join(", ")} ${d.change} (decided by ${by}):`);
      for (const t of d.traffic) {
        const ports = t.ports === null ? "" : ` ports ${t.ports.join(",")}`;
        console.log(`    ${t.protocols.join("/")}${ports} to ${t.destinations.join(", ")}`);
      }
    }
  } else if (diff.plan_error !== null) {
    console.log(`no Cloudflare plan: ${diff.plan_error}`);
  }
  // The If-Match of the apply is the stored version (left of the arrow), not the document's.
  console.log(
    diff.acceptable
      ? `acceptable: apply it with --if-match ${diff.version}`
      : "NOT acceptable: a PUT would be refused",
  );
}

try {
  if (command === "export") {
    const { status, etag, body } = await send("GET", base);
    if (status !== 200) {
      console.error(JSON.stringify(body, null, 2));
      process.exit(1);
    }
    await writeFile(file, typeof body === "string" ? body : `${JSON.stringify(body, null, 2)}\n`);
    console.log(`wrote ${file} at version ${etag}`);
  } else {
    const document = await readFile(file, "utf8");
    if (command === "diff") {
      const { status, body } = await send("POST", `${base}/diff?prune=${prune}`, document);
      if (status !== 200) {
        console.log(`${status} ${body.detail}`);
        printProblems(body.errors);
        process.exit(1);
      }
      printDiff(body);
      process.exit(body.acceptable ? 0 : 1);
    }
    const { status, etag, body } = await send("PUT", `${base}?prune=${prune}`, document);
    if (status !== 200) {
      console.log(`${status} ${body.detail}`);
      printProblems(body.errors);
      process.exit(1);
    }
    const s = body.summary;
    console.log(
      `applied: ${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged; now at ${etag}; the next reconcile carries it to Cloudflare`,
    );
  }
} catch (error) {
  console.error(`${command} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
