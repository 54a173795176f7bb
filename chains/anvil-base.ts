import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "anvil-base",
  kind: "evm",
  name: "Anvil devnet (chain id 8453)",
  chainId: 8453,
  // Same genesis as chains/anvil.ts: the chain id is not part of the genesis header; eth_chainId tells them apart.
  genesisHash: "0xc56b8342e33b57477139f45874ae699b6fe1ca1a65d089b78c34dabc3206e07b",
  finalityDepth: 10,
  nativeAsset: { symbol: "ETH", decimals: 18 },
});
