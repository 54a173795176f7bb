import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "bitcoin",
  kind: "bitcoin",
  name: "Bitcoin",
  genesisHash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  network: "mainnet",
  // Confirmations before a block backs a checkpoint (ARCHITECTURE.md decision 4).
  finalityDepth: 6,
  nativeAsset: { symbol: "BTC", decimals: 8 },
});
