import { readFileSync } from "node:fs";

/**
 * What one Ponder child indexes: written by Backstop (`buildPonderPlan`) as JSON, read by
 * `ponder.config.ts`, the indexing handlers and the API route through `BACKSTOP_PONDER_PLAN`.
 * RPC URLs are not in the plan (it is a file on disk); the child gets them in the environment
 * variable named by `rpcEnv`, space-separated.
 */
export type PonderPlan = {
  version: 1;
  /** PGlite directory; absent when `DATABASE_URL` (Postgres) is used. */
  pgliteDir?: string;
  /** With Postgres: the Backstop store's schema, so two deployments sharing a database get distinct Ponder schemas. */
  namespace?: string;
  chains: PonderPlanChain[];
};

/** One EVM chain in a Ponder plan. Addresses are lowercase 0x-hex. */
export type PonderPlanChain = {
  /** Backstop chain key, used as Ponder's chain name (e.g. `ethereum`). */
  key: string;
  /** EIP-155 chain id. */
  chainId: number;
  /** Name of the environment variable holding the RPC URL(s), space-separated. */
  rpcEnv: string;
  /** First block to index. */
  startBlock: number;
  /** Every how many blocks every (wallet, asset) balance is read; catches rebasing, withdrawals, fee income. */
  snapshotInterval: number;
  /** Milliseconds between head polls; Ponder's default is 1 000. */
  pollingInterval?: number;
  /** Ponder's RPC rate limit for this chain; Ponder's default is 50 requests/s. */
  maxRequestsPerSecond?: number;
  /** Multicall3 address used for batched reads. */
  multicall3: `0x${string}`;
  /**
   * How the block handler reads balances: `override` (Backstop's reader run through an `eth_call` state
   * override, balance-reader-code.ts) or `multicall3`. Decided by the adapter's start-up probe; absent
   * means `multicall3`.
   */
  balanceReader?: "override" | "multicall3";
  /** Backstop asset id of the native coin (e.g. `ETH`). */
  nativeAsset: string;
  /** Custody wallets (lowercase). */
  wallets: `0x${string}`[];
  /** Tokens: Backstop asset id and contract address (lowercase). */
  tokens: Array<{ asset: string; address: `0x${string}` }>;
};

/** Name of the environment variable that points Ponder at the plan file. */
export const PONDER_PLAN_ENV = "BACKSTOP_PONDER_PLAN";

/** Reads and parses the plan file named by `BACKSTOP_PONDER_PLAN`. @throws Error when unset or unreadable. */
export function loadPonderPlan(env: NodeJS.ProcessEnv = process.env): PonderPlan {
  const file = env[PONDER_PLAN_ENV];
  if (!file) throw new Error(`${PONDER_PLAN_ENV} is not set: Ponder is started by Backstop (backstop index --chain <evm chain>)`);
  const plan = JSON.parse(readFileSync(file, "utf8")) as PonderPlan;
  if (plan.version !== 1) throw new Error(`Unsupported Backstop Ponder plan version ${String(plan.version)}`);
  return plan;
}
