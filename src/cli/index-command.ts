import type { Command } from "commander";
import { createAlertBlockSink } from "../alerts/create-alert-block-sink.js";
import { createIndexer } from "../chains/create-indexer.js";
import { addBlockEventSink } from "../store/index.js";
import { startMovementMatching } from "../reconcile/movements/start-movement-matching.js";
import { createCliLogger, loadAppConfig, openConfigStore, requireChain, type GlobalOptions } from "./context.js";
import { createProgress } from "./progress.js";

/** `backstop index --chain <key> [--once] [--to <height>]`. */
export function registerIndexCommand(program: Command) {
  program
    .command("index")
    .description("index one chain: catch up to the node's tip, then follow it")
    .option("--chain <key>", "chain key from the config")
    .option("--once", "catch up to the tip, then exit 0")
    .option("--to <height>", "stop at this height", (v) => parseHeight(v, "--to"))
    .action(async (o: { chain?: string; once?: boolean; to?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const logger = createCliLogger(g);
      const config = await loadAppConfig(g);
      const chainKey = requireChain(config, o.chain);
      const store = await openConfigStore(config);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const progress = createProgress({ label: chainKey, logger });
      // The alert rules run inside this process's block transactions too (their outbox is delivered by `backstop start`).
      if (config.alerts.rules.length) addBlockEventSink(store, createAlertBlockSink({ config }));
      try {
        // Movement matching in every stored block's transaction (`start` also runs the timer for grace periods).
        startMovementMatching({ store, config, logger }, { tickMs: 0 });
        const indexer = createIndexer({ config, chainKey, store, logger });
        await indexer.run({ once: o.once, to: o.to, signal: abort.signal, onProgress: progress.update });
        progress.done();
        const s = await indexer.fetchStatus();
        logger.info({ msg: "indexed", chain: chainKey, block: s.indexed, tip: s.tip, finalized: s.finalized });
      } finally {
        progress.done();
        await store.close();
      }
    });
}

/** Parses a non-negative integer height option. */
export function parseHeight(v: string, name: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a non-negative integer height, got "${v}"`);
  return Number(v);
}
