import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";

/** The repository's proto/ directory, found from this module (src/ or dist/ of the service). */
export function defaultProtoDir(): string {
  return fileURLToPath(new URL("../../../proto/", import.meta.url));
}

/**
 * Adds gRPC server reflection (grpcurl, Postman) for order.proto and grpc.health.v1, built from the
 * same .proto files the generated code comes from.
 */
export function addReflection(server: Server, protoDir = defaultProtoDir()): void {
  const files = ["order.proto", "grpc/health/v1/health.proto"];
  for (const f of files) {
    if (!existsSync(`${protoDir}/${f}`)) throw new Error(`reflection: ${f} not found under ${protoDir}`);
  }
  const pkg = loadSync(files, { includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true });
  new ReflectionService(pkg).addToServer(server);
}
