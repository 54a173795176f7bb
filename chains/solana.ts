import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "solana",
  kind: "solana",
  name: "Solana mainnet-beta",
  genesisHash: "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d",
  // Backstop reads only `finalized` slots: a stored slot that stops being finalized halts the chain
  // (CHAIN__DEEP_REORG). This depth only sizes the header window.
  finalityDepth: 32,
  nativeAsset: { symbol: "SOL", decimals: 9 },
  /** Token programs whose accounts are custody balances: SPL Token and Token-2022. */
  tokenPrograms: ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"],
});
