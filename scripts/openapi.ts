/**
 * Writes openapi/openapi.json from the code (the same document the Worker serves at
 * /openapi.json). With --check it fails when the committed file differs, so CI catches a stale one.
 */
import { readFile, writeFile } from "node:fs/promises";
import { createApp } from "../src/api/app";
import { buildOpenApiDocument } from "../src/api/openapi/document";

const target = new URL("../openapi/openapi.json", import.meta.url);
const document = buildOpenApiDocument(createApp());
const text = `${JSON.stringify(document, null, 2)}\n`;

if (process.argv.includes("--check")) {
  const committed = await readFile(target, "utf8").catch(() => "");
  if (committed !== text) {
    console.error("openapi/openapi.json is stale: run `npm run openapi` and commit the result.");
    process.exit(1);
  }
  console.log("openapi/openapi.json is current.");
} else {
  await writeFile(target, text);
  console.log(`wrote openapi/openapi.json (${Object.keys(document.paths ?? {}).length} paths)`);
}
