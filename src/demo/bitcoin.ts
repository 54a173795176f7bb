import { formatUnits } from "../lib/amounts.js";
import { env } from "../lib/config.js";
import { createHdAccount, createOwner, createRandom, createRigRpc, createRigWallet, type RigOwner } from "../devnet/bitcoin/regtest-rig.js";
import { startBcoin } from "../devnet/bitcoin/start-bcoin.js";
import type { StartDemoPart } from "./types.js";

const BTC = 100_000_000n;
const fmt = (sat: bigint) => `${formatUnits(sat, 8)} BTC`;

/**
 * The demo's Bitcoin part: a bcoin regtest node, a single-sig P2WPKH hot
 * wallet and a 2-of-3 wsh(sortedmulti) cold descriptor wallet (gap limit 5),
 * with deposits (one past the gap limit), a withdrawal with change, a multisig
 * spend, and in round 1 a reorg that drops an already-indexed deposit.
 */
export const startBitcoinDemo: StartDemoPart = async () => {
  const node = await startBcoin();
  const rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
  const random = createRandom(20261121);
  const wallet = createRigWallet(rpc, { random });
  const hot = createOwner("p2wpkh", { random });
  const cold = createHdAccount("wsh-sortedmulti", { random });
  const outside = createOwner("p2wpkh", { random }); // withdrawals leave custody to here
  for (const o of [hot, outside]) wallet.track(o);
  let doomed: { txid: string } | undefined;
  let nextCold = 0;
  const coldOwner = (branch: number, index: number): RigOwner => {
    const o = cold.owner(branch, index);
    wallet.track(o);
    return o;
  };

  // The exchange's ledger: every deposit and withdrawal it made, but one (the 1.5 BTC outflow of step 0 has
  // no record: the demo's unexplained outflow), plus one withdrawal it recorded that never happens.
  const records: Record<string, string>[] = [];
  const at = () => new Date().toISOString();
  const deposit = (id: string, amount: bigint, txid: string) => records.push({ id, kind: "deposit", chain: "btc", asset: "BTC", amount: formatUnits(amount, 8), txid, time: at() });
  const withdrawal = (id: string, amount: bigint) => records.push({ id, kind: "withdrawal", chain: "btc", asset: "BTC", amount: formatUnits(amount, 8), counterparty: outside.address, time: at() });

  return {
    name: "bitcoin",
    movementRecords: records,
    // The node's URL carries its API key: an env reference, its value in the demo's env file. windowBlocks 1
    // (default 6): the demo mines a block a round, and its checkpoint waits for the window after the anchor.
    chains: { btc: { chain: "bitcoin-regtest", rpc: [env("BACKSTOP_DEMO_BTC_RPC_URL")], finalityDepth: 6, pollIntervalMs: 500, windowBlocks: 1 } },
    secrets: { BACKSTOP_DEMO_BTC_RPC_URL: node.authUrl },
    assets: { BTC: { chain: "btc", decimals: 8, native: true, backs: "BTC" } },
    liabilityAssets: { BTC: { decimals: 8 } },
    wallets: [
      { label: "btc-hot", chain: "btc", address: hot.address },
      { label: "btc-cold", chain: "btc", descriptor: cold.descriptor, gapLimit: 5 },
    ],
    async activity({ step }) {
      const lines: string[] = [];
      if (step === 0) {
        // Block times: the node mines each block at max(its clock, median time past + 1), so hundreds of
        // funding blocks in a few seconds would run minutes ahead of the wall clock, past the liabilities
        // snapshot's time. Funding runs an hour in the past (setmocktime), the custody activity at the wall clock.
        await rpc.call("setmocktime", [Math.floor(Date.now() / 1000) - 3600]);
        await wallet.fund(10);
        await rpc.call("setmocktime", [Math.floor(Date.now() / 1000)]);
        lines.push(`mined ${await rpc.call<number>("getblockcount")} regtest blocks (segwit active)`);
        deposit("dep-1", 5n * BTC, (await wallet.send({ from: [wallet.funder], to: [{ script: hot.script, value: 5n * BTC }] })).txid);
        deposit("dep-2", 20n * BTC, (await wallet.send({ from: [wallet.funder], to: [{ script: coldOwner(0, 0).script, value: 20n * BTC }] })).txid);
        // Index 3 extends the gap window (0..4 -> 0..8); index 7 in the same block is only found because of that.
        const two = await wallet.send({ from: [wallet.funder], to: [{ script: coldOwner(0, 3).script, value: 7n * BTC }, { script: coldOwner(0, 7).script, value: 3n * BTC }] });
        deposit("dep-3", 7n * BTC, two.txid);
        deposit("dep-4", 3n * BTC, two.txid);
        nextCold = 8;
        await wallet.mine(1);
        lines.push(`deposits: ${fmt(5n * BTC)} to btc-hot; ${fmt(20n * BTC)}, ${fmt(7n * BTC)} and ${fmt(3n * BTC)} to btc-cold (index 7 is past the gap limit 5 until index 3 is used)`);
        await wallet.send({ from: [hot], to: [{ script: outside.script, value: BTC + BTC / 2n }], change: hot });
        await wallet.mine(1);
        lines.push(`withdrawal: ${fmt(BTC + BTC / 2n)} from btc-hot, change back to btc-hot (minus the fee)`);
        await wallet.send({ from: [coldOwner(0, 0)], to: [{ script: hot.script, value: 4n * BTC }], change: coldOwner(1, 0) });
        await wallet.mine(1);
        lines.push(`2-of-3 multisig spend: ${fmt(4n * BTC)} from btc-cold to btc-hot, change to btc-cold's change branch`);
        withdrawal("wd-never-sent", 8n * (BTC / 10n));
        lines.push(`ledger: recorded a ${fmt(8n * (BTC / 10n))} withdrawal that is never sent; the ${fmt(BTC + BTC / 2n)} withdrawal above has no record`);
        doomed = await wallet.send({ from: [wallet.funder], to: [{ script: hot.script, value: 2n * BTC }] });
        deposit("dep-doomed", 2n * BTC, doomed.txid);
        await wallet.mine(1);
        lines.push(`deposit of ${fmt(2n * BTC)} to btc-hot in block ${await rpc.call<number>("getblockcount")} (the next round reorgs it away)`);
        return lines;
      }
      if (step === 1 && doomed) {
        const r = await wallet.reorg({ depth: 1, extra: 1 });
        lines.push(`reorg: block ${r.fromHeight} replaced by a longer fork without the ${fmt(2n * BTC)} deposit ${doomed.txid.slice(0, 12)}…`);
        // Finality is 6 confirmations: 4 more blocks make the fork's first block, the first after the
        // liabilities snapshot's time, final. The checkpoint waits for that.
        await wallet.mine(4);
        lines.push(`4 more blocks (tip ${await rpc.call<number>("getblockcount")}), so the blocks after the snapshot's time are final (6 confirmations)`);
        return lines;
      }
      // Later rounds: a small deposit to a fresh cold address and a small hot-wallet withdrawal.
      const amount = BigInt(1 + (step % 5)) * (BTC / 10n);
      deposit(`dep-r${step}`, amount, (await wallet.send({ from: [wallet.funder], to: [{ script: coldOwner(0, nextCold++).script, value: amount }] })).txid);
      await wallet.send({ from: [hot], to: [{ script: outside.script, value: BTC / 20n }], change: hot });
      withdrawal(`wd-r${step}`, BTC / 20n);
      await wallet.mine(1);
      lines.push(`deposit ${fmt(amount)} to btc-cold, withdrawal ${fmt(BTC / 20n)} from btc-hot, 1 block`);
      return lines;
    },
    async stop() {
      await node.stop();
    },
  };
};
