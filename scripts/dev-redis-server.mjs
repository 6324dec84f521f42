// A throwaway local redis-server for the dev cluster: free port, nothing kept on disk.
import { spawn, spawnSync } from "node:child_process";
import { connect, createServer } from "node:net";

/** Resolves with a TCP port that was free on 127.0.0.1 a moment ago. */
export function freeLocalPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true when `port` can be bound on `host` right now (nothing else listens there). */
export function portIsFree(port, host = "0.0.0.0") {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function pingOnce(port) {
  return new Promise((resolve) => {
    const sock = connect({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      reply += d.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/** True when a `redis-server` binary can be run. */
export function redisServerInstalled() {
  const r = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return !r.error && r.status === 0;
}

/**
 * Starts `redis-server` on a free port (`--save "" --appendonly no`) in its own process group
 * (so Ctrl-C reaches the launcher first and Redis stops last). Returns { url, proc, stop }.
 */
export async function startDevRedis({ timeoutMs = 10_000 } = {}) {
  const port = await freeLocalPort();
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d.toString()));
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited at start (code ${proc.exitCode}): ${stderr.trim()}`);
    if (await pingOnce(port)) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { url: `redis://127.0.0.1:${port}`, port, proc, exited, stop };
}
