import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCliArgs, UsageError } from "./cli-args.js";
import { describePlan } from "./plan-description.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function run(args: string[]): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe("orderstream-load command line (built CLI)", () => {
  it.each([
    [["frobnicate"], /unknown scenario "frobnicate" \(one of ws-subscribe, grpc-create/],
    [[], /missing scenario/],
    [["ws-subscribe", "--sockets", "lots"], /--sockets must be an integer from 1 to \d+, got "lots"/],
    [["e2e", "--max-loss", "2"], /--max-loss must be a number from 0 to 1, got "2"/],
    [["grpc-create", "--rate"], /Option '--rate <value>' argument missing/],
    [["ws-subscribe", "--bogus"], /Unknown option '--bogus'/],
    [["ws-subscribe", "--url", "http://127.0.0.1:9001/ws"], /--url: WebSocket URL must start with ws:\/\//],
    [["grpc-create", "--grpc", "nohostport"], /--grpc must be host:port/],
    [["e2e", "--token", "a", "--jwt-secret", "b"], /--token or --jwt-secret, not both/],
  ])("%j exits 2 with a clear message and the usage", (args, message) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("usage: orderstream-load <scenario> [options]");
  });

  it("refuses a non-loopback target without --allow-remote, before sending anything", () => {
    const r = run(["ws-subscribe", "--url", "ws://192.0.2.10:9001/ws", "--duration", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing non-loopback target\(s\) ws:\/\/192\.0\.2\.10:9001\/ws: pass --allow-remote/);
  });

  it("merge: no files, an unreadable file or a file that holds no result exits 2 with a clear message", () => {
    const none = run(["merge"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give one or more result files[\s\S]*usage: orderstream-load merge <result>/);
    const missing = run(["merge", "/nonexistent/slice-0.json"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("/nonexistent/slice-0.json: cannot read (ENOENT)");
    const notResult = run(["merge", CLI]);
    expect(notResult.code).toBe(2);
    expect(notResult.stderr).toContain("holds no orderstream-load result");
    expect(run(["merge", "--help"]).code).toBe(0);
  });

  it("prints the usage on --help and exits 0", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("exit codes: 0 ok, 1 run failed its checks (or a threshold) or could not run, 2 bad arguments");
  });
});

describe("parseCliArgs", () => {
  it("fills loopback defaults and per-scenario rates", () => {
    const { options } = parseCliArgs(["e2e"]);
    expect(options).toMatchObject({
      scenario: "e2e",
      urls: ["ws://127.0.0.1:9001/ws"],
      grpc: "127.0.0.1:50051",
      rate: 100,
      maxLoss: 0,
      workers: "auto",
      channels: ["orders.created", "orders.status"],
    });
    expect(parseCliArgs(["ws-subscribe"]).options.rate).toBe(0);
  });

  it("takes comma-separated and repeated lists", () => {
    const { options } = parseCliArgs([
      "ws-subscribe",
      "--url",
      "ws://127.0.0.1:9001/ws,ws://127.0.0.1:9002/ws",
      "--url",
      "ws://127.0.0.1:9003/ws",
      "--local-addresses",
      "127.0.0.2, 127.0.0.3",
      "--workers",
      "3",
    ]);
    expect(options.urls).toHaveLength(3);
    expect(options.localAddresses).toEqual(["127.0.0.2", "127.0.0.3"]);
    expect(options.workers).toBe(3);
  });

  it("rejects a create scenario with nothing to pace it", () => {
    expect(() => parseCliArgs(["grpc-create", "--rate", "0"])).toThrow(UsageError);
  });
});

describe("describePlan (printed before loading a remote host)", () => {
  it("says exactly what will be sent where", () => {
    const { options } = parseCliArgs(["e2e", "--url", "ws://10.0.0.5:9001/ws", "--grpc", "10.0.0.5:50051", "--sockets", "1000", "--rate", "50", "--allow-remote"]);
    const plan = describePlan(options);
    expect(plan).toContain("scenario e2e, at most 10 s");
    expect(plan).toContain('1000 connections to ws://10.0.0.5:9001/ws at 1000/s, each sending one frame {"type":"subscribe","channels":[...]}');
    expect(plan).toContain('500 × ["orders.created","orders.status"], 500 × ["orders.user.lg-user-<n>"] (n < 100)');
    expect(plan).toContain("gRPC 10.0.0.5:50051: CreateOrder 50/s");
  });
});
