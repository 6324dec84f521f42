import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseRedisUrl } from "@orderstream/bus";
import {
  ROOT,
  SENTINEL_COMPOSE_ARGS,
  SENTINEL_OVERRIDE,
  SERVICES,
  composeCommand,
  composeServiceEnv,
  readCompose,
} from "../../scripts/check-deploy.mjs";

// docker-compose.yml's `sentinel` profile (a replica of `redis`, three sentinels) and the override
// pointing every service at them: valid for compose, and the URL names what the sentinels watch.
interface ComposeService {
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const base = readCompose() as ComposeFile;
const override = readCompose(SENTINEL_OVERRIDE) as ComposeFile;
const sentinels = Object.keys(base.services).filter((s) => /^sentinel-\d+$/.test(s));
const cmd = composeCommand() as string[] | undefined;

/** `sentinel monitor <name> <host> <port> <quorum>` of a sentinel's command line. */
function monitor(svc: string): { name: string; host: string; port: number; quorum: number } {
  const m = /sentinel monitor (\S+) (\S+) (\d+) (\d+)/.exec((base.services[svc]?.command ?? []).join(" "));
  if (!m) throw new Error(`${svc}: no "sentinel monitor" line in its command`);
  return { name: m[1] as string, host: m[2] as string, port: Number(m[3]), quorum: Number(m[4]) };
}

describe("docker-compose.yml, profile sentinel", () => {
  it("adds a replica of redis and three sentinels, only under the profile", () => {
    expect(sentinels).toHaveLength(3);
    for (const svc of ["redis-replica", ...sentinels]) expect(base.services[svc]?.profiles, svc).toEqual(["sentinel"]);
    expect(base.services.redis?.profiles).toBeUndefined();
    expect((base.services["redis-replica"]?.command ?? []).join(" ")).toMatch(/--replicaof redis 6379/);
  });

  it("every sentinel watches redis:6379 under one name with a majority quorum", () => {
    const watched = sentinels.map(monitor);
    expect(new Set(watched.map((w) => `${w.name} ${w.host}:${w.port}`)).size).toBe(1);
    expect(watched[0]).toMatchObject({ host: "redis", port: 6379, quorum: 2 });
  });

  it("without the override every service keeps the one-node URL; with it, REDIS_URL names the sentinels and the watched master", () => {
    const { name } = monitor(sentinels[0] as string);
    for (const svc of SERVICES) {
      expect(composeServiceEnv(base, svc).REDIS_URL, svc).toBe("redis://redis:6379");
      const url = override.services[svc]?.environment?.REDIS_URL ?? "";
      const parsed = parseRedisUrl(url);
      expect(parsed.kind, svc).toBe("sentinel");
      expect(parsed.masterName, svc).toBe(name);
      expect(parsed.nodes.map((n) => `${n.host}:${n.port}`).sort(), svc).toEqual(sentinels.map((s) => `${s}:26379`));
      expect(Object.keys(override.services[svc]?.depends_on ?? {}).sort(), svc).toEqual(sentinels);
    }
  });

  it.skipIf(cmd === undefined)(
    "`config -q` accepts both files with the profile, and the merged config points every service at the sentinels",
    () => {
      const [bin, ...pre] = cmd as [string, ...string[]];
      const q = spawnSync(bin, [...pre, ...SENTINEL_COMPOSE_ARGS, "config", "-q"], { cwd: ROOT, encoding: "utf8" });
      expect(q.status, `${q.stderr}${q.stdout}`).toBe(0);
      const merged = spawnSync(bin, [...pre, ...SENTINEL_COMPOSE_ARGS, "config"], { cwd: ROOT, encoding: "utf8" });
      expect(merged.status, merged.stderr).toBe(0);
      const config = parseYaml(merged.stdout) as ComposeFile;
      for (const svc of SERVICES) {
        expect(config.services[svc]?.environment?.REDIS_URL, svc).toBe(override.services[svc]?.environment?.REDIS_URL);
        // The override adds to the base's dependencies, it does not replace them.
        expect(Object.keys(config.services[svc]?.depends_on ?? {}), svc).toContain("redis");
      }
      expect(Object.keys(config.services)).toEqual(expect.arrayContaining(["redis", "redis-replica", ...sentinels]));
    },
  );
});
