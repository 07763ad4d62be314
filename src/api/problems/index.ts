/**
 * The problem catalogue: every problem `type` the API answers is `<origin>/problems/<slug>`, and
 * that URL resolves here, to the slug's status and title (JSON, or a page for a browser).
 * Public, like /docs: it describes the API, not an account.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { PROBLEMS, type ProblemSlug } from "../problem";

/** The `type` of a problem answered on `origin` (`https://tp.example.com`). */
export function problemTypeUrl(origin: string, slug: ProblemSlug): string {
  return `${origin}/problems/${slug}`;
}

/** One catalogue entry as served. */
export interface ProblemTypeEntry {
  type: string;
  slug: ProblemSlug;
  status: number;
  title: string;
}

/** Every catalogue entry on `origin`, in catalogue order. */
export function problemCatalogue(origin: string): ProblemTypeEntry[] {
  return (Object.keys(PROBLEMS) as ProblemSlug[]).map((slug) => ({
    type: problemTypeUrl(origin, slug),
    slug,
    status: PROBLEMS[slug].status,
    title: PROBLEMS[slug].title,
  }));
}

const wantsHtml = (accept: string | undefined) => accept?.includes("text/html") === true;

function page(entries: ProblemTypeEntry[]) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>tunnelplane problem types</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem}
td,th{padding:.3rem .6rem;text-align:left;border-bottom:1px solid #ddd}</style></head>
<body><h1>Problem types</h1><p>Errors are RFC 9457 <code>application/problem+json</code>; each
<code>type</code> is one of these URLs. See <a href="/docs">the API reference</a>.</p>
<table><tr><th>status</th><th>type</th><th>title</th></tr>
${entries.map((e) => html`<tr id="${e.slug}"><td>${e.status}</td><td><a href="/problems/${e.slug}">${e.slug}</a></td><td>${e.title}</td></tr>`)}
</table></body></html>`;
}

/** `GET /problems` (the whole catalogue) and `GET /problems/{slug}` (one type). */
export const problemsRouter = new Hono()
  .get("/problems", (c) => {
    const entries = problemCatalogue(new URL(c.req.url).origin);
    return wantsHtml(c.req.header("accept")) ? c.html(page(entries)) : c.json({ items: entries });
  })
  .get("/problems/:slug", (c) => {
    const entry = problemCatalogue(new URL(c.req.url).origin).find(
      (e) => e.slug === c.req.param("slug"),
    );
    if (entry === undefined) {
      return c.notFound();
    }
    return wantsHtml(c.req.header("accept")) ? c.html(page([entry])) : c.json(entry);
  });
