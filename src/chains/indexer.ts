import type { ResolvedConfig } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import type { FollowerState, Store } from "../store/index.js";

/**
 * Where the follower reports what it does, one call per event (metrics and health alerts hook in here:
 * one line each). Called synchronously; an observer must not throw or block.
 */
export type FollowerObserver = {
  /** The head of the provider the follower reads from, as just read. */
  onHead?(e: { chain: string; provider: string; tip: number; finalized: number; safe?: number }): void;
  /** Blocks stored in one transaction (`height`: the new cursor). */
  onBlocksIndexed?(e: { chain: string; count: number; height: number; tip: number }): void;
  /** A rollback to the common ancestor: `depth` blocks removed above `toHeight`. */
  onReorg?(e: { chain: string; depth: number; fromHeight: number; toHeight: number }): void;
  /** The follower's state changed; `error` is the error that caused paused, lagging or halted. */
  onStateChange?(e: { chain: string; state: FollowerState; error?: { code: string; message: string } }): void;
};

/** What every chain indexer gets. */
export type IndexerContext = { config: ResolvedConfig; chainKey: string; store: Store; logger: Logger; observer?: FollowerObserver };

export type IndexerRunParameters = {
  /** Catch up to the head, then return; fail (never pause) on an outage. */
  once?: boolean;
  /** Stop at this height. */
  to?: number;
  /** Stops following (and an in-progress catch-up between blocks). */
  signal?: AbortSignal;
  /** Called after each stored group of blocks. */
  onProgress?: (p: { height: number; tip: number }) => void;
};

/** A chain indexer: one per configured chain. */
export type Indexer = {
  /** Catches up to the chain's head; with `once` returns when reached, else follows until `signal` aborts. @throws BackstopError */
  run(p: IndexerRunParameters): Promise<void>;
  /** Node tip, indexed height and finalized height (null when nothing is indexed). @throws BackstopError */
  fetchStatus(): Promise<{ tip: number; indexed: number | null; finalized: number | null }>;
  /** Stops what the indexer keeps running between `once` runs (EVM: its Ponder child), before its node goes away. */
  close?(): Promise<void>;
};
