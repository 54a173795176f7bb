import { encodeFunctionData, zeroAddress } from "viem";
import { multicall3Abi } from "../../../abis/multicall3.js";
import { RpcMethodError } from "../../lib/rpc-errors.js";
import type { EvmRpc } from "./create-evm-rpc.js";
import { EvmMethodUnavailableError } from "./errors.js";

/** The JSON-RPC methods the default EVM design needs; nothing of debug_*, trace_* or receipts. */
export const EVM_REQUIRED_METHODS = ["eth_chainId", "eth_blockNumber", "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getLogs", "eth_call"] as const;

/**
 * Checks at start that the node offers every method the configured sources need, with a real call each:
 * block by number and by hash at `startHeight`, a one-block `eth_getLogs` there, and an `eth_call` at
 * `startHeight` (historical state: an archive node when the start is in the past). A method the node
 * refuses (a JSON-RPC error) is fatal and named; transport failures are left to the caller's retries.
 * @throws EvmMethodUnavailableError, RPC transport errors
 */
export async function checkEvmMethods(
  ctx: { rpc: EvmRpc; chain: string; provider: string },
  p: { startHeight: number; multicall3: string },
): Promise<void> {
  const { rpc, chain, provider } = ctx;
  const { startHeight, multicall3 } = p;
  const at = `0x${startHeight.toString(16)}`;
  const check = async <T>(method: string, params: unknown[], problem?: (r: T) => string | undefined): Promise<T> => {
    let r: T;
    try {
      r = await rpc.request<T>(method, params);
    } catch (cause) {
      if (cause instanceof RpcMethodError) throw new EvmMethodUnavailableError({ chain, method, provider, problem: cause.shortMessage.slice(0, 160), cause });
      throw cause;
    }
    const bad = problem?.(r);
    if (bad) throw new EvmMethodUnavailableError({ chain, method, provider, problem: bad });
    return r;
  };
  await check<string>("eth_chainId", []);
  await check<string>("eth_blockNumber", []);
  const block = await check<{ hash: string } | null>("eth_getBlockByNumber", [at, false], (r) => (r ? undefined : `no block at startHeight ${startHeight}`));
  await check<unknown>("eth_getBlockByHash", [block!.hash, true], (r) => (r ? undefined : `no block ${block!.hash}`));
  await check<unknown[]>("eth_getLogs", [{ fromBlock: at, toBlock: at, topics: [] }], (r) => (Array.isArray(r) ? undefined : "not a list of logs"));
  // Historical state: an eth_call at the start block ("0x" when Multicall3 is not deployed yet there is fine).
  const data = encodeFunctionData({ abi: multicall3Abi, functionName: "getEthBalance", args: [zeroAddress] });
  await check<string>("eth_call", [{ to: multicall3, data }, at], (r) => (typeof r === "string" ? undefined : "not hex data"));
}
