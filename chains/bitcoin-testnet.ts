import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "bitcoin-testnet",
  kind: "bitcoin",
  name: "Bitcoin testnet3",
  genesisHash: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
  network: "testnet",
  // Confirmations before a block backs a checkpoint (ARCHITECTURE.md decision 4).
  finalityDepth: 6,
  nativeAsset: { symbol: "BTC", decimals: 8 },
});
