import { CHROMIUM_ARGS, chromiumPath } from "@orderstream/testkit";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtmlReport, writeHtmlReport } from "./html-report.js";
import type { ScenarioResult, TimelinePoint } from "./types.js";

function syntheticResult(): ScenarioResult {
  const throughput: TimelinePoint[] = Array.from({ length: 30 }, (_, t) => ({
    t,
    open: Math.min(1000, t * 200),
    connects: t < 5 ? 200 : 0,
    connectErrors: t === 2 ? 3 : 0,
    messages: t * 1000,
    bytes: t * 200_000,
    requests: 100,
    errors: 0,
    ...(t > 0 ? { p50: 2 + (t % 3), p99: 10 + t } : {}),
  }));
  return {
    scenario: "e2e",
    params: { sockets: 1000, rate: 100, jwtSecret: "<redacted>" },
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 30_000,
    workers: 2,
    ok: false,
    failures: ["loss 1/3000 (0.033%) exceeds --max-loss 0"],
    counts: {
      connects: 1000,
      connectErrors: 3,
      connectErrorReasons: { ECONNREFUSED: 3 },
      closes: { "1001": 2 },
      subscribed: 1000,
      messages: 435_000,
      bytes: 87_000_000,
      errors: {},
      requests: 3000,
      requestErrors: {},
      ordersCreated: 3000,
      maxOpen: 1000,
    },
    latency: {
      delivery: { count: 3000, mean: 3.1, p50: 2.5, p90: 5, p99: 12, p999: 30, max: 41 },
      rpc: { count: 3000, mean: 1.2, p50: 1, p90: 2, p99: 4, p999: 8, max: 9 },
    },
    latencyCurve: {
      delivery: [[0, 0.5], [50, 2.5], [90, 5], [99, 12], [99.9, 30], [100, 41]],
      rpc: [[0, 0.2], [50, 1], [90, 2], [99, 4], [99.9, 8], [100, 9]],
    },
    throughput,
    delivery: { expected: 3000, received: 2999, missing: 1, duplicates: 0, lossRatio: 1 / 3000 },
    client: { loopLagP99Ms: 12, loopLagMaxMs: 30 },
    warnings: [],
  };
}

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "loadgen-html-"));
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [...CHROMIUM_ARGS],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("HTML report", () => {
  it("is self-contained: no scripts, no external resources", () => {
    const html = renderHtmlReport(syntheticResult());
    expect(html).not.toMatch(/<script|<link|src=|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
  });

  it("renders the four plots with nonzero size and drawn series in Chromium", async () => {
    const file = join(dir, "report.html");
    await writeHtmlReport(file, syntheticResult());
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    const plots = await page.$$eval("svg.plot", (els) =>
      els.map((el) => {
        const box = el.getBoundingClientRect();
        const paths = [...el.querySelectorAll("path.series")].map((p) => (p as SVGGraphicsElement).getBBox());
        return { id: el.getAttribute("data-plot"), w: box.width, h: box.height, paths: paths.map((b) => b.width + b.height) };
      }),
    );
    expect(plots.map((p) => p.id)).toEqual(["latency-percentiles", "latency-over-time", "throughput", "connections"]);
    for (const p of plots) {
      expect(p.w).toBeGreaterThan(100);
      expect(p.h).toBeGreaterThan(100);
      expect(p.paths.length).toBeGreaterThan(0);
      for (const size of p.paths) expect(size).toBeGreaterThan(0);
    }
    expect(await page.textContent("h1")).toContain("failed");
    expect(await page.textContent("body")).toContain("2999/3000 received, 1 missing");
    expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
    await page.close();
  });
});
