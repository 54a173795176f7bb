import type { Hex } from "viem";
import type { Logger } from "../../lib/logger.js";
import { fetchBalancesAtBlock, type BalanceReader, type FetchBalancesAtBlockParameters, type RequestFn } from "./fetch-balances-at-block.js";

export type ProbeBalanceReaderParameters = {
  chain: FetchBalancesAtBlockParameters["chain"] & { wallets: readonly Hex[] };
  /** The head (or any recent block): both readers read it. */
  blockNumber: bigint;
  blockHash?: Hex;
};

/**
 * Which reader the block handler uses: Backstop's (a state override) when the provider runs it and it
 * answers what Multicall3 answers at the block, for a native balance (Multicall3's own and the first
 * wallet's) and every token; else Multicall3, with a warning. Transport failures (retryable) are thrown
 * for the caller's retries. @throws RPC transport errors; BalanceReadError when Multicall3 itself fails
 */
export async function probeBalanceReader(ctx: { request: RequestFn; log: Pick<Logger, "warn"> }, p: ProbeBalanceReaderParameters): Promise<BalanceReader> {
  const first = p.chain.wallets[0];
  const pairs = [
    { wallet: p.chain.multicall3, asset: p.chain.nativeAsset },
    ...(first ? [{ wallet: first, asset: p.chain.nativeAsset }] : []),
    ...p.chain.tokens.map((t) => ({ wallet: first ?? t.address, asset: t.asset })),
  ];
  const at = { chain: p.chain, blockNumber: p.blockNumber, ...(p.blockHash ? { blockHash: p.blockHash } : {}), pairs };
  const expected = await fetchBalancesAtBlock({ request: ctx.request }, { ...at, reader: "multicall3" });
  try {
    const got = await fetchBalancesAtBlock({ request: ctx.request }, { ...at, reader: "override" });
    if (got.every((v, i) => v === expected[i])) return "override";
    ctx.log.warn({ msg: "balance reader disagrees with Multicall3: reading balances with Multicall3", block: Number(p.blockNumber) });
  } catch (err) {
    if ((err as { retryable?: boolean }).retryable) throw err;
    ctx.log.warn({ msg: "provider refuses eth_call state overrides: reading balances with Multicall3", block: Number(p.blockNumber), error: (err as Error).message.slice(0, 200) });
  }
  return "multicall3";
}
