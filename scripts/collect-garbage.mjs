/**
 * Keeps the local runtime's isolates from hoarding native memory. Local workerd (wrangler 4.86,
 * workerd 2026-04-26) gives its isolates no heap limit and does not count the native (C++) memory
 * behind a request's JavaScript objects towards V8's heap, so an isolate whose JavaScript heap
 * stays small is not collected for minutes while each request, subrequest and D1 query leaves
 * native objects behind: the D1 simulator's isolate receives every query of every write.
 * Reported as cloudflare/workerd#6894 (open). workerd's allocator (tcmalloc, linked into the
 * binary, no background release) then keeps the freed memory for good, so the process stays at
 * its peak: 5,000 writes and reads left the Worker process 187 MB above a fresh start while the
 * memory its allocator had handed out was back where it started (see README, "Memory of the local
 * runtime").
 *
 * `collectGarbage` watches the JavaScript heap of every isolate of the given workerd processes
 * through workerd's own inspector (loopback only) and asks an isolate for a full collection as
 * soon as its heap has grown `growthBytes` past what the last collection left, or `everyMs` after
 * that collection when it has grown at all (so a busy isolate is collected at least every
 * `everyMs`, and a new session's first reading always triggers one). Growth, not time alone, is
 * the trigger because the garbage comes with the requests: at 66 requests a second a collection
 * every 2 s let the control plane's heap reach 71 MB between two of them, and the allocator kept
 * that peak.
 *
 * workerd allows one session per isolate (a second client closes both), so ours displaces the one
 * wrangler's inspector proxy holds on the control plane's isolate, which wrangler does not open
 * again until the Worker reloads: nothing is lost (a modules Worker's console output reaches the
 * terminal through workerd's own output, and the Network events quiet-inspector.mjs turns off
 * have nowhere to go), but Chrome DevTools needs `TUNNELPLANE_DEVTOOLS=1`, which leaves the
 * inspectors alone. Linux only (/proc); elsewhere it does nothing.
 */
import WebSocket from "ws";

/** How often each isolate's heap is read (ms). */
const POLL_MS = 200;
/**
 * How long before a closed session is opened again (ms). workerd allows one session per isolate:
 * another client attaching (the soak bench reading a heap) closes both, and this leaves the
 * isolate free for that client's retry.
 */
const REOPEN_MS = 5_000;
/**
 * How long a session may wait to open or for a heap reading before it is closed and opened again
 * (ms). A collection is not timed: an idle isolate runs it only at its next event.
 */
const STUCK_MS = 10_000;
/** How long a listing of an inspector's isolates may take (ms). */
const LIST_TIMEOUT_MS = 2_000;
/**
 * The inspector command behind each question a session asks: `usage` decides on a collection,
 * `floor` records what a collection left.
 */
const METHODS = {
  usage: "Runtime.getHeapUsage",
  collect: "HeapProfiler.collectGarbage",
  floor: "Runtime.getHeapUsage",
};

/**
 * Collects the garbage of every isolate of the workerd processes whose inspector ports
 * `inspectorPorts()` returns (called again whenever sessions are missing: wrangler restarts its
 * processes when the configuration changes; it may throw while they start), for the life of this
 * process. An isolate is asked again only once it has answered: an idle isolate answers at its
 * next event, and needs no collection before it.
 *
 * @param inspectorPorts `() => number[]`
 * @param options `{ growthBytes, everyMs }`: heap growth (bytes) past the last collection's
 *   result that triggers a collection, and the time (ms) after which any growth does
 */
export function collectGarbage(inspectorPorts, { growthBytes, everyMs }) {
  if (process.platform !== "linux") {
    return;
  }
  /** Open sessions by `port/isolate id`. */
  const sessions = new Map();
  /** How many isolates the last listing had, and the last count logged. */
  let expected = Number.POSITIVE_INFINITY;
  let logged;
  /** Whether a listing is under way: polling goes on meanwhile. */
  let connecting = false;
  /** When sessions were last listed or one was closed (ms): REOPEN_MS counts from there. */
  let lastChange = 0;
  let id = 0;

  const ask = (session, what) => {
    session.waiting = what;
    session.askedAt = Date.now();
    session.socket.send(JSON.stringify({ id: ++id, method: METHODS[what] }));
  };

  const open = (key, url) => {
    const socket = new WebSocket(url);
    // `waiting`: what the session awaits an answer to, or null; `floor`: the heap's used bytes
    // after the last collection (ms timestamp `collectedAt`).
    const session = { socket, waiting: "open", askedAt: Date.now(), floor: 0, collectedAt: 0 };
    sessions.set(key, session);
    socket.on("open", () => {
      session.waiting = null;
    });
    socket.on("message", (data) => {
      let message;
      try {
        message = JSON.parse(String(data));
      } catch {
        return; // not the protocol: nothing to act on, and npm start must not die of it
      }
      if (typeof message?.id !== "number") {
        return; // an event, or not the protocol
      }
      const answered = session.waiting;
      session.waiting = null;
      if (answered === "collect") {
        session.collectedAt = Date.now();
        ask(session, "floor");
        return;
      }
      const used = message.result?.usedSize;
      if (used === undefined) {
        return;
      }
      if (answered === "floor") {
        session.floor = used;
        return;
      }
      const grown = used - session.floor;
      if (grown >= growthBytes || (grown > 0 && Date.now() - session.collectedAt >= everyMs)) {
        ask(session, "collect");
      }
    });
    socket.on("close", () => {
      // A late close of a replaced socket must not drop its successor.
      if (sessions.get(key) === session) {
        sessions.delete(key);
      }
      lastChange = Date.now();
    });
    // A refused or reset connection is followed by `close`.
    socket.on("error", () => {});
  };

  const connect = async () => {
    lastChange = Date.now();
    let ports;
    try {
      ports = inspectorPorts();
    } catch {
      return; // wrangler is (re)starting; a later tick looks again
    }
    let count = 0;
    for (const port of ports) {
      const list = await fetch(`http://127.0.0.1:${port}/json/list`, {
        signal: AbortSignal.timeout(LIST_TIMEOUT_MS),
      })
        .then((response) => response.json())
        .catch(() => []); // this port is skipped until the next listing
      // workerd lists the isolates behind service bindings to Node (`…:#PROXY_CONTROLLER`) with a
      // URL it does not serve; they run no requests of ours.
      const reachable = (Array.isArray(list) ? list : []).filter(
        (isolate) =>
          typeof isolate?.webSocketDebuggerUrl === "string" &&
          !isolate.webSocketDebuggerUrl.includes("#"),
      );
      count += reachable.length;
      for (const isolate of reachable) {
        const key = `${port}/${isolate.id}`;
        if (!sessions.has(key)) {
          try {
            open(key, isolate.webSocketDebuggerUrl);
          } catch {
            count--; // a URL ws cannot open: the others are still opened
          }
        }
      }
    }
    if (count !== logged) {
      logged = count;
      console.log(`[gc] collecting ${count} isolates on inspector ports ${ports.join(", ")}`);
    }
    expected = count || Number.POSITIVE_INFINITY;
  };

  const tick = () => {
    try {
      if (!connecting && sessions.size < expected && Date.now() - lastChange >= REOPEN_MS) {
        connecting = true;
        // Whatever fails is tried again after REOPEN_MS.
        connect()
          .catch(() => {})
          .finally(() => {
            connecting = false;
          });
      }
      for (const session of sessions.values()) {
        if (session.waiting === null && session.socket.readyState === WebSocket.OPEN) {
          ask(session, "usage");
        } else if (session.waiting !== "collect" && Date.now() - session.askedAt > STUCK_MS) {
          session.socket.terminate();
        }
      }
    } catch {
      // the next tick carries on
    } finally {
      setTimeout(tick, POLL_MS);
    }
  };
  tick();
}
