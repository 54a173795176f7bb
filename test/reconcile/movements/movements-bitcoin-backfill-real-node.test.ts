// A Bitcoin wallet added late, against a real node (bcoin regtest), SQLite and Postgres: its history
// (a coinbase deposit recorded by txid, a deposit recorded without one, a recorded withdrawal, an
// outflow nobody recorded, a sweep to a custody wallet without a record) is mined and passed by the
// follower while the wallet is not configured. Added to the config, it is backfilled, and its legs go
// to the movement matcher in the backfill's transaction. A reference store of the same kind follows the
// same node with the wallet configured from the start; after the backfill, after a reorg across the
// backfilled range and after finality, every outcome equals the reference's; the one difference is named:
// the receiving side of the sweep, which the custody wallet's own legs stored before (docs/movements.md).
import { afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { resolveConfig, resolveMovementsConfig, type ConfigInput, type ResolvedConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { computeMovementReport } from "../../../src/reconcile/movements/compute-movement-report.js";
import { createMovementSink } from "../../../src/reconcile/movements/create-movement-sink.js";
import { importMovementRecords } from "../../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../../src/reconcile/movements/match-movements.js";
import { createMovementValidationContext } from "../../../src/reconcile/movements/validate-movement-record.js";
import { addBlockEventSink, loadMovementOutcomes, loadTransfers, loadWalletStates, type MovementOutcomeRow, type Store } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { createOwner, createRandom, createRigRpc, createRigWallet, outputsTo, startBcoin, type BcoinNode } from "../../rig/bitcoin.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
const CHAIN = "btc";

/** What an outcome says, without the row id and clock. */
function view(r: MovementOutcomeRow) {
  return {
    outcome: r.outcome, severity: r.severity, recordId: r.recordId, flags: r.flags, txid: r.txid, height: r.height, blockHash: r.blockHash,
    position: r.position, walletId: r.walletId, chainAmount: r.chainAmount, fee: r.fee, counterparty: r.counterparty,
  };
}

async function current(store: Store) {
  return Object.fromEntries((await loadMovementOutcomes(store, { currentOnly: true })).map((r) => [r.subject, view(r)]));
}

type TestStore = Awaited<ReturnType<typeof openTestStore>>;

/** A config for one store against the node, with the given wallets (and movement settings). */
function buildConfig(st: TestStore, rpcUrl: string, wallets: ConfigInput["wallets"], movements?: ConfigInput["movements"]): ResolvedConfig {
  return resolveConfig({
    path: "test",
    env: st.params.databaseUrl ? { DATABASE_URL: st.params.databaseUrl, BACKSTOP_PG_SCHEMA: st.params.pgSchema } : {},
    input: {
      ...(st.params.sqlitePath ? { store: { sqlitePath: st.params.sqlitePath } } : {}),
      chains: { [CHAIN]: { chain: "bitcoin-regtest", rpc: [rpcUrl], pollIntervalMs: 100 } },
      assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
      wallets,
      ...(movements ? { movements } : {}),
    },
  });
}

describe("movements of a Bitcoin wallet added late (bcoin regtest)", () => {
  let node: BcoinNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  it.each(STORE_KINDS)("its backfilled history is matched as if it had been configured from the start; reorg across it (%s)", async (kind) => {
    const random = createRandom(1417);
    const hot = createOwner("p2pkh", { random });
    const late = createOwner("p2pkh", { random });
    const depositor = createOwner("p2pkh", { random });
    const user = createOwner("p2pkh", { random });
    const attacker = createOwner("p2pkh", { random });
    node = await startBcoin();
    const rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    const wallet = createRigWallet(rpc, { random });

    // The late wallet's history, all below the heights the follower passes before it is configured.
    await wallet.mine(1, late); // 1: a deposit to it (its coinbase)
    await wallet.mine(1, depositor); // 2: the outside depositor's coins
    await wallet.mine(100); // both mature at 101/102
    const dep = await wallet.send({ from: [depositor], to: [{ script: late.script, value: 7_000_000n }], change: depositor });
    const wd = await wallet.send({ from: [late], to: [{ script: user.script, value: 12_000_000n }], change: late, fee: 20_000n });
    const theft = await wallet.send({ from: [late], to: [{ script: attacker.script, value: 30_000_000n }], change: late, coins: outputsTo(wd.tx, late) });
    await wallet.mine(1); // 103
    const sweep = await wallet.send({ from: [late], to: [{ script: hot.script, value: 1_000_000_000n }], change: late });
    await wallet.mine(1); // 104
    const coinbase = (await rpc.call<{ tx: string[] }>("getblock", [await rpc.call<string>("getblockhash", [1]), true])).tx[0]!;

    const s = await openTestStore(kind); // the wallet added late
    const r = await openTestStore(kind); // the reference: configured from the start
    let now = Date.now();
    const walletHot = { label: "hot", chain: CHAIN, address: hot.address };
    const walletLate = { label: "late", chain: CHAIN, address: late.address };
    const config = (st: typeof s, wallets: ConfigInput["wallets"]) => buildConfig(st, node!.authUrl, wallets, { graceSeconds: 600, slaSeconds: 3600, feeCeilings: { BTC: "0.0001" } });
    const full = { s: config(s, [walletHot, walletLate]), r: config(r, [walletHot, walletLate]) };
    const settings = resolveMovementsConfig(full.s);
    for (const st of [s, r]) addBlockEventSink(st.store, createMovementSink({ settings, chains: [CHAIN], now: () => now }));
    const index = (st: typeof s, cfg: ResolvedConfig) => createIndexer({ config: cfg, chainKey: CHAIN, store: st.store, logger }).run({ once: true });
    const tick = (st: typeof s) => st.store.tx((db) => matchMovementsIn(st.store, db, { settings, chains: [CHAIN], nowMs: now }));
    const iso = () => new Date(now).toISOString();
    const csv = [
      "id,kind,chain,asset,amount,counterparty,txid,time",
      `d-cb,deposit,${CHAIN},BTC,50,,${coinbase},${iso()}`,
      `d-2,deposit,${CHAIN},BTC,0.07,,,${iso()}`,
      `wd-1,withdrawal,${CHAIN},BTC,0.12,${user.address},${wd.txid},${iso()}`,
    ].join("\n") + "\n";
    const importRecords = (st: typeof s) =>
      importMovementRecords({ store: st.store, nowMs: () => now }, {
        bytes: Buffer.from(csv), format: "csv", sourceName: "ledger.csv", source: "file", validation: createMovementValidationContext(full.s, now), settings, chains: [CHAIN],
      });
    try {
      // The records first (in both: the order of records and legs decides which rows a match writes); then the
      // follower passes the whole history with only hot configured, the reference with both.
      expect(await importRecords(s)).toMatchObject({ inserted: 3 });
      expect(await importRecords(r)).toMatchObject({ inserted: 3 });
      await index(s, config(s, [walletHot]));
      await index(r, full.r);
      expect(Object.keys(await current(s.store))).toEqual([`leg:${CHAIN}:${sweep.txid}:0`]); // hot's inflow, as hot saw it alone: the records are open

      // Added: backfilled (in one transaction with its legs and their matching pass).
      await index(s, full.s);
      expect((await loadWalletStates(s.store, { chain: CHAIN })).map((w) => [w.label, w.state, w.source])).toEqual([["hot", "active", "indexed"], ["late", "active", "rescan"]]);
      const lateId = (await loadWalletStates(s.store, { chain: CHAIN })).find((w) => w.label === "late")!.walletId;
      const sc = await current(s.store);
      const rc = await current(r.store);
      expect(sc["record:d-cb"]).toMatchObject({ outcome: "matched", txid: coinbase, height: 1, chainAmount: 5_000_000_000n, walletId: lateId });
      expect(sc["record:d-2"]).toMatchObject({ outcome: "matched", txid: dep.txid, height: 103, chainAmount: 7_000_000n });
      expect(sc["record:wd-1"]).toMatchObject({ outcome: "matched", txid: wd.txid, height: 103, counterparty: user.address, chainAmount: 12_000_000n, fee: 20_000n, flags: ["fee_above_ceiling"] });
      expect(sc[`leg:${CHAIN}:${theft.txid}:0`]).toMatchObject({ outcome: "pending", counterparty: attacker.address, chainAmount: 30_000_000n, walletId: lateId });
      // The sweep to hot is internal, never an outflow; hot's own leg of it, stored before the late wallet
      // was custody as an inflow from outside, becomes internal too (markTransfersWithBackfilledIn; its
      // stored transfer still names no sender: hot's history is not rewritten by another wallet's backfill).
      const sweepRows = Object.entries(sc).filter(([, v]) => v.txid === sweep.txid);
      expect(sweepRows.map(([, v]) => [v.walletId, v.outcome, v.counterparty]).sort()).toEqual([[1, "internal", null], [lateId, "internal", hot.address]].sort());
      // The daily report counts the sweep once (its sending side), as the reference does.
      const internalLine = async (st: typeof s) => computeMovementReport(await loadMovementOutcomes(st.store, { currentOnly: true })).find((l) => l.outcome === "internal");
      expect(await internalLine(s)).toMatchObject({ count: 1, chainAmount: 1_000_000_000n });
      expect(await internalLine(r)).toMatchObject({ count: 1, chainAmount: 1_000_000_000n });
      expect(Object.values(rc).filter((v) => v.txid === sweep.txid).map((v) => [v.walletId, v.outcome])).toEqual([[lateId, "internal"]]);
      const withoutSweep = (c: Record<string, ReturnType<typeof view>>) => Object.fromEntries(Object.entries(c).filter(([, v]) => v.txid !== sweep.txid));
      expect(withoutSweep(sc)).toEqual(withoutSweep(rc));
      // A second pass changes nothing.
      expect((await tick(s)).transitions).toEqual([]);

      // A reorg across the backfilled range (both its blocks), the transactions mined again in the fork.
      const fork = await wallet.reorg({
        depth: 2,
        extra: 1,
        between: async () => {
          for (const t of [dep, wd, theft, sweep]) await wallet.broadcast(t.tx).catch(() => undefined);
        },
      });
      await index(s, full.s);
      await index(r, full.r);
      for (const st of [s, r]) {
        const history = (await loadMovementOutcomes(st.store)).filter((x) => x.subject === "record:wd-1");
        expect(history.map((x) => x.outcome)).toEqual(["matched", "reorged", "matched"]);
        expect(history[0]!.blockHash).toBe(fork.dropped[0]);
        expect(history[2]!).toMatchObject({ txid: wd.txid, height: 103 });
        expect(history[2]!.blockHash).not.toBe(fork.dropped[0]);
      }

      // Final and past the grace period: the unrecorded outflow is unexplained, in both; everything agrees.
      await wallet.mine(6);
      await index(s, full.s);
      await index(r, full.r);
      now += 601_000;
      await tick(s);
      await tick(r);
      const end = await current(s.store);
      expect(end[`leg:${CHAIN}:${theft.txid}:0`]).toMatchObject({ outcome: "unexplained_outflow", severity: "critical", chainAmount: 30_000_000n, counterparty: attacker.address, walletId: lateId });
      for (const id of ["d-cb", "d-2", "wd-1"]) expect(end[`record:${id}`]?.outcome, id).toBe("matched");
      const ref = await current(r.store);
      expect(withoutSweep(end)).toEqual(withoutSweep(ref));
      // The reorged blocks were applied again with the late wallet counted: the sweep is internal under the
      // subject the reference gives it. The backfilled leg of the sweep had another subject (hot's leg held
      // `:0`), which keeps its `reorged` row: the trace of the receiving-side limit above (docs/movements.md).
      expect(Object.entries(ref).filter(([, v]) => v.txid === sweep.txid)).toEqual([[`leg:${CHAIN}:${sweep.txid}:0`, expect.objectContaining({ outcome: "internal", walletId: lateId })]]);
      expect(end[`leg:${CHAIN}:${sweep.txid}:0`]).toEqual(ref[`leg:${CHAIN}:${sweep.txid}:0`]);
      expect(Object.values(end).filter((v) => v.txid === sweep.txid).map((v) => [v.walletId, v.outcome]).sort()).toEqual([[lateId, "internal"], [lateId, "reorged"]]);
      expect(Object.values(end).filter((v) => v.outcome !== "matched" && v.txid !== sweep.txid).map((v) => [v.txid, v.outcome])).toEqual([[theft.txid, "unexplained_outflow"]]);
    } finally {
      await s.dispose();
      await r.dispose();
    }
  }, 240_000);

  it.each(STORE_KINDS)("a custody wallet's payment to the late wallet in the backfilled range, unexplained before, is internal on both sides once backfilled (%s)", async (kind) => {
    const random = createRandom(1418);
    const hot = createOwner("p2pkh", { random });
    const late = createOwner("p2pkh", { random });
    const outsider = createOwner("p2pkh", { random });
    node = await startBcoin();
    const rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    const wallet = createRigWallet(rpc, { random });
    await wallet.mine(1, hot); // 1: hot's coins
    await wallet.mine(1, outsider); // 2: an outsider's coins
    await wallet.mine(100);
    // In one block: hot pays the late wallet 2 BTC; the outsider pays it 2 BTC too (a deposit, the same amount).
    const pay = await wallet.send({ from: [hot], to: [{ script: late.script, value: 200_000_000n }], change: hot });
    const dep = await wallet.send({ from: [outsider], to: [{ script: late.script, value: 200_000_000n }], change: outsider });
    await wallet.mine(1); // 103
    await wallet.mine(6); // final

    const s = await openTestStore(kind);
    const r = await openTestStore(kind);
    const config = (st: typeof s, wallets: ConfigInput["wallets"]) => buildConfig(st, node!.authUrl, wallets);
    const both = [{ label: "hot", chain: CHAIN, address: hot.address }, { label: "late", chain: CHAIN, address: late.address }];
    const settings = resolveMovementsConfig(config(s, both));
    for (const st of [s, r]) addBlockEventSink(st.store, createMovementSink({ settings, chains: [CHAIN] }));
    const index = (st: typeof s, cfg: ResolvedConfig) => createIndexer({ config: cfg, chainKey: CHAIN, store: st.store, logger }).run({ once: true });
    try {
      await index(s, config(s, both.slice(0, 1)));
      // With only hot configured, its payment is an outflow outside custody: unexplained once past the grace period.
      await s.store.tx((db) => matchMovementsIn(s.store, db, { settings, chains: [CHAIN], nowMs: Date.now() + 601_000 }));
      expect(Object.values(await current(s.store)).filter((v) => v.txid === pay.txid).map((v) => v.outcome)).toEqual(["unexplained_outflow"]);
      await index(r, config(r, both));
      await index(s, config(s, both));
      const lateId = (await loadWalletStates(s.store, { chain: CHAIN })).find((w) => w.label === "late")!.walletId;
      const lateLegs = async (st: typeof s, txid: string) => Object.values(await current(st.store)).filter((v) => v.txid === txid && v.walletId === lateId);
      const hotId = (await loadWalletStates(s.store, { chain: CHAIN })).find((w) => w.label === "hot")!.walletId;
      // Hot's payment: on the late wallet's side a custody-to-custody leg, naming hot (the receiving side of an
      // internal transfer is not an item of its own), as in the store that had it from the start.
      expect((await loadTransfers(s.store, { chain: CHAIN, txid: pay.txid })).filter((x) => x.walletId === lateId).map((x) => [x.direction, x.amount, x.counterpartyWalletId]))
        .toEqual([["in", 200_000_000n, hotId]]);
      expect(await lateLegs(s, pay.txid)).toEqual([]);
      expect(await lateLegs(r, pay.txid)).toEqual([]);
      // Hot's own leg, stored as an outflow outside custody before the late wallet was configured: internal,
      // naming the late wallet, as in the reference.
      const hotLegs = async (st: typeof s) => Object.values(await current(st.store)).filter((v) => v.txid === pay.txid).map((v) => [v.walletId, v.outcome]);
      expect(await hotLegs(r)).toEqual([[hotId, "internal"]]);
      expect(await hotLegs(s)).toEqual([[hotId, "internal"]]);
      expect((await loadMovementOutcomes(s.store, { currentOnly: true })).find((x) => x.txid === pay.txid)).toMatchObject({ counterpartyWalletId: lateId, counterparty: late.address });
      // The outsider's deposit of the same amount in the same block stays an inflow from outside (nobody credited it yet).
      expect((await lateLegs(s, dep.txid)).map((v) => [v.outcome, v.chainAmount])).toEqual([["pending", 200_000_000n]]);
      expect((await lateLegs(r, dep.txid)).map((v) => [v.outcome, v.chainAmount])).toEqual([["pending", 200_000_000n]]);
    } finally {
      await s.dispose();
      await r.dispose();
    }
  }, 240_000);
});
