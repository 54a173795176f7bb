import { startBitcoinDemo } from "./bitcoin.js";
import { startEvmDemo } from "./evm.js";
import { startSolanaDemo } from "./solana.js";
import type { StartDemoPart } from "./types.js";

/** The demo's parts, in start order (one line per chain family). */
export const DEMO_PARTS: StartDemoPart[] = [startBitcoinDemo, startEvmDemo, startSolanaDemo];
