import { createTestClient, http, publicActions, walletActions, type Abi, type Address } from "viem";
import { foundry } from "viem/chains";
import { formatUnits } from "../lib/amounts.js";
import { compileDevnetContracts } from "../devnet/evm/contracts.js";
import { deployMulticall3 } from "../devnet/evm/deploy-multicall3.js";
import { startAnvil, type Anvil } from "../devnet/evm/start-anvil.js";
import type { StartDemoPart } from "./types.js";

const USD = 1_000_000n; // USDD has 6 decimals
const ETH = 10n ** 18n;
const fmtUsd = (v: bigint) => `${formatUnits(v, 6)} USDD`;
const fmtEth = (v: bigint) => `${formatUnits(v, 18)} ETH`;

async function startLocalChain(chainId: number) {
  const anvil: Anvil = await startAnvil({ chainId });
  const client = createTestClient({ mode: "anvil", chain: { ...foundry, id: chainId }, transport: http(anvil.rpcUrl) })
    .extend(publicActions)
    .extend(walletActions);
  // Genesis keeps its fixed 2023 time (its hash is the chain's identity, chains/anvil.ts); every later
  // block follows the wall clock (anvil 1.7: blocks mined within one second share its timestamp), so
  // blocks come after the liabilities snapshot's time and a checkpoint can anchor on this chain.
  await client.request({ method: "evm_setTime", params: [Math.floor(Date.now() / 1000)] } as never);
  await deployMulticall3(anvil.rpcUrl);
  await client.mine({ blocks: 1 });
  const accounts = (await client.getAddresses()) as Address[];
  const contracts = compileDevnetContracts();
  const deploy = async (name: "TestToken" | "Forwarder", args: unknown[]) => {
    const c = contracts[name];
    const hash = await client.deployContract({ abi: c.abi, bytecode: c.bytecode, args, account: accounts[0]!, chain: null });
    return (await client.waitForTransactionReceipt({ hash })).contractAddress!;
  };
  const usdd = await deploy("TestToken", ["USDD", 6]);
  const forwarder = await deploy("Forwarder", []);
  const call = (address: Address, name: "TestToken" | "Forwarder", functionName: string, args: unknown[], from: Address, value?: bigint) =>
    client.writeContract({ address, abi: contracts[name].abi as Abi, functionName, args, account: from, chain: null, value });
  await call(usdd, "TestToken", "mint", [accounts[0]!, 10_000_000n * USD], accounts[0]!);
  return { anvil, client, accounts, usdd, forwarder, call };
}

/**
 * The demo's EVM part: two anvil chains (`ethereum`, chain id 31337, and `base`, chain id 8453) with
 * Multicall3 and a demo stablecoin USDD, custody wallets receiving and sending ETH and USDD, a
 * custody-to-custody move, and ETH reaching a custody wallet from inside a contract call (an internal
 * transfer no transaction of the wallet shows).
 */
export const startEvmDemo: StartDemoPart = async () => {
  const eth = await startLocalChain(31337);
  const base = await startLocalChain(8453);
  const [funder, hot, cold, outside] = eth.accounts as [Address, Address, Address, Address];
  const [bFunder, bHot, , bOutside] = base.accounts as [Address, Address, Address, Address];
  return {
    name: "evm",
    chains: {
      // maxAnchorSkewSeconds: these chains make blocks only when the demo acts (a round every 5 s, none while
      // the opening round indexes, which takes minutes on a busy machine), so the last block before the
      // snapshot can be older than the 600 s default allows (a live chain makes one every 2-12 s). windowBlocks
      // 2 (default: the finality depth, 10): the checkpoint waits until 2 blocks after its anchor are final.
      ethereum: { chain: "anvil", rpc: [eth.anvil.rpcUrl], startHeight: 1, pollIntervalMs: 500, snapshotInterval: 20, maxAnchorSkewSeconds: 1800, windowBlocks: 2 },
      base: { chain: "anvil-base", rpc: [base.anvil.rpcUrl], startHeight: 1, pollIntervalMs: 500, snapshotInterval: 20, maxAnchorSkewSeconds: 1800, windowBlocks: 2 },
    },
    assets: {
      ETH: { chain: "ethereum", decimals: 18, native: true, backs: "ETH" },
      USDD: { chain: "ethereum", decimals: 6, address: eth.usdd, symbol: "USDD", backs: "USDD" },
      "ETH.base": { chain: "base", decimals: 18, native: true, symbol: "ETH", backs: "ETH" },
      "USDD.base": { chain: "base", decimals: 6, address: base.usdd, symbol: "USDD", backs: "USDD" },
    },
    liabilityAssets: { ETH: { decimals: 18 }, USDD: { decimals: 6 } },
    wallets: [
      { label: "eth-hot", chain: "ethereum", address: hot },
      { label: "eth-cold", chain: "ethereum", address: cold },
      { label: "base-hot", chain: "base", address: bHot },
    ],
    async activity({ step }) {
      const lines: string[] = [];
      if (step === 0) {
        await eth.client.sendTransaction({ account: funder, to: hot, value: 25n * ETH, chain: null });
        await eth.call(eth.usdd, "TestToken", "transfer", [hot, 1_000_000n * USD], funder);
        lines.push(`ethereum: deposits of ${fmtEth(25n * ETH)} and ${fmtUsd(1_000_000n * USD)} to eth-hot`);
        await eth.call(eth.usdd, "TestToken", "transfer", [outside, 125_000n * USD], hot);
        await eth.client.sendTransaction({ account: hot, to: outside, value: 2n * ETH, chain: null });
        lines.push(`ethereum: withdrawals of ${fmtUsd(125_000n * USD)} and ${fmtEth(2n * ETH)} from eth-hot (gas paid in ETH)`);
        await eth.call(eth.usdd, "TestToken", "transfer", [cold, 500_000n * USD], hot);
        lines.push(`ethereum: ${fmtUsd(500_000n * USD)} moved eth-hot -> eth-cold`);
        await eth.call(eth.forwarder, "Forwarder", "forward", [cold], funder, 3n * ETH);
        lines.push(`ethereum: ${fmtEth(3n * ETH)} to eth-cold from inside a contract call (internal transfer)`);
        await base.client.sendTransaction({ account: bFunder, to: bHot, value: 4n * ETH, chain: null });
        await base.call(base.usdd, "TestToken", "transfer", [bHot, 250_000n * USD], bFunder);
        await base.call(base.usdd, "TestToken", "transfer", [bOutside, 10_000n * USD], bHot);
        lines.push(`base: deposits of ${fmtEth(4n * ETH)} and ${fmtUsd(250_000n * USD)} to base-hot, withdrawal of ${fmtUsd(10_000n * USD)}`);
        return lines;
      }
      const amount = BigInt(1 + (step % 7)) * 1_000n * USD;
      await eth.call(eth.usdd, "TestToken", "transfer", [hot, amount], funder);
      await eth.call(eth.usdd, "TestToken", "transfer", [outside, amount / 2n], hot);
      await base.client.sendTransaction({ account: bFunder, to: bHot, value: ETH / 10n, chain: null });
      lines.push(`ethereum: ${fmtUsd(amount)} in, ${fmtUsd(amount / 2n)} out of eth-hot; base: ${fmtEth(ETH / 10n)} to base-hot`);
      if (step === 1) {
        // Anvil has no finality of its own (finalityDepth 10): this round's blocks, the first after the
        // liabilities snapshot's time, become final once 10 deep. The checkpoint waits for that.
        for (const c of [eth, base]) await c.client.mine({ blocks: 10 });
        lines.push("ethereum, base: 10 empty blocks each, so the blocks after the snapshot's time are final (10 deep)");
      }
      return lines;
    },
    async stop() {
      await eth.anvil.stop();
      await base.anvil.stop();
    },
  };
};
