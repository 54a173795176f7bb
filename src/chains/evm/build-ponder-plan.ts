import { getAddress, isAddress } from "viem";
import { MULTICALL3_ADDRESS } from "../../../abis/multicall3.js";
import type { ResolvedConfig } from "../../lib/config.js";
import type { PonderPlan, PonderPlanChain } from "./ponder-plan.js";

/** Default blocks between full snapshots of every (wallet, asset): ~20 min on Ethereum. */
export const DEFAULT_SNAPSHOT_INTERVAL = 100;

/** Name of the environment variable carrying a chain's RPC URLs to the Ponder child. */
export function rpcEnvName(chainKey: string): string {
  return `BACKSTOP_RPC_${chainKey.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Checks the EVM parts of a config for one chain: wallet and token addresses (0x + 40 hex; mixed case
 * must carry a valid EIP-55 checksum), one native asset, a positive snapshot interval. Returns every
 * problem with its config path (empty when valid). Pure.
 */
export function validateEvmChainConfig(config: ResolvedConfig, chainKey: string): string[] {
  const problems: string[] = [];
  const chain = config.chains[chainKey];
  if (!chain) return [`chains.${chainKey}: not configured`];
  if (chain.descriptor.chainId === undefined) problems.push(`chains.${chainKey}.chain: descriptor ${chain.descriptor.id} has no chainId`);
  const extra = chain as unknown as { snapshotInterval?: unknown; multicall3?: unknown };
  if (extra.snapshotInterval !== undefined && !(Number.isInteger(extra.snapshotInterval) && (extra.snapshotInterval as number) >= 1))
    problems.push(`chains.${chainKey}.snapshotInterval: must be a positive integer (blocks)`);
  const mrps = (chain as unknown as { maxRequestsPerSecond?: unknown }).maxRequestsPerSecond;
  if (mrps !== undefined && !(Number.isInteger(mrps) && (mrps as number) >= 1))
    problems.push(`chains.${chainKey}.maxRequestsPerSecond: must be a positive integer (requests/s)`);
  if (extra.multicall3 !== undefined && !(typeof extra.multicall3 === "string" && isAddress(extra.multicall3, { strict: true })))
    problems.push(`chains.${chainKey}.multicall3: not a valid address`);
  const natives = Object.values(config.assets).filter((a) => a.chain === chainKey && a.native);
  if (natives.length !== 1) problems.push(`assets: chain "${chainKey}" needs exactly one native asset (e.g. ETH with native: true, decimals: 18)`);
  const seenTokens = new Map<string, string>();
  const tokenCount = Object.values(config.assets).filter((a) => a.chain === chainKey && !a.native).length;
  // Ponder 0.16.10 crashes on tokens + 2 filter fragments ≡ 1 (mod 200): see PONDER_SOURCES.pad.
  if (tokenCount % 200 === 199) problems.push(`assets: chain "${chainKey}" has ${tokenCount} tokens; Ponder 0.16.10 cannot index a number ≡ 199 (mod 200) (add or remove one)`);
  for (const a of Object.values(config.assets)) {
    if (a.chain !== chainKey || a.native) continue;
    if (!a.address || !isAddress(a.address, { strict: true })) {
      problems.push(`assets.${a.id}.address: "${String(a.address).slice(0, 60)}" is not an EVM address (0x + 40 hex, EIP-55 checksum if mixed case)`);
      continue;
    }
    const lower = a.address.toLowerCase();
    const prev = seenTokens.get(lower);
    if (prev) problems.push(`assets.${a.id}.address: same token as assets.${prev}`);
    else seenTokens.set(lower, a.id);
  }
  config.wallets.forEach((w, i) => {
    if (w.chain !== chainKey) return;
    if (!w.address || !isAddress(w.address, { strict: true }))
      problems.push(`wallets[${i}].address: "${String(w.address).slice(0, 60)}" is not an EVM address (0x + 40 hex, EIP-55 checksum if mixed case)`);
  });
  return problems;
}

/** Builds the Ponder plan for one EVM chain from a validated config. Pure; call validateEvmChainConfig first. */
export function buildPonderPlan(config: ResolvedConfig, chainKey: string, p: { pgliteDir?: string; namespace?: string }): PonderPlan {
  const chain = config.chains[chainKey]!;
  const extra = chain;
  const native = Object.values(config.assets).find((a) => a.chain === chainKey && a.native)!;
  const c: PonderPlanChain = {
    key: chainKey,
    chainId: chain.descriptor.chainId!,
    rpcEnv: rpcEnvName(chainKey),
    startBlock: chain.startHeight,
    snapshotInterval: extra.snapshotInterval ?? DEFAULT_SNAPSHOT_INTERVAL,
    pollingInterval: Math.min(chain.pollIntervalMs, 1000),
    ...(extra.maxRequestsPerSecond ? { maxRequestsPerSecond: extra.maxRequestsPerSecond } : {}),
    multicall3: getAddress(extra.multicall3 ?? MULTICALL3_ADDRESS).toLowerCase() as `0x${string}`,
    nativeAsset: native.id,
    wallets: [...new Set(config.wallets.filter((w) => w.chain === chainKey).map((w) => w.address!.toLowerCase() as `0x${string}`))].sort(),
    tokens: Object.values(config.assets)
      .filter((a) => a.chain === chainKey && !a.native)
      .map((a) => ({ asset: a.id, address: a.address!.toLowerCase() as `0x${string}` }))
      .sort((x, y) => (x.asset < y.asset ? -1 : 1)),
  };
  return { version: 1, ...(p.pgliteDir ? { pgliteDir: p.pgliteDir } : {}), ...(p.namespace ? { namespace: p.namespace } : {}), chains: [c] };
}
