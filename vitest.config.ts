import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // test/compose needs a Docker engine of its own: npm run test:compose (scripts/compose-test.sh).
    exclude: ["**/node_modules/**", "packages/*/dist/**", "services/*/dist/**", "test/compose/**"],
    // Every edge the suite starts (in-process or as a child process) checks every frame it sends
    // against the protocol's JSON Schemas (packages/wire) and exits on a mismatch.
    env: { EDGE_VALIDATE_FRAMES: "true" },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
