import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientDuplexStream, type GrpcObject, credentials, loadPackageDefinition, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { health } from "@orderstream/proto";
import { type ApiHarness, startHarness } from "./testing/api-harness.js";

const { HealthCheckResponse_ServingStatus: Serving } = health;
let h: ApiHarness;
let hc: health.HealthClient;
beforeAll(async () => {
  h = await startHarness();
  hc = new health.HealthClient(h.address, credentials.createInsecure());
});
afterAll(async () => {
  hc?.close();
  await h?.close();
});

const check = (service: string) =>
  new Promise<health.HealthCheckResponse>((resolve, reject) =>
    hc.check({ service }, (err, res) => (err ? reject(err) : resolve(res))),
  );

interface ReflectionReply {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
}

/** A reflection client built from the proto files @grpc/reflection ships. */
function reflectionCall(): ClientDuplexStream<object, ReflectionReply> {
  const require = createRequire(import.meta.url);
  const protoRoot = join(dirname(require.resolve("@grpc/reflection/package.json")), "build", "proto");
  const def = loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [protoRoot], keepCase: false });
  const pkg = loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (addr: string, c: unknown) => GrpcObject } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(h.address, credentials.createInsecure()) as unknown as {
    serverReflectionInfo(): ClientDuplexStream<object, ReflectionReply>;
  };
  return client.serverReflectionInfo();
}

function reflect(request: object): Promise<ReflectionReply> {
  return new Promise((resolve, reject) => {
    const call = reflectionCall();
    call.on("data", (r: ReflectionReply) => {
      resolve(r);
      call.end();
    });
    call.on("error", reject);
    call.write(request);
  });
}

describe("health and reflection", () => {
  it("Check answers SERVING for the server and for order.OrderService, NOT_FOUND for others", async () => {
    expect((await check("")).status).toBe(Serving.SERVING);
    expect((await check("order.OrderService")).status).toBe(Serving.SERVING);
    const err = await check("nope.Service").then(
      () => undefined,
      (e: { code: number }) => e,
    );
    expect(err?.code).toBe(status.NOT_FOUND);
  });

  it("List reports both entries", async () => {
    const res = await new Promise<health.HealthListResponse>((resolve, reject) =>
      hc.list({}, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(Object.keys(res.statuses).sort()).toEqual(["", "order.OrderService"]);
    expect(res.statuses["order.OrderService"]?.status).toBe(Serving.SERVING);
  });

  it("Watch sends the current status at once", async () => {
    const call = hc.watch({ service: "order.OrderService" });
    const first = await new Promise<health.HealthCheckResponse>((resolve, reject) => {
      call.once("data", resolve);
      call.once("error", reject);
    });
    expect(first.status).toBe(Serving.SERVING);
    call.on("error", () => undefined);
    call.cancel();
  });

  it("reflection lists order.OrderService and serves its file descriptor", async () => {
    const list = await reflect({ listServices: "*" });
    const names = list.listServicesResponse?.service.map((s) => s.name) ?? [];
    expect(names).toContain("order.OrderService");
    expect(names).toContain("grpc.health.v1.Health");
    const file = await reflect({ fileContainingSymbol: "order.OrderService" });
    const bytes = Buffer.concat(file.fileDescriptorResponse?.fileDescriptorProto ?? []);
    expect(bytes.toString("latin1")).toContain("ProcessOrders");
  });
});
