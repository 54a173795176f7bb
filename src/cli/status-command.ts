import type { Command } from "commander";
import { createIndexer } from "../chains/create-indexer.js";
import { isBackstopError } from "../lib/errors.js";
import { loadCursor, loadInstanceLocks } from "../store/index.js";
import { createCliLogger, loadAppConfig, openConfigStore, type GlobalOptions } from "./context.js";

/**
 * `backstop status [--json]`: per chain, node tip, indexed height, finalized height, lag, and which
 * process indexes it (the holder of the chain's instance lock: pid, host, heartbeat age; null if none).
 */
export function registerStatusCommand(program: Command) {
  program
    .command("status")
    .description("per chain: node tip, indexed height, finalized height, lag, and the process indexing it")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const logger = createCliLogger(g);
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      const out: Record<string, unknown>[] = [];
      try {
        const locks = new Map((await loadInstanceLocks(store)).map((l) => [l.name, l]));
        for (const chainKey of Object.keys(config.chains)) {
          const cursor = await loadCursor(store, chainKey);
          const l = locks.get(`chain:${chainKey}`);
          const indexer = l ? { pid: l.pid, host: l.host, heartbeatAgeMs: l.heartbeatAgeMs, stale: l.stale } : null;
          try {
            const s = await createIndexer({ config, chainKey, store, logger }).fetchStatus();
            out.push({ chain: chainKey, tip: s.tip, indexed: s.indexed, finalized: s.finalized, lag: s.indexed === null ? null : s.tip - s.indexed, indexer });
          } catch (err) {
            out.push({ chain: chainKey, tip: null, indexed: cursor?.height ?? null, finalized: cursor?.finalizedHeight ?? null, lag: null, indexer, error: isBackstopError(err) ? err.shortMessage : String(err) });
          }
        }
      } finally {
        await store.close();
      }
      if (o.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      else {
        for (const r of out) {
          const i = r.indexer as { pid: number; host: string; heartbeatAgeMs: number; stale: boolean } | null;
          const by = i ? `indexer pid ${i.pid}@${i.host} (heartbeat ${Math.round(i.heartbeatAgeMs / 1000)} s ago${i.stale ? ", STALE" : ""})` : "indexer none";
          process.stdout.write(`${String(r.chain).padEnd(12)} tip ${r.tip ?? "?"}  indexed ${r.indexed ?? "-"}  finalized ${r.finalized ?? "-"}  lag ${r.lag ?? "?"}  ${by}${r.error ? `  ERROR ${r.error}` : ""}\n`);
        }
      }
    });
}
