import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ROOT,
  SERVICES,
  deploymentEnv,
  listOverlays,
  readCompose,
  renderKustomization,
  schemaProblems,
  structuralProblems,
} from "../../scripts/check-deploy.mjs";

// Rendered Kubernetes objects are plain YAML data; typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

const rendered: Record<string, K8sObject[]> = {};

beforeAll(() => {
  for (const dir of listOverlays()) rendered[dir.split("/").pop() as string] = renderKustomization(dir);
});

const find = (objs: K8sObject[], kind: string, name: string): K8sObject =>
  objs.find((o) => o.kind === kind && o.metadata?.name === name);
const container = (objs: K8sObject[], name: string): K8sObject => find(objs, "Deployment", name)?.spec.template.spec.containers[0];
const preStopSleepS = (c: K8sObject): number => {
  const cmd: string[] = c.lifecycle?.preStop?.exec?.command ?? [];
  const s = c.lifecycle?.preStop?.sleep?.seconds ?? (cmd[0] === "sleep" ? Number(cmd[1]) : 0);
  return Number(s);
};

/** The config the service itself would build from a deployment's environment. */
async function serviceConfig(svc: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const mod = await import(pathToFileURL(join(ROOT, "services", svc, "src", "config.ts")).href);
  const filled = env.AUTH_JWT_SECRET === "" ? { ...env, AUTH_JWT_SECRET: "filled-in-at-deploy-time" } : env;
  return mod.loadConfig(filled) as Record<string, unknown>;
}

describe("rendered overlays", () => {
  it("has a local and a production overlay", () => {
    expect(Object.keys(rendered).sort()).toEqual(["local", "production"]);
  });

  it.each(["local", "production"])("%s: every object passes the Kubernetes schema and the structural rules", async (o) => {
    const problems: string[] = [];
    for (const obj of rendered[o] ?? []) problems.push(...(await schemaProblems(obj)), ...structuralProblems(obj));
    expect(problems).toEqual([]);
  });

  it("the checker rejects a broken object (so the check above can fail)", async () => {
    const dep = structuredClone(find(rendered.production ?? [], "Deployment", "edge"));
    dep.spec.template.spec.containers[0].ports[0].containerPort = "nine-thousand";
    delete dep.spec.template.spec.containers[0].readinessProbe;
    dep.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
    expect((await schemaProblems(dep)).join()).toMatch(/containerPort must be integer/);
    expect(structuralProblems(dep).join()).toMatch(/readinessProbe is required.*readOnlyRootFilesystem/);
  });

  it.each(["local", "production"])("%s: Services select the Deployments' pods on ports the containers expose", (o) => {
    const objs = rendered[o] ?? [];
    for (const svc of objs.filter((x: K8sObject) => x.kind === "Service")) {
      const dep = objs.find(
        (d: K8sObject) =>
          d.kind === "Deployment" &&
          Object.entries(svc.spec.selector).every(([k, v]) => d.spec.template.metadata.labels?.[k] === v),
      );
      expect(dep, `Service ${svc.metadata.name} selects no Deployment`).toBeDefined();
      const ports = dep.spec.template.spec.containers.flatMap((c: K8sObject) => c.ports ?? []);
      for (const p of svc.spec.ports) {
        const ok = ports.some((cp: K8sObject) => cp.name === p.targetPort || cp.containerPort === p.targetPort);
        expect(ok, `Service ${svc.metadata.name} targetPort ${p.targetPort}`).toBe(true);
      }
    }
  });
});

describe.each(["local", "production"])("%s overlay", (o) => {
  const objs = (): K8sObject[] => rendered[o] ?? [];

  it("edge and processor: liveness GET /healthz, readiness GET /readyz, on the port the service listens on", async () => {
    for (const [svc, portVar] of [["edge", "port"], ["processor", "healthPort"]] as const) {
      const c = container(objs(), svc);
      const cfg = await serviceConfig(svc, deploymentEnv(objs(), svc));
      const port = c.ports.find((p: K8sObject) => p.name === c.livenessProbe.httpGet.port)?.containerPort;
      expect(port, `${svc} probe port`).toBe(cfg[portVar]);
      expect(c.livenessProbe.httpGet.path).toBe("/healthz");
      expect(c.readinessProbe.httpGet.path).toBe("/readyz");
      expect(c.readinessProbe.httpGet.port).toBe(c.livenessProbe.httpGet.port);
    }
  });

  it("order-api: gRPC readiness probe on GRPC_PORT, a different liveness probe", async () => {
    const c = container(objs(), "order-api");
    const cfg = await serviceConfig("order-api", deploymentEnv(objs(), "order-api"));
    expect(c.readinessProbe.grpc.port).toBe(cfg.grpcPort);
    expect(c.readinessProbe.grpc.service).toBe("order.OrderService");
    expect(c.livenessProbe).not.toEqual(c.readinessProbe);
    const livePort = c.ports.find((p: K8sObject) => p.name === c.livenessProbe.tcpSocket?.port)?.containerPort;
    expect(livePort).toBe(cfg.grpcPort);
  });

  it.each(SERVICES)("%s: preStop sleep, and a grace period longer than preStop + drain window + shutdown deadline", async (svc) => {
    const dep = find(objs(), "Deployment", svc);
    const c = dep.spec.template.spec.containers[0];
    const cfg = await serviceConfig(svc, deploymentEnv(objs(), svc));
    const sleepS = preStopSleepS(c);
    expect(sleepS).toBeGreaterThanOrEqual(3);
    const needS = sleepS + (Number(cfg.drainWindowMs ?? 0) + Number(cfg.shutdownTimeoutMs)) / 1000;
    expect(dep.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(needS);
  });

  it.each(SERVICES)("%s: no Docker-link variables (Service `edge` would inject EDGE_PORT=tcp://...)", (svc) => {
    expect(find(objs(), "Deployment", svc).spec.template.spec.enableServiceLinks).toBe(false);
  });

  it.each(SERVICES)("%s: spread over nodes and zones", (svc) => {
    const keys = find(objs(), "Deployment", svc).spec.template.spec.topologySpreadConstraints.map((t: K8sObject) => t.topologyKey);
    expect(keys).toEqual(expect.arrayContaining(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]));
  });

  it("the edge Ingress keeps WebSockets open for an hour and routes to the edge Service", () => {
    const ing = find(objs(), "Ingress", "edge");
    expect(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]).toBe("3600");
    expect(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]).toBe("3600");
    const backend = ing.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe("edge");
    expect(find(objs(), "Service", "edge").spec.ports.map((p: K8sObject) => p.name)).toContain(backend.port.name);
  });

  it("the edge's anonymous all-orders access is off in production only", async () => {
    const cfg = await serviceConfig("edge", deploymentEnv(objs(), "edge"));
    expect(cfg.anonymousAllOrders).toBe(o === "local");
  });
});

describe("production overlay", () => {
  const objs = (): K8sObject[] => rendered.production ?? [];

  it("autoscales edge and processor with HPAs that own the replica count", () => {
    for (const svc of ["edge", "processor"]) {
      const hpa = objs().find((x: K8sObject) => x.kind === "HorizontalPodAutoscaler" && x.spec.scaleTargetRef.name === svc);
      expect(hpa, `HPA for ${svc}`).toBeDefined();
      expect(hpa.spec.scaleTargetRef.kind).toBe("Deployment");
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics.length).toBeGreaterThan(0);
      expect(find(objs(), "Deployment", svc).spec.replicas, `${svc} replicas left to the HPA`).toBeUndefined();
    }
  });

  it.each(SERVICES)("%s: a PodDisruptionBudget selects its pods", (svc) => {
    const labels = find(objs(), "Deployment", svc).spec.template.metadata.labels;
    const pdb = objs().find(
      (x: K8sObject) =>
        x.kind === "PodDisruptionBudget" &&
        Object.entries(x.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
    );
    expect(pdb, `PDB for ${svc}`).toBeDefined();
  });

  it.each(SERVICES)("%s: CPU and memory requests and limits", (svc) => {
    const r = container(objs(), svc).resources;
    for (const k of ["cpu", "memory"]) {
      expect(r.requests[k], `${svc} requests.${k}`).toBeDefined();
      expect(r.limits[k], `${svc} limits.${k}`).toBeDefined();
    }
  });

  it("has no in-cluster Redis, and the local overlay has one", () => {
    expect(find(objs(), "Deployment", "redis")).toBeUndefined();
    expect(find(objs(), "Service", "redis")).toBeUndefined();
    expect(find(rendered.local ?? [], "Deployment", "redis")).toBeDefined();
  });

  it("serves the Ingress over TLS", () => {
    expect(find(objs(), "Ingress", "edge").spec.tls?.length).toBeGreaterThan(0);
  });
});

describe("docker-compose.yml", () => {
  const compose = readCompose();

  it("runs Redis 7 with the append-only file on a named volume", () => {
    const redis = compose.services.redis;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command.join(" ")).toMatch(/--appendonly yes/);
    const [vol] = redis.volumes[0].split(":");
    expect(Object.keys(compose.volumes)).toContain(vol);
  });

  it("runs 2 processors and 3 edges behind a leastconn load balancer on 9001; order-api on 50051", () => {
    expect(compose.services.processor.deploy.replicas).toBe(2);
    expect(compose.services.edge.deploy.replicas).toBe(3);
    expect(compose.services.lb.ports.join()).toMatch(/:9001$/);
    expect(compose.services["order-api"].ports.join()).toMatch(/:50051$/);
    const cfgPath = compose.services.lb.volumes[0].split(":")[0].replace(/^\.\//, "");
    const cfg = readFileSync(join(ROOT, cfgPath), "utf8");
    expect(cfg).toMatch(/^\s*balance leastconn/m);
    expect(cfg).toMatch(/^\s*timeout tunnel 1h/m);
    expect(cfg).toMatch(/server-template edge \d+ edge:9001/);
  });

  it("waits on healthchecks, and gives each service longer than its shutdown to stop", async () => {
    const { composeServiceEnv } = await import("../../scripts/check-deploy.mjs");
    for (const svc of SERVICES) {
      const s = compose.services[svc];
      expect(s.healthcheck.test.join(" ")).toContain(`scripts/healthcheck.mjs ${svc}`);
      for (const dep of Object.values(s.depends_on) as { condition: string }[]) expect(dep.condition).toBe("service_healthy");
      const cfg = await serviceConfig(svc, composeServiceEnv(compose, svc));
      const graceS = Number(String(s.stop_grace_period).replace(/s$/, ""));
      expect(graceS, svc).toBeGreaterThan((Number(cfg.drainWindowMs ?? 0) + Number(cfg.shutdownTimeoutMs)) / 1000);
    }
  });
});
