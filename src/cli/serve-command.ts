import type { Command } from "commander";
import { createCliLogger, loadAppConfig, openConfigStore, type GlobalOptions } from "./context.js";
import { parseHeight } from "./index-command.js";

/**
 * `backstop serve [--port N] [--host H] [--dev] [--public]`: the HTTP API server (/graphql, /metrics,
 * /healthz, /readyz, and the public transparency feed and page at / and /public/v1/) on its own store
 * connection, until SIGINT/SIGTERM; `--public`: the public feed and page alone. Any number can run
 * against one Postgres.
 */
export function registerServeCommand(program: Command) {
  program
    .command("serve")
    .description("serve the internal GraphQL API, Prometheus metrics, health checks and the public transparency feed and page")
    .option("--port <port>", "TCP port (default: serve.port, 8787)", (v) => parsePort(v))
    .option("--host <host>", "interface to listen on (default: serve.host, 127.0.0.1)")
    .option("--dev", "development mode: introspection and detailed validation errors (same store, same keys)")
    .option("--public", "serve only the public transparency feed and page (no /graphql, no /metrics)")
    .action(async (o: { port?: number; host?: string; dev?: boolean; public?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const logger = createCliLogger(g);
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      // Loaded here, not at the top: every other command starts without the GraphQL stack.
      const { startServeServer } = await import("../serve/create-serve-server.js");
      const server = await startServeServer({ store, config, logger }, { port: o.port, host: o.host, dev: o.dev, publicOnly: o.public });
      if (o.dev) logger.warn({ msg: "serve --dev: introspection and detailed errors are on" });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await server.close();
      await store.close();
    });
}

function parsePort(v: string): number {
  const n = parseHeight(v, "--port");
  if (n > 65_535) throw new Error(`--port must be 0..65535, got "${v}"`);
  return n;
}
