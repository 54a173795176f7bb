import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressToScript } from "../../src/chains/bitcoin/address-to-script.js";
import { deriveScripts, parseDescriptor } from "../../src/chains/bitcoin/descriptors.js";
import {
  computeTruth,
  createHdAccount,
  createOwner,
  createRandom,
  createRigRpc,
  createRigWallet,
  SEGWIT_ACTIVE_HEIGHT,
  startBcoin,
  type BcoinNode,
  type OwnerKind,
  type RigOwner,
  type RigRpc,
  type RigWallet,
} from "./bitcoin.js";

// The rig on its own: the truth oracle must be right before it judges the indexer.
describe("bitcoin rig (bcoin regtest)", () => {
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  const random = createRandom(20261121);
  const kinds: OwnerKind[] = ["p2wpkh", "p2pkh", "p2sh-p2wpkh", "p2tr", "p2wsh-multi"];
  const owners: RigOwner[] = kinds.map((kind) => createOwner(kind, { random }));
  const labels = () => Object.fromEntries(owners.map((o) => [o.kind, [o.scriptHex]]));
  const DEPOSIT = 150_000_000n;
  const WITHDRAWAL = 40_000_000n;
  const FEE_ONE_INPUT = 2_700n; // the rig's default fee: 2 000 + 700 per input

  beforeAll(async () => {
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    await wallet.fund(5);
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("funds itself past segwit activation, with mature coinbase coins", async () => {
    expect(await rpc.call<number>("getblockcount")).toBe(SEGWIT_ACTIVE_HEIGHT + 5);
    const coins = await wallet.utxosOf([wallet.funder]);
    // Coinbase outputs are spendable after 100 confirmations only.
    const tip = await rpc.call<number>("getblockcount");
    expect(coins.length).toBe(tip - 100 + 1 - 1);
    expect(coins.every((c) => c.height <= tip - 100)).toBe(true);
  });

  it("deposits to every script type; the truth counts each exactly at its block", async () => {
    const before = await rpc.call<number>("getblockcount");
    await wallet.send({ from: [wallet.funder], to: owners.map((o) => ({ script: o.script, value: DEPOSIT })) });
    // Unconfirmed: not counted.
    const pending = await computeTruth(rpc, labels());
    for (const o of owners) expect(pending.balances[o.kind]![before]).toBe(0n);
    const [hash] = await wallet.mine(1);
    const truth = await computeTruth(rpc, labels());
    expect(truth.hashes[before + 1]).toBe(hash);
    for (const o of owners) {
      expect(truth.balances[o.kind]!.slice(0, before + 1).every((b) => b === 0n)).toBe(true);
      expect(truth.balances[o.kind]![before + 1]).toBe(DEPOSIT);
      expect(truth.utxos[o.kind]).toHaveLength(1);
    }
  });

  it("spends from each script type with change (P2TR through a rig-built block)", async () => {
    const height = await rpc.call<number>("getblockcount");
    for (const o of owners) {
      await wallet.send({ from: [o], to: [{ script: wallet.miner.script, value: WITHDRAWAL }] });
    }
    await wallet.mine(1);
    const truth = await computeTruth(rpc, labels());
    for (const o of owners) {
      expect(truth.balances[o.kind]![height]).toBe(DEPOSIT);
      expect(truth.balances[o.kind]![height + 1], o.kind).toBe(DEPOSIT - WITHDRAWAL - FEE_ONE_INPUT);
    }
  });

  it("a reorg drops a spend; re-broadcast after an empty block, the spend moves to a later block", async () => {
    const p2wpkh = owners[0]!;
    const start = await rpc.call<number>("getblockcount");
    const spend = await wallet.send({ from: [p2wpkh], to: [{ script: wallet.miner.script, value: WITHDRAWAL }] });
    await wallet.mine(1);
    const afterSpend = DEPOSIT - 2n * (WITHDRAWAL + FEE_ONE_INPUT);
    expect((await computeTruth(rpc, labels())).balances.p2wpkh![start + 1]).toBe(afterSpend);

    // Depth-1 reorg: bcoin wipes the mempool, so the spend is gone from the new branch.
    const dropped = await wallet.reorg({ depth: 1, extra: 1 });
    expect(dropped.fromHeight).toBe(start + 1);
    let truth = await computeTruth(rpc, labels());
    expect(truth.hashes[start + 1]).not.toBe(dropped.dropped[0]);
    expect(truth.balances.p2wpkh!.slice(start)).toEqual([
      DEPOSIT - WITHDRAWAL - FEE_ONE_INPUT,
      DEPOSIT - WITHDRAWAL - FEE_ONE_INPUT,
      DEPOSIT - WITHDRAWAL - FEE_ONE_INPUT,
    ]);

    // The same transaction (same txid) confirmed again, two blocks later than first time.
    await wallet.broadcast(spend.tx);
    await wallet.mine(1);
    truth = await computeTruth(rpc, labels());
    const tip = truth.hashes.length - 1;
    expect(tip).toBe(start + 3);
    expect(truth.balances.p2wpkh![tip - 1]).toBe(DEPOSIT - WITHDRAWAL - FEE_ONE_INPUT);
    expect(truth.balances.p2wpkh![tip]).toBe(afterSpend);
    const block = await rpc.fetchBlock(truth.hashes[tip]!);
    expect(block.transactions!.map((t) => t.getId())).toContain(spend.txid);
  });

  it("HD accounts: descriptors the rig writes derive the scripts it signs for; consolidation and 2-of-3 spend", async () => {
    for (const kind of ["wpkh", "pkh", "sh-wpkh", "tr", "wsh-sortedmulti"] as const) {
      const account = createHdAccount(kind, { random });
      const parsed = parseDescriptor(account.descriptor, "regtest");
      expect(parsed.branchCount).toBe(2);
      for (const branch of [0, 1]) {
        const derived = deriveScripts(parsed, branch, 0, 3);
        for (const d of derived) {
          const owner = account.owner(branch, d.index);
          expect(d.scriptHex, `${kind} ${branch}/${d.index}`).toBe(owner.scriptHex);
          expect(d.address).toBe(owner.address);
          expect(addressToScript(owner.address, "regtest").scriptHex).toBe(owner.scriptHex);
        }
      }
    }
    // 2-of-3: three deposits, then one consolidation of all of them to the change branch.
    const vault = createHdAccount("wsh-sortedmulti", { random });
    const addresses = [vault.owner(0, 0), vault.owner(0, 1), vault.owner(0, 2)];
    const change = vault.owner(1, 0);
    const all = [...addresses, change];
    const vaultLabels = { vault: all.map((o) => o.scriptHex) };
    await wallet.send({ from: [wallet.funder], to: addresses.map((o, i) => ({ script: o.script, value: 10_000_000n * BigInt(i + 1) })) });
    await wallet.mine(1);
    const h = await rpc.call<number>("getblockcount");
    expect((await computeTruth(rpc, vaultLabels)).balances.vault![h]).toBe(60_000_000n);
    await wallet.send({ from: addresses, to: [], change, all: true });
    await wallet.mine(1);
    const truth = await computeTruth(rpc, vaultLabels);
    const fee = 2_000n + 3n * 700n;
    expect(truth.balances.vault![h + 1]).toBe(60_000_000n - fee);
    expect(truth.utxos.vault!.map((u) => u.scriptHex)).toEqual([change.scriptHex]);
  });
});
