import { spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { OrderServiceClient } from "@orderstream/proto";
import { type LocalCluster, signToken, startLocalCluster, waitUntil } from "@orderstream/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrder, orderClient, orderRequest } from "../fault/grpc-orders.js";
import {
  type InstallMode,
  ROOT,
  cleanEnv,
  installTarballs,
  installedFiles,
  installedManifest,
  pack,
  scratchProject,
} from "./packed-install.js";

// The SDK as a user gets it: `npm pack` of packages/client, installed from the tarball into a
// scratch project outside the workspace (no runtime dependencies, so no registry needed; the wire
// protocol is bundled in), then a plain Node script in that project connects with a token (sent in
// `connect`), subscribes on a live local cluster and receives an order created through gRPC; the
// CommonJS and script-tag builds load too.

const SCRIPT = `import { OrderStreamClient, CLOSE_CODES } from "@orderstream/client";
const WS = globalThis.WebSocket ?? (await import(process.env.WS_MODULE)).default;
const client = new OrderStreamClient({ url: process.argv[2], WebSocket: WS, getToken: () => process.env.TOKEN });
client.on("connected", ({ user }) => console.log(JSON.stringify({ connected: user })));
client.on("error", (err) => console.error(String(err)));
const sub = client.subscribe("orders.created");
client.connect();
console.log(JSON.stringify({ browser: import.meta.resolve("@orderstream/client/browser") }));
await sub.ready();
console.log(JSON.stringify({ subscribed: [sub.channel], state: sub.state }));
for await (const ev of sub) {
  console.log(JSON.stringify({ event: ev.data.id, offset: ev.offset, closeCodes: typeof CLOSE_CODES }));
  client.close();
  process.exit(0);
}
`;

const CJS = `const { OrderStreamClient, CLOSE_CODES, ERROR_CODES } = require("@orderstream/client");
const vm = require("node:vm");
const fs = require("node:fs");
const context = {};
vm.runInNewContext(fs.readFileSync(require.resolve("@orderstream/client/script"), "utf8"), context);
console.log(JSON.stringify({
  cjs: typeof OrderStreamClient,
  unauthorized: CLOSE_CODES.unauthorized,
  forbidden: typeof ERROR_CODES.forbidden,
  script: typeof context.OrderStream?.OrderStreamClient,
}));
`;

const TYPECHECK = `import { OrderStreamClient, type ClientOptions, type ErrorCode, type Subscription, ServerError } from "@orderstream/client";
const options: ClientOptions = { url: "ws://127.0.0.1:1/ws", getToken: () => "t" };
export const client: OrderStreamClient = new OrderStreamClient(options);
export const sub: Subscription = client.subscribe("orders.created");
export const state: "subscribing" | "subscribed" | "unsubscribed" = sub.state;
export const code: ErrorCode = new ServerError("forbidden", "no").code;
export async function first(): Promise<string | undefined> {
  for await (const ev of sub) return ev.data.status;
  return undefined;
}
`;

let cluster: LocalCluster;
let grpc: OrderServiceClient;
let project: string;
let mode: InstallMode;

beforeAll(async () => {
  project = await scratchProject("orderstream-sdk-");
  const tgz = await pack("packages/client", project);
  mode = await installTarballs(project, [tgz], { offlineOnly: true });
  cluster = await startLocalCluster({ edges: 1, processors: 0 });
  grpc = orderClient(cluster.apiPort);
}, 180_000);

afterAll(async () => {
  grpc?.close();
  await cluster?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe("@orderstream/client from its npm tarball", () => {
  it("installs offline (no dependencies) with only the built code, README and LICENSE", async () => {
    expect(mode).toBe("npm install --offline");
    const files = await installedFiles(project, "@orderstream/client");
    for (const f of [
      "dist/index.js",
      "dist/index.cjs",
      "dist/types/index.d.ts",
      "dist/types/wire/index.d.ts",
      "dist/orderstream-client.browser.js",
      "dist/orderstream-client.min.js",
    ])
      expect(files).toContain(f);
    expect(files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
    expect(
      files.filter(
        (f) =>
          !/^dist\/[\w.-]+\.(js|cjs|js\.map|cjs\.map)$/.test(f) &&
          !/^dist\/types\/(wire\/)?[\w.-]+\.d\.ts$/.test(f) &&
          !["README.md", "LICENSE", "package.json"].includes(f),
      ),
    ).toEqual([]);
    // The declarations import nothing outside the package (the wire's are shipped beside them).
    const index = await readFile(join(project, "node_modules/@orderstream/client/dist/types/index.d.ts"), "utf8");
    expect(index).not.toContain("@orderstream/wire");
    expect(files.filter((f) => /test|\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    const manifest = await installedManifest(project, "@orderstream/client");
    expect(manifest["dependencies"] ?? {}).toEqual({});
    expect(await readFile(join(project, "node_modules/@orderstream/client/LICENSE"), "utf8")).toBe(
      await readFile(join(ROOT, "LICENSE"), "utf8"),
    );
  });

  it("type-checks a TypeScript import of the package (exports.types)", async () => {
    await writeFile(join(project, "check.ts"), TYPECHECK);
    const compilerOptions = {
      noEmit: true,
      strict: true,
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["es2023", "dom"],
      types: [],
    };
    await writeFile(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["check.ts"] }));
    const args = [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."];
    const r = await exec(args, project);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("subscribes from a plain Node script and receives an order created through gRPC", async () => {
    await writeFile(join(project, "watch.mjs"), SCRIPT);
    const wsModule = pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("ws")).href;
    const token = signToken(cluster.jwtSecret, { sub: "sdk-pack-watcher" });
    const child = spawn(process.execPath, ["watch.mjs", cluster.edges[0]?.url ?? ""], {
      cwd: project,
      env: cleanEnv({ WS_MODULE: wsModule, TOKEN: token }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    try {
      await waitUntil(() => out.includes('"subscribed"'), `the script subscribed (stderr: ${err})`, 20_000);
      const order = await createOrder(grpc, orderRequest("sdk-pack-user"));
      expect(await exited).toBe(0);
      const lines = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toContainEqual({ connected: "sdk-pack-watcher" });
      expect(lines).toContainEqual({ subscribed: ["orders.created"], state: "subscribed" });
      expect(lines).toContainEqual(expect.objectContaining({ event: order.id, closeCodes: "object" }));
      const browser = lines.find((l) => "browser" in l)?.["browser"];
      expect(browser).toBe(pathToFileURL(join(project, "node_modules/@orderstream/client/dist/orderstream-client.browser.js")).href);
    } finally {
      child.kill();
    }
  });

  it("loads as CommonJS (require) and as a script-tag file (global OrderStream)", async () => {
    await writeFile(join(project, "load.cjs"), CJS);
    const r = await exec(["load.cjs"], project);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ cjs: "function", unauthorized: 4001, forbidden: "string", script: "function" });
  });
});

function exec(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
