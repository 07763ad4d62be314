/**
 * Keeps the local runtime's isolates from hoarding native memory. Local workerd (wrangler 4.86,
 * workerd 2026-04-26) gives its isolates no heap limit and does not count the native (C++) memory
 * behind a request's JavaScript objects towards V8's heap, so an isolate whose JavaScript heap
 * stays small is not collected for minutes while each request, subrequest and D1 query leaves
 * native objects behind: the D1 simulator's isolate receives every query of every write.
 * Reported as cloudflare/workerd#6894 (open). workerd's allocator (tcmalloc, linked into the
 * binary, no background release) then keeps the freed memory for good, so the process stays at
 * its peak: 5,000 writes and reads left the Worker process 187 MB above a fresh start while the
 * memory its allocator had handed out was back where it started (see README, "Performance").
 *
 * `collectGarbage` asks every isolate of the Worker process, the control plane's included, for a
 * full collection every `everyMs`, through workerd's own inspector (loopback only). workerd keeps
 * one session per isolate, so ours replaces the one wrangler's inspector proxy holds on the
 * control plane's isolate, which wrangler does not open again until the Worker reloads: nothing is
 * lost (a modules Worker's console output reaches the terminal through workerd's own output, and
 * the Network events quiet-inspector.mjs turns off have nowhere to go), but Chrome DevTools needs
 * `TUNNELPLANE_DEVTOOLS=1`, which leaves the inspectors alone. Linux only (/proc); elsewhere it
 * does nothing.
 */
import WebSocket from "ws";
import { findWorkerd } from "./workerd-processes.mjs";

/**
 * How long before a closed session is opened again. Another client attaching to an isolate (the
 * soak bench's full collections) closes ours; this leaves it the isolate meanwhile.
 */
const REOPEN_MS = 30_000;

/**
 * Collects the garbage of every isolate of the Worker process behind 127.0.0.1:`port` every
 * `everyMs` (ms) for the life of this process. An isolate asked again
 * only once it has answered: an idle isolate answers at its next event, and needs no collection
 * before it. Sessions closed under it are opened again after 30 s, on the process found again
 * (wrangler restarts it when the configuration changes).
 */
export function collectGarbage(port, everyMs) {
  if (process.platform !== "linux") {
    return;
  }
  /** Open sessions by isolate id: `{ socket, pending }`. */
  const sessions = new Map();
  /** How many isolates the last listing had. */
  let expected = Number.POSITIVE_INFINITY;
  let lastConnect = 0;
  let id = 0;

  const connect = async () => {
    lastConnect = Date.now();
    let inspectorPort;
    try {
      inspectorPort = findWorkerd(port).inspectorPort;
    } catch {
      return; // wrangler is (re)starting; the next tick looks again
    }
    const list = await fetch(`http://127.0.0.1:${inspectorPort}/json/list`).then(
      (response) => response.json(),
      () => [],
    );
    expected = list.length || Number.POSITIVE_INFINITY;
    for (const isolate of list) {
      if (sessions.has(isolate.id)) {
        continue;
      }
      const socket = new WebSocket(isolate.webSocketDebuggerUrl);
      const session = { socket, pending: true };
      sessions.set(isolate.id, session);
      socket.on("open", () => {
        session.pending = false;
      });
      socket.on("message", () => {
        session.pending = false;
      });
      socket.on("close", () => sessions.delete(isolate.id));
      // A refused or reset connection is followed by `close`.
      socket.on("error", () => {});
    }
  };

  const tick = async () => {
    if (sessions.size < expected && Date.now() - lastConnect >= REOPEN_MS) {
      await connect();
    }
    for (const session of sessions.values()) {
      if (!session.pending && session.socket.readyState === WebSocket.OPEN) {
        session.pending = true;
        session.socket.send(JSON.stringify({ id: ++id, method: "HeapProfiler.collectGarbage" }));
      }
    }
    setTimeout(tick, everyMs);
  };
  tick();
}
