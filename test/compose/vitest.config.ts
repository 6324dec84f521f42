import { join } from "node:path";
import { defineConfig } from "vitest/config";

// The compose test alone (npm run test:compose runs it inside scripts/compose-test.sh, with a
// Docker engine of its own): one file after the other, long timeouts. `npm test` leaves it out.
export default defineConfig({
  root: join(import.meta.dirname, "../.."),
  test: {
    include: ["test/compose/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
