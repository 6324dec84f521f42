import { execFile } from "node:child_process";
import { join } from "node:path";
import { waitUntil } from "@orderstream/testkit";

// One docker-compose project in the engine at DOCKER_HOST (scripts/docker-engine.sh starts one):
// Debian's docker-compose (v1) reading the repository's compose files, and the docker CLI for the
// faults. Every command has a deadline; a command that fails rejects with its output.

/** The repository root. */
export const ROOT = join(import.meta.dirname, "../..");

/** One container of the project, as `docker inspect` tells it. */
export interface ContainerState {
  id: string;
  name: string;
  service: string;
  status: string;
  health: string;
  startedAt: string;
  restartCount: number;
}

/** Runs `cmd args` (at most `timeoutMs`); resolves with stdout, rejects with stderr and the code. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message.split("\n")[0]}\n${stderr.slice(-2000)}`));
        else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `docker …` with a deadline. */
export function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  return run("docker", args, { timeoutMs });
}

/** A compose project: its name, files, profiles and the variables compose interpolates. */
export class ComposeProject {
  constructor(
    readonly name: string,
    private readonly files: string[],
    private readonly env: Record<string, string>,
    private readonly profiles: string[] = [],
  ) {}

  /** `docker-compose -p NAME -f … [--profile …] args`. */
  compose(args: string[], timeoutMs = 180_000): Promise<string> {
    const head = ["-p", this.name, ...this.files.flatMap((f) => ["-f", join(ROOT, f)]), ...this.profiles.flatMap((p) => ["--profile", p])];
    return run("docker-compose", [...head, ...args], { env: { ...process.env, ...this.env }, timeoutMs });
  }

  /** Starts every service from the images already built (no build, no pull). */
  async up(): Promise<void> {
    await this.compose(["up", "-d", "--no-build"], 300_000);
  }

  /** Stops and removes the containers, networks and volumes. */
  async down(): Promise<void> {
    await this.compose(["down", "-v", "--remove-orphans", "--timeout", "20"], 180_000);
  }

  /** Every container of the project (or of one service), sorted by name. */
  async containers(service?: string): Promise<ContainerState[]> {
    const ids = (await docker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${this.name}`])).split("\n").filter(Boolean);
    if (ids.length === 0) return [];
    // The JSON, not a -f template: a newer CLI fails a template on a missing key (State.Health).
    const raw = JSON.parse(await docker(["inspect", ...ids])) as {
      Id: string;
      Name: string;
      Config: { Labels: Record<string, string> };
      State: { Status: string; StartedAt: string; Health?: { Status: string } };
      RestartCount: number;
    }[];
    const all = raw
      .map((c) => ({
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        service: c.Config.Labels["com.docker.compose.service"] ?? "",
        status: c.State.Status,
        health: c.State.Health?.Status ?? "",
        startedAt: c.State.StartedAt,
        restartCount: c.RestartCount,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return service ? all.filter((c) => c.service === service) : all;
  }

  /** Waits until `count` containers run and every one with a healthcheck is healthy. */
  async waitHealthy(count: number, timeoutMs: number): Promise<ContainerState[]> {
    let last: ContainerState[] = [];
    try {
      await waitUntil(
        async () => {
          last = (await this.containers()).filter((c) => c.status === "running");
          return last.length >= count && last.every((c) => c.health === "" || c.health === "healthy");
        },
        `${count} healthy containers`,
        timeoutMs,
        1000,
      );
      return last;
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${last.map((c) => `${c.name} ${c.status} ${c.health}`).join(", ")}`);
    }
  }

  /** The project's default network. */
  get network(): string {
    return `${this.name}_default`;
  }

  /** The last `lines` of every container's log (for a failure report). */
  async logs(lines = 40): Promise<string> {
    return this.compose(["logs", "--no-color", "--tail", String(lines)], 60_000).catch((err: Error) => err.message);
  }
}

/** GETs `url` from inside a container (Node's fetch): status and body, or the error. */
export async function fetchInside(container: string, url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  const script =
    "fetch(process.argv[1],{signal:AbortSignal.timeout(Number(process.argv[2]))})" +
    ".then(async r=>console.log(JSON.stringify({status:r.status,body:await r.text()})))" +
    ".catch(e=>console.log(JSON.stringify({status:0,body:String(e&&e.message)})))";
  const out = await docker(["exec", container, "node", "-e", script, url, String(timeoutMs)], timeoutMs + 10_000);
  return JSON.parse(out) as { status: number; body: string };
}

/** An edge container's open WebSocket connections (its own /metrics, read inside it). */
export async function edgeConnections(container: string): Promise<number> {
  const { status, body } = await fetchInside(container, "http://127.0.0.1:9001/metrics");
  if (status !== 200) throw new Error(`metrics of ${container}: ${status} ${body.slice(0, 200)}`);
  return Number(/^orderstream_edge_connections(?:\{[^}]*\})? (\d+)/m.exec(body)?.[1] ?? Number.NaN);
}
