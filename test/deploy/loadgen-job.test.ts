import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCliArgs } from "@orderstream/loadgen";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, renderWithComponents, schemaProblems, structuralProblems } from "../../scripts/check-deploy.mjs";

// components/loadgen (orderstream-load as an indexed Job) added to each overlay, as its
// kustomization.yaml tells an operator to; the Job's command line is parsed by the tool itself.
// Rendered Kubernetes objects are plain YAML data; typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

const LOADGEN = join(ROOT, "k8s/components/loadgen");
const rendered: Record<string, K8sObject[]> = {};

beforeAll(() => {
  for (const overlay of ["local", "production"]) {
    rendered[overlay] = renderWithComponents(join(ROOT, "k8s/overlays", overlay), [LOADGEN]);
  }
});

const find = (objs: K8sObject[], kind: string, name: string): K8sObject => objs.find((o) => o.kind === kind && o.metadata?.name === name);

/** The container's args as the kubelet passes them: $(VAR) replaced from `vars`. */
function expand(args: string[], vars: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\(([A-Z0-9_]+)\)/g, (m, name: string) => vars[name] ?? m));
}

describe.each(["local", "production"])("components/loadgen with the %s overlay", (overlay) => {
  const objs = (): K8sObject[] => rendered[overlay] ?? [];
  const job = (): K8sObject => find(objs(), "Job", "orderstream-load");
  const container = (): K8sObject => job().spec.template.spec.containers[0];

  it("renders valid objects: the schema and the structural rules (probes aside: a Job's pods run to completion)", async () => {
    const problems: string[] = [];
    for (const o of objs()) problems.push(...(await schemaProblems(o)), ...structuralProblems(o));
    expect(problems).toEqual([]);
    expect(job().metadata.namespace).toBe("orderstream");
    const broken = structuredClone(job());
    broken.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
    broken.spec.completions = "three";
    expect(structuralProblems(broken).join()).toMatch(/readOnlyRootFilesystem must be true/);
    expect((await schemaProblems(broken)).join()).toMatch(/completions must be integer/);
  });

  it("is an indexed Job whose pods all run at once, one slice each, without retries", () => {
    const spec = job().spec;
    expect(spec.completionMode).toBe("Indexed");
    expect(spec.parallelism).toBe(spec.completions);
    expect(spec.backoffLimitPerIndex).toBe(0);
    expect(spec.template.spec.restartPolicy).toBe("Never");
    expect(spec.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  it("each pod's command line is a valid orderstream-load slice of one run, against the in-cluster Services", () => {
    const c = container();
    expect(c.command).toEqual(["node", "packages/loadgen/dist/cli.js"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "packages/loadgen/package.json"), "utf8"));
    expect(`packages/loadgen/${pkg.bin["orderstream-load"]}`).toBe(c.command[1]);
    // every $(VAR) is the Job's JOB_COMPLETION_INDEX or an env entry of the container
    const vars = new Set<string>(c.args.flatMap((a: string) => [...a.matchAll(/\$\(([A-Z0-9_]+)\)/g)].map((m) => m[1])));
    const defined = new Set(["JOB_COMPLETION_INDEX", ...c.env.map((e: K8sObject) => e.name)]);
    for (const v of vars) expect(defined, v).toContain(v);
    const completions = job().spec.completions as number;
    for (let i = 0; i < completions; i++) {
      const args = parseCliArgs(expand(c.args, { JOB_COMPLETION_INDEX: String(i), LOAD_RUN_ID: "uid-1", AUTH_JWT_SECRET: "k" }), {});
      expect(args.options.slice).toEqual({ index: i, total: completions });
      expect(args.options).toMatchObject({ runId: "uid-1", allowRemote: true, jwtSecret: "k" });
      expect(args.json).toBe("-");
      const [host, port] = [new URL(args.options.urls[0] as string).hostname, new URL(args.options.urls[0] as string).port];
      const edge = find(objs(), "Service", host);
      expect(edge?.spec.selector["app.kubernetes.io/name"]).toBe("edge");
      expect(edge.spec.ports.map((p: K8sObject) => String(p.port))).toContain(port);
      const [grpcHost, grpcPort] = args.options.grpc.split(":");
      expect(find(objs(), "Service", grpcHost as string)?.spec.ports.map((p: K8sObject) => String(p.port))).toContain(grpcPort);
    }
  });

  it("takes the run id from the Job's uid label and the JWT key from the rendered auth Secret", () => {
    const env = Object.fromEntries(container().env.map((e: K8sObject) => [e.name, e.valueFrom]));
    expect(env.LOAD_RUN_ID.fieldRef.fieldPath).toBe("metadata.labels['batch.kubernetes.io/controller-uid']");
    const ref = env.AUTH_JWT_SECRET.secretKeyRef;
    expect(Object.keys(find(objs(), "Secret", ref.name)?.data ?? {})).toContain(ref.key);
  });
});

describe("components/loadgen with the production overlay", () => {
  it("its pods carry the label order-api's NetworkPolicy admits", () => {
    const objs = rendered.production ?? [];
    const policy = find(objs, "NetworkPolicy", "order-api");
    const labels = find(objs, "Job", "orderstream-load").spec.template.metadata.labels;
    const admitted = policy.spec.ingress.some((rule: K8sObject) =>
      (rule.from ?? []).some(
        (f: K8sObject) => f.podSelector && Object.entries(f.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
      ),
    );
    expect(admitted).toBe(true);
  });
});
