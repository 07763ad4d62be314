/** The page frame of the dashboard: plain HTML and a little CSS, no script. */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
th{font-weight:600;background:#f6f6f6}.scroll{overflow-x:auto}code{font-size:.9em}
.state{display:inline-block;padding:0 .45em;border-radius:.6em;font-size:.85em;background:#eee}
.healthy,.succeeded,.active{background:#dff3e4}.failing,.failed,.error{background:#fbdcdc}.degraded,.partial,.overdue,.requested,.warning{background:#fff0c9}.drifted{background:#ffe2c6}
.plot{width:100%;min-width:480px;max-width:720px;height:auto}nav a{margin-right:1rem}
@media(max-width:600px){th,td{padding:.3rem}.cards thead{display:none}.cards tr{display:block;padding:.3rem 0;border-bottom:1px solid #ccc}
.cards td{display:block;position:relative;padding:.15rem .3rem .15rem 7.5rem;border:0;overflow-wrap:anywhere}
.cards td::before{content:attr(data-label);position:absolute;left:.3rem;width:6.8rem;font-weight:600}}`;

/** A whole page titled `title`. */
export function Page(props: { title: string; children: Child }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title} · tunnelplane</title>
          <style>{STYLE}</style>
        </head>
        <body>
          <nav>
            <a href="/dashboard">Accounts</a>
            <a href="/docs">API reference</a>
          </nav>
          <h1>{props.title}</h1>
          {props.children}
        </body>
      </html>
    </>
  );
}

/** A state word as a coloured label. */
export function State(props: { value: string }) {
  return <span class={`state ${props.value}`}>{props.value}</span>;
}

/** `ms` as a short duration: `45 s`, `12 min`, `3 h 20 min`. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) {
    return `${s} s`;
  }
  const min = Math.round(s / 60);
  return min < 120 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}
