import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real nodes and databases: each file starts its own on free loopback ports.
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: "forks",
    // 2-core machines: more workers only contend for the nodes' CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
