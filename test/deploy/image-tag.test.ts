// The production overlay deploys the image of the version the packages carry: releasing means
// bumping both together, and this test fails when they drift.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = join(import.meta.dirname, "../..");

describe("image tags follow the package version", () => {
  it("the production overlay's image tag is the root package.json version, and every workspace has it", () => {
    const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; workspaces: string[] };
    const overlay = parse(readFileSync(join(root, "k8s/overlays/production/kustomization.yaml"), "utf8")) as {
      images: { newTag: string }[];
    };
    expect(overlay.images.map((i) => i.newTag)).toEqual([version.version]);
    for (const ws of version.workspaces) {
      const pkg = JSON.parse(readFileSync(join(root, ws, "package.json"), "utf8")) as { version: string };
      expect(pkg.version, ws).toBe(version.version);
    }
  });

  it("docker compose builds and tags the image as orderstream:<version> unless ORDERSTREAM_IMAGE says otherwise", () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    const compose = readFileSync(join(root, "docker-compose.yml"), "utf8");
    expect(compose).toContain(`image: \${ORDERSTREAM_IMAGE:-orderstream:${version}}`);
    expect(readFileSync(join(root, ".env.example"), "utf8")).toMatch(
      new RegExp(`^ORDERSTREAM_IMAGE=orderstream:${version.replace(/\./g, "\\.")}$`, "m"),
    );
  });
});
