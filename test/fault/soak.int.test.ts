import { describe, expect, it } from "vitest";
import { report, scaled } from "./fault-scale.js";
import { runSoak } from "./soak-run.js";

// The CI version of `npm run bench:soak`: 100 s of load (the whole test stays under ~2 minutes).
const DURATION_S = 100;

describe("soak: the whole cluster under orders, socket churn, an edge drain and a processor restart", () => {
  it("loses no event, duplicates none, and no process grows without bound", async () => {
    const r = await runSoak({
      durationS: DURATION_S,
      ordersPerS: 50,
      users: 20,
      userChains: scaled(60, 10),
      adminChains: 4,
      churnPerS: 2,
      edgeDrainEveryS: 1000,
      edgeDrainOffsetS: 40,
      processorRestartEveryS: 1000,
      processorRestartOffsetS: 70,
      sampleEveryS: 10,
      // Unbounded growth: from the sample ≥ 30 s into a process's life to the last one, RSS above
      // 1.5× + 50 MB, or more than 200 more open descriptors. Redis's RSS grows with the history the
      // soak keeps on purpose (every event, the ground truth): only its descriptors are judged.
      growth: { baselineS: 30, rssFactor: 1.5, rssSlackMB: 50, fdSlack: 200, rssExempt: ["redis"] },
    });
    report("soak", {
      durationS: DURATION_S,
      orders: r.ordersAccepted,
      orderFailures: r.orderFailures,
      sessions: r.links,
      resumes: r.retirements,
      edgeDrains: r.edgeDrains,
      processorRestarts: r.processorRestarts,
      eventsExpected: r.eventsExpected,
      eventsLost: r.eventsLost,
      eventsDuplicated: r.eventsDuplicated,
      mismatched: r.mismatched,
      loop: r.loop,
      processes: r.processes.map((p) => ({ slot: p.slot, rssMB: p.rssMB, fds: p.fds, growth: p.growth })),
      examples: r.examples,
    });
    expect(r.ordersAccepted).toBeGreaterThan(DURATION_S * 40);
    expect(r.orderFailures).toBe(0);
    expect(r.edgeDrains.map((d) => d.exitCode)).toEqual([0]);
    expect(r.processorRestarts.map((d) => d.exitCode)).toEqual([0]);
    expect(r.retirements).toBeGreaterThan(DURATION_S);
    expect(r.eventsExpected).toBeGreaterThan(0);
    expect(r.eventsLost).toBe(0);
    expect(r.eventsDuplicated).toBe(0);
    expect(r.mismatched, r.examples.join("\n")).toBe(0);
    expect(r.recoveryFailed).toBe(0);
    expect(r.lifecycleBad, r.examples.join("\n")).toBe(0);
    expect(r.processes.map((p) => p.slot).sort()).toEqual(["edge-0", "edge-1", "order-api", "processor-0", "processor-1", "redis"]);
    expect(r.processes.filter((p) => p.growth).map((p) => `${p.slot}: ${p.growth}`)).toEqual([]);
  }, 180_000);
});
