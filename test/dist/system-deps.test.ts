import { describe, expect, it } from "vitest";
import { aptInstallCommand, installPlan, missingPackages } from "../../scripts/system-deps.mjs";

// What `npm start`, `npm test` and `.ci/run` print about the Debian packages they install
// (scripts/ensure-deps.mjs); probes are faked, nothing is installed.

const none = { command: () => false, python: () => false };
const all = { command: () => true, python: () => true };

describe("missingPackages", () => {
  it("lists nothing when everything is present", () => {
    expect(missingPackages("ci", all)).toEqual([]);
  });

  it("needs only redis-server for npm start, and not even that with REDIS_URL", () => {
    expect(missingPackages("start", none).map((m) => m.pkg)).toEqual(["redis-server"]);
    expect(missingPackages("start", none, { redisUrl: "redis://10.0.0.1:6379" })).toEqual([]);
  });

  it("adds the test tools for npm test, and the deploy checkers and the compose test's engine for CI", () => {
    const test = missingPackages("test", none).map((m) => m.pkg);
    expect(test).toEqual(["redis-server", "chromium", "prometheus", "python3-grpcio", "python3-grpc-tools", "python3-websockets"]);
    const ci = missingPackages("ci", none).map((m) => m.pkg);
    expect(ci).toEqual([...test, "docker-compose", "haproxy", "docker.io", "debootstrap"]);
  });

  it("probes the commands and Python modules each package provides", () => {
    const probes = { command: (c: string) => c !== "promtool", python: (m: string) => m !== "grpc_tools" };
    expect(missingPackages("test", probes).map((m) => m.pkg)).toEqual(["prometheus", "python3-grpc-tools"]);
  });
});

describe("installPlan", () => {
  const root = { isRoot: true, hasApt: true, noApt: false };

  it("does nothing and prints nothing when nothing is missing", () => {
    expect(installPlan([], { purpose: "test", ...root })).toEqual({ lines: [], run: undefined, exitCode: 0 });
  });

  it("as root, prints each package and why, then the command it runs", () => {
    const plan = installPlan(missingPackages("test", none), { purpose: "test", ...root });
    expect(plan.run).toBe(
      aptInstallCommand(["redis-server", "chromium", "prometheus", "python3-grpcio", "python3-grpc-tools", "python3-websockets"]),
    );
    expect(plan.exitCode).toBe(0);
    expect(plan.lines[0]).toBe("installing Debian packages for `npm test`:");
    expect(plan.lines[1]).toMatch(/^ {2}redis-server: .*redis-server/);
    expect(plan.lines[3]).toMatch(/^ {2}prometheus: .*promtool/);
    expect(plan.lines.at(-1)).toBe(`running: ${plan.run}`);
  });

  it("with ORDERSTREAM_NO_APT=1, prints the apt-get line instead of running it and goes on for optional packages", () => {
    const missing = missingPackages("ci", { command: (c) => c !== "haproxy" && c !== "promtool", python: () => true });
    const plan = installPlan(missing, { purpose: "ci", ...root, noApt: true });
    expect(plan.run).toBeUndefined();
    expect(plan.exitCode).toBe(0);
    expect(plan.lines).toEqual([
      "missing Debian packages for `.ci/run`:",
      expect.stringMatching(/^ {2}prometheus: /),
      expect.stringMatching(/^ {2}haproxy: /),
      `not installing (ORDERSTREAM_NO_APT=1); to install them, run: ${aptInstallCommand(["prometheus", "haproxy"])}`,
      "going on: the checks that need them are skipped",
    ]);
  });

  it("with ORDERSTREAM_NO_APT=1, stops with exit code 1 when a required package is missing", () => {
    const plan = installPlan(missingPackages("start", none), { purpose: "start", ...root, noApt: true });
    expect(plan.run).toBeUndefined();
    expect(plan.exitCode).toBe(1);
    expect(plan.lines.at(-1)).toBe("cannot go on without redis-server (or set REDIS_URL to an existing Redis)");
  });

  it("not as root, prints the sudo line and does not run apt-get", () => {
    const plan = installPlan(missingPackages("test", none), { purpose: "test", isRoot: false, hasApt: true, noApt: false });
    expect(plan.run).toBeUndefined();
    expect(plan.exitCode).toBe(1);
    expect(plan.lines).toContain(
      `not installing (not root); to install them, run: sudo ${aptInstallCommand(["redis-server", "chromium", "prometheus", "python3-grpcio", "python3-grpc-tools", "python3-websockets"])}`,
    );
  });
});
