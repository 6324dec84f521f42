import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseRedisUrl } from "@orderstream/bus";
import { ROOT, SERVICES, deploymentEnv, renderKustomization, schemaProblems, structuralProblems } from "../../scripts/check-deploy.mjs";

// The local overlay with components/dev-sentinel (what its commented line adds), and the
// production overlay's documentation of the Sentinel and Cluster REDIS_URL forms.
// Rendered Kubernetes objects are plain YAML data; typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

const LOCAL = join(ROOT, "k8s/overlays/local");
const SENTINEL = join(ROOT, "k8s/components/dev-sentinel");
let objects: K8sObject[] = [];
const find = (kind: string, name: string): K8sObject => objects.find((o) => o.kind === kind && o.metadata?.name === name);

beforeAll(() => {
  // What the local overlay's commented line does: the overlay plus the component.
  expect(readFileSync(join(LOCAL, "kustomization.yaml"), "utf8")).toMatch(/^\s*# - \.\.\/\.\.\/components\/dev-sentinel$/m);
  const dir = mkdtempSync(join(tmpdir(), "orderstream-sentinel-"));
  writeFileSync(
    join(dir, "kustomization.yaml"),
    stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      // kustomize takes relative paths only.
      resources: [relative(dir, LOCAL)],
      components: [relative(dir, SENTINEL)],
    }),
  );
  objects = renderKustomization(dir);
});

describe("k8s local overlay with components/dev-sentinel", () => {
  it("renders valid objects: the primary, a replica, three sentinels", async () => {
    const problems: string[] = [];
    for (const o of objects) problems.push(...(await schemaProblems(o)), ...structuralProblems(o));
    expect(problems).toEqual([]);
    expect(find("Deployment", "redis")).toBeDefined();
    expect(find("Deployment", "redis-replica").spec.template.spec.containers[0].args.join(" ")).toMatch(/--replicaof redis 6379/);
    expect(find("Deployment", "redis-sentinel").spec.replicas).toBe(3);
    expect(find("Service", "redis-sentinel").spec.ports[0].port).toBe(26379);
  });

  it("points every service at the sentinels, under the master name they watch", () => {
    const conf = readFileSync(join(SENTINEL, "sentinel.conf"), "utf8");
    const [, name, host, port, quorum] = /^sentinel monitor (\S+) (\S+) (\d+) (\d+)$/m.exec(conf) ?? [];
    expect({ host, port, quorum }).toEqual({ host: "redis", port: "6379", quorum: "2" });
    for (const svc of SERVICES) {
      const parsed = parseRedisUrl(deploymentEnv(objects, svc).REDIS_URL ?? "");
      expect(parsed.kind, svc).toBe("sentinel");
      expect(parsed.masterName, svc).toBe(name);
      expect(
        parsed.nodes.map((n) => `${n.host}:${n.port}`),
        svc,
      ).toEqual(["redis-sentinel:26379"]);
    }
    // The sentinels' pods get the config the test read.
    const cm = find(
      "ConfigMap",
      find("Deployment", "redis-sentinel").spec.template.spec.volumes.find((v: K8sObject) => v.name === "config").configMap.name,
    );
    expect(cm.data["sentinel.conf"]).toBe(conf);
  });
});

describe("k8s production overlay", () => {
  it("documents the one-node, Sentinel and Cluster REDIS_URL forms, each one a URL the services accept", () => {
    const docs = ["kustomization.yaml", "secrets/redis.env", "secrets/README.md"].map((f) =>
      readFileSync(join(ROOT, "k8s/overlays/production", f), "utf8"),
    );
    for (const text of docs) {
      const urls = [...text.matchAll(/(redis(?:\+sentinel)?:\/\/[^\s`)]+?)(?=[\s`)]|\.{3}|$)/gm)].map((m) =>
        (m[1] as string).replace(/,$/, ""),
      );
      const kinds = new Set(urls.filter((u) => !u.endsWith(",")).map((u) => parseRedisUrl(u).kind));
      expect([...kinds].sort()).toEqual(["cluster", "sentinel", "single"]);
    }
  });
});
