// A throwaway local Redis for the dev cluster, nothing kept on disk: one redis-server on a free
// port (startDevRedis), a local Redis Cluster of 3 masters + 3 replicas (startDevRedisCluster), or
// a primary, a replica and 3 sentinels (startDevRedisSentinel).
// Plain JS on purpose: the launcher runs before anything is built. (packages/testkit's
// startRedisCluster and startRedisSentinel are the test-side twins, with assertion clients.)
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Resolves with a TCP port that was free on 127.0.0.1 a moment ago. */
export function freeLocalPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
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

/** True when a `redis-server` binary (or `binary`, e.g. `redis-cli`) can be run. */
export function redisServerInstalled(binary = "redis-server") {
  const r = spawnSync(binary, ["--version"], { stdio: "ignore" });
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
  return { url: `redis://127.0.0.1:${port}`, port, proc, exited, stop, kill: () => proc.kill("SIGKILL") };
}

/** Spawns one cluster node (own process group, added to `spawned` at once); resolves on PING. */
async function startClusterNode(dir, taken, spawned, timeoutMs) {
  const pick = async () => {
    for (;;) {
      const p = await freeLocalPort();
      if (!taken.has(p)) return taken.add(p), p;
    }
  };
  const port = await pick();
  const busPort = await pick();
  const args = ["--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1", "--protected-mode", "no"];
  args.push("--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "2000");
  args.push("--save", "", "--appendonly", "no", "--dir", dir);
  const proc = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  for (const s of [proc.stdout, proc.stderr]) s.on("data", (d) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  const node = { port, proc, exited };
  spawned.push(node);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server (cluster node ${port}) exited at start: ${log.trim().slice(-1000)}`);
    if (await pingOnce(port)) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`redis-server (cluster node ${port}) did not answer PING within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return node;
}

function redisCli(args) {
  return new Promise((resolve) => {
    execFile("redis-cli", args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}`.trim() }));
  });
}

/** Ports of the masters in a CLUSTER NODES reply. */
function masterPortsOf(clusterNodes) {
  const lines = clusterNodes.split("\n").map((l) => l.trim().split(" "));
  return new Set(lines.filter((f) => (f[2] ?? "").split(",").includes("master")).map((f) => Number(/:(\d+)@/.exec(f[1] ?? "")?.[1])));
}

/** Why the cluster is not usable yet (CLUSTER INFO of every node, roles), or "" once it is. */
async function clusterNotReady(ports, masters) {
  for (const port of ports) {
    const { out } = await redisCli(["-p", String(port), "cluster", "info"]);
    const field = (name) => new RegExp(`^${name}:(\\S+)`, "m").exec(out)?.[1] ?? "?";
    const state = `cluster_state:${field("cluster_state")} cluster_slots_ok:${field("cluster_slots_ok")} cluster_known_nodes:${field("cluster_known_nodes")}`;
    if (state !== `cluster_state:ok cluster_slots_ok:16384 cluster_known_nodes:${ports.length}`) return `node ${port}: ${state}`;
  }
  const found = masterPortsOf((await redisCli(["-p", String(ports[0]), "cluster", "nodes"])).out).size;
  return found === masters ? "" : `${found} of ${masters} masters in CLUSTER NODES`;
}

/**
 * Starts a local Redis Cluster: `masters` masters with `replicas` replicas each (default 3 + 3),
 * each node a `redis-server --cluster-enabled yes` on free ports in its own process group, joined
 * by `redis-cli --cluster create`. Resolves once every node sees all 16384 slots covered.
 * Returns { url (comma-separated node URLs, masters first), nodes: [{ port, proc, role }],
 * exited (the first node exit), stop, kill }.
 */
export async function startDevRedisCluster({ masters = 3, replicas = 1, timeoutMs = 30_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "orderstream-dev-cluster-"));
  const taken = new Set();
  const nodes = [];
  const stop = async () => {
    await Promise.all(
      nodes.map(async (n) => {
        if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
        n.proc.kill("SIGTERM");
        const timer = setTimeout(() => n.proc.kill("SIGKILL"), 5000);
        await n.exited;
        clearTimeout(timer);
      }),
    );
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", kill);
  };
  const kill = () => {
    for (const n of nodes) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  // Nodes run in their own process groups: if the launcher exits without stop() (Ctrl-C while
  // they start, a crash), take them along.
  process.once("exit", kill);
  try {
    const starts = Array.from({ length: masters * (1 + replicas) }, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await startClusterNode(dir, taken, nodes, 10_000);
        } catch (err) {
          if (attempt >= 3) throw err; // a port taken between the check and the bind: try others
        }
      }
    });
    const started = await Promise.all(starts);
    const ports = started.map((n) => n.port);
    const created = await redisCli(["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicas), "--cluster-yes"]);
    if (!created.ok) throw new Error(`redis-cli --cluster create failed:\n${created.out}`);
    const deadline = Date.now() + timeoutMs;
    for (let why = await clusterNotReady(ports, masters); why !== ""; why = await clusterNotReady(ports, masters)) {
      if (Date.now() > deadline) throw new Error(`Redis Cluster not ready within ${timeoutMs} ms (${why}); redis-cli said:\n${created.out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const masterPorts = masterPortsOf((await redisCli(["-p", String(ports[0]), "cluster", "nodes"])).out);
    const ordered = [...started.filter((n) => masterPorts.has(n.port)), ...started.filter((n) => !masterPorts.has(n.port))];
    return {
      url: ordered.map((n) => `redis://127.0.0.1:${n.port}`).join(","),
      nodes: ordered.map(({ port, proc }) => ({ port, proc, role: masterPorts.has(port) ? "master" : "replica" })),
      exited: Promise.race(ordered.map((n) => n.exited.then((e) => ({ ...e, port: n.port })))),
      stop,
      kill,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Spawns one redis-server with `args(port)` on a free port (own process group); resolves on PING. */
async function startSentinelSetNode(taken, spawned, role, args, timeoutMs) {
  for (let attempt = 1; ; attempt++) {
    let port = await freeLocalPort();
    while (taken.has(port)) port = await freeLocalPort();
    taken.add(port);
    const proc = spawn("redis-server", args(port), { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let log = "";
    for (const s of [proc.stdout, proc.stderr]) s.on("data", (d) => (log = (log + d.toString()).slice(-4000)));
    const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
    const node = { port, proc, exited, role };
    spawned.push(node);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await pingOnce(port)) return node;
      if (proc.exitCode !== null || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill("SIGKILL");
    if (attempt >= 3) throw new Error(`redis-server (${role} ${port}) did not start: ${log.trim().slice(-1000)}`);
  }
}

/** SENTINEL MASTER <name> of one sentinel as an object ({} when it does not answer). */
async function sentinelMaster(port, name) {
  const { out } = await redisCli(["-p", String(port), "sentinel", "master", name]);
  const lines = out.split("\n");
  const fields = {};
  for (let i = 0; i + 1 < lines.length; i += 2) fields[lines[i]] = lines[i + 1];
  return fields;
}

/**
 * Starts a local Redis Sentinel set: a primary, one replica (`--replicaof`) and 3 sentinels
 * (`redis-server <conf> --sentinel`, each conf written to a temp dir: Sentinel rewrites it), each
 * in its own process group on free ports. Resolves once every sentinel sees the primary, its
 * replica and the other sentinels. Returns { url (redis+sentinel://…/mymaster), masterName,
 * nodes: [{ port, proc, role }], exited (the first exit), stop, kill }.
 */
export async function startDevRedisSentinel({ masterName = "mymaster", sentinels = 3, timeoutMs = 30_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "orderstream-dev-sentinel-"));
  const taken = new Set();
  const nodes = [];
  const kill = () => {
    for (const n of nodes) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    // Sentinels first, so that they do not fail over while the data nodes stop.
    for (const group of [nodes.filter((n) => n.role === "sentinel"), nodes.filter((n) => n.role !== "sentinel")]) {
      await Promise.all(
        group.map(async (n) => {
          if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
          n.proc.kill("SIGTERM");
          const timer = setTimeout(() => n.proc.kill("SIGKILL"), 5000);
          await n.exited;
          clearTimeout(timer);
        }),
      );
    }
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", kill);
  };
  process.once("exit", kill);
  const data = (port, extra) => ["--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", dir, "--dbfilename", `dump-${port}.rdb`, ...extra];
  try {
    const primary = await startSentinelSetNode(taken, nodes, "primary", (p) => data(p, []), 10_000);
    await startSentinelSetNode(taken, nodes, "replica", (p) => data(p, ["--replicaof", "127.0.0.1", String(primary.port)]), 10_000);
    const quorum = Math.floor(sentinels / 2) + 1;
    const started = await Promise.all(
      Array.from({ length: sentinels }, () =>
        startSentinelSetNode(
          taken,
          nodes,
          "sentinel",
          (port) => {
            const conf = join(dir, `sentinel-${port}.conf`);
            writeFileSync(
              conf,
              [`port ${port}`, "bind 127.0.0.1", "protected-mode no", `dir ${dir}`, `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${quorum}`, `sentinel down-after-milliseconds ${masterName} 2000`, `sentinel failover-timeout ${masterName} 10000`, ""].join("\n"),
            );
            return [conf, "--sentinel"];
          },
          10_000,
        ),
      ),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(started.map((s) => sentinelMaster(s.port, masterName)));
      const why = views
        .map((m, i) => (m.flags === "master" && m["num-slaves"] === "1" && m["num-other-sentinels"] === String(sentinels - 1) ? "" : `sentinel ${started[i].port}: flags ${m.flags} num-slaves ${m["num-slaves"]} num-other-sentinels ${m["num-other-sentinels"]}`))
        .find((w) => w !== "");
      if (why === undefined) break;
      if (Date.now() > deadline) throw new Error(`Redis Sentinel not ready within ${timeoutMs} ms (${why})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return {
      url: `redis+sentinel://${started.map((s) => `127.0.0.1:${s.port}`).join(",")}/${masterName}`,
      masterName,
      nodes: nodes.map(({ port, proc, role }) => ({ port, proc, role })),
      exited: Promise.race(nodes.map((n) => n.exited.then((e) => ({ ...e, port: n.port, role: n.role })))),
      stop,
      kill,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
