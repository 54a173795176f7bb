import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "bitcoin-regtest",
  kind: "bitcoin",
  name: "Bitcoin regtest",
  genesisHash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
  network: "regtest",
  // Confirmations before a block backs a checkpoint (ARCHITECTURE.md decision 4).
  finalityDepth: 6,
  nativeAsset: { symbol: "BTC", decimals: 8 },
});
