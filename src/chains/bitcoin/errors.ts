import { BackstopError } from "../../lib/errors.js";

/** The node is on another network than the chain's descriptor (genesis hash differs). Fatal. */
export class WrongNetworkError extends BackstopError {
  override name = "WrongNetworkError";
  constructor(p: { chain: string; expected: string; actual: string; network?: string }) {
    super("BITCOIN__WRONG_NETWORK", `The node for ${p.chain} is on another network: genesis ${p.actual}, expected ${p.expected}.`, {
      meta: p.network ? [`  node reports chain "${p.network}"`] : [],
    });
  }
}

/** The node is still syncing (initial block download, or headers ahead of blocks); its tip is not the chain's. */
export class NodeSyncingError extends BackstopError {
  override name = "NodeSyncingError";
  constructor(p: { chain: string; blocks: number; headers: number }) {
    super("BITCOIN__NODE_SYNCING", `The node for ${p.chain} is still syncing (blocks ${p.blocks}, headers ${p.headers}).`, {
      meta: ["  Wait until it has caught up; Backstop refuses to index a chain tip that is not the network's."],
      retryable: true,
    });
  }
}

/** A reorg reaches deeper than the chain's finality depth: the indexer halts instead of silently diverging. */
export class DeepReorgError extends BackstopError {
  override name = "DeepReorgError";
  constructor(p: { chain: string; depth: number; finalityDepth: number; height: number; storedHash: string; nodeHash: string | null }) {
    super("CHAIN__DEEP_REORG", `Reorg on ${p.chain} deeper than finality: ${p.depth} blocks (finality ${p.finalityDepth}). Indexer halted.`, {
      meta: [
        `  at height ${p.height}: stored ${p.storedHash}, node ${p.nodeHash ?? "(no block)"}`,
        "  Checkpoints over these heights must be reviewed; restart after investigating.",
      ],
    });
  }
}

/** The node's block data contradicts itself (hash, parent or merkle root): a lying or broken provider. */
export class InconsistentBlockError extends BackstopError {
  override name = "InconsistentBlockError";
  constructor(p: { chain: string; height: number; problem: string }) {
    super("BITCOIN__INCONSISTENT_BLOCK", `Block ${p.height} from the ${p.chain} node is inconsistent: ${p.problem}.`, { retryable: true });
  }
}

/** The chain's config is unusable for the Bitcoin indexer (wallets, assets). */
export class BitcoinConfigError extends BackstopError {
  override name = "BitcoinConfigError";
  constructor(p: { chain: string; problem: string }) {
    super("BITCOIN__CONFIG", `Chain ${p.chain}: ${p.problem}.`);
  }
}
