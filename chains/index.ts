import type { ChainDescriptor } from "../src/lib/chain.js";
import bitcoin from "./bitcoin.js";
import bitcoinRegtest from "./bitcoin-regtest.js";
import bitcoinSignet from "./bitcoin-signet.js";
import bitcoinTestnet from "./bitcoin-testnet.js";
import anvil from "./anvil.js";
import anvilBase from "./anvil-base.js";
import anvilFinalized from "./anvil-finalized.js";
import base from "./base.js";
import ethereum from "./ethereum.js";
import solana from "./solana.js";
import solanaDevnet from "./solana-devnet.js";
import solanaLocal from "./solana-local.js";

/** Every chain descriptor Backstop knows, by descriptor id. */
export const CHAINS: Record<string, ChainDescriptor> = Object.fromEntries(
  [bitcoin, bitcoinTestnet, bitcoinSignet, bitcoinRegtest, ethereum, base, anvil, anvilBase, anvilFinalized, solana, solanaDevnet, solanaLocal].map((c) => [c.id, c]),
);
