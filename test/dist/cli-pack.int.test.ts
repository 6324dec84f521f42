import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InstallMode, cleanEnv, installTarballs, installedFiles, pack, scratchProject } from "./packed-install.js";

// The CLIs as a user gets them: `npm pack` of packages/loadgen and of its one workspace
// dependency packages/proto, installed from the tarballs into a scratch project outside the
// workspace; the bins then run through `npx --no-install` there. The third-party dependencies
// (@grpc/grpc-js, ws, hdr-histogram-js, …) come from the npm cache or the registry; without
// either, the workspace's node_modules are linked in instead (the mode is printed).

let project: string;
let mode: InstallMode;

beforeAll(async () => {
  project = await scratchProject("orderstream-cli-");
  const tarballs = [await pack("packages/proto", project), await pack("packages/loadgen", project)];
  mode = await installTarballs(project, tarballs);
  process.stderr.write(`cli-pack: dependencies installed by ${mode}\n`);
}, 240_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

function npx(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("npx", ["--no-install", ...args], { cwd: project, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("orderstream-load and orderstream-watch from the npm tarball", () => {
  it("ships only the built code, README and LICENSE", async () => {
    const files = await installedFiles(project, "@orderstream/loadgen");
    expect(files).toEqual(expect.arrayContaining(["dist/cli.js", "dist/watch-cli.js", "README.md", "LICENSE", "package.json"]));
    expect(files.filter((f) => f.includes("test") || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
  });

  it("orderstream-load --help prints the usage and the exit codes, and exits 0", async () => {
    const r = await npx(["orderstream-load", "--help"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: orderstream-load <scenario>/);
    expect(r.stdout).toContain(
      "exit codes: 0 ok, 1 run failed its checks (or a threshold) or could not run, 2 bad arguments (or thresholds file)",
    );
  });

  it("orderstream-load exits 2 on bad arguments", async () => {
    const r = await npx(["orderstream-load", "no-such-scenario"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("orderstream-load:");
  });

  it("orderstream-watch --help prints the usage and the exit codes, and exits 0; bad arguments exit 2", async () => {
    const help = await npx(["orderstream-watch", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: orderstream-watch <ws:\/\/host:port\/ws> <channel>/);
    expect(help.stdout).toContain("exit codes: 0 stopped");
    const bad = await npx(["orderstream-watch", "orders.status"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("orderstream-watch: the first argument must be a ws:// or wss:// URL");
  });

  it("orderstream-watch exits 1 when nothing listens at the URL", async () => {
    const r = await npx(["orderstream-watch", "ws://127.0.0.1:1/ws", "orders.status"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("connection error");
  });
});
