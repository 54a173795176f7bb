import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "base",
  kind: "evm",
  name: "Base",
  chainId: 8453,
  genesisHash: "0xf712aa9241cc24369b143cf6dce85f0902a9731e70d66818a3a5845b296c73dd",
  // Sizes the header window only (finality is the node's `finalized` tag below). Ponder 0.16 keeps a 30-block
  // unfinalized window on chains it does not know (all but 1, 137, 42161 and their testnets): a reorg deeper
  // than that crashes Ponder (the chain then halts), see docs/evm.md.
  finalityDepth: 30,
  // Final = L1-finalized (the OP node's "finalized" tag: L2 blocks derived from finalized L1 batches, ~15-20 min),
  // not a block count.
  finalizedTag: true,
  nativeAsset: { symbol: "ETH", decimals: 18 },
});
