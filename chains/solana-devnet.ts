import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "solana-devnet",
  kind: "solana",
  name: "Solana devnet",
  genesisHash: "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG",
  // Backstop reads only `finalized` slots; a stored slot that stops being finalized is rolled back
  // up to this many stored slots deep, deeper halts the indexer (SOLANA__FINALIZED_REORG).
  finalityDepth: 32,
  nativeAsset: { symbol: "SOL", decimals: 9 },
  /** Token programs whose accounts are custody balances: SPL Token and Token-2022. */
  tokenPrograms: ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"],
});
