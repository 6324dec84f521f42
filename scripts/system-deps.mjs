// The Debian packages `npm start`, `npm test` and `.ci/run` use, why each is needed, and the plan
// for installing the missing ones: the lines printed before anything runs, the `apt-get` command,
// and whether to run it, print it only (ORDERSTREAM_NO_APT=1, or not root), or stop. Pure
// functions (no I/O) so the printing is unit-tested; scripts/ensure-deps.mjs does the probing
// and the running.

/**
 * @typedef {"start" | "test" | "ci"} Purpose
 * @typedef {{ pkg: string, why: string, required: boolean }} SystemPackage
 * @typedef {{ command: (name: string) => boolean, python: (modules: string) => boolean }} Probes
 */

/**
 * Each package, the probe that says it is present, what uses it, and for which purposes.
 * `required`: the purpose fails without it; the others only skip a check.
 * @type {Array<{ pkg: string, probe: { command: string } | { python: string }, why: string, for: Purpose[], required: Purpose[] }>}
 */
export const SYSTEM_PACKAGES = [
  {
    pkg: "redis-server",
    probe: { command: "redis-server" },
    why: "the local cluster and every integration test run against a real redis-server",
    for: ["start", "test", "ci"],
    required: ["start", "test", "ci"],
  },
  {
    pkg: "chromium",
    probe: { command: "chromium" },
    why: "headless-browser tests of the SDK's browser bundle and the edge dashboard",
    for: ["test", "ci"],
    required: ["test", "ci"],
  },
  {
    pkg: "prometheus",
    probe: { command: "promtool" },
    why: "`promtool check rules` / `promtool test rules` on k8s/components/monitoring (skipped without it)",
    for: ["test", "ci"],
    required: [],
  },
  {
    pkg: "python3-grpcio",
    probe: { python: "grpc" },
    why: "the Python gRPC client test (test/seed/python-client.int.test.ts)",
    for: ["test", "ci"],
    required: ["test", "ci"],
  },
  {
    pkg: "python3-grpc-tools",
    probe: { python: "grpc_tools" },
    why: "generates the Python stubs for that test from proto/order.proto",
    for: ["test", "ci"],
    required: ["test", "ci"],
  },
  {
    pkg: "python3-websockets",
    probe: { python: "websockets" },
    why: "the Python WebSocket client written from docs/protocol.md (examples/python-client, test/examples/python-ws-client.int.test.ts)",
    for: ["test", "ci"],
    required: ["test", "ci"],
  },
  {
    pkg: "docker-compose",
    probe: { command: "docker-compose" },
    why: "`npm run test:compose` brings docker-compose.yml up with it (v1), and `npm run check:deploy` validates the file with `docker-compose config -q`",
    for: ["ci"],
    required: ["ci"],
  },
  {
    pkg: "haproxy",
    probe: { command: "haproxy" },
    why: "`npm run check:deploy` checks k8s/compose/haproxy.cfg with `haproxy -c`, and test/deploy/haproxy-edge.int.test.ts runs it in front of an edge (both skipped without it outside CI)",
    for: ["ci"],
    required: [],
  },
  {
    pkg: "docker.io",
    probe: { command: "dockerd" },
    why: "`npm run test:compose` runs docker-compose.yml in a Docker engine of its own (scripts/docker-engine.sh starts and stops that dockerd)",
    for: ["ci"],
    required: ["ci"],
  },
  {
    pkg: "debootstrap",
    probe: { command: "debootstrap" },
    why: "the Debian roots of the Node 24 tests and of the compose test's base images, made without an image registry (scripts/node24-root.sh, scripts/container-images.sh)",
    for: ["ci"],
    required: ["ci"],
  },
];

/**
 * The packages `purpose` uses that the probes say are missing.
 * `redisUrl`: with `npm start`, an external Redis (REDIS_URL) makes redis-server unnecessary.
 * @param {Purpose} purpose
 * @param {Probes} probes
 * @param {{ redisUrl?: string | undefined }} [env]
 * @returns {SystemPackage[]}
 */
export function missingPackages(purpose, probes, env = {}) {
  const missing = [];
  for (const p of SYSTEM_PACKAGES) {
    if (!p.for.includes(purpose)) continue;
    if (purpose === "start" && p.pkg === "redis-server" && env.redisUrl) continue;
    const present = "command" in p.probe ? probes.command(p.probe.command) : probes.python(p.probe.python);
    if (!present) missing.push({ pkg: p.pkg, why: p.why, required: p.required.includes(purpose) });
  }
  return missing;
}

/** The shell command that installs `pkgs` (what is run, or printed for the user to run). */
export function aptInstallCommand(pkgs) {
  return `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs.join(" ")}`;
}

/**
 * What to do about the missing packages: the lines to print (each package and why, then the
 * command), whether to run the command, and the exit code when not going on (0 = go on).
 * Runs apt-get only as root with apt-get present and ORDERSTREAM_NO_APT unset; otherwise prints
 * the command and goes on, unless a required package is missing (then exit code 1).
 * @param {SystemPackage[]} missing
 * @param {{ purpose: Purpose, isRoot: boolean, hasApt: boolean, noApt: boolean }} ctx
 * @returns {{ lines: string[], run: string | undefined, exitCode: number }}
 */
export function installPlan(missing, ctx) {
  if (missing.length === 0) return { lines: [], run: undefined, exitCode: 0 };
  const command = aptInstallCommand(missing.map((m) => m.pkg));
  const canRun = ctx.isRoot && ctx.hasApt && !ctx.noApt;
  const lines = [`${canRun ? "installing" : "missing"} Debian packages for \`${label(ctx.purpose)}\`:`];
  for (const m of missing) lines.push(`  ${m.pkg}: ${m.why}`);
  if (canRun) {
    lines.push(`running: ${command}`);
    return { lines, run: command, exitCode: 0 };
  }
  const reason = ctx.noApt ? "ORDERSTREAM_NO_APT=1" : !ctx.hasApt ? "apt-get not found" : "not root";
  lines.push(`not installing (${reason}); to install them, run: ${ctx.isRoot ? "" : "sudo "}${command}`);
  const required = missing.filter((m) => m.required).map((m) => m.pkg);
  if (required.length > 0) {
    const hint = ctx.purpose === "start" ? " (or set REDIS_URL to an existing Redis)" : "";
    lines.push(`cannot go on without ${required.join(", ")}${hint}`);
    return { lines, run: undefined, exitCode: 1 };
  }
  lines.push("going on: the checks that need them are skipped");
  return { lines, run: undefined, exitCode: 0 };
}

function label(purpose) {
  return purpose === "start" ? "npm start" : purpose === "test" ? "npm test" : ".ci/run";
}
