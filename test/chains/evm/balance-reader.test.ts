// Backstop's balance reader (state override) against a real anvil: the same numbers as Multicall3 and
// eth_getBalance / balanceOf at the block hash, for natives and tokens, across chunks; 0 for a token
// without code; a token whose balanceOf reverts fails the read instead of giving a number.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { numberToHex, type Address, type Hex } from "viem";
import { BALANCE_READER_CODE } from "../../../src/chains/evm/balance-reader-code.js";
import { BalanceReadError, fetchBalancesAtBlock, READER_GAS_BUDGET } from "../../../src/chains/evm/fetch-balances-at-block.js";
import { MULTICALL3_ADDRESS } from "../../../abis/multicall3.js";
import { probeBalanceReader } from "../../../src/chains/evm/probe-balance-reader.js";
import { startEvmDevnet, type EvmDevnet } from "../../rig/evm.js";

let dev: EvmDevnet;
let token: Address;
let rebase: Address;
const calls: string[] = [];
const request = async (a: { method: string; params: unknown[] }) => {
  calls.push(a.method);
  const r = (await (await fetch(dev.anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, ...a }) })).json()) as { result?: unknown; error?: { message: string } };
  if (r.error) throw new Error(r.error.message);
  return r.result;
};
const wallet = (i: number) => `0x${(0x500000 + i).toString(16).padStart(40, "c")}` as Address;

beforeAll(async () => {
  dev = await startEvmDevnet({ chainId: 31337 });
  token = await dev.deploy("TestToken", ["T", 6]);
  rebase = await dev.deploy("RebaseToken", ["R", 18]);
  for (let i = 0; i < 5; i++) {
    await dev.client.setBalance({ address: wallet(i), value: 10n ** 30n * BigInt(i + 1) + 7n });
    await dev.write(token, "TestToken", "mint", [wallet(i), 1000n + BigInt(i)], dev.accounts[0]!);
  }
  await dev.write(rebase, "RebaseToken", "mint", [wallet(1), 2n ** 100n], dev.accounts[0]!);
  await dev.client.mine({ blocks: 1 });
}, 60_000);
afterAll(async () => dev?.stop());

describe("balance reader (eth_call state override)", () => {
  it("assembles to code that starts by copying the calldata", () => {
    expect(BALANCE_READER_CODE.slice(0, 8)).toBe("0x368060"); // CALLDATASIZE DUP1 PUSH1
  });

  it("answers what Multicall3 answers, pinned to the block hash, natives and tokens mixed", async () => {
    const block = await dev.client.getBlock();
    const chain = { key: "anvil", multicall3: MULTICALL3_ADDRESS.toLowerCase() as Hex, nativeAsset: "ETH", tokens: [{ asset: "T", address: token }, { asset: "R", address: rebase }] };
    const pairs = [0, 1, 2, 3, 4].flatMap((i) => [{ wallet: wallet(i), asset: "T" }, { wallet: wallet(i), asset: "ETH" }, { wallet: wallet(i), asset: "R" }]);
    const at = { chain, blockNumber: block.number, blockHash: block.hash, pairs };
    const viaMulticall = await fetchBalancesAtBlock({ request }, { ...at, reader: "multicall3" });
    calls.length = 0;
    const viaReader = await fetchBalancesAtBlock({ request }, { ...at, reader: "override" });
    expect(calls).toEqual(["eth_call"]);
    expect(viaReader).toEqual(viaMulticall);
    expect(viaReader[1]).toBe(10n ** 30n + 7n);
    expect(viaReader[0]).toBe(1000n);
    expect(viaReader[5]).toBe(2n ** 100n); // ≥ 2^64 stays exact
    expect(viaReader[1]).toBe(BigInt((await request({ method: "eth_getBalance", params: [wallet(0), { blockHash: block.hash }] })) as string));
  });

  it("reads a past block by its hash, and a token without code there as 0", async () => {
    const past = await dev.client.getBlock({ blockNumber: 1n });
    const chain = { key: "anvil", multicall3: MULTICALL3_ADDRESS.toLowerCase() as Hex, nativeAsset: "ETH", tokens: [{ asset: "T", address: token }] };
    const got = await fetchBalancesAtBlock({ request }, { chain, blockNumber: 1n, blockHash: past.hash, pairs: [{ wallet: wallet(0), asset: "ETH" }, { wallet: wallet(0), asset: "T" }], reader: "override" });
    expect(got).toEqual([0n, 0n]);
  });

  it("chunks under the gas budget and keeps the order", async () => {
    const n = Math.ceil(READER_GAS_BUDGET / 3000) + 50; // two calls
    const block = await dev.client.getBlock();
    const chain = { key: "anvil", multicall3: MULTICALL3_ADDRESS.toLowerCase() as Hex, nativeAsset: "ETH", tokens: [{ asset: "T", address: token }] };
    const pairs = Array.from({ length: n }, (_, i) => ({ wallet: wallet(i % 7), asset: i % 3 === 0 ? "T" : "ETH" }));
    calls.length = 0;
    const got = await fetchBalancesAtBlock({ request }, { chain, blockNumber: block.number, blockHash: block.hash, pairs, reader: "override" });
    expect(calls.length).toBeGreaterThanOrEqual(2);
    const want = await fetchBalancesAtBlock({ request }, { chain, blockNumber: block.number, blockHash: block.hash, pairs, reader: "multicall3" });
    expect(got).toEqual(want);
  }, 60_000);

  it("fails the read when a token's balanceOf reverts (never a number)", async () => {
    // Code that always reverts, at an address used as a token.
    const bad = "0x00000000000000000000000000000000000bad01" as Address;
    await request({ method: "anvil_setCode", params: [bad, "0x60006000fd"] });
    await dev.client.mine({ blocks: 1 });
    const block = await dev.client.getBlock();
    const chain = { key: "anvil", multicall3: MULTICALL3_ADDRESS.toLowerCase() as Hex, nativeAsset: "ETH", tokens: [{ asset: "B", address: bad }] };
    await expect(fetchBalancesAtBlock({ request }, { chain, blockNumber: block.number, blockHash: block.hash, pairs: [{ wallet: wallet(0), asset: "ETH" }, { wallet: wallet(0), asset: "B" }], reader: "override" })).rejects.toBeInstanceOf(BalanceReadError);
    expect(numberToHex(block.number)).toMatch(/^0x/);
  });

  it("the start-up probe picks the reader where it works, and Multicall3 where the provider refuses or garbles state overrides", async () => {
    const block = await dev.client.getBlock();
    const chain = { key: "anvil", multicall3: MULTICALL3_ADDRESS.toLowerCase() as Hex, nativeAsset: "ETH", tokens: [{ asset: "T", address: token }], wallets: [wallet(0)] };
    const warnings: unknown[] = [];
    const log = { warn: (o: unknown) => void warnings.push(o) };
    const at = { chain, blockNumber: block.number, blockHash: block.hash };
    expect(await probeBalanceReader({ request, log }, at)).toBe("override");
    expect(warnings).toEqual([]);
    // A provider without state overrides: a JSON-RPC error (not retryable).
    const refusing = async (a: { method: string; params: unknown[] }) => {
      if (a.method === "eth_call" && a.params.length > 2) throw Object.assign(new Error("state overrides are not supported"), { retryable: false });
      return request(a);
    };
    expect(await probeBalanceReader({ request: refusing, log }, at)).toBe("multicall3");
    // One that ignores the override (calls an address without code: empty result).
    const ignoring = async (a: { method: string; params: unknown[] }) => request({ ...a, params: a.params.slice(0, 2) });
    expect(await probeBalanceReader({ request: ignoring, log }, at)).toBe("multicall3");
    expect(warnings).toHaveLength(2);
  });
});
