import { createBitcoinIndexer } from "./bitcoin/create-bitcoin-indexer.js";
import { createEvmIndexer } from "./evm/create-evm-indexer.js";
import type { Indexer, IndexerContext } from "./indexer.js";
import { createSolanaIndexer } from "./solana/create-solana-indexer.js";

/** Creates the indexer for the context's chain, by the chain's kind. @throws BackstopError */
export function createIndexer(ctx: IndexerContext): Indexer {
  const kind = ctx.config.chains[ctx.chainKey]!.descriptor.kind;
  switch (kind) {
    case "bitcoin":
      return createBitcoinIndexer(ctx);
    case "evm":
      return createEvmIndexer(ctx);
    case "solana":
      return createSolanaIndexer(ctx);
    default:
      throw new Error(`no indexer for chain kind ${kind}`);
  }
}
