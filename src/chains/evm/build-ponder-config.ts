import { erc20Abi } from "../../../abis/erc20.js";
import type { PonderPlan } from "./ponder-plan.js";

/** Ponder source names; the handlers in `src/chains/evm/ponder/` register on these. */
export const PONDER_SOURCES = {
  /**
   * Every ERC-20 `Transfer` log of the configured tokens (filtered by token address only; the handler keeps
   * those from or to a custody wallet). Not by wallet in the topics: Ponder turns each (address, topic
   * value) into a filter fragment with its own interval bookkeeping, 10,000 at 1,000 wallets × 5 tokens ×
   * 2 directions, and that bookkeeping (PGlite, ~4 s per sync round) dominated the backfill.
   */
  erc20: "Erc20",
  /**
   * Every block: reads every wallet's native balance and the token pairs the block's logs touched, writes
   * the header; every `snapshotInterval` blocks a full read of every (wallet, token). No traces, no
   * receipts: the only sources are this block source and range `eth_getLogs` (there is no `accounts`
   * source: Ponder's transaction filters fetch a receipt for every matched transaction, its transfer
   * filters `debug_traceBlockByNumber` for every block).
   */
  blocks: "BackstopBlock",
  /**
   * An inert block source (one event, at the start block). Works around a Ponder 0.16.10 bug: its
   * sync store reads cached intervals with one query per filter fragment, `unionAll`-ed in batches of
   * 200 (sync-store/index.ts getIntervals), and a last batch of exactly one query crashes drizzle
   * ("Cannot read properties of undefined (reading 'getSelectedFields')") in a retry loop. Our sources
   * make one fragment per token plus one per block source: with this pad, tokens + 2, never ≡ 1
   * (mod 200) unless tokens ≡ 199 (mod 200), which validateEvmChainConfig refuses. (With per-wallet
   * Transfer filters, 1,000 wallets × 5 tokens hit it.)
   */
  pad: "BackstopPad",
} as const;

/**
 * Builds the argument of Ponder's `createConfig` from a Backstop plan. Pure.
 * @throws Error when a chain's RPC variable is unset.
 */
export function buildPonderConfig(plan: PonderPlan, env: NodeJS.ProcessEnv) {
  const chains: Record<string, { id: number; rpc: string[]; pollingInterval?: number; maxRequestsPerSecond?: number; disableCache: boolean }> = {};
  const erc20: Record<string, object> = {};
  const blocks: Record<string, object> = {};
  const pad: Record<string, object> = {};
  for (const c of plan.chains) {
    const rpc = (env[c.rpcEnv] ?? "").split(/\s+/).filter(Boolean);
    if (rpc.length === 0) throw new Error(`RPC variable ${c.rpcEnv} for chain ${c.key} is empty`);
    chains[c.key] = { id: c.chainId, rpc, disableCache: false, ...(c.pollingInterval ? { pollingInterval: c.pollingInterval } : {}), ...(c.maxRequestsPerSecond ? { maxRequestsPerSecond: c.maxRequestsPerSecond } : {}) };
    if (c.tokens.length > 0 && c.wallets.length > 0) {
      // No `filter`: Ponder fetches the events that have an indexing function (Transfer only).
      erc20[c.key] = { address: c.tokens.map((t) => t.address), startBlock: c.startBlock };
    }
    blocks[c.key] = { interval: 1, startBlock: c.startBlock };
    pad[c.key] = { interval: 1_000_000_000, startBlock: c.startBlock };
  }
  const hasTokens = Object.keys(erc20).length > 0;
  return {
    ordering: "multichain" as const,
    ...(plan.pgliteDir ? { database: { kind: "pglite" as const, directory: plan.pgliteDir } } : {}),
    chains,
    contracts: hasTokens
      ? { [PONDER_SOURCES.erc20]: { abi: erc20Abi, chain: erc20 } }
      : {},
    blocks: { [PONDER_SOURCES.blocks]: { chain: blocks }, [PONDER_SOURCES.pad]: { chain: pad } },
  };
}
