import type { Command } from "commander";
import { createIndexer } from "../chains/create-indexer.js";
import { fetchAnchorBalances } from "../chains/evm/fetch-anchor-balances.js";
import { followCheckpoints } from "../reconcile/follow-checkpoints.js";
import { startMovementMatching } from "../reconcile/movements/start-movement-matching.js";
import { configExists, createCliLogger, loadAppConfig, openConfigStore, type GlobalOptions } from "./context.js";

/** `backstop start`: with a config, index every configured chain; with none, the self-contained local demo. */
export function registerStartCommand(program: Command) {
  program
    .command("start")
    .description("run Backstop: index every configured chain; without a config, a self-contained local demo")
    .option("--demo-rounds <n>", "demo only: stop after n rounds of activity (default: run until interrupted)", (v) => Number(v))
    .option("--no-serve", "do not start the API server (run `backstop serve` separately)")
    .action(async (o: { demoRounds?: number; serve: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      process.once("SIGTERM", () => abort.abort());
      if (!configExists(g)) {
        if (cmd.parent?.getOptionValueSource("config") === "cli") {
          // An explicit --config that does not exist is an error, never a silent demo.
          await loadAppConfig(g);
        }
        const { runDemo } = await import("../demo/run-demo.js");
        // The demo's printed lines are the story: on a terminal its logs start at warn (-v for more).
        await runDemo({ logger: createCliLogger(g, { quietWhenPretty: true }), signal: abort.signal, rounds: o.demoRounds });
        return;
      }
      const logger = createCliLogger(g);
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      // The API server reads through its own connection (on SQLite it never sees the indexers' uncommitted rows).
      const readerStore = o.serve ? await openConfigStore(config) : undefined;
      // Alerts: rules inside the block transactions, health ticks, and the outbox delivery worker.
      const { startAlertService } = await import("../alerts/start-alert-service.js");
      const alerting = startAlertService({ config, store, logger });
      const { startServeServer } = await import("../serve/create-serve-server.js");
      const server = readerStore ? await startServeServer({ store: readerStore, config, logger }).catch(async (err) => (await readerStore.close(), Promise.reject(err))) : undefined;
      // Reconciliation beside the indexers: a checkpoint for each newly imported snapshot once every chain
      // finalized past it (when a signing key is configured), and the live coverage on finalized blocks.
      const reconciling = followCheckpoints(
        { store, config, logger, signal: abort.signal, fetchAnchorBalances: (q) => fetchAnchorBalances(config, q) },
        { signal: abort.signal, checkpoints: config.checkpoints.auto && config.checkpoints.signingKey !== undefined },
      );
      // Movement reconciliation runs on every stored block (and on a timer for grace periods and SLAs).
      const stopMatching = startMovementMatching({ store, config, logger });
      try {
        // Chains run side by side; one failing chain stops only itself (the others keep indexing).
        const results = await Promise.allSettled(
          Object.keys(config.chains).map((chainKey) =>
            createIndexer({ config, chainKey, store, logger, observer: alerting.observer }).run({ signal: abort.signal }).catch((err) => {
              logger.error({ msg: "chain halted", chain: chainKey, code: err?.code, error: err?.shortMessage ?? String(err) });
              throw err;
            }),
          ),
        );
        const failed = results.find((r) => r.status === "rejected");
        if (failed && failed.status === "rejected") throw failed.reason;
      } finally {
        abort.abort();
        await reconciling;
        await alerting.stop();
        stopMatching();
        await server?.close();
        await readerStore?.close();
        await store.close();
      }
    });
}
