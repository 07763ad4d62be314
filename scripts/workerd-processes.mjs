/**
 * The workerd processes of a local `wrangler dev`, found through /proc (Linux only). Shared by
 * `npm start` (which collects the garbage of the Worker process's isolates) and
 * `npm run bench:soak` (which measures both processes).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Socket inodes of a process by descriptor number. */
function socketInodes(pid) {
  const inodes = new Map();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) {
        inodes.set(match[1], Number(fd));
      }
    } catch {
      // the descriptor closed meanwhile
    }
  }
  return inodes;
}

/** Listening TCP sockets as `{ port, inode }`, from /proc/net/tcp (state 0A is LISTEN). */
function listeningSockets() {
  const sockets = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A") {
        sockets.push({ port: Number.parseInt(cols[1].split(":")[1], 16), inode: cols[9] });
      }
    }
  }
  return sockets;
}

const parentOf = (pid) =>
  Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);

/**
 * The inspector port of workerd process `pid`, or undefined when it was started without one.
 * workerd opens its inspector socket before its other listeners, so it is the process's
 * lowest-numbered listening descriptor; only that port may be asked (an HTTP request on workerd's
 * other ports, its control channel among them, would break it).
 */
function inspectorPortOf(pid, listening) {
  if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr=")) {
    return undefined;
  }
  const inodes = socketInodes(pid);
  const [inspector] = listening
    .filter((s) => inodes.has(s.inode))
    .sort((a, b) => inodes.get(a.inode) - inodes.get(b.inode));
  return inspector?.port;
}

/**
 * The two workerd processes of the `wrangler dev` that serves 127.0.0.1:`port`: the one listening
 * on that port (wrangler's proxy and inspector proxy) and its sibling that runs the Worker, with
 * their inspector ports (the proxy has one only under `npm start`, see workerd-inspectable.sh).
 *
 * @returns `{ proxyPid, workerPid, inspectorPort, proxyInspectorPort }` (pids as strings;
 *   `proxyInspectorPort` undefined when the proxy has no inspector)
 * @throws Error when no workerd serves `port` or its Worker process is not found
 */
export function findWorkerd(port) {
  const listening = listeningSockets();
  const workerd = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd\0serve");
      } catch {
        return false;
      }
    });
  const proxy = workerd.find((pid) => {
    const inodes = socketInodes(pid);
    return listening.some((s) => s.port === port && inodes.has(s.inode));
  });
  if (proxy === undefined) {
    throw new Error(`no workerd serves port ${port}`);
  }
  const worker = workerd.find((pid) => pid !== proxy && parentOf(pid) === parentOf(proxy));
  if (worker === undefined) {
    throw new Error(`the Worker process of port ${port} was not found`);
  }
  return {
    proxyPid: proxy,
    workerPid: worker,
    inspectorPort: inspectorPortOf(worker, listening),
    proxyInspectorPort: inspectorPortOf(proxy, listening),
  };
}
