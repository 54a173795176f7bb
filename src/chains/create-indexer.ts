import { isBackstopError } from "../lib/errors.js";
import { sleep } from "../lib/sleep.js";
import { acquireInstanceLock, type InstanceLock, type InstanceLockLostError } from "../store/index.js";
import { createBitcoinIndexer } from "./bitcoin/create-bitcoin-indexer.js";
import { createEvmIndexer } from "./evm/create-evm-indexer.js";
import type { Indexer, IndexerContext } from "./indexer.js";
import { createSolanaIndexer } from "./solana/create-solana-indexer.js";

/**
 * Creates the indexer for the context's chain, by the chain's kind. Its `run` holds the chain's
 * instance lock (`chain:<key>` in the store) for as long as it runs: a second process indexing the
 * same chain into the same store is refused (TESTING.md C9).
 * @throws BackstopError
 */
export function createIndexer(ctx: IndexerContext): Indexer {
  const kind = ctx.config.chains[ctx.chainKey]!.descriptor.kind;
  switch (kind) {
    case "bitcoin":
      return withInstanceLock(ctx, createBitcoinIndexer(ctx));
    case "evm":
      return withInstanceLock(ctx, createEvmIndexer(ctx));
    case "solana":
      return withInstanceLock(ctx, createSolanaIndexer(ctx));
    default:
      throw new Error(`no indexer for chain kind ${kind}`);
  }
}

/**
 * Wraps an indexer so each `run` first takes the chain's instance lock, renews it while running and
 * releases it at the end. A lock found taken over stops the run (its signal aborts between blocks)
 * and the run rejects with InstanceLockLostError.
 * @throws InstanceLockHeldError when another live process holds the lock
 */
export function withInstanceLock(ctx: IndexerContext, inner: Indexer, opts: { ttlMs?: number } = {}): Indexer {
  return {
    async run(p) {
      const ac = new AbortController();
      let lost: InstanceLockLostError | undefined;
      const acquire = () =>
        acquireInstanceLock(ctx.store, {
          name: `chain:${ctx.chainKey}`,
          ttlMs: opts.ttlMs,
          onLost: (err) => {
            lost = err;
            ctx.logger.error({ msg: "instance lock lost; stopping", chain: ctx.chainKey, code: err.code });
            ac.abort();
          },
        });
      let lock: InstanceLock;
      for (let attempt = 1; ; attempt++) {
        try {
          lock = await acquire();
          break;
        } catch (err) {
          // A store that is busy (e.g. a long snapshot import holds SQLite's write lock) or briefly
          // unreachable delays a follower's start; a held lock, or any error in a `once` run, does not wait.
          if (!isBackstopError(err) || !err.retryable || p.once || p.signal?.aborted) throw err;
          ctx.logger.warn({ msg: "waiting for the store to take the instance lock", chain: ctx.chainKey, code: err.code, attempt });
          await sleep(Math.min(30_000, 1_000 * attempt), p.signal);
          if (p.signal?.aborted) return;
        }
      }
      const forward = () => ac.abort();
      if (p.signal?.aborted) ac.abort();
      p.signal?.addEventListener("abort", forward, { once: true });
      try {
        await inner.run({ ...p, signal: ac.signal });
      } catch (err) {
        throw lost ?? err;
      } finally {
        p.signal?.removeEventListener("abort", forward);
        await lock.release();
      }
      if (lost) throw lost;
    },
    fetchStatus: () => inner.fetchStatus(),
  };
}
