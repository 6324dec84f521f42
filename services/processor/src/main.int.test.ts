import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort, startRedis, startService } from "@orderstream/testkit";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("processor process (dist/main.js)", () => {
  it("refuses to start on a bad value, naming the variable", async () => {
    const svc = startService(MAIN, { REDIS_URL: "redis://127.0.0.1:1", PROCESSOR_CONCURRENCY: "many" }, "processor");
    expect(await svc.exited).toBe(2);
    expect(svc.output()).toContain("PROCESSOR_CONCURRENCY");
  });

  it("exits non-zero with a clear message when HEALTH_PORT is taken, and serves probes otherwise", async () => {
    const redis = await startRedis();
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(port, () => r()));
    try {
      const svc = startService(MAIN, { REDIS_URL: redis.url, HEALTH_PORT: String(port) }, "processor");
      expect(await svc.exited).toBe(1);
      expect(svc.output()).toContain(`cannot listen on HEALTH_PORT ${port}`);
      await new Promise<void>((r) => blocker.close(() => r()));

      const ok = startService(MAIN, { REDIS_URL: redis.url, HEALTH_PORT: String(port) }, "processor");
      await ok.waitFor(/"msg":"ready"/);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain("orderstream_processor_jobs_failed_total");
      expect(await ok.stop("SIGTERM")).toBe(0);
    } finally {
      if (blocker.listening) blocker.close();
      await redis.stop();
    }
  });
});
