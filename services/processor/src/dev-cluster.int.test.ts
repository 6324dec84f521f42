import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { freePort, startRedisSentinel, startService } from "@orderstream/testkit";

// `npm start` = build + scripts/dev-cluster.mjs; CI runs its --smoke mode to keep the quick start true.
const LAUNCHER = fileURLToPath(new URL("../../../scripts/dev-cluster.mjs", import.meta.url));

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "0.0.0.0", () => resolve(srv));
  });
}

/** A port p with p and p+1 both free (bounded search). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    const a = await listen(p);
    const b = a && (await listen(p + 1));
    await new Promise<void>((r) => (a ? a.close(() => r()) : r()));
    await new Promise<void>((r) => (b ? b.close(() => r()) : r()));
    if (a && b) return p;
  }
  throw new Error("no two consecutive free ports found");
}

/** PIDs of the launcher's redis-server and children, from the lines it prints. */
function childPids(out: string): number[] {
  return [...out.matchAll(/\(pid (\d+)\)|"pid":(\d+)/g)].map((m) => Number(m[1] ?? m[2]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function launcherEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    GRPC_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    EDGE_PORT_BASE: String(await freePortPair()),
    HEALTH_PORT_BASE: String(await freePortPair()),
    REDIS_URL: "",
    LOG_LEVEL: "info",
    DEV_CLUSTER_SMOKE: "1",
    ...extra,
  };
}

describe("scripts/dev-cluster.mjs", () => {
  it("--smoke starts its own redis-server and every built service, prints the endpoints and exits 0", async () => {
    const env = await launcherEnv();
    const run = startService(LAUNCHER, env, "dev-cluster");
    const code = await Promise.race([run.exited, new Promise<string>((r) => setTimeout(r, 40_000, "timeout"))]);
    // SIGTERM first: the launcher then stops its own children (SIGKILL only if it does not).
    if (code === "timeout") await run.stop("SIGTERM", 15_000);
    const out = run.output();
    expect(code, out.slice(-3000)).toBe(0);
    expect(out).toMatch(/started redis-server on redis:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain("cluster ready");
    expect(out).toContain(`http://127.0.0.1:${env.HEALTH_PORT_BASE}/metrics`);
    expect(out).toMatch(/admin token\s+eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(out).toMatch(/user token\s+eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(out).toMatch(/\[processor-1\]\s+\{.*"msg":"ready"/);
    expect(out).toMatch(/\[processor-2\]\s+\{.*"msg":"ready"/);
    expect(out).toContain("stopping redis-server");
    // Parts built by now must have been started, with their endpoints printed.
    if (!out.includes("skipping order-api")) expect(out).toContain(`gRPC             127.0.0.1:${env.GRPC_PORT}`);
    if (!out.includes("skipping edge-1")) expect(out).toContain(`ws://127.0.0.1:${env.EDGE_PORT_BASE}/ws`);

    // The admin token is an HS256 JWT over the dev secret, admin: true, valid 7 days.
    const token = /admin token\s+(\S+)/.exec(out)?.[1] ?? "";
    const [h, p, sig] = token.split(".");
    expect(sig).toBe(createHmac("sha256", "orderstream-dev-secret-change-me").update(`${h}.${p}`).digest("base64url"));
    const claims = JSON.parse(Buffer.from(p ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: "admin", admin: true });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(7 * 24 * 3600);
  });

  it("stops every child and its redis-server on SIGTERM, exiting 0", async () => {
    const run = startService(LAUNCHER, await launcherEnv({ DEV_CLUSTER_SMOKE: "" }), "dev-cluster");
    await run.waitFor(/press Ctrl-C to stop/, 40_000);
    const pids = childPids(run.output());
    expect(pids.length).toBeGreaterThanOrEqual(3); // redis-server + at least the 2 processors
    const code = await run.stop("SIGTERM", 40_000);
    expect(code, run.output().slice(-4000)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("restarts a child that dies unexpectedly (logged, with backoff), then still stops everything on SIGTERM", async () => {
    const run = startService(LAUNCHER, await launcherEnv({ DEV_CLUSTER_SMOKE: "" }), "dev-cluster");
    try {
      await run.waitFor(/press Ctrl-C to stop/, 40_000);
      const victim = Number(/\[processor-1\]\s+\{[^\n]*"pid":(\d+)/.exec(run.output())?.[1]);
      process.kill(victim, "SIGKILL");
      await run.waitFor(/processor-1 \(pid \d+\) exited unexpectedly \(code null, signal SIGKILL\); restarting it in 1000 ms \(restart 1\)/, 10_000);
      const again = await run.waitFor(/processor-1 ready again \(pid (\d+), restart 1\)/, 30_000);
      const newPid = Number(/pid (\d+)/.exec(again)?.[1]);
      expect(newPid).not.toBe(victim);
      expect(alive(newPid)).toBe(true);
      expect(run.proc.exitCode).toBeNull(); // the cluster went on
      const pids = childPids(run.output());
      const code = await run.stop("SIGTERM", 40_000);
      expect(code, run.output().slice(-4000)).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      await run.stop("SIGTERM", 20_000);
    }
  });

  it("LOCAL_REDIS=sentinel runs the stack on its own primary, replica and 3 sentinels, and stops them all", async () => {
    const run = startService(LAUNCHER, await launcherEnv({ DEV_CLUSTER_SMOKE: "", LOCAL_REDIS: "sentinel" }), "dev-cluster");
    try {
      await run.waitFor(/press Ctrl-C to stop/, 40_000);
      const out = run.output();
      const url = /started Redis Sentinel \(primary \+ replica \+ 3 sentinels\): REDIS_URL=(\S+)/.exec(out)?.[1] ?? "";
      expect(url).toMatch(/^redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/mymaster$/);
      expect(out.match(/started redis-server sentinel 127\.0\.0\.1:\d+ \(pid \d+\)/g)).toHaveLength(3);
      const primary = Number(/started redis-server primary 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      // Every service found the primary through the sentinels: their named connections are on it.
      const node = new Redis({ host: "127.0.0.1", port: primary, lazyConnect: true });
      const names = new Set<string>();
      try {
        await node.connect();
        for (const m of String(await node.call("CLIENT", "LIST")).matchAll(/ name=(\S+)/g)) names.add(m[1] ?? "");
      } finally {
        node.disconnect();
      }
      for (const prefix of ["edge:edge-1", "edge:edge-2", "order-api", "processor"]) {
        expect([...names].some((n) => n.startsWith(prefix)), `${prefix} in ${[...names].join(" ")}`).toBe(true);
      }
      const pids = childPids(out);
      const code = await run.stop("SIGTERM", 30_000);
      expect(code, run.output().slice(-4000)).toBe(0);
      expect(run.output()).toContain("stopping Redis Sentinel");
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      await run.stop("SIGTERM", 20_000);
    }
  });

  it("refuses to start when a port it needs is taken, naming the variable to change", async () => {
    const env = await launcherEnv();
    const blocker = await listen(Number(env.HEALTH_PORT_BASE));
    try {
      const run = startService(LAUNCHER, env, "dev-cluster");
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`port ${env.HEALTH_PORT_BASE} for processor-1 is already in use`);
      expect(run.output()).toContain("HEALTH_PORT_BASE");
      expect(run.output()).not.toContain("started redis-server");
    } finally {
      await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
    }
  });

  it("runs every service on an external REDIS_URL=redis+sentinel://… (--smoke)", async () => {
    const rs = await startRedisSentinel();
    try {
      const run = startService(LAUNCHER, await launcherEnv({ REDIS_URL: rs.url }), "dev-cluster");
      const code = await Promise.race([run.exited, new Promise<string>((r) => setTimeout(r, 40_000, "timeout"))]);
      if (code === "timeout") await run.stop("SIGTERM", 15_000);
      expect(code, run.output().slice(-3000)).toBe(0);
      expect(run.output()).toContain(`using REDIS_URL=${rs.url}`);
      expect(run.output()).toContain("cluster ready");
      expect(run.output()).not.toContain("started redis-server");
    } finally {
      await rs.stop();
    }
  });

  it("LOCAL_REDIS=cluster runs the stack on its own 3-master + 3-replica Redis Cluster and stops every node", async () => {
    const run = startService(LAUNCHER, await launcherEnv({ DEV_CLUSTER_SMOKE: "", LOCAL_REDIS: "cluster" }), "dev-cluster");
    try {
      await run.waitFor(/press Ctrl-C to stop/, 40_000);
      const out = run.output();
      const url = /started a Redis Cluster \(3 masters \+ 3 replicas\): REDIS_URL=(\S+)/.exec(out)?.[1] ?? "";
      expect(url.split(",")).toHaveLength(6);
      expect(out).toContain(`Redis            ${url} (own Redis Cluster`);
      const masters = [...out.matchAll(/started redis-server master 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      expect(masters).toHaveLength(3);
      expect(out.match(/started redis-server replica 127\.0\.0\.1:\d+ \(pid \d+\)/g)).toHaveLength(3);
      // Every service got the cluster URL: their named connections are on the masters.
      const names = new Set<string>();
      for (const port of masters) {
        const node = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
        try {
          await node.connect();
          for (const m of String(await node.call("CLIENT", "LIST")).matchAll(/ name=(\S+)/g)) names.add(m[1] ?? "");
        } finally {
          node.disconnect();
        }
      }
      for (const prefix of ["edge:edge-1", "edge:edge-2", "order-api", "processor"]) {
        expect([...names].some((n) => n.startsWith(prefix)), `${prefix} in ${[...names].join(" ")}`).toBe(true);
      }
      const pids = childPids(out);
      const code = await run.stop("SIGTERM", 30_000);
      expect(code, run.output().slice(-4000)).toBe(0);
      expect(run.output()).toContain("stopping the Redis Cluster");
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      await run.stop("SIGTERM", 20_000);
    }
  });

  it("says how to install redis-server when it is missing and REDIS_URL is unset", async () => {
    const env = await launcherEnv({ PATH: "/nonexistent-orderstream-path" });
    const run = startService(LAUNCHER, env, "dev-cluster");
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain("apt-get install -y redis-server");
  });
});
