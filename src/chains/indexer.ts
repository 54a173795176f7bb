import type { ResolvedConfig } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import type { Store } from "../store/index.js";

/** What every chain indexer gets. */
export type IndexerContext = { config: ResolvedConfig; chainKey: string; store: Store; logger: Logger };

export type IndexerRunParameters = {
  /** Catch up to the head, then return. */
  once?: boolean;
  /** Stop at this height. */
  to?: number;
  /** Stops following (and an in-progress catch-up between blocks). */
  signal?: AbortSignal;
  /** Called after each applied block. */
  onProgress?: (p: { height: number; tip: number }) => void;
};

/** A chain indexer: one per configured chain. */
export type Indexer = {
  /** Catches up to the chain's head; with `once` returns when reached, else follows until `signal` aborts. @throws BackstopError */
  run(p: IndexerRunParameters): Promise<void>;
  /** Node tip, indexed height and finalized height (null when nothing is indexed). */
  fetchStatus(): Promise<{ tip: number; indexed: number | null; finalized: number | null }>;
  /** Stops what the indexer keeps running between `once` runs (EVM: its Ponder child), before its node goes away. */
  close?(): Promise<void>;
};
