import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "bitcoin-signet",
  kind: "bitcoin",
  name: "Bitcoin signet",
  genesisHash: "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
  network: "signet",
  // Confirmations before a block backs a checkpoint (ARCHITECTURE.md decision 4).
  finalityDepth: 6,
  nativeAsset: { symbol: "BTC", decimals: 8 },
});
