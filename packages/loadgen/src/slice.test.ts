import { assignSocket } from "./socket-plan.js";
import { describe, expect, it } from "vitest";
import { parseCliArgs, UsageError } from "./cli-args.js";
import { syntheticOrder } from "./grpc-client.js";
import { orderNumbering, sliceOptions, sliceProblem, sliceShare } from "./slice.js";
import type { ScenarioOptions } from "./types.js";

const base = (args: string[]): ScenarioOptions => parseCliArgs(args, {}).options;

describe("slices of a run", () => {
  it("split sockets, streams, rates and bounds so that the slices add up to the whole run", () => {
    const whole = base(["e2e", "--sockets", "1001", "--rate", "90", "--ramp", "300", "--count", "10", "--run-id", "r"]);
    const shares = [0, 1, 2].map((index) => sliceShare({ ...whole, slice: { index, total: 3 } }));
    expect(shares.map((s) => [s.socketStart, s.sockets])).toEqual([
      [0, 334],
      [334, 334],
      [668, 333],
    ]);
    expect(shares.reduce((n, s) => n + s.rate, 0)).toBeCloseTo(90);
    expect(shares.reduce((n, s) => n + s.rampPerS, 0)).toBeCloseTo(300);
    expect(shares.map((s) => s.count)).toEqual([4, 3, 3]);
  });

  it("keep each socket's global number: a slice's sockets connect and subscribe as the whole run's would", () => {
    const whole = base([
      "ws-subscribe",
      "--url",
      "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws,ws://127.0.0.1:3/ws",
      "--sockets",
      "10",
      "--user-ratio",
      "1",
      "--users",
      "10",
    ]);
    const sliced = { ...whole, slice: { index: 1, total: 2 }, runId: "r" };
    const share = sliceShare(sliced);
    const o = sliceOptions(sliced, share);
    expect(o.sockets).toBe(5);
    expect(share.socketStart).toBe(5);
    const plan = { urls: o.urls, channels: o.channels, userRatio: o.userRatio, users: o.users };
    const wholePlan = { urls: whole.urls, channels: whole.channels, userRatio: whole.userRatio, users: whole.users };
    // slice 1's first socket is the run's socket 5: same URL, same user (not user 0 again)
    expect(assignSocket(share.socketStart, plan)).toEqual(assignSocket(5, wholePlan));
    expect(assignSocket(share.socketStart, plan).userId).toBe("lg-user-5");
  });

  it("number orders over the whole run: the slices' orders together are orders 0..n-1 of one process", () => {
    const whole = base(["grpc-create", "--count", "10", "--users", "7"]);
    const users: string[] = [];
    for (const index of [0, 1, 2]) {
      const s = { ...whole, slice: { index, total: 3 }, runId: "r" };
      const { offset, stride } = orderNumbering(s);
      for (let n = 0; n < sliceShare(s).count; n++) users.push(syntheticOrder(offset + n * stride, 7).userId);
    }
    const single = Array.from({ length: 10 }, (_, n) => syntheticOrder(n, 7).userId);
    expect(users.sort()).toEqual(single.sort());
  });

  it("refuse shares of nothing and a missing run id", () => {
    const whole = base(["e2e", "--sockets", "2"]);
    expect(sliceProblem({ ...whole, slice: { index: 0, total: 3 }, runId: "r" })).toMatch(/--sockets 2 cannot be split over --total 3/);
    expect(sliceProblem({ ...whole, sockets: 3, slice: { index: 0, total: 3 } })).toMatch(/--run-id \(or LOAD_RUN_ID\) is required/);
    expect(sliceProblem({ ...whole, sockets: 3, slice: { index: 0, total: 3 }, runId: "r" })).toBeUndefined();
  });
});

describe("parseCliArgs: slices from flags or an indexed Job's environment", () => {
  it("takes --index/--total/--run-id, or JOB_COMPLETION_INDEX, LOAD_TOTAL_PODS and LOAD_RUN_ID", () => {
    expect(parseCliArgs(["e2e", "--index", "2", "--total", "3", "--run-id", "job-a"], {}).options).toMatchObject({
      slice: { index: 2, total: 3 },
      runId: "job-a",
    });
    const env = { JOB_COMPLETION_INDEX: "1", LOAD_TOTAL_PODS: "4", LOAD_RUN_ID: "uid-1" };
    expect(parseCliArgs(["e2e"], env).options).toMatchObject({ slice: { index: 1, total: 4 }, runId: "uid-1" });
    expect(parseCliArgs(["e2e", "--index", "3"], env).options.slice).toEqual({ index: 3, total: 4 });
    expect(parseCliArgs(["e2e"], {}).options).not.toHaveProperty("slice");
  });

  it.each([
    [["e2e", "--index", "3", "--total", "3", "--run-id", "r"], {}, /--index must be an integer from 0 to 2, got "3"/],
    [["e2e", "--index", "1"], {}, /--index is set but --total \(LOAD_TOTAL_PODS\) is not/],
    [["e2e"], { JOB_COMPLETION_INDEX: "0" }, /JOB_COMPLETION_INDEX is set but --total/],
    [["e2e", "--total", "3"], {}, /--run-id \(or LOAD_RUN_ID\) is required with --total > 1/],
    [["e2e", "--total", "0"], {}, /--total must be at least 1/],
    [["e2e", "--total", "2", "--run-id", "a b"], {}, /--run-id must be 1-128 letters/],
    [["grpc-bulk", "--total", "2", "--run-id", "r"], {}, /--concurrency 1 cannot be split over --total 2/],
  ])("%j %j is a usage error", (args, env, message) => {
    expect(() => parseCliArgs(args as string[], env)).toThrow(UsageError);
    expect(() => parseCliArgs(args as string[], env)).toThrow(message);
  });
});
