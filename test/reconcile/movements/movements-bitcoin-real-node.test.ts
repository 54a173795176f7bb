// Movement reconciliation against a real node (bcoin regtest), SQLite and Postgres: the Bitcoin
// indexer follows the node with the movement sink registered, records arrive by file (CSV) and by
// the HTTP endpoint (a real server, a real API key). Workload: a coinbase deposit (recorded by txid),
// one transaction paying 15 users (change back to custody, one fee), a sweep hot → cold without a
// record, an outflow nobody recorded, a withdrawal that never happens, and a recorded withdrawal whose
// block is reorged away and mined again. After each step every outcome equals the workload's truth.
import { afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { computeApiKeyHash, createApiKey } from "../../../src/serve/api-keys.js";
import { startServeServer } from "../../../src/serve/create-serve-server.js";
import { resolveConfig, resolveMovementsConfig, type ResolvedConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { createMovementSink } from "../../../src/reconcile/movements/create-movement-sink.js";
import { importMovementRecords } from "../../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../../src/reconcile/movements/match-movements.js";
import { createMovementValidationContext } from "../../../src/reconcile/movements/validate-movement-record.js";
import { addBlockEventSink, loadMovementOutcomes, loadMovementRecords, type Store } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { createOwner, createRandom, outputsTo, createRigRpc, createRigWallet, startBcoin, type BcoinNode, type RigRpc, type RigWallet } from "../../rig/bitcoin.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
const CHAIN = "btc";
const USERS = 15;

describe("movements on bcoin regtest", () => {
  const random = createRandom(1414);
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  const hot = createOwner("p2pkh", { random });
  const cold = createOwner("p2pkh", { random });
  const users = Array.from({ length: USERS }, () => createOwner("p2pkh", { random }));
  const attacker = createOwner("p2pkh", { random });

  // One node per store kind: each run's workload is the whole chain its store indexes.
  afterEach(async () => {
    await node?.stop();
  });

  it.each(STORE_KINDS)("batched withdrawal, sweep, unrecorded outflow, missing withdrawal, reorg (%s)", async (kind) => {
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    await wallet.mine(1, hot); // height 1: a deposit to hot (its coinbase), spendable at 101
    await wallet.mine(100);
    const s = await openTestStore(kind);
    const writer = createApiKey();
    const reader = createApiKey();
    let now = Date.now();
    const config: ResolvedConfig = resolveConfig({
      path: "test",
      env: s.params.databaseUrl ? { DATABASE_URL: s.params.databaseUrl, BACKSTOP_PG_SCHEMA: s.params.pgSchema } : {},
      input: {
        ...(s.params.sqlitePath ? { store: { sqlitePath: s.params.sqlitePath } } : {}),
        chains: { [CHAIN]: { chain: "bitcoin-regtest", rpc: [node.authUrl], pollIntervalMs: 100 } },
        assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
        wallets: [{ label: "hot", chain: CHAIN, address: hot.address }, { label: "cold", chain: CHAIN, address: cold.address }],
        movements: { graceSeconds: 600, slaSeconds: 3600, feeCeilings: { BTC: "0.0001" } },
        serve: {
          apiKeys: [
            { name: "ledger", hash: computeApiKeyHash(writer.key), scopes: ["movements:write"] },
            { name: "dashboard", hash: computeApiKeyHash(reader.key), scopes: ["read"] },
          ],
        },
      },
    });
    const settings = resolveMovementsConfig(config);
    addBlockEventSink(s.store, createMovementSink({ settings, chains: [CHAIN], now: () => now }));
    const server = await startServeServer({ store: s.store, config, logger }, { port: 0 });
    const index = () => createIndexer({ config, chainKey: CHAIN, store: s.store, logger }).run({ once: true });
    const tick = () => s.store.tx((db) => matchMovementsIn(s.store, db, { settings, chains: [CHAIN], nowMs: now }));
    const post = (body: unknown, key = writer.key) =>
      fetch(`${server.url}/internal/v1/movements`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const current = async (st: Store = s.store) => Object.fromEntries((await loadMovementOutcomes(st, { currentOnly: true })).map((r) => [r.subject, r]));
    try {
      await index();
      const coinbase = (await rpc.call<{ tx: string[] }>("getblock", [await rpc.call<string>("getblockhash", [1]), true])).tx[0]!;
      const iso = () => new Date(now).toISOString();

      // The deposit by file (CSV), recorded by txid: it matches the already-indexed block at once.
      const csv = `id,kind,chain,asset,amount,counterparty,txid,time\nd-1,deposit,${CHAIN},BTC,50,,${coinbase},${iso()}\n`;
      const validation = createMovementValidationContext(config, now);
      expect(await importMovementRecords({ store: s.store, nowMs: () => now }, { bytes: Buffer.from(csv), format: "csv", sourceName: "d.csv", source: "file", validation, settings, chains: [CHAIN] }))
        .toMatchObject({ inserted: 1 });
      expect((await current())["record:d-1"]).toMatchObject({ outcome: "matched", txid: coinbase, height: 1, chainAmount: 5_000_000_000n });

      // Withdrawals by HTTP: a key without the scope is refused (403), a batch with one bad record writes nothing (422).
      const withdrawals = users.map((u, i) => ({ id: `wd-${i}`, kind: "withdrawal", chain: CHAIN, asset: "BTC", amount: `0.${String(i + 1).padStart(2, "0")}`, counterparty: u.address, time: iso() }));
      const missing = { id: "wd-missing", kind: "withdrawal", chain: CHAIN, asset: "BTC", amount: "1.5", counterparty: users[0]!.address, time: iso() };
      expect((await post(withdrawals, reader.key)).status).toBe(403);
      const bad = await post([...withdrawals, { ...missing, txid: "0x" + "ab".repeat(32) }]);
      expect(bad.status).toBe(422);
      expect((await bad.json()).problems).toEqual([{ index: USERS, field: "txid", id: "wd-missing", code: "MOVEMENTS__INVALID_TXID", message: expect.any(String) }]);
      expect(await loadMovementRecords(s.store)).toHaveLength(1);
      const ok = await post([...withdrawals, missing]);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ received: USERS + 1, inserted: USERS + 1, unchanged: 0 });
      // A re-send (the feed retrying) is a no-op.
      expect(await (await post(withdrawals)).json()).toMatchObject({ inserted: 0, unchanged: USERS });

      // One transaction pays every user (change to hot); a sweep hot → cold; an outflow nobody recorded.
      const batch = await wallet.send({ from: [hot], to: users.map((u, i) => ({ script: u.script, value: BigInt(i + 1) * 1_000_000n })), change: hot, fee: 30_000n });
      await wallet.mine(1);
      const sweep = await wallet.send({ from: [hot], to: [{ script: cold.script, value: 1_000_000_000n }], change: hot });
      const theft = await wallet.send({ from: [hot], to: [{ script: attacker.script, value: 100_000_000n }], change: hot, coins: outputsTo(sweep.tx, hot) });
      await wallet.mine(1);
      await index();
      let c = await current();
      for (let i = 0; i < USERS; i++) expect(c[`record:wd-${i}`], `wd-${i}`).toMatchObject({ outcome: "matched", txid: batch.txid, counterparty: users[i]!.address, chainAmount: BigInt(i + 1) * 1_000_000n });
      const withFee = Object.values(c).filter((r) => r.fee !== null);
      expect(withFee.map((r) => [r.recordId, r.fee, r.flags])).toEqual(expect.arrayContaining([["wd-0", 30_000n, ["fee_above_ceiling"]]]));
      expect(withFee.filter((r) => r.txid === batch.txid)).toHaveLength(1);
      expect(c[`leg:${CHAIN}:${sweep.txid}:0`]).toMatchObject({ outcome: "internal", counterparty: cold.address });
      expect(c[`leg:${CHAIN}:${theft.txid}:0`]).toMatchObject({ outcome: "pending", counterparty: attacker.address });
      expect(c["record:wd-missing"]).toBeUndefined(); // open, inside its SLA

      // Final (6 confirmations) and past the grace period: the theft is an unexplained outflow; after the SLA the missing one is flagged.
      await wallet.mine(6);
      await index();
      now += 601_000;
      await tick();
      c = await current();
      expect(c[`leg:${CHAIN}:${theft.txid}:0`]).toMatchObject({ outcome: "unexplained_outflow", severity: "critical", chainAmount: 100_000_000n, height: 103, walletId: expect.any(Number) });
      expect(c["record:wd-missing"]).toBeUndefined();
      now += 3_000_000;
      await tick();
      expect((await current())["record:wd-missing"]).toMatchObject({ outcome: "missing_on_chain", severity: "error" });
      expect(Object.values(await current()).filter((r) => r.outcome !== "matched").map((r) => [r.subject.startsWith("leg:") ? r.txid : r.recordId, r.outcome]).sort())
        .toEqual([[sweep.txid, "internal"], [theft.txid, "unexplained_outflow"], ["wd-missing", "missing_on_chain"]].sort());

      // A recorded withdrawal mined, matched, reorged away (invalidateblock + a longer fork that includes it again).
      const late = users[3]!;
      const rec = { id: "wd-reorg", kind: "withdrawal", chain: CHAIN, asset: "BTC", amount: "0.25", counterparty: late.address, time: new Date().toISOString() };
      expect((await post([rec])).status).toBe(200);
      const paid = await wallet.send({ from: [hot], to: [{ script: late.script, value: 25_000_000n }], change: hot, coins: outputsTo(theft.tx, hot) });
      await wallet.mine(1);
      await index();
      const first = (await current())["record:wd-reorg"]!;
      expect(first).toMatchObject({ outcome: "matched", txid: paid.txid });
      const r = await wallet.reorg({ depth: 1, extra: 1, between: async () => { await wallet.broadcast(paid.tx).catch(() => undefined); } });
      await index();
      const history = (await loadMovementOutcomes(s.store)).filter((x) => x.subject === "record:wd-reorg");
      expect(history.map((x) => x.outcome)).toEqual(["matched", "reorged", "matched"]);
      expect(history[0]!.blockHash).toBe(r.dropped[0]);
      expect(history[2]!.blockHash).not.toBe(r.dropped[0]);
      expect(history[2]!.txid).toBe(paid.txid);
    } finally {
      await server.close();
      await s.dispose();
    }
  }, 240_000);
});
