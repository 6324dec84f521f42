import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A self-signed certificate (its own CA) for `localhost` and `127.0.0.1`, as PEM files in a temp dir. */
export interface TestCert {
  certFile: string;
  keyFile: string;
  remove(): void;
}

/** Generates a P-256 certificate valid for a day with `openssl` (tests of gRPC over TLS). */
export function selfSignedCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "orderstream-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-keyout", keyFile, "-out", certFile,
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    { stdio: "ignore" },
  );
  return { certFile, keyFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
