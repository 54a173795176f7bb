import { decodeFunctionResult, encodeFunctionData, numberToHex, type Hex } from "viem";
import { erc20Abi } from "../../../abis/erc20.js";
import { multicall3Abi } from "../../../abis/multicall3.js";
import { BALANCE_READER_ADDRESS, BALANCE_READER_CODE } from "./balance-reader-code.js";

/**
 * How balances are read: `override` runs Backstop's reader (balance-reader-code.ts) at one address through
 * an `eth_call` state override; `multicall3` uses Multicall3 `tryAggregate` (the fallback when the provider
 * refuses state overrides).
 */
export type BalanceReader = "override" | "multicall3";

/** Minimal EIP-1193 request function (Ponder's cached `context.client`, a viem client, a proxy). */
export type RequestFn = (a: { method: string; params: unknown[] }) => Promise<unknown>;

export type FetchBalancesAtBlockParameters = {
  chain: { key: string; multicall3: Hex; nativeAsset: string; tokens: Array<{ asset: string; address: Hex }> };
  /** Balances are read at the END of this block (eth_call state after it). */
  blockNumber: bigint;
  /** When given, the read is pinned to this block by hash (EIP-1898): never another block at the same height. */
  blockHash?: Hex;
  pairs: ReadonlyArray<{ wallet: Hex; asset: string }>;
  /** Sub-calls per eth_call with Multicall3; default READ_BATCH_SIZE. */
  batchSize?: number;
  /** Default `multicall3`. */
  reader?: BalanceReader;
};

/**
 * Default sub-calls per eth_call: 2,500. Budget: a cold `getEthBalance` costs ≈ 5k gas and a cold
 * `balanceOf` ≈ 8k, so 2,500 stay under 20M gas, below geth's default `eth_call` cap (50M) and the
 * 25M–30M caps of the usual hosted providers. 1,000 wallets' native balances plus the tokens touched
 * in a block fit in one call; a full read of 1,000 wallets × 5 tokens takes ⌈6,000 / 2,500⌉ = 3.
 */
export const READ_BATCH_SIZE = 2500;

/** Raised by a read whose result is not a uint256: no code at the token, or a non-ERC-20 contract. */
export class BalanceReadError extends Error {
  override name = "BalanceReadError";
}

/**
 * Reads native (Multicall3 `getEthBalance`) and ERC-20 (`balanceOf`) balances at one block with
 * Multicall3 `tryAggregate(false, …)`: ⌈pairs / batchSize⌉ eth_calls. Not `aggregate3` (same result):
 * Ponder's cached client splits an `aggregate3` into one cache row per sub-call (1,000 rows a block
 * at 1,000 wallets), while any other eth_call is one row. Returns base units in the order of `pairs`.
 * @throws BalanceReadError when a sub-call fails or returns something other than one uint256.
 */
export async function fetchBalancesAtBlock(ctx: { request: RequestFn }, p: FetchBalancesAtBlockParameters): Promise<bigint[]> {
  if (p.reader === "override") return fetchWithReader(ctx, p);
  const tokenOf = new Map(p.chain.tokens.map((t) => [t.asset, t.address]));
  const batchSize = p.batchSize ?? READ_BATCH_SIZE;
  const out: bigint[] = [];
  for (let i = 0; i < p.pairs.length; i += batchSize) {
    const chunk = p.pairs.slice(i, i + batchSize);
    const calls = chunk.map(({ wallet, asset }) => {
      if (asset === p.chain.nativeAsset)
        return { target: p.chain.multicall3, callData: encodeFunctionData({ abi: multicall3Abi, functionName: "getEthBalance", args: [wallet] }) };
      const token = tokenOf.get(asset);
      if (!token) throw new BalanceReadError(`asset ${asset} is not a token of chain ${p.chain.key}`);
      return { target: token, callData: encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [wallet] }) };
    });
    const data = encodeFunctionData({ abi: multicall3Abi, functionName: "tryAggregate", args: [false, calls] });
    const raw = (await ctx.request({
      method: "eth_call",
      params: [{ to: p.chain.multicall3, data }, p.blockHash ? { blockHash: p.blockHash } : numberToHex(p.blockNumber)],
    })) as Hex;
    if (raw === "0x") throw new BalanceReadError(`no Multicall3 code at ${p.chain.multicall3} on ${p.chain.key} at block ${p.blockNumber}`);
    const results = decodeFunctionResult({ abi: multicall3Abi, functionName: "tryAggregate", data: raw });
    results.forEach((r, j) => {
      const pair = chunk[j]!;
      // A call to an address without code "succeeds" with empty data. Backstop checks at start that every
      // token answers balanceOf at the head, so empty data here means the token is not deployed yet at
      // this block: nobody holds it, the balance is 0. Any other shape is an error, never a guess.
      if (r.success && r.returnData === "0x" && pair.asset !== p.chain.nativeAsset) {
        out.push(0n);
        return;
      }
      if (!r.success || r.returnData.length !== 66)
        throw new BalanceReadError(`balance read failed for ${pair.wallet} ${pair.asset} on ${p.chain.key} at block ${p.blockNumber}`);
      out.push(BigInt(r.returnData));
    });
  }
  return out;
}

/**
 * Gas budget of one reader call: 20M, as for Multicall3 (below geth's 50M `eth_call` cap and hosted
 * providers' 25–30M). Estimates per entry: a native ≈ 2,600 (cold BALANCE) + 320 calldata + loop ≈ 3k; a
 * token pair ≈ 2,600 (cold account) + 2,100 (cold slot) + call and calldata ≈ 6.5k, doubled for proxied
 * tokens (USDC: a DELEGATECALL and more cold slots) ≈ 13k. 1,000 wallets' natives (≈ 3M) and a block's
 * touched pairs are one call; a full read of 1,000 wallets × 5 tokens (≈ 68M) is four.
 */
export const READER_GAS_BUDGET = 20_000_000;
const NATIVE_GAS = 3_000;
const TOKEN_GAS = 13_000;
/** The reader's native count is a uint16. */
const MAX_NATIVES = 0xffff;

/** Reads with Backstop's reader (state override): ⌈estimated gas / READER_GAS_BUDGET⌉ eth_calls. */
async function fetchWithReader(ctx: { request: RequestFn }, p: FetchBalancesAtBlockParameters): Promise<bigint[]> {
  const tokenOf = new Map(p.chain.tokens.map((t) => [t.asset, t.address]));
  const out: bigint[] = new Array<bigint>(p.pairs.length);
  const block = p.blockHash ? { blockHash: p.blockHash } : numberToHex(p.blockNumber);
  let i = 0;
  while (i < p.pairs.length) {
    const natives: number[] = [];
    const tokens: number[] = [];
    let gas = 0;
    for (; i < p.pairs.length; i++) {
      const native = p.pairs[i]!.asset === p.chain.nativeAsset;
      const cost = native ? NATIVE_GAS : TOKEN_GAS;
      if (gas + cost > READER_GAS_BUDGET && gas > 0) break;
      if (native && natives.length === MAX_NATIVES) break;
      gas += cost;
      (native ? natives : tokens).push(i);
    }
    let data = natives.length.toString(16).padStart(4, "0");
    for (const j of natives) data += p.pairs[j]!.wallet.slice(2).toLowerCase();
    for (const j of tokens) {
      const { wallet, asset } = p.pairs[j]!;
      const token = tokenOf.get(asset);
      if (!token) throw new BalanceReadError(`asset ${asset} is not a token of chain ${p.chain.key}`);
      data += token.slice(2).toLowerCase() + wallet.slice(2).toLowerCase();
    }
    let raw: Hex;
    try {
      raw = (await ctx.request({
        method: "eth_call",
        params: [{ to: BALANCE_READER_ADDRESS, data: `0x${data}` }, block, { [BALANCE_READER_ADDRESS]: { code: BALANCE_READER_CODE } }],
      })) as Hex;
    } catch (cause) {
      // The reader reverts only on a token read that is not one uint256 (and a provider may answer a
      // revert as a JSON-RPC error): name the block, never return a number.
      if ((cause as { retryable?: boolean }).retryable) throw cause;
      throw new BalanceReadError(`balance read failed on ${p.chain.key} at block ${p.blockNumber}: ${(cause as Error).message.slice(0, 120)}`, { cause });
    }
    const order = [...natives, ...tokens];
    if (typeof raw !== "string" || raw.length !== 2 + 64 * order.length)
      throw new BalanceReadError(`the balance reader answered ${typeof raw === "string" ? (raw.length - 2) / 2 : "no"} bytes for ${order.length} balances on ${p.chain.key} at block ${p.blockNumber}`);
    order.forEach((j, k) => (out[j] = BigInt(`0x${raw.slice(2 + 64 * k, 66 + 64 * k)}`)));
  }
  return out;
}
