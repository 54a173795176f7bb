import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "anvil-finalized",
  kind: "evm",
  name: "Anvil devnet, final by its finalized tag",
  chainId: 31337,
  // Same genesis as chains/anvil.ts (the devnet launcher's fixed timestamp).
  genesisHash: "0xc56b8342e33b57477139f45874ae699b6fe1ca1a65d089b78c34dabc3206e07b",
  // Anvil answers the `finalized` (latest - 64) and `safe` (latest - 32) tags: this descriptor follows them,
  // as Ethereum and Base do, to test that path on a local node. The depth only sizes the header window.
  finalizedTag: true,
  finalityDepth: 10,
  nativeAsset: { symbol: "ETH", decimals: 18 },
});
