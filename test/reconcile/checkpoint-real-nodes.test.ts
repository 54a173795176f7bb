// Checkpoints against real nodes (bcoin regtest, anvil), on SQLite and on Postgres: both chains are
// indexed by the real followers (Bitcoin: raw blocks; EVM: Ponder), a snapshot is imported at a time T
// between blocks, more custody activity follows T, and `createCheckpoint` (with the EVM full read at the
// anchor hash) must produce, per chain, exactly the truth computed from the node itself:
// - Bitcoin: the anchor is the block before the first one whose header time (the node's
//   `getblockheader`) is after T; the reserves are the custody UTXOs at that height, from the node's raw
//   blocks (computeTruth), not from Backstop's store;
// - EVM: the anchor is the last block whose timestamp is <= T (eth_getBlockByNumber); the reserves are
//   eth_getBalance at the anchor's hash.
// The activity after T (a deposit on each chain) must not count.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther, type Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../src/chains/create-indexer.js";
import { fetchAnchorBalances } from "../../src/chains/evm/fetch-anchor-balances.js";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveSnapshotAssets, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { createCheckpoint } from "../../src/reconcile/create-checkpoint.js";
import { createSigningKey } from "../../src/reconcile/signing-key.js";
import { verifyCheckpoints } from "../../src/reconcile/verify-checkpoints.js";
import { buildJwks } from "../../src/reconcile/build-jwks.js";
import type { Store } from "../../src/store/index.js";
import { computeTruth, createOwner, createRandom, createRigRpc, createRigWallet, outputsTo, startBcoin, type BcoinNode, type RigOwner, type RigRpc, type RigWallet } from "../rig/bitcoin.js";
import { startEvmDevnet, type EvmDevnet } from "../rig/evm.js";
import { openTestStore, STORE_KINDS, type StoreKind } from "../helpers/stores.js";

const quiet = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "warn", format: "json" });
const KEY = createSigningKey();

describe("checkpoints against bcoin regtest and anvil", () => {
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  let evm: EvmDevnet;
  let custodyBtc: RigOwner;
  let custodyEth: Address;
  const dir = mkdtempSync(join(tmpdir(), "backstop-cp-nodes-"));

  beforeAll(async () => {
    const random = createRandom(77);
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    await wallet.fund(20);
    custodyBtc = createOwner("p2wpkh", { random });
    await wallet.send({ from: [wallet.funder], to: [{ script: custodyBtc.script, value: 150_000_000n }] });
    await wallet.mine(1);
    evm = await startEvmDevnet({ chainId: 31337 });
    custodyEth = evm.accounts[5]!;
    await evm.client.sendTransaction({ account: evm.accounts[0]!, to: custodyEth, value: parseEther("2.5"), chain: null });
    await evm.client.mine({ blocks: 3 });
  }, 240_000);
  afterAll(async () => {
    await evm?.stop();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configFor = (kind: StoreKind, params: { sqlitePath?: string; databaseUrl?: string; pgSchema?: string }): ResolvedConfig =>
    resolveConfig({
      path: "(test)",
      env: { CP_KEY: KEY.text, BTC_RPC: node.authUrl, DATABASE_URL: params.databaseUrl, BACKSTOP_PG_SCHEMA: params.pgSchema },
      input: {
        store: { sqlitePath: params.sqlitePath ?? join(dir, `${kind}.db`) },
        chains: {
          btc: { chain: "bitcoin-regtest", rpc: [{ env: "BTC_RPC" }], pollIntervalMs: 100 },
          eth: { chain: "anvil", rpc: [evm.anvil.rpcUrl], startHeight: 1, pollIntervalMs: 200, finalityDepth: 4 },
        },
        assets: { BTC_btc: { chain: "btc", native: true, decimals: 8, backs: "BTC" }, ETH_eth: { chain: "eth", native: true, decimals: 18, backs: "ETH" } },
        liabilityAssets: { BTC: { decimals: 8 }, ETH: { decimals: 18 } },
        checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: KEY.jwk.x, notBefore: "2020-01-01T00:00:00Z" }] },
        wallets: [{ label: "cold-btc", chain: "btc", address: custodyBtc.address }, { label: "hot-eth", chain: "eth", address: custodyEth }],
      },
    });

  async function indexOnce(config: ResolvedConfig, store: Store, kind: StoreKind) {
    for (const chainKey of Object.keys(config.chains)) {
      const ix = createIndexer({ config, chainKey, store, logger: quiet });
      try {
        await ix.run({ once: true });
      } finally {
        await ix.close?.();
      }
    }
    void kind;
  }

  const headerTime = async (h: number) => (await rpc.call<{ time: number; mediantime: number; hash: string }>("getblockheader", [await rpc.call<string>("getblockhash", [h]), true]));

  it.each(STORE_KINDS)("on %s: every anchor and reserve equals the node's truth at the anchor", async (kind) => {
    const s = await openTestStore(kind);
    try {
      const config = configFor(kind, s.params);
      await indexOnce(config, s.store, kind);
      // T: one second after both chains' latest block.
      const btcTip = await rpc.call<number>("getblockcount");
      const ethTip = await evm.client.getBlock();
      const T = Math.max((await headerTime(btcTip)).time, Number(ethTip.timestamp)) + 1;
      // bcoin's block times run ahead of anvil's here: bring anvil's last block before T close to it (else the
      // EVM anchor is older than its maxAnchorSkew and the checkpoint is, rightly, not_anchored).
      await evm.client.setNextBlockTimestamp({ timestamp: BigInt(T - 1) });
      await evm.client.mine({ blocks: 1 });
      await indexOnce(config, s.store, kind);
      const file = join(dir, `${kind}-liabilities.csv`);
      writeFileSync(file, "account_id,asset,amount\nu1,BTC,1.2\nu1,ETH,3\n");
      await importSnapshot({ store: s.store, logger: quiet, now: () => new Date((T + 3600) * 1000) }, { source: file, format: "csv", asOf: new Date(T * 1000).toISOString(), assets: resolveSnapshotAssets(config) });

      // Not final past T yet: --no-wait fails.
      expect((await createCheckpoint({ store: s.store, config }, { wait: false }).catch((e) => e)).code).toBe("CHECKPOINT__NOT_FINALIZED");

      // After T: more custody activity (must not count), and enough blocks for both chains to finalize past T.
      // bcoin stamps generated blocks with the wall clock (several blocks share a second): let it pass T first.
      const wallWait = (T + 2) * 1000 - Date.now();
      if (wallWait > 0) await new Promise((r) => setTimeout(r, wallWait));
      await evm.client.setNextBlockTimestamp({ timestamp: BigInt(Math.max(T, Math.floor(Date.now() / 1000)) + 30) });
      await evm.client.sendTransaction({ account: evm.accounts[0]!, to: custodyEth, value: parseEther("1"), chain: null });
      await evm.client.mine({ blocks: 8 });
      await wallet.send({ from: [wallet.funder], to: [{ script: custodyBtc.script, value: 30_000_000n }] });
      await wallet.mine(14);
      await indexOnce(config, s.store, kind);

      const r = await createCheckpoint({ store: s.store, config, fetchAnchorBalances: (p) => fetchAnchorBalances(config, p) }, { wait: false });
      const d = r.signed.document;
      expect(d.discrepancies).toEqual([]);

      // Bitcoin oracle: the node's own header times.
      // Upward from the tip at the snapshot (time < T) to the first block after T.
      let first = btcTip;
      while ((await headerTime(first)).time <= T) first++;
      expect(first).toBeGreaterThan(0);
      const btcAnchor = d.anchors.find((a) => a.chain === "btc")!;
      expect(btcAnchor.height).toBe(first - 1);
      expect(btcAnchor.hash).toBe(await rpc.call<string>("getblockhash", [first - 1]));
      const truth = await computeTruth(rpc, { "cold-btc": [custodyBtc.scriptHex] }, first - 1);
      const btcLine = d.assets.find((a) => a.asset === "BTC")!.backing[0]!;
      expect(BigInt(btcLine.amount)).toBe(truth.balances["cold-btc"]![first - 1]);
      // The deposit after T is on the node (the tip's truth is higher) and not in the checkpoint.
      const atTip = await computeTruth(rpc, { "cold-btc": [custodyBtc.scriptHex] });
      expect(atTip.balances["cold-btc"]!.at(-1)! - BigInt(btcLine.amount)).toBe(30_000_000n);

      // EVM oracle: the last block with timestamp <= T, and eth_getBalance at its hash.
      const ethAnchor = d.anchors.find((a) => a.chain === "eth")!;
      let expected = Number(await evm.client.getBlockNumber());
      while (Number((await evm.client.getBlock({ blockNumber: BigInt(expected) })).timestamp) > T) expected--;
      const anchorBlock = await evm.client.getBlock({ blockNumber: BigInt(expected) });
      expect(ethAnchor.height).toBe(expected);
      expect(ethAnchor.hash).toBe(anchorBlock.hash);
      const balance = BigInt((await (evm.client.request as (a: unknown) => Promise<unknown>)({ method: "eth_getBalance", params: [custodyEth, { blockHash: anchorBlock.hash }] })) as string);
      expect(d.assets.find((a) => a.asset === "ETH")!.backing[0]!.amount).toBe(balance.toString());
      expect(await evm.client.getBalance({ address: custodyEth }) - balance).toBe(parseEther("1"));
      expect(d.anchors.every((a) => a.anchored)).toBe(true);

      expect(d.status).toBe("covered");
      expect(verifyCheckpoints([{ name: "cp", text: r.stored.signed }], { jwks: buildJwks(config.checkpoints.keys) }).checked).toHaveLength(1);
    } finally {
      await s.dispose();
    }
  }, 600_000);

  // Window dressing (issue 10 item 5) on the real Bitcoin node: a 5 BTC inflow in the block just before
  // snapshot 1's anchor and its outflow in the block just after it is flagged with the wallet, both txids
  // and heights; the same amounts 6 and 5 blocks away from snapshot 2's anchor (W = 3) are not. The window
  // minimum is checked against the node's own balances at every height of the window (computeTruth).
  it.each(STORE_KINDS)("on %s: an inflow just before the anchor and an outflow just after it is flagged; the same amounts far from the anchor are not", async (kind) => {
    const random = createRandom(91 + kind.length);
    const dresser = createOwner("p2wpkh", { random });
    const W = 3;
    const s = await openTestStore(kind);
    try {
      const config = resolveConfig({
        path: "(test)",
        env: { CP_KEY: KEY.text, BTC_RPC: node.authUrl, DATABASE_URL: s.params.databaseUrl, BACKSTOP_PG_SCHEMA: s.params.pgSchema },
        input: {
          store: { sqlitePath: s.params.sqlitePath ?? join(dir, `${kind}-wd.db`) },
          chains: { btc: { chain: "bitcoin-regtest", rpc: [{ env: "BTC_RPC" }], pollIntervalMs: 100, windowBlocks: W } },
          assets: { BTC_btc: { chain: "btc", native: true, decimals: 8, backs: "BTC" } },
          liabilityAssets: { BTC: { decimals: 8 } },
          checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: KEY.jwk.x, notBefore: "2020-01-01T00:00:00Z" }], windowDressingBps: 1000 },
          wallets: [{ label: "dresser", chain: "btc", address: dresser.address }],
        },
      });
      const FIVE = 500_000_000n;
      const pastWall = async (t: number) => {
        const wait = (t + 2) * 1000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      };
      const snapshotAt = async (id: string) => {
        const tip = await rpc.call<number>("getblockcount");
        const T = (await headerTime(tip)).time + 1;
        const file = join(dir, `${kind}-${id}.csv`);
        writeFileSync(file, "account_id,asset,amount\nu1,BTC,1\n");
        await importSnapshot({ store: s.store, logger: quiet, now: () => new Date((T + 3600) * 1000) }, { source: file, format: "csv", asOf: new Date(T * 1000).toISOString(), assets: resolveSnapshotAssets(config), snapshotId: id });
        await pastWall(T); // the next block is stamped after T
        return tip;
      };
      const moveIn = async () => {
        const sent = await wallet.send({ from: [wallet.funder], to: [{ script: dresser.script, value: FIVE }] });
        await wallet.mine(1);
        return { txid: sent.txid, height: await rpc.call<number>("getblockcount"), coin: outputsTo(sent.tx, dresser)[0]! };
      };
      const moveOut = async (coin: ReturnType<typeof outputsTo>[number]) => {
        const sent = await wallet.send({ from: [dresser], coins: [coin], to: [{ script: wallet.funder.script, value: FIVE - 3_000n }], fee: 3_000n });
        await wallet.mine(1);
        return { txid: sent.txid, height: await rpc.call<number>("getblockcount") };
      };

      // 1 BTC held throughout.
      await wallet.send({ from: [wallet.funder], to: [{ script: dresser.script, value: 100_000_000n }] });
      await wallet.mine(W + 1);
      // Snapshot 1: 5 BTC in, in the anchor block itself; out in the block right after it.
      const in1 = await moveIn();
      const anchor1 = await snapshotAt("wd-near");
      const out1 = await moveOut(in1.coin);
      // Snapshot 2: the same 5 BTC in 6 blocks before its anchor and out 5 blocks after it (W = 3).
      await wallet.mine(W + 1);
      const in2 = await moveIn();
      await wallet.mine(5);
      const anchor2 = await snapshotAt("wd-far");
      await wallet.mine(4);
      const out2 = await moveOut(in2.coin);
      // Final past both windows (6 confirmations).
      await wallet.mine(W + 8);
      await indexOnce(config, s.store, kind);

      expect(in1.height).toBe(anchor1);
      expect(out1.height).toBe(anchor1 + 1);
      const truth = await computeTruth(rpc, { dresser: [dresser.scriptHex] });
      const at = truth.balances["dresser"]!;
      const nodeMin = (a: number) => at.slice(a - W, a + W + 1).reduce((m, v) => (v < m ? v : m));

      const near = await createCheckpoint({ store: s.store, config }, { snapshotId: "wd-near", wait: false });
      const d1 = near.signed.document;
      expect(d1.anchors[0]).toMatchObject({ height: anchor1, window: { blocks: W, fromHeight: anchor1 - W, toHeight: anchor1 + W } });
      const a1 = d1.assets[0]!;
      expect(BigInt(a1.reserves!)).toBe(at[anchor1]);
      expect(BigInt(a1.window!.minReserves)).toBe(nodeMin(anchor1));
      expect(a1.window).toMatchObject({ minReserves: "100000000", riseBefore: FIVE.toString(), dropAfter: FIVE.toString(), windowDressing: true });
      // 1 BTC from the window's first height (the lowest where the minimum holds) and again after the outflow.
      expect(a1.backing[0]!.window).toMatchObject({ min: "100000000", minHeight: anchor1 - W });
      expect(d1.flags).toEqual([{
        type: "window_dressing", asset: "BTC", riseBefore: FIVE.toString(), dropAfter: FIVE.toString(), reserves: (FIVE + 100_000_000n).toString(), thresholdBps: 1000,
        inflows: [{ chain: "btc", chainAsset: "BTC_btc", wallet: "dresser", height: in1.height, txid: in1.txid, amount: FIVE.toString() }],
        outflows: [{ chain: "btc", chainAsset: "BTC_btc", wallet: "dresser", height: out1.height, txid: out1.txid, amount: FIVE.toString() }],
      }]);
      // The flag does not hide the coverage: 6 BTC against 1 BTC owed.
      expect(d1.status).toBe("covered");

      const far = await createCheckpoint({ store: s.store, config }, { snapshotId: "wd-far", wait: false });
      const d2 = far.signed.document;
      expect(d2.anchors[0]!.height).toBe(anchor2);
      expect(anchor2 - in2.height).toBe(5);
      expect(out2.height - anchor2).toBe(5);
      expect(d2.flags).toEqual([]);
      expect(BigInt(d2.assets[0]!.reserves!)).toBe(at[anchor2]);
      expect(BigInt(d2.assets[0]!.window!.minReserves)).toBe(nodeMin(anchor2));
      expect(d2.assets[0]!.window).toMatchObject({ minReserves: (FIVE + 100_000_000n).toString(), riseBefore: "0", dropAfter: "0", windowDressing: false });

      // Both verify (version 2: the window figures and the flag follow from the amounts), chained.
      const v = verifyCheckpoints([{ name: "near", text: near.stored.signed }, { name: "far", text: far.stored.signed }], { jwks: buildJwks(config.checkpoints.keys) });
      expect(v.checked.map((c) => c.seq)).toEqual([1, 2]);
    } finally {
      await s.dispose();
    }
  }, 600_000);
});
