import { type ContainerState, docker } from "./compose-project.js";

// What the compose test reports about the images and containers: sizes, how long each service
// takes from its container's start to its `ready` log line, memory at idle, the engine.

/** Megabytes, one decimal. */
const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

/** An image's size and its layers' sizes (newest first, empty layers left out), in MB. */
export async function imageFacts(tag: string): Promise<{ tag: string; sizeMB: number; layersMB: number[] }> {
  const size = Number(await docker(["image", "inspect", "-f", "{{.Size}}", tag]));
  const layers = (await docker(["history", "--no-trunc", "--format", "{{.Size}}", tag]))
    .split("\n")
    .filter(Boolean)
    .map(parseSize)
    .filter((b) => b > 0)
    .map(mb);
  return { tag, sizeMB: mb(size), layersMB: layers };
}

/** "43.7MB", "1.54kB", "0B" (docker's units) as bytes. */
export function parseSize(text: string): number {
  const m = /^([\d.]+)\s*([kMGT]?i?B)$/.exec(text.trim());
  if (!m) return 0;
  const unit: Record<string, number> = {
    B: 1,
    kB: 1e3,
    MB: 1e6,
    GB: 1e9,
    TB: 1e12,
    KiB: 1024,
    MiB: 1024 ** 2,
    GiB: 1024 ** 3,
    TiB: 1024 ** 4,
  };
  return Number(m[1]) * (unit[m[2] as string] ?? 1);
}

/**
 * Milliseconds from each service container's start to the first `"msg":"ready"` line of its log
 * (pino's `time`), keyed by container name. Containers without such a line are left out.
 */
export async function coldStarts(containers: ContainerState[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of containers) {
    const logs = await docker(["logs", c.id], 30_000).catch(() => "");
    const line = logs.split("\n").find((l) => l.includes('"msg":"ready"'));
    if (!line) continue;
    try {
      const ready = (JSON.parse(line) as { time: number }).time;
      out[c.name] = ready - Date.parse(c.startedAt);
    } catch {
      // not a JSON line: no figure for this container
    }
  }
  return out;
}

/** Each running container's memory use now (`docker stats --no-stream`), in MB, by name. */
export async function memoryByContainer(names: string[]): Promise<Record<string, number>> {
  if (names.length === 0) return {};
  const out: Record<string, number> = {};
  const text = await docker(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", ...names], 60_000);
  for (const line of text.split("\n").filter(Boolean)) {
    const [name, used] = line.split(" ") as [string, string];
    out[name] = mb(parseSize(used));
  }
  return out;
}

/** The engine's version and storage driver, and the compose CLI's version. */
export async function engineFacts(): Promise<{ engine: string; storageDriver: string }> {
  const [engine, storageDriver] = (await docker(["info", "--format", "{{.ServerVersion}}|{{.Driver}}"])).trim().split("|") as [
    string,
    string,
  ];
  return { engine, storageDriver };
}
