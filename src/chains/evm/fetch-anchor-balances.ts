import type { Hex } from "viem";
import { MULTICALL3_ADDRESS } from "../../../abis/multicall3.js";
import type { ResolvedConfig } from "../../lib/config.js";
import { createEvmRpc } from "./create-evm-rpc.js";
import { fetchBalancesAtBlock } from "./fetch-balances-at-block.js";

/**
 * A full read of (wallet, asset) balances at one anchor block, pinned by its hash (EIP-1898
 * `{ blockHash, requireCanonical: true }`), so a reorg between choosing the anchor and reading it fails
 * the read instead of reading another block. Base units, in the order of `pairs`.
 * @throws BalanceReadError, RpcUnavailableError, RpcMethodError
 */
export async function fetchAnchorBalances(
  config: Pick<ResolvedConfig, "chains" | "assets">,
  p: { chain: string; height: number; hash: string; pairs: ReadonlyArray<{ wallet: string; asset: string }> },
): Promise<bigint[]> {
  const chain = config.chains[p.chain]!;
  const rpc = createEvmRpc({ chain: p.chain, urls: chain.rpc, timeoutMs: chain.rpcTimeoutMs });
  const assets = Object.values(config.assets).filter((a) => a.chain === p.chain);
  const native = assets.find((a) => a.native)?.id ?? "";
  const request = (a: { method: string; params: unknown[] }) =>
    rpc.request(a.method, a.method === "eth_call" ? [a.params[0], { blockHash: p.hash, requireCanonical: true }] : a.params);
  return fetchBalancesAtBlock({ request }, {
    chain: {
      key: p.chain,
      multicall3: ((chain as { multicall3?: string }).multicall3 ?? MULTICALL3_ADDRESS).toLowerCase() as Hex,
      nativeAsset: native,
      tokens: assets.filter((a) => !a.native && a.address).map((a) => ({ asset: a.id, address: a.address!.toLowerCase() as Hex })),
    },
    blockNumber: BigInt(p.height),
    pairs: p.pairs.map((x) => ({ wallet: x.wallet.toLowerCase() as Hex, asset: x.asset })),
  });
}
