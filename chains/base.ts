import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "base",
  kind: "evm",
  name: "Base",
  chainId: 8453,
  genesisHash: "0xf712aa9241cc24369b143cf6dce85f0902a9731e70d66818a3a5845b296c73dd",
  // Ponder 0.16 keeps a 30-block unfinalized window on chains it does not know (all but 1, 137, 42161 and
  // their testnets); a reorg deeper than that crashes Ponder, so Backstop's depth must not exceed it.
  finalityDepth: 30,
  nativeAsset: { symbol: "ETH", decimals: 18 },
});
