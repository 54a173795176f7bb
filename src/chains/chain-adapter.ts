import type { BackstopError } from "../lib/errors.js";
import type { BackfillChange, Db, SaveBlockParameters, SaveWalletBackfillParameters, WalletStatus } from "../store/index.js";

/** A provider's view of the chain head. Heights (Solana: slots). `finalized` <= `tip`; `safe` where the chain has it (EVM). */
export type ChainHead = { tip: number; finalized: number; safe?: number };

/** What a provider has at a height: a block with this hash, no block (a Solana skipped slot), or nothing yet (beyond its tip). */
export type HashAt = { kind: "block"; hash: string } | { kind: "empty" } | { kind: "beyond-tip" };

/**
 * One configured RPC provider, addressed on its own (no failover to the others): the follower reads the
 * head from one provider at a time, walks back against one provider, and moves between them itself, so a
 * provider that lags can never be mistaken for a reorg.
 */
export type ChainProvider = {
  /** Host (and port) for messages and health; never credentials, path or query. */
  host: string;
  /** The head as this provider sees it. @throws InconsistentHeadError when it contradicts itself, RPC errors */
  fetchHead(): Promise<ChainHead>;
  /** What this provider has at `height`. @throws RPC errors */
  fetchHashAt(height: number): Promise<HashAt>;
  /** Chain identity (genesis hash, EVM chain id). @throws WrongNetworkError */
  checkIdentity(): Promise<void>;
};

/** One decoded block, ready for saveBlockIn (the follower adds the finalized height), plus adapter writes in the same transaction. */
export type DecodedBlock = {
  save: Omit<SaveBlockParameters, "finalizedHeight">;
  /** Extra writes of this block inside its transaction (e.g. Bitcoin addresses first used). */
  within?: (db: Db) => Promise<void>;
};

/** What one fetchBatch call produced: consecutive blocks after `prev`, and why it stopped. */
export type FetchBatchResult = {
  /** In height order; each extends the previous one (and the first extends `prev`). */
  blocks: DecodedBlock[];
  /** Highest height examined (>= the last block's; Solana: skipped slots after it). from - 1 when none. */
  scannedTo: number;
  /** The block at this height does not extend the stored chain: a reorg; the follower walks back. */
  reorgAt?: number;
  /** The node's chain moved under the fetch (heights vanished): re-read the head before going on. */
  moved?: boolean;
  /** Nothing to fetch yet (EVM: Ponder behind the node); a `--once` run waits for it up to a limit, then throws this. */
  waiting?: BackstopError;
  /** A failure after `blocks` were decoded: the follower stores them, then throws this. */
  error?: unknown;
};

/** A wallet's backfill, computed against a cursor, for saveWalletBackfill. */
export type WalletBackfill = Omit<SaveWalletBackfillParameters, "chain" | "walletId" | "expectCursor"> & { changes: BackfillChange[] };

export type FetchBatchParameters = {
  /** First height to fetch. */
  from: number;
  /** Last height to fetch (the provider's tip, or `--to`). */
  to: number;
  /** The stored tip; undefined on a store that has not indexed the chain yet. */
  prev: { height: number; hash: string } | undefined;
  head: ChainHead;
  signal?: AbortSignal;
};

/**
 * A chain's adapter: what the one follower (follow-chain.ts) cannot know about a chain. It fetches and
 * decodes blocks and keeps its in-memory view of the store; the follower owns the cursor, walk-back,
 * finality, providers, retry, wallet lifecycle, health and the instance lock.
 */
export type ChainAdapter = {
  /** The config's problems for this chain, each with its path (no I/O); non-empty refuses the run before any call. */
  validate(): string[];
  /** The config error for `problems` (chain-specific type). */
  configError(problems: string[]): BackstopError;
  /** Per-provider handles, in config order. */
  providers: readonly ChainProvider[];
  /** Makes the adapter's block fetching start at this provider (failover continues in config order). */
  useProvider(index: number): void;
  /**
   * Node checks that write nothing, run once per follower after the provider's identity check (Bitcoin:
   * not syncing; EVM: Multicall3 and tokens; Solana: mints).
   */
  prepare(p: { provider: ChainProvider }): Promise<void>;
  /** Rebuilds in-memory state from the store for the wallets that count (`active`). Called at start, after any failed write and after a rollback. */
  loadState(p: { wallets: readonly WalletStatus[] }): Promise<void>;
  /** First height to index on an empty store (Solana: the baseline or birthday slot). */
  startHeight(head: ChainHead): number;
  /**
   * Blocks stored per transaction (default: a whole batch). Small transactions make progress on a flaky
   * database (Solana, EVM: 1, as before); Bitcoin stores its prefetch group of 16 in one.
   */
  blocksPerCommit?: number;
  /** Fetches and decodes the next blocks in [from, to]. Never writes blocks (the follower does). */
  fetchBatch(p: FetchBatchParameters): Promise<FetchBatchResult>;
  /**
   * Whether a reorg as deep as `finalityDepth` blocks halts even above the recorded finalized height
   * (chains whose finality is a block count: Bitcoin, EVM without a `finalized` tag).
   */
  depthFinality: boolean;
  /**
   * Computes the backfill of a wallet added to an indexed chain, from its birthday (or the chain's start)
   * to the cursor; `{ after }` when it needs the cursor at or above that height first (the follower indexes
   * up to it and asks again). Absent: wallets added later stay `pending` with `pendingReason`.
   */
  backfillWallet?(p: { wallet: WalletStatus; cursor: { height: number; hash: string }; signal?: AbortSignal }): Promise<WalletBackfill | { after: number }>;
  /** Why a wallet added later is pending, when the adapter has no backfill (EVM until issue 9 lands it). */
  pendingReason?: string;
  /**
   * After catching up to the head (Solana: the balance check). `first`: the first time in this run.
   * `indexTo` catches the follower up to a height first.
   */
  afterCatchUp?(p: { cursor: { height: number; hash: string }; first: boolean; indexTo(height: number): Promise<boolean>; signal?: AbortSignal }): Promise<void>;
  /** End of a run: `keep` when a `--once` run succeeded (EVM keeps Ponder running for the next one). */
  end?(p: { keep: boolean }): Promise<void>;
};
