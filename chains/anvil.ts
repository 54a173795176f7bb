import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "anvil",
  kind: "evm",
  name: "Anvil devnet",
  chainId: 31337,
  // Anvil's genesis with `--timestamp 1700000000` (what src/devnet/evm/start-anvil.ts passes) and default accounts.
  genesisHash: "0xc56b8342e33b57477139f45874ae699b6fe1ca1a65d089b78c34dabc3206e07b",
  // Below Ponder's 30-block window for unknown chain ids.
  finalityDepth: 10,
  nativeAsset: { symbol: "ETH", decimals: 18 },
});
