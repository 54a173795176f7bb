import { defineConfig } from "vitest/config";

export default defineConfig({
  // Node loads graphql@16's CommonJS build (no "exports" map); Vite would pick its ESM build for our
  // sources while graphql-jit and graphql-http require the CommonJS one: two realms ("Cannot use
  // GraphQLNonNull from another module"). Resolve it as Node does.
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
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
