import { beforeAll, describe, expect, it } from "vitest";
import { OVERLAYS_DIR, SERVICES, renderKustomization } from "../../scripts/check-deploy.mjs";

// Rendered Kubernetes objects are plain YAML data; typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

let prod: K8sObject[] = [];
let local: K8sObject[] = [];

beforeAll(() => {
  prod = renderKustomization(`${OVERLAYS_DIR}/production`);
  local = renderKustomization(`${OVERLAYS_DIR}/local`);
});

const routedPaths = (objs: K8sObject[]): string[] =>
  objs
    .filter((o) => o.kind === "Ingress")
    .flatMap((ing) => [
      ...(ing.spec.defaultBackend ? ["<default backend>"] : []),
      ...ing.spec.rules.flatMap((r: K8sObject) => (r.http?.paths ?? []).map((p: K8sObject) => `${p.pathType} ${p.path}`)),
    ]);

const selects = (policy: K8sObject, labels: Record<string, string>): boolean =>
  Object.entries(policy.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

describe("what the production Ingress exposes", () => {
  it.each([
    ["production", () => prod],
    ["local", () => local],
  ])("%s: routes exactly /ws and /orders (no /metrics, /readyz or dashboard, no default backend)", (_name, objs) => {
    expect(routedPaths(objs()).sort()).toEqual(["Exact /orders", "Exact /ws"]);
  });
});

describe("production NetworkPolicies", () => {
  const policyFor = (svc: string): K8sObject => {
    const labels = prod.find((o) => o.kind === "Deployment" && o.metadata.name === svc).spec.template.metadata.labels;
    return prod.find((o) => o.kind === "NetworkPolicy" && selects(o, labels));
  };
  const egressPorts = (p: K8sObject): number[] => p.spec.egress.flatMap((e: K8sObject) => (e.ports ?? []).map((x: K8sObject) => x.port)).sort((a: number, b: number) => a - b);

  it.each(SERVICES)("%s: has a NetworkPolicy restricting both ingress and egress", (svc) => {
    const p = policyFor(svc);
    expect(p, `NetworkPolicy for ${svc}`).toBeDefined();
    expect(p.spec.policyTypes.sort()).toEqual(["Egress", "Ingress"]);
  });

  it("edge: ingress from the ingress controller, egress to Redis, order-api and DNS", () => {
    const p = policyFor("edge");
    const from = p.spec.ingress.flatMap((i: K8sObject) => i.from.map((f: K8sObject) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"]));
    expect(from).toContain("ingress-nginx");
    expect(egressPorts(p)).toEqual([53, 53, 6379, 50051]);
    const toApi = p.spec.egress.find((e: K8sObject) => e.to?.some((t: K8sObject) => t.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "order-api"));
    expect(toApi.ports[0].port).toBe(50051);
  });

  it("order-api: gRPC only from edge pods and declared clients", () => {
    const grpc = policyFor("order-api").spec.ingress.find((i: K8sObject) => i.ports.some((x: K8sObject) => x.port === "grpc"));
    expect(grpc.from.map((f: K8sObject) => f.podSelector.matchLabels)).toEqual([
      { "app.kubernetes.io/name": "edge" },
      { "orderstream.io/order-api-client": "true" },
    ]);
  });

  it("processor: egress to Redis and DNS only; ingress only for metrics scraping", () => {
    const p = policyFor("processor");
    expect(egressPorts(p)).toEqual([53, 53, 6379]);
    expect(p.spec.ingress.flatMap((i: K8sObject) => i.ports.map((x: K8sObject) => x.port))).toEqual(["health"]);
  });
});
