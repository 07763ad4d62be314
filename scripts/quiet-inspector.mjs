/**
 * Keeps `wrangler dev`'s inspector proxy from hoarding memory. wrangler 4.86 (the last release
 * that runs on Node.js 20) enables the Network domain of the Worker's inspector whether or not a
 * DevTools client is attached, and keeps every event it receives in a buffer until one attaches:
 * every subrequest, D1 queries included, adds its request and response to that buffer, so the
 * process that serves port 8787 grows with every write until it dies. Reported as
 * cloudflare/workers-sdk#14191, fixed upstream by #14243 in releases that need Node.js 22.
 *
 * `quietInspector` attaches as the one DevTools client (which drains the buffer) and turns the
 * Network domain off; the proxy re-enables it whenever it reconnects to a reloaded Worker, so it
 * is turned off again as soon as the new execution context is announced, and every 30 s in case
 * that announcement is missed. Whatever else the inspector sends is discarded.
 */
import WebSocket from "ws";

const RESEND_MS = 30_000;
const RETRY_MS = 2_000;

/**
 * Attaches to the inspector proxy on 127.0.0.1:`port` and keeps it quiet for the life of the
 * process; reconnects every 2 s while wrangler is starting or reloading.
 */
export function quietInspector(port) {
  const connect = () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    let timer;
    let id = 0;
    const disableNetwork = () =>
      socket.send(JSON.stringify({ id: ++id, method: "Network.disable" }));
    socket.on("open", () => {
      disableNetwork();
      timer = setInterval(disableNetwork, RESEND_MS);
    });
    // The proxy tells DevTools when the Worker reloads, and re-enables Network right then.
    socket.on("message", (data) => {
      if (String(data).includes('"method":"Runtime.executionContext')) {
        disableNetwork();
      }
    });
    socket.on("close", () => {
      clearInterval(timer);
      setTimeout(connect, RETRY_MS);
    });
    // A refused or reset connection is followed by `close`, which retries.
    socket.on("error", () => {});
  };
  connect();
}
