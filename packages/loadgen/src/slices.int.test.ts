import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as hdr from "hdr-histogram-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentilesOf } from "./aggregator.js";
import { newHistogram } from "./stats.js";
import { type LoadTarget, runCli, startLoadTarget } from "./test-support/load-target.js";
import type { ScenarioResult } from "./types.js";

// Three orderstream-load processes stand in for the pods of an indexed Job: same run id, slices
// 0..2 of 3, against one real cluster (Redis, order-api, processor, edge); then `merge`.

const readResult = async (file: string): Promise<ScenarioResult> => JSON.parse(await readFile(file, "utf8")) as ScenarioResult;

let target: LoadTarget;
let grpc = "";
let wsUrl = "";
let dir = "";

beforeAll(async () => {
  target = await startLoadTarget("loadgen-slices-");
  ({ grpc, wsUrl, dir } = target);
});

afterAll(async () => {
  await target?.stop();
});

describe("orderstream-load past one machine: 3 processes as the pods of an indexed Job, then merge", () => {
  const RUN = "job-e2e-1";
  const pods: ScenarioResult[] = [];
  const inputs: string[] = [];

  beforeAll(async () => {
    const whole = ["e2e", "--url", wsUrl, "--grpc", grpc, "--jwt-secret", "test", "--sockets", "60", "--users", "10"];
    const run = [...whole, "--rate", "30", "--duration", "2", "--settle", "2", "--quiet"];
    await writeFile(join(dir, "pod-ok.txt"), "delivery.p99 < 10000\nloss <= 0\n");
    const exits = await Promise.all([
      // pod 0: flags, with thresholds of its own
      runCli([
        ...run,
        "--index",
        "0",
        "--total",
        "3",
        "--run-id",
        RUN,
        "--json",
        join(dir, "pod-0.json"),
        "--thresholds",
        join(dir, "pod-ok.txt"),
      ]),
      // pod 1: what the Job's environment gives (JOB_COMPLETION_INDEX, LOAD_TOTAL_PODS, LOAD_RUN_ID)
      runCli([...run, "--json", join(dir, "pod-1.json")], { env: { JOB_COMPLETION_INDEX: "1", LOAD_TOTAL_PODS: "3", LOAD_RUN_ID: RUN } }),
      // pod 2: the result on stdout, as a pod's log (kubectl logs shows stdout and stderr)
      runCli([...run, "--index", "2", "--total", "3", "--run-id", RUN, "--json", "-"]),
    ]);
    for (const e of exits) expect(e.code, e.stderr + e.stdout).toBe(0);
    const log = join(dir, "pod-2.log");
    await writeFile(log, `${exits[2]?.stderr}${exits[2]?.stdout}`);
    inputs.push(join(dir, "pod-0.json"), join(dir, "pod-1.json"), log);
    pods.push(await readResult(join(dir, "pod-0.json")), await readResult(join(dir, "pod-1.json")));
    const line = (exits[2]?.stdout ?? "").trim();
    expect(line.split("\n")).toHaveLength(1); // only the result goes to stdout with --json -
    pods.push(JSON.parse(line) as ScenarioResult);
  }, 60_000);

  it("each pod ran its slice: 20 of the 60 sockets, a third of the rate, the run id and its index recorded", () => {
    pods.forEach((p, i) => {
      expect(p.ok).toBe(true);
      expect(p.run).toMatchObject({ id: RUN, total: 3, indexes: [i], share: { socketStart: 20 * i, sockets: 20, rate: 10 } });
      expect(p.counts.connects).toBe(20);
      expect(p.delivery?.missing).toBe(0);
      expect(p.raw?.latency["delivery"]).toBeTypeOf("string");
    });
    expect(pods[0]?.thresholds?.map((t) => t.ok)).toEqual([true, true]);
  });

  it("merge adds the counters, merges the histograms and passes thresholds", async () => {
    const json = join(dir, "merged.json");
    const html = join(dir, "merged.html");
    const thresholds = join(dir, "ok.txt");
    await writeFile(
      thresholds,
      "# the whole run\ndelivery.p99 < 10000\nloss <= 0\nconnect_errors.rate < 0.001\nevent_loop_lag.p99 < 2000\n",
    );
    const r = await runCli(["merge", ...inputs, "--json", json, "--html", html, "--thresholds", thresholds]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${RUN}: slices 0,1,2 of 3`);
    expect(r.stdout).toMatch(/delivery (\d+)\/\1 received, missing 0/);
    expect(r.stdout).toContain("threshold ok     loss <= 0");
    const m = await readResult(json);
    const sum = (f: (p: ScenarioResult) => number): number => pods.reduce((n, p) => n + f(p), 0);
    expect(m.ok).toBe(true);
    expect(m.run).toEqual({ id: RUN, total: 3, indexes: [0, 1, 2] });
    expect(m.counts.connects).toBe(60);
    expect(m.counts.ordersCreated).toBe(sum((p) => p.counts.ordersCreated));
    expect(m.counts.ordersCreated).toBeGreaterThanOrEqual(54); // 30/s for 2 s over three pods
    expect(m.counts.messages).toBe(sum((p) => p.counts.messages));
    expect(m.delivery?.expected).toBe(sum((p) => p.delivery?.expected ?? 0));
    expect(m.latency["delivery"]?.count).toBe(sum((p) => p.latency["delivery"]?.count ?? 0));
    // percentiles of the merged histograms, not an average of the pods' percentiles
    const h = newHistogram();
    for (const p of pods) h.add(hdr.decodeFromCompressedBase64(p.raw?.latency["delivery"] as string));
    expect(m.latency["delivery"]).toEqual(percentilesOf(h));
    expect(await readFile(html, "utf8")).toContain(`${RUN}, slices 0,1,2 of 3`);
  });

  it("a broken threshold makes the merge exit 1 and says which", async () => {
    const strict = join(dir, "strict.txt");
    await writeFile(strict, "loss <= 0\ndelivery.p50 < 0.001\n");
    const r = await runCli(["merge", ...inputs, "--thresholds", strict]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("threshold BROKEN delivery.p50 < 0.001");
    expect(r.stdout).toMatch(/FAILED: threshold delivery\.p50 < 0\.001 broken: delivery\.p50 = [\d.]+/);
  });

  it("a bad thresholds file exits 2 naming the line, for a merge and before a run", async () => {
    const bad = join(dir, "bad.txt");
    await writeFile(bad, "delivery.p99 < 500\n# comment\nfoo < 3\n");
    const merge = await runCli(["merge", ...inputs, "--thresholds", bad]);
    expect(merge.code).toBe(2);
    expect(merge.stderr).toContain(`${bad}:3: unknown metric "foo"`);
    await writeFile(bad, "delivery.p99 < 500ms\n");
    const run = await runCli(["e2e", "--url", wsUrl, "--grpc", grpc, "--thresholds", bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}:1: bad number "500ms"`);
  });

  it("refuses to merge results of different runs (exit 2)", async () => {
    const other = join(dir, "other-run.json");
    const r = await runCli([
      "e2e",
      "--url",
      wsUrl,
      "--grpc",
      grpc,
      "--jwt-secret",
      "test",
      "--sockets",
      "3",
      "--user-ratio",
      "0", // this slice's one socket (global number 1) on the all-orders channels: it expects every order
      "--rate",
      "10",
      "--duration",
      "0.5",
      "--settle",
      "0.5",
      "--index",
      "1",
      "--total",
      "3",
      "--run-id",
      "job-e2e-2",
      "--json",
      other,
      "--quiet",
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const merge = await runCli(["merge", inputs[0] as string, other]);
    expect(merge.code).toBe(2);
    expect(merge.stderr).toContain(`is run ${RUN}, ${other} is run job-e2e-2: results of different runs are not merged`);
  });
});
