/**
 * Fails when a module of src/ or emulator/src/ imports itself through other modules (an import
 * cycle). Only imports that exist at run time count: `import type` and `export type` are erased by
 * the compiler and cannot form a cycle. Prints each cycle found as `a -> b -> a`; exit code 1.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOTS = ["src", "emulator/src"];
const root = resolve(dirname(new URL(import.meta.url).pathname), "..");

/** Every .ts and .tsx file under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      return sourceFiles(path);
    }
    return /\.tsx?$/.test(path) && !path.endsWith(".d.ts") ? [path] : [];
  });
}

// `import x from "./y"`, `import { a, type b } from "./y"`, `export { a } from "./y"`,
// `import "./y"`; statements that start with `import type` / `export type` are left out.
const VALUE_IMPORT = /^\s*(?:import|export)\s+(?:[^;]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

/** The relative modules `file` imports at run time, as absolute paths of existing files. */
function valueImports(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, "utf8");
  const targets: string[] = [];
  for (const match of text.matchAll(VALUE_IMPORT)) {
    const spec = match[1] ?? "";
    const base = resolve(dirname(file), spec);
    const target = [
      `${base}.ts`,
      `${base}.tsx`,
      join(base, "index.ts"),
      join(base, "index.tsx"),
      base,
    ].find((p) => known.has(p));
    if (target !== undefined) {
      targets.push(target);
    }
  }
  return targets;
}

/** Cycles in the graph, each as the path that closes it (first module repeated at the end). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const seen = state.get(next);
      if (seen === "open") {
        cycles.push([...stack.slice(stack.indexOf(next)), next]);
      } else if (seen === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      visit(node);
    }
  }
  return cycles;
}

const files = ROOTS.flatMap((dir) => sourceFiles(join(root, dir)));
const known = new Set(files);
const graph = new Map(files.map((file) => [file, valueImports(file, known)]));
const cycles = findCycles(graph);
for (const cycle of cycles) {
  console.error(`import cycle: ${cycle.map((p) => relative(root, p)).join(" -> ")}`);
}
if (cycles.length > 0) {
  process.exit(1);
}
console.log(`no import cycles in ${files.length} modules`);
