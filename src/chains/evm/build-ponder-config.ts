import { erc20Abi } from "../../../abis/erc20.js";
import type { PonderPlan } from "./ponder-plan.js";

/** Ponder source names; the handlers in `src/chains/evm/ponder/` register on these. */
export const PONDER_SOURCES = {
  /** ERC-20 `Transfer` logs *to* a custody wallet. */
  erc20In: "Erc20In",
  /** ERC-20 `Transfer` logs *from* a custody wallet (a second source: Ponder keeps only the last filter per event). */
  erc20Out: "Erc20Out",
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
   * make 2·tokens·wallets fragments (even) plus one per block source; a second block
   * source keeps the total even, so it is never ≡ 1 (mod 200). 1,000 wallets × 5 tokens hit it.
   */
  pad: "BackstopPad",
} as const;

/**
 * Builds the argument of Ponder's `createConfig` from a Backstop plan. Pure.
 * @throws Error when a chain's RPC variable is unset.
 */
export function buildPonderConfig(plan: PonderPlan, env: NodeJS.ProcessEnv) {
  const chains: Record<string, { id: number; rpc: string[]; pollingInterval?: number; maxRequestsPerSecond?: number; disableCache: boolean }> = {};
  const erc20In: Record<string, object> = {};
  const erc20Out: Record<string, object> = {};
  const blocks: Record<string, object> = {};
  const pad: Record<string, object> = {};
  for (const c of plan.chains) {
    const rpc = (env[c.rpcEnv] ?? "").split(/\s+/).filter(Boolean);
    if (rpc.length === 0) throw new Error(`RPC variable ${c.rpcEnv} for chain ${c.key} is empty`);
    chains[c.key] = { id: c.chainId, rpc, disableCache: false, ...(c.pollingInterval ? { pollingInterval: c.pollingInterval } : {}), ...(c.maxRequestsPerSecond ? { maxRequestsPerSecond: c.maxRequestsPerSecond } : {}) };
    if (c.tokens.length > 0 && c.wallets.length > 0) {
      const address = c.tokens.map((t) => t.address);
      erc20In[c.key] = { address, startBlock: c.startBlock, filter: { event: "Transfer", args: { to: c.wallets } } };
      erc20Out[c.key] = { address, startBlock: c.startBlock, filter: { event: "Transfer", args: { from: c.wallets } } };
    }
    blocks[c.key] = { interval: 1, startBlock: c.startBlock };
    pad[c.key] = { interval: 1_000_000_000, startBlock: c.startBlock };
  }
  const hasTokens = Object.keys(erc20In).length > 0;
  return {
    ordering: "multichain" as const,
    ...(plan.pgliteDir ? { database: { kind: "pglite" as const, directory: plan.pgliteDir } } : {}),
    chains,
    contracts: hasTokens
      ? {
          [PONDER_SOURCES.erc20In]: { abi: erc20Abi, chain: erc20In },
          [PONDER_SOURCES.erc20Out]: { abi: erc20Abi, chain: erc20Out },
        }
      : {},
    blocks: { [PONDER_SOURCES.blocks]: { chain: blocks }, [PONDER_SOURCES.pad]: { chain: pad } },
  };
}
