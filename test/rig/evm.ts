// Test rig for EVM: anvil nodes with Multicall3 and the devnet contracts, a seeded workload, and the
// truth oracle (stored balance == the node's balance at the block hash, for every height checked).
import {
  createTestClient,
  decodeFunctionResult,
  encodeFunctionData,
  http,
  publicActions,
  walletActions,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { foundry } from "viem/chains";
import { erc20Abi } from "../../abis/erc20.js";
import { MULTICALL3_ADDRESS, multicall3Abi } from "../../abis/multicall3.js";
import { compileDevnetContracts, type DevnetContracts } from "../../src/devnet/evm/contracts.js";
import { deployMulticall3 } from "../../src/devnet/evm/deploy-multicall3.js";
import { startAnvil, type Anvil } from "../../src/devnet/evm/start-anvil.js";
import { loadBalances, type Store } from "../../src/store/index.js";

export { startAnvil, deployMulticall3, compileDevnetContracts };

export type EvmDevnet = Awaited<ReturnType<typeof startEvmDevnet>>;

/** Starts anvil with Multicall3 installed and one block mined on top (indexing starts at block 1). */
export async function startEvmDevnet(p: { chainId: number }) {
  const anvil: Anvil = await startAnvil({ chainId: p.chainId });
  await deployMulticall3(anvil.rpcUrl);
  const client = createTestClient({ mode: "anvil", chain: { ...foundry, id: p.chainId }, transport: http(anvil.rpcUrl) })
    .extend(publicActions)
    .extend(walletActions);
  await client.mine({ blocks: 1 });
  const accounts = (await client.getAddresses()) as Address[];
  const contracts: DevnetContracts = compileDevnetContracts();

  async function deploy(name: keyof DevnetContracts, args: unknown[]): Promise<Address> {
    const c = contracts[name];
    const hash = await client.deployContract({ abi: c.abi, bytecode: c.bytecode, args, account: accounts[0]!, chain: null });
    const r = await client.waitForTransactionReceipt({ hash });
    return r.contractAddress!;
  }
  async function write(address: Address, name: keyof DevnetContracts, functionName: string, args: unknown[], from: Address, value?: bigint) {
    const hash = await client.writeContract({ address, abi: contracts[name].abi as Abi, functionName, args, account: from, chain: null, value });
    return hash;
  }
  return { anvil, client, accounts, contracts, deploy, write, stop: () => anvil.stop() };
}

/** Node's balances of (wallet, asset) pairs at a block hash (EIP-1898), one multicall. */
export async function fetchNodeBalances(
  rpcUrl: string,
  p: { blockHash: Hex; pairs: Array<{ wallet: Address; token: Address | null }> },
): Promise<bigint[]> {
  const calls = p.pairs.map(({ wallet, token }) =>
    token
      ? { target: token, allowFailure: false, callData: encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [wallet] }) }
      : { target: MULTICALL3_ADDRESS, allowFailure: false, callData: encodeFunctionData({ abi: multicall3Abi, functionName: "getEthBalance", args: [wallet] }) },
  );
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_call",
      params: [{ to: MULTICALL3_ADDRESS, data: encodeFunctionData({ abi: multicall3Abi, functionName: "aggregate3", args: [calls] }) }, { blockHash: p.blockHash }],
    }),
  });
  const body = (await res.json()) as { result?: Hex; error?: { message: string } };
  if (body.error) throw new Error(`eth_call at ${p.blockHash}: ${body.error.message}`);
  const out = decodeFunctionResult({ abi: multicall3Abi, functionName: "aggregate3", data: body.result! });
  // "0x": the token has no code yet at this block, so nobody holds it.
  return out.map((r) => (r.returnData === "0x" ? 0n : BigInt(r.returnData)));
}

/** The node's canonical block hash at a height (null when it has none). */
async function fetchNodeBlockHash(rpcUrl: string, height: number): Promise<Hex | null> {
  const res = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBlockByNumber", params: [`0x${height.toString(16)}`, false] }) });
  return ((await res.json()) as { result: { hash: Hex } | null }).result?.hash ?? null;
}

export type OracleMismatch = { height: number; wallet: string; asset: string; stored: bigint; node: bigint };

/**
 * The oracle: for every height in [fromHeight, toHeight] up to the stored cursor, every (wallet, asset) the
 * store should know equals the node's balance at that block: the stored header's hash where the header is
 * kept, else (pruned: older than the header window, final) the node's canonical block at that height.
 * `skip(asset, height)` exempts pairs the design only guarantees at snapshot heights (a token that rebases
 * silently). Returns the mismatches.
 */
export async function checkStoreAgainstNode(p: {
  store: Store;
  chain: string;
  rpcUrl: string;
  fromHeight: number;
  toHeight: number;
  wallets: Array<{ id: number; address: Address }>;
  assets: Array<{ id: string; token: Address | null }>;
  skip?: (asset: string, height: number) => boolean;
}): Promise<{ mismatches: OracleMismatch[]; heights: number; checked: number }> {
  const { t } = p.store;
  const headers = (await p.store.db.select().from(t.blockHeaders)) as Array<{ chain: string; height: number; hash: string }>;
  const byHeight = new Map(headers.filter((h) => h.chain === p.chain).map((h) => [Number(h.height), h.hash as Hex]));
  const [cursor] = (await p.store.db.select().from(t.chainCursors)).filter((c) => c.chain === p.chain);
  const mismatches: OracleMismatch[] = [];
  let heights = 0;
  let checked = 0;
  for (let h = p.fromHeight; h <= Math.min(p.toHeight, cursor ? Number(cursor.height) : -1); h++) {
    const hash = byHeight.get(h) ?? (await fetchNodeBlockHash(p.rpcUrl, h));
    if (!hash) continue;
    heights++;
    const stored = new Map((await loadBalances(p.store, { chain: p.chain, atHeight: h })).map((b) => [`${b.walletId}|${b.asset}`, b.amount]));
    const pairs = p.wallets.flatMap((w) => p.assets.filter((a) => !p.skip?.(a.id, h)).map((a) => ({ w, a })));
    const node = await fetchNodeBalances(p.rpcUrl, { blockHash: hash, pairs: pairs.map(({ w, a }) => ({ wallet: w.address, token: a.token })) });
    pairs.forEach(({ w, a }, i) => {
      checked++;
      const s = stored.get(`${w.id}|${a.id}`) ?? 0n;
      if (s !== node[i]) mismatches.push({ height: h, wallet: w.address, asset: a.id, stored: s, node: node[i]! });
    });
  }
  return { mismatches, heights, checked };
}
