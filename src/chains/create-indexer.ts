import { createBitcoinAdapter } from "./bitcoin/create-bitcoin-adapter.js";
import type { ChainAdapter } from "./chain-adapter.js";
import { createEvmAdapter } from "./evm/create-evm-adapter.js";
import { createFollower } from "./follow-chain.js";
import type { Indexer, IndexerContext } from "./indexer.js";
import { createSolanaAdapter } from "./solana/create-solana-adapter.js";

export { withInstanceLock } from "./follow-chain.js";

/**
 * Creates the indexer for the context's chain: the one follower (follow-chain.ts) with the adapter of the
 * chain's kind. Its `run` holds the chain's instance lock (`chain:<key>` in the store) while it runs.
 * @throws BackstopError when the chain's config is unusable for its kind
 */
export function createIndexer(ctx: IndexerContext): Indexer {
  const kind = ctx.config.chains[ctx.chainKey]!.descriptor.kind;
  let adapter: ChainAdapter;
  switch (kind) {
    case "bitcoin":
      adapter = createBitcoinAdapter(ctx);
      break;
    case "evm":
      adapter = createEvmAdapter(ctx);
      break;
    case "solana":
      adapter = createSolanaAdapter(ctx);
      break;
    default:
      throw new Error(`no indexer for chain kind ${kind}`);
  }
  return createFollower(ctx, adapter);
}
