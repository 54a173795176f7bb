import type { EvmRpc } from "./create-evm-rpc.js";
import type { VisibleTransaction } from "./compute-native-attribution.js";
import { EvmBlockUnavailableError } from "./errors.js";

type RawTx = { hash: string; transactionIndex: string; from: string; to: string | null; value: string; gas: string; gasPrice?: string; maxFeePerGas?: string };

/** Concurrent eth_getBlockByHash calls per page (a page names at most 200 blocks). */
const CONCURRENCY = 8;

/**
 * The top-level transactions of blocks, by hash (EIP-1898 safe: never another block at the height), with
 * an upper bound of each one's fee. `eth_getBlockByHash(hash, true)`: one call per block, only for blocks
 * where a custody wallet's native balance changed. Addresses lowercase, amounts wei.
 * @throws EvmBlockUnavailableError when the node no longer has a block (reorged away meanwhile), RPC errors
 */
export async function fetchBlockTransactions(ctx: { rpc: EvmRpc; chain: string }, p: { blocks: ReadonlyArray<{ number: number; hash: string }> }): Promise<Map<number, VisibleTransaction[]>> {
  const out = new Map<number, VisibleTransaction[]>();
  for (let i = 0; i < p.blocks.length; i += CONCURRENCY) {
    await Promise.all(
      p.blocks.slice(i, i + CONCURRENCY).map(async (b) => {
        const block = await ctx.rpc.request<{ transactions: RawTx[] } | null>("eth_getBlockByHash", [b.hash, true]);
        if (!block) throw new EvmBlockUnavailableError({ chain: ctx.chain, height: b.number, hash: b.hash });
        out.set(
          b.number,
          block.transactions.map((t) => ({
            hash: t.hash,
            index: Number(BigInt(t.transactionIndex)),
            from: t.from.toLowerCase(),
            to: t.to ? t.to.toLowerCase() : null,
            value: BigInt(t.value),
            maxFee: BigInt(t.gas) * BigInt(t.maxFeePerGas ?? t.gasPrice ?? "0x0"),
          })),
        );
      }),
    );
  }
  return out;
}
