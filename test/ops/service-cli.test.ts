import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./metric-list.js";

// The built services as an operator runs them: `node services/<svc>/dist/main.js --flag`.
const SERVICES = ["order-api", "processor", "edge"] as const;
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

const run = (svc: string, args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [join(ROOT, "services", svc, "dist", "main.js"), ...args], {
    encoding: "utf8",
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe.each(SERVICES)("%s on the command line", (svc) => {
  it("--version prints the package version, the build's commit and Node's version, and exits 0", () => {
    const r = run(svc, ["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^${svc} ${VERSION.replace(/\./g, "\\.")} \\(commit [0-9a-f]{7,12}, node ${process.version}\\)\\n$`),
    );
  });

  it("--help lists its variables and the flags, and exits 0", () => {
    const r = run(svc, ["--help"]);
    expect(r.code).toBe(0);
    for (const s of ["--check-config", "REDIS_URL  (string, required)", "LOG_LEVEL", "SHUTDOWN_TIMEOUT_MS"]) expect(r.stdout).toContain(s);
  });

  it("--check-config exits 2 naming the bad variable, without starting anything", () => {
    const r = run(svc, ["--check-config"], { REDIS_URL: "redis://h:6379", HISTORY_SIZE: "zero", AUTH_JWT_SECRET: "s" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HISTORY_SIZE/);
    expect(r.stdout).toBe("");
  });

  it("--check-config prints the resolved configuration with secrets redacted, and exits 0", () => {
    const r = run(svc, ["--check-config"], { REDIS_URL: "redis://app:hunter2@h:6379", AUTH_JWT_SECRET: "topsecret", LOG_LEVEL: "warn" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("REDIS_URL=redis://app:***@h:6379\n");
    expect(r.stdout).toContain("LOG_LEVEL=warn\n");
    expect(r.stdout).toMatch(/^HISTORY_SIZE=1000 {2}# default$/m);
    expect(r.stdout).not.toMatch(/hunter2|topsecret/);
  });

  it("refuses unknown arguments with exit code 2", () => {
    const r = run(svc, ["--port", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown arguments: --port 1/);
  });
});
