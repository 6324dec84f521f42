import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { ROOT, renderWithComponents, schemaProblems } from "../../scripts/check-deploy.mjs";
import { isKnownSeries, listedMetrics, promqlMetricNames } from "../ops/metric-list.js";

// Rendered Kubernetes objects are plain YAML data; typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

const MONITORING = join(ROOT, "k8s/components/monitoring");
const AUTOSCALING = join(ROOT, "k8s/components/autoscaling");
const listed = listedMetrics();
let objects: K8sObject[] = [];

/** The production overlay with both optional components, as an operator would add them. */
beforeAll(() => {
  objects = renderWithComponents(join(ROOT, "k8s/overlays/production"), [MONITORING, AUTOSCALING]);
});

const unknownIn = (exprs: string[]): string[] => exprs.flatMap((e) => promqlMetricNames(e)).filter((n) => !isKnownSeries(n, listed));

describe("promqlMetricNames (the parser the checks below rely on)", () => {
  it("finds metric names and skips functions, labels, ranges and variables", () => {
    expect(
      promqlMetricNames('histogram_quantile(0.99, sum by (le, method) (rate(a_seconds_bucket{x="y",n=~"$ns"}[$__rate_interval]))) / on (pod) b or vector(0)').sort(),
    ).toEqual(["a_seconds_bucket", "b"]);
    expect(unknownIn(["sum(rate(edge_connections[5m]))"])).toEqual(["edge_connections"]);
  });
});

describe("Grafana dashboard", () => {
  const dashboard = JSON.parse(readFileSync(join(MONITORING, "grafana-dashboard.json"), "utf8"));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const panels: any[] = dashboard.panels.filter((p: K8sObject) => p.type !== "row");
  const exprs: string[] = panels.flatMap((p) => p.targets.map((t: { expr: string }) => t.expr));

  it("names only metrics from docs/metrics.md (or the standard process_/nodejs_ ones) in every query", () => {
    expect(exprs.length).toBeGreaterThan(20);
    expect(unknownIn(exprs)).toEqual([]);
    for (const v of dashboard.templating.list) if (v.definition) expect(unknownIn([v.definition.replace(/^label_values\((\w+),.*$/, "$1")])).toEqual([]);
  });

  it("shows every service's key signals", () => {
    const named = new Set(exprs.flatMap((e) => promqlMetricNames(e)));
    for (const m of [
      "orderstream_edge_connections",
      "orderstream_edge_slow_consumers_closed_total",
      "orderstream_edge_resumes_total",
      "orderstream_edge_fanout_duration_seconds_bucket",
      "orderstream_order_api_rpcs_total",
      "orderstream_order_api_rpc_duration_seconds_bucket",
      "orderstream_processor_queue_jobs",
      "orderstream_processor_transitions_total",
    ])
      expect(named, m).toContain(m);
  });

  it("is shipped as a ConfigMap for Grafana's dashboard sidecar", () => {
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "orderstream-grafana-dashboard");
    expect(cm.metadata.labels.grafana_dashboard).toBe("1");
    expect(JSON.parse(cm.data["orderstream.json"]).uid).toBe(dashboard.uid);
  });
});

describe("scrape config and alert rules (components/monitoring)", () => {
  it("has a PodMonitor per service on a container port that serves /metrics", () => {
    for (const svc of ["edge", "order-api", "processor"]) {
      const pm = objects.find((o) => o.kind === "PodMonitor" && o.metadata.name === svc);
      expect(pm, `PodMonitor ${svc}`).toBeDefined();
      expect(pm.metadata.namespace).toBe("orderstream");
      const dep = objects.find((o) => o.kind === "Deployment" && o.metadata.name === svc);
      const labels = dep.spec.template.metadata.labels;
      expect(Object.entries(pm.spec.selector.matchLabels).every(([k, v]) => labels[k] === v), `${svc} selector`).toBe(true);
      const ports = dep.spec.template.spec.containers[0].ports.map((p: K8sObject) => p.name);
      for (const ep of pm.spec.podMetricsEndpoints) {
        expect(ports, `${svc} port`).toContain(ep.port);
        expect(ep.path).toBe("/metrics");
      }
    }
  });

  const rule = (): K8sObject => objects.find((o) => o.kind === "PrometheusRule");

  it("alerts on what an on-call engineer can act on, naming only listed metrics", () => {
    const rules = rule().spec.groups.flatMap((g: K8sObject) => g.rules);
    expect(rules.map((r: K8sObject) => r.alert)).toEqual(
      expect.arrayContaining([
        "OrderstreamEdgeDropRate",
        "OrderstreamQueueLag",
        "OrderstreamRedisUnavailable",
        "OrderstreamGrpcErrorRatio",
        "OrderstreamCreateOrderSlow",
        "OrderstreamResumesNotRecovered",
        "OrderstreamJobsFailedFinal",
        "OrderstreamOrdersOverdue",
        "OrderstreamEdgeConnectionsNearLimit",
        "OrderstreamRedisMemoryHigh",
      ]),
    );
    for (const r of rules) {
      expect(typeof r.expr, r.alert).toBe("string");
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(["warning", "critical"], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
    expect(unknownIn(rules.map((r: K8sObject) => r.expr))).toEqual([]);
  });

  it("links every alert to its runbook (what it means, how to confirm, what to do), which names only listed metrics", () => {
    const rules = rule().spec.groups.flatMap((g: K8sObject) => g.rules);
    for (const r of rules) {
      expect(r.annotations?.runbook_url, r.alert).toMatch(new RegExp(`^https://\\S+/docs/runbooks/${r.alert}\\.md$`));
      const page = readFileSync(join(ROOT, "docs/runbooks", `${r.alert}.md`), "utf8");
      expect(page.split("\n")[0], r.alert).toBe(`# ${r.alert}`);
      for (const h of ["## What it means", "## How to confirm", "## What to do"]) expect(page, `${r.alert}: ${h}`).toContain(`\n${h}\n`);
      const named = [...page.matchAll(/\b(orderstream_[a-z0-9_]+)/g)].map((m) => m[1] as string).filter((n) => !n.endsWith("_"));
      expect(named.filter((n) => !isKnownSeries(n, listed)), `${r.alert}.md names unlisted metrics`).toEqual([]);
      expect(readFileSync(join(ROOT, "docs/runbooks/README.md"), "utf8"), `runbook index lists ${r.alert}`).toContain(`(${r.alert}.md)`);
    }
  });

  it("has a promtool unit test in which every alert fires", () => {
    const tests = parseYaml(readFileSync(join(MONITORING, "alert-rules.test.yaml"), "utf8")).tests as K8sObject[];
    const firing = new Set(tests.flatMap((t) => t.alert_rule_test.filter((a: K8sObject) => a.exp_alerts.length > 0).map((a: K8sObject) => a.alertname)));
    const rules = rule().spec.groups.flatMap((g: K8sObject) => g.rules);
    expect(rules.map((r: K8sObject) => r.alert).filter((a: string) => !firing.has(a))).toEqual([]);
  });

  const promtool = spawnSync("promtool", ["--version"]).status === 0;
  it.skipIf(!promtool)("passes `promtool check rules` and the alert unit tests (`promtool test rules`)", () => {
    const dir = mkdtempSync(join(tmpdir(), "orderstream-rules-"));
    writeFileSync(join(dir, "rules.yaml"), stringify(rule().spec));
    writeFileSync(join(dir, "rules.test.yaml"), readFileSync(join(MONITORING, "alert-rules.test.yaml")));
    const check = spawnSync("promtool", ["check", "rules", join(dir, "rules.yaml")], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = spawnSync("promtool", ["test", "rules", "rules.test.yaml"], { cwd: dir, encoding: "utf8" });
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });
});

describe("autoscaling on the right signal (components/autoscaling)", () => {
  const adapter = parseYaml(readFileSync(join(AUTOSCALING, "prometheus-adapter-rules.yaml"), "utf8")).rules;
  const hpa = (name: string): K8sObject => objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === name);

  it("keeps CPU and adds sockets per pod to the edge HPA and queue depth to the processor HPA", async () => {
    for (const name of ["edge", "processor"]) {
      expect(await schemaProblems(hpa(name))).toEqual([]);
      expect(hpa(name).spec.metrics.some((m: K8sObject) => m.type === "Resource" && m.resource.name === "cpu"), `${name} CPU fallback`).toBe(true);
    }
    expect(hpa("edge").spec.metrics.find((m: K8sObject) => m.type === "Pods").pods.metric.name).toBe("orderstream_edge_connections");
    const ext = hpa("processor").spec.metrics.find((m: K8sObject) => m.type === "External").external;
    expect(ext.metric.name).toBe("orderstream_processor_queue_waiting_jobs");
    expect(ext.metric.selector.matchLabels.namespace).toBe("orderstream");
  });

  it("serves every HPA metric from a prometheus-adapter rule that reads only listed metrics", () => {
    const served = (kind: "custom" | "external"): string[] => adapter[kind].map((r: K8sObject) => r.name.as);
    expect(served("custom")).toContain(hpa("edge").spec.metrics.find((m: K8sObject) => m.type === "Pods").pods.metric.name);
    expect(served("external")).toContain(hpa("processor").spec.metrics.find((m: K8sObject) => m.type === "External").external.metric.name);
    for (const r of [...adapter.custom, ...adapter.external]) {
      const series = promqlMetricNames(r.seriesQuery);
      expect(unknownIn([r.seriesQuery])).toEqual([]);
      expect(unknownIn([r.metricsQuery.replace(/<<\.Series>>/g, series[0]).replace(/<<\.[A-Za-z]+>>/g, "")])).toEqual([]);
      expect(new RegExp(r.name.matches).test(series[0] as string), r.name.matches).toBe(true);
    }
  });
});
