// Movement matching through the real store (SQLite and Postgres): records imported all or nothing,
// blocks written by saveBlock with the movement sink registered (matching inside the block's
// transaction), rollbackTo for reorgs, a controlled clock for grace periods and SLAs. After each step
// every outcome equals what the scenario knows to be true.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ResolvedMovements } from "../../../src/lib/config.js";
import { createMovementSink } from "../../../src/reconcile/movements/create-movement-sink.js";
import { MovementRecordsInvalidError } from "../../../src/reconcile/movements/errors.js";
import { importMovementRecords } from "../../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../../src/reconcile/movements/match-movements.js";
import { addBlockEventSink, loadMovementOutcomes, loadMovementRecords, rollbackTo, saveBlock, saveEvmReadsIn, saveWalletBackfill, saveWallets, type Store, type TransferInput } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { createAlertReaders } from "../../../src/alerts/create-alert-readers.js";
import { createHealthMemory, evaluateHealthRules } from "../../../src/alerts/evaluate-health-rules.js";
import { loadAlerts } from "../../../src/alerts/load-alerts.js";
import { buildAlertsConfig } from "../../alerts/alert-fixtures.js";
import { BTC_ADDR, BTC_ADDR2, VALIDATION } from "./movement-fixtures.js";

const SETTINGS: ResolvedMovements = { graceSeconds: 600, slaSeconds: 3600, windowSeconds: 86_400, feeCeilings: { BTC: 20_000n, ETH: 10n ** 16n }, dustFloors: { BTC: 1_000n }, dustWindowSeconds: 3600, lookAlikeChars: 4 };
const T0 = Date.parse("2026-05-31T12:00:00Z");
const tx = (n: number) => n.toString(16).padStart(64, "0");

describe.each(STORE_KINDS)("movement matching on the store (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let now = T0;
  let hot: number;
  let cold: number;
  let height = 0;
  let hashes: string[] = [];

  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
    const w = await saveWallets(store, [
      { chain: "btc", label: "hot", kind: "address", address: "hot-addr" },
      { chain: "btc", label: "cold", kind: "address", address: "cold-addr" },
    ]);
    hot = w[0]!.id;
    cold = w[1]!.id;
    now = T0;
    height = 0;
    hashes = [];
    addBlockEventSink(store, createMovementSink({ settings: SETTINGS, chains: ["btc"], now: () => now }));
  });
  afterEach(async () => dispose());

  /** Stores the next block (time = the clock), final up to `finalized` (default: itself). */
  async function block(transfers: TransferInput[], p: { finalized?: number; salt?: string; timeMs?: number } = {}) {
    const h = ++height;
    const hash = `${p.salt ?? "a"}${h}`.padEnd(64, "0");
    await saveBlock(store, {
      block: { chain: "btc", height: h, hash, parentHash: hashes[h - 1] ?? "genesis".padEnd(64, "0"), time: Math.floor((p.timeMs ?? now) / 1000) },
      changes: [],
      transfers,
      finalizedHeight: p.finalized ?? h,
    });
    hashes[h] = hash;
  }
  const out = (txid: string, n: number, amount: bigint, counterparty: string, extra: Partial<TransferInput> = {}): TransferInput =>
    ({ walletId: hot, asset: "BTC", txid, position: n, direction: "out", amount, counterparty, counterpartyWalletId: null, ...extra });
  const fee = (txid: string, n: number, amount: bigint): TransferInput => ({ walletId: hot, asset: "BTC", txid, position: n, direction: "fee", amount, counterparty: null });
  const records = (list: object[], format: "json" = "json") =>
    importMovementRecords({ store, nowMs: () => now }, {
      bytes: Buffer.from(JSON.stringify(list)), format, sourceName: "test", source: "http",
      validation: { ...VALIDATION, nowMs: now }, settings: SETTINGS, chains: ["btc"],
    });
  const iso = (ms: number) => new Date(ms).toISOString();
  const w = (id: string, amount: string, counterparty: string, extra: object = {}) => ({ id, kind: "withdrawal", chain: "btc", asset: "BTC", amount, counterparty, time: iso(now), ...extra });
  const current = async () => {
    const rows = await loadMovementOutcomes(store, { currentOnly: true });
    return Object.fromEntries(rows.map((r) => [r.subject, r.outcome]));
  };
  const tick = () => store.tx((db) => matchMovementsIn(store, db, { settings: SETTINGS, chains: ["btc"], nowMs: now }));

  it("a batched withdrawal paying many users: each record matched to its output, the fee once, change not a leg", async () => {
    const users = Array.from({ length: 12 }, (_, i) => ({ id: `wd-${i}`, amount: `0.${String(i + 1).padStart(2, "0")}`, to: i % 2 ? BTC_ADDR : BTC_ADDR2 }));
    await records(users.map((u) => w(u.id, u.amount, u.to)));
    const T = tx(1);
    await block([...users.map((u, i) => out(T, i, BigInt(i + 1) * 1_000_000n, u.to)), fee(T, 12, 25_000n)]);
    const rows = await loadMovementOutcomes(store, { currentOnly: true });
    expect(rows.filter((r) => r.outcome === "matched").map((r) => r.recordId).sort()).toEqual(users.map((u) => u.id).sort());
    expect(rows.every((r) => r.txid === T && r.height === 1)).toBe(true);
    const fees = rows.filter((r) => r.fee !== null);
    expect(fees).toHaveLength(1);
    expect(fees[0]).toMatchObject({ recordId: "wd-0", fee: 25_000n, feeAsset: "BTC", flags: ["fee_above_ceiling"] });
    expect((await loadMovementRecords(store)).every((r) => !r.open)).toBe(true);
  });

  it("same amount to the same address twice: each record takes the nearest movement", async () => {
    now = T0 + 3_600_000;
    await block([out(tx(3), 0, 10_000_000n, BTC_ADDR)], { timeMs: T0 + 3_500_000 });
    await block([out(tx(2), 0, 10_000_000n, BTC_ADDR)], { timeMs: T0 + 100_000 });
    await records([w("b", "0.1", BTC_ADDR, { time: iso(T0 + 3_600_000) }), w("a", "0.1", BTC_ADDR, { time: iso(T0) })]);
    const rows = await loadMovementOutcomes(store, { currentOnly: true });
    expect(Object.fromEntries(rows.map((r) => [r.recordId, r.txid]))).toEqual({ a: tx(2), b: tx(3) });
  });

  it("internal movements are never outflows; a late sweep record matches them", async () => {
    // cold's address is BTC_ADDR2 here: the leg names it as the chain does, with cold's wallet id.
    await block([out(tx(4), 0, 50_000_000n, BTC_ADDR2, { counterpartyWalletId: cold }), { walletId: cold, asset: "BTC", txid: tx(4), position: 1, direction: "in", amount: 50_000_000n, counterparty: BTC_ADDR, counterpartyWalletId: hot }]);
    now += 3_600_000;
    await tick();
    // Past grace and final: custody to custody, never an outflow (the incoming side is not a second item).
    expect(await current()).toEqual({ [`leg:btc:${tx(4)}:0`]: "internal" });
    // A withdrawal record cannot claim an internal movement; a sweep record (late, no txid) matches it.
    await records([w("not-sweep", "0.5", BTC_ADDR2, { time: iso(now - 3_600_000) }), { id: "sw-1", kind: "sweep", chain: "btc", asset: "BTC", amount: "0.5", counterparty: BTC_ADDR2, time: iso(now - 3_600_000) }]);
    expect(await current()).toEqual({ [`leg:btc:${tx(4)}:0`]: "matched", "record:sw-1": "matched", "record:not-sweep": "missing_on_chain" });
  });

  it("late record resolves an unexplained outflow; duplicate is a no-op; a conflict is refused with nothing written", async () => {
    await block([out(tx(5), 0, 7_000_000n, BTC_ADDR), fee(tx(5), 1, 1_000n)]);
    expect(await current()).toEqual({ [`leg:btc:${tx(5)}:0`]: "pending" });
    now += 599_000;
    await tick();
    expect((await current())[`leg:btc:${tx(5)}:0`]).toBe("pending");
    now += 2_000;
    await tick();
    expect((await current())[`leg:btc:${tx(5)}:0`]).toBe("unexplained_outflow");
    const rec = w("late-1", "0.07", BTC_ADDR, { time: iso(T0), txid: tx(5) });
    expect(await records([rec])).toMatchObject({ inserted: 1, unchanged: 0 });
    expect(await current()).toEqual({ [`leg:btc:${tx(5)}:0`]: "matched", "record:late-1": "matched" });
    const history = (await loadMovementOutcomes(store)).filter((r) => r.subject === `leg:btc:${tx(5)}:0`).map((r) => r.outcome);
    expect(history).toEqual(["pending", "unexplained_outflow", "matched"]);
    const before = await loadMovementOutcomes(store);
    expect(await records([rec])).toMatchObject({ inserted: 0, unchanged: 1, transitions: 0 });
    const err = await records([w("new-1", "0.01", BTC_ADDR), { ...rec, amount: "0.08" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MovementRecordsInvalidError);
    expect((err as MovementRecordsInvalidError).problems).toEqual([expect.objectContaining({ index: 1, id: "late-1", code: "MOVEMENTS__ID_CONFLICT" })]);
    expect((await loadMovementRecords(store)).map((r) => r.id)).toEqual(["late-1"]);
    expect(await loadMovementOutcomes(store)).toEqual(before);
  });

  it("alerts: an unexplained outflow raises one critical alert through the alert pipeline; the late record that explains it resolves the incident", async () => {
    const alerts = buildAlertsConfig({ rules: [{ name: "unexplained", type: "movement", severity: "critical", outcomes: ["unexplained_outflow"] }] }).alerts;
    const memory = createHealthMemory();
    const readers = createAlertReaders();
    const evaluate = () => evaluateHealthRules(store, { alerts, now: () => now, readers, memory });
    await block([out(tx(7), 0, 7_000_000n, BTC_ADDR), fee(tx(7), 1, 1_000n)]);
    expect(await evaluate()).toBe(0); // pending (within the grace period): nothing to say yet
    now += 601_000;
    await tick();
    expect(await evaluate()).toBe(1);
    expect(await evaluate()).toBe(0); // read once, never raised twice
    const [fired, ...others] = await loadAlerts(store);
    expect(others).toEqual([]);
    expect(fired).toMatchObject({ rule: "unexplained", type: "movement", severity: "critical", status: "firing", chain: "btc", wallet: "hot", asset: "BTC", txids: [tx(7)], height: 1 });
    expect(fired!.values).toMatchObject({ outcome: "unexplained_outflow", chain_amount: "7000000", counterparty: BTC_ADDR, subject: `leg:btc:${tx(7)}:0` });
    await records([w("late-7", "0.07", BTC_ADDR, { time: iso(T0), txid: tx(7) })]);
    expect(await evaluate()).toBe(1);
    const all = await loadAlerts(store);
    expect(all).toHaveLength(2);
    const resolved = all.find((a) => a.id !== fired!.id);
    expect(resolved).toMatchObject({ rule: "unexplained", status: "resolved", incident_key: fired!.incident_key, incident_status: "resolved" });
  });

  it("amount mismatch by txid; a missing withdrawal after its SLA; unexplained inflow after grace; nothing unexplained before finality", async () => {
    await records([w("m-1", "0.3", BTC_ADDR, { txid: tx(6) }), w("miss-1", "0.2", BTC_ADDR2)]);
    await block([out(tx(6), 0, 29_000_000n, BTC_ADDR), { walletId: hot, asset: "BTC", txid: tx(7), position: 1, direction: "in", amount: 123n, counterparty: null }], { finalized: 0 });
    expect(await current()).toMatchObject({ "record:m-1": "amount_mismatch", [`leg:btc:${tx(7)}:0`]: "pending" });
    now += 3_600_000;
    await tick();
    // Not final yet: the inflow stays pending however long; the record's SLA has run out.
    expect(await current()).toMatchObject({ [`leg:btc:${tx(7)}:0`]: "pending", "record:miss-1": "missing_on_chain" });
    await block([]);
    now += 1;
    await tick();
    expect(await current()).toMatchObject({ [`leg:btc:${tx(7)}:0`]: "unexplained_inflow" });
    const mm = (await loadMovementOutcomes(store, { currentOnly: true, outcome: "amount_mismatch" }))[0]!;
    expect(mm).toMatchObject({ amount: 30_000_000n, chainAmount: 29_000_000n, severity: "critical", txid: tx(6), height: 1 });
  });

  it("a fee-bumped replacement (RBF): the record names the first txid, the chain confirms another → replaced, not outflow + missing", async () => {
    await records([w("rbf-1", "0.2", BTC_ADDR, { txid: tx(20) })]);
    await block([out(tx(21), 0, 20_000_000n, BTC_ADDR), fee(tx(21), 1, 9_000n)]);
    now += 7_200_000;
    await tick();
    expect(await current()).toEqual({ "record:rbf-1": "replaced" });
    expect((await loadMovementOutcomes(store, { currentOnly: true }))[0]).toMatchObject({ txid: tx(21), flags: ["txid_replaced"], fee: 9_000n, severity: "warning" });
  });

  it("an EVM token withdrawal, legs as an EVM indexer writes them (token out leg, gas as an ETH fee leg): matched, fee in ETH", async () => {
    const [eth] = await saveWallets(store, [{ chain: "eth", label: "eth-hot", kind: "address", address: `0x${"aa".repeat(20)}` }]);
    const T = `0x${"ef".repeat(32)}`;
    const user = `0x${"12".repeat(20)}`;
    await saveBlock(store, {
      block: { chain: "eth", height: 1, hash: `0x${"01".repeat(32)}`, parentHash: `0x${"00".repeat(32)}`, time: Math.floor(now / 1000) },
      changes: [],
      transfers: [
        { walletId: eth!.id, asset: "USDC-eth", txid: T, position: 0, direction: "out", amount: 1_500_000_000n, counterparty: user, counterpartyWalletId: null },
        { walletId: eth!.id, asset: "ETH", txid: T, position: 1, direction: "fee", amount: 42_000_000_000_000n, counterparty: null },
      ],
      finalizedHeight: 1,
    });
    await importMovementRecords({ store, nowMs: () => now }, {
      bytes: Buffer.from(JSON.stringify([{ id: "e-1", kind: "withdrawal", chain: "eth", asset: "USDC-eth", amount: "1500", counterparty: user.toUpperCase().replace("0X", "0x"), txid: T.toUpperCase().replace("0X", "0x"), time: iso(now) }])),
      format: "json", sourceName: "t", source: "http", validation: { ...VALIDATION, nowMs: now }, settings: SETTINGS, chains: ["eth"],
    });
    const [row] = await loadMovementOutcomes(store, { currentOnly: true });
    expect(row).toMatchObject({ subject: "record:e-1", outcome: "matched", chain: "eth", txid: T, chainAmount: 1_500_000_000n, fee: 42_000_000_000_000n, feeAsset: "ETH", counterparty: user });
  });

  it("a matched movement reorged away goes back to reorged, then matches again in another block (one subject)", async () => {
    await records([w("r-1", "0.4", BTC_ADDR)]);
    await block([], { finalized: 0 });
    await block([out(tx(8), 0, 40_000_000n, BTC_ADDR)], { finalized: 0 });
    expect((await current())["record:r-1"]).toBe("matched");
    await rollbackTo(store, { chain: "btc", height: 1 });
    height = 1;
    expect((await current())["record:r-1"]).toBe("reorged");
    expect((await loadMovementRecords(store))[0]!.open).toBe(true);
    await block([], { finalized: 0, salt: "b" });
    await block([out(tx(8), 0, 40_000_000n, BTC_ADDR)], { finalized: 0, salt: "b" });
    const rows = (await loadMovementOutcomes(store)).filter((r) => r.subject === "record:r-1");
    expect(rows.map((r) => [r.outcome, r.height, r.blockHash?.slice(0, 2)])).toEqual([["matched", 2, "a2"], ["reorged", 2, "a2"], ["matched", 3, "b3"]]);
    expect(rows.filter((r) => r.current)).toHaveLength(1);
  });

  it("J4 dust: hundreds of unsolicited inflows below the floor are unexplained_inflow (flag dust) and ONE info incident per asset and window", async () => {
    const alerts = buildAlertsConfig({ rules: [{ name: "movements", type: "movement", severity: "warning" }] }).alerts;
    const memory = createHealthMemory();
    const evaluate = () => evaluateHealthRules(store, { alerts, now: () => now, readers: createAlertReaders(), memory });
    const dust = (txid: string, n: number, amount = 546n): TransferInput => ({ walletId: n % 2 ? hot : cold, asset: "BTC", txid, position: n, direction: "in", amount, counterparty: null });
    // Window [T0 - T0 % 1h, +1h): two blocks of 300 dust outputs each, and one real deposit nobody credited.
    const w0 = Math.floor(T0 / 3_600_000) * 3_600_000;
    await block(Array.from({ length: 300 }, (_, i) => dust(tx(100), i)), { timeMs: w0 + 60_000 });
    await block([...Array.from({ length: 300 }, (_, i) => dust(tx(101), i)), dust(tx(102), 300, 5_000_000n)], { timeMs: w0 + 120_000 });
    // The next window: 10 more.
    await block(Array.from({ length: 10 }, (_, i) => dust(tx(103), i, 999n)), { timeMs: w0 + 3_600_000 + 1_000 });
    now += 601_000;
    await tick();
    const rows = await loadMovementOutcomes(store, { currentOnly: true });
    const dustRows = rows.filter((r) => r.flags.includes("dust"));
    expect(dustRows).toHaveLength(610);
    expect(dustRows.every((r) => r.outcome === "unexplained_inflow" && r.severity === "info")).toBe(true);
    expect(new Set(dustRows.map((r) => r.flags.find((f) => f.startsWith("dust_window:"))))).toEqual(new Set([`dust_window:${w0}`, `dust_window:${w0 + 3_600_000}`]));
    const real = rows.find((r) => r.txid === tx(102))!;
    expect(real).toMatchObject({ outcome: "unexplained_inflow", severity: "warning", flags: [] });
    // The engine reads 1,000 rows a round (1,222 were written: 611 pending, 611 transitions).
    let raisedCount = 0;
    for (let i = 0; i < 3; i++) raisedCount += await evaluate();
    expect(raisedCount).toBe(3);
    const raised = await loadAlerts(store);
    const byKind = raised.map((a) => [a.severity, (a.values as { outcome: string }).outcome, a.summary.startsWith("unexplained_inflow: dust")]).sort();
    expect(byKind).toEqual([["info", "unexplained_inflow", true], ["info", "unexplained_inflow", true], ["warning", "unexplained_inflow", false]]);
    expect(new Set(raised.map((a) => a.incident_key)).size).toBe(3);
    // A pass later changes nothing; a deposit record for one dust amount explains that one leg only.
    await tick();
    expect(await evaluate()).toBe(0);
  });

  it("J5 address poisoning: an unexplained outflow to a look-alike of a known counterparty is unknown_counterparty (critical), naming it", async () => {
    await records([w("known-1", "0.01", BTC_ADDR)]);
    await block([out(tx(200), 0, 1_000_000n, BTC_ADDR)]);
    expect((await current())["record:known-1"]).toBe("matched");
    // Same prefix, same first and last 4 characters after "bcrt1", different in the middle.
    const fake = `${BTC_ADDR.slice(0, 9)}${"x".repeat(BTC_ADDR.length - 13)}${BTC_ADDR.slice(-4)}`;
    expect(fake).not.toBe(BTC_ADDR);
    await block([out(tx(201), 0, 1_000_000n, fake), out(tx(202), 0, 3_000_000n, BTC_ADDR2)]);
    now += 601_000;
    await tick();
    const rows = Object.fromEntries((await loadMovementOutcomes(store, { currentOnly: true })).map((r) => [r.subject, r]));
    expect(rows[`leg:btc:${tx(201)}:0`]).toMatchObject({ outcome: "unknown_counterparty", severity: "critical", counterparty: fake, flags: [`looks_like:${BTC_ADDR}`] });
    // An address the records do not know and that imitates none: an ordinary unexplained outflow.
    expect(rows[`leg:btc:${tx(202)}:0`]).toMatchObject({ outcome: "unexplained_outflow", flags: [] });
    const before = (await loadMovementOutcomes(store)).length;
    await tick();
    expect((await loadMovementOutcomes(store)).length).toBe(before);
    const alerts = buildAlertsConfig({ rules: [{ name: "poison", type: "movement", severity: "critical", outcomes: ["unknown_counterparty"] }] }).alerts;
    expect(await evaluateHealthRules(store, { alerts, now: () => now, readers: createAlertReaders(), memory: createHealthMemory() })).toBe(1);
    const [alert] = await loadAlerts(store);
    expect(alert).toMatchObject({ severity: "critical", txids: [tx(201)] });
    expect(alert!.values).toMatchObject({ outcome: "unknown_counterparty", counterparty: fake, looks_like: BTC_ADDR });
    expect(alert!.summary).toContain(`looks like the known counterparty ${BTC_ADDR}`);
    // A record that explains it (the platform did pay that address) resolves it.
    await records([w("late-fake", "0.01", BTC_ADDR, { txid: tx(201) })]);
    // It names the genuine address, the chain paid the look-alike: by txid that is amount_mismatch (critical) on the record, which now explains the leg.
    expect(await current()).toMatchObject({ [`leg:btc:${tx(201)}:0`]: "matched", "record:late-fake": "amount_mismatch" });
  });

  it("J8: a withdrawal whose EVM transaction failed (only gas left custody) is missing_on_chain naming the txid; the gas is explained by the record; a retry replaces it", async () => {
    const [eth] = await saveWallets(store, [{ chain: "eth", label: "eth-hot", kind: "address", address: `0x${"aa".repeat(20)}` }]);
    const T = `0x${"f1".repeat(32)}`;
    const user = `0x${"12".repeat(20)}`;
    const ethTick = () => store.tx((db) => matchMovementsIn(store, db, { settings: SETTINGS, chains: ["eth"], nowMs: now }));
    await importMovementRecords({ store, nowMs: () => now }, {
      bytes: Buffer.from(JSON.stringify([{ id: "fail-1", kind: "withdrawal", chain: "eth", asset: "ETH", amount: "1.5", counterparty: user, txid: T, time: iso(now) }])),
      format: "json", sourceName: "t", source: "http", validation: { ...VALIDATION, nowMs: now }, settings: SETTINGS, chains: ["eth"],
    });
    const ethBlock = async (h: number, within: (db: import("../../../src/store/index.js").Db) => Promise<void>, transfers: TransferInput[] = []) => {
      await store.tx(async (db) => {
        const { saveBlockIn } = await import("../../../src/store/index.js");
        await saveBlockIn(store, db, {
          block: { chain: "eth", height: h, hash: `0x${String(h).padStart(2, "0").repeat(32)}`, parentHash: `0x${String(h - 1).padStart(2, "0").repeat(32)}`, time: Math.floor(now / 1000) },
          changes: [], transfers, finalizedHeight: h,
        });
        await within(db);
      });
    };
    // The failed transaction: no value leg, the wallet's native change is the gas, attributed to nothing but naming T.
    await ethBlock(1, (db) => saveEvmReadsIn(store, db, { chain: "eth", height: 1, blockHash: `0x${"01".repeat(32)}`, fullRead: false, silent: [], unattributed: [{ walletId: eth!.id, asset: "ETH", delta: -52_000_000_000_000n, candidates: [T] }] }));
    await ethTick();
    const rows = Object.fromEntries((await loadMovementOutcomes(store, { currentOnly: true })).map((r) => [r.subject, r]));
    expect(rows["record:fail-1"]).toMatchObject({ outcome: "missing_on_chain", severity: "error", txid: T, height: 1, flags: ["failed_on_chain"], chainAmount: 52_000_000_000_000n });
    expect(rows[`leg:eth:${T}:gas`]).toMatchObject({ outcome: "matched", recordId: "fail-1", direction: "out", chainAmount: 52_000_000_000_000n, flags: ["failed_on_chain", "transaction_cost"] });
    // Stable: later passes write nothing, even after the SLA runs out.
    const n = (await loadMovementOutcomes(store)).length;
    now += 7_200_000;
    await ethTick();
    expect((await loadMovementOutcomes(store)).length).toBe(n);
    // The platform retries with a new transaction that succeeds: the record is replaced (closed).
    const T2 = `0x${"f2".repeat(32)}`;
    await ethBlock(2, async () => {}, [{ walletId: eth!.id, asset: "ETH", txid: T2, position: 2 ** 32, direction: "out", amount: 1_500_000_000_000_000_000n, counterparty: user, counterpartyWalletId: null }]);
    await ethTick();
    expect((await loadMovementOutcomes(store, { currentOnly: true })).find((r) => r.subject === "record:fail-1")).toMatchObject({ outcome: "replaced", txid: T2 });
  });

  it("a missing_on_chain record stays in the pool: its late movement matches it and resolves the incident", async () => {
    const alerts = buildAlertsConfig({ rules: [{ name: "missing", type: "movement", severity: "error", outcomes: ["missing_on_chain"] }] }).alerts;
    const memory = createHealthMemory();
    const evaluate = () => evaluateHealthRules(store, { alerts, now: () => now, readers: createAlertReaders(), memory });
    await records([w("slow-1", "0.25", BTC_ADDR)]);
    now += 3_600_000;
    await tick();
    expect(await current()).toEqual({ "record:slow-1": "missing_on_chain" });
    expect(await evaluate()).toBe(1);
    await block([out(tx(300), 0, 25_000_000n, BTC_ADDR)], { timeMs: now });
    expect(await current()).toEqual({ "record:slow-1": "matched" });
    expect(await evaluate()).toBe(1);
    expect((await loadAlerts(store)).map((a) => a.status).sort()).toEqual(["firing", "resolved"]);
  });

  it("a late-added wallet's backfilled legs at heights the matcher has passed are matched", async () => {
    await block([out(tx(400), 0, 1_000_000n, BTC_ADDR)]);
    await block([]);
    await block([]);
    const [late] = await saveWallets(store, [{ chain: "btc", label: "late", kind: "address", address: "late-addr" }]);
    await records([w("from-late", "0.02", BTC_ADDR2, { time: iso(now), txid: tx(401) }), w("hot-1", "0.01", BTC_ADDR, { txid: tx(400) })]);
    expect(await current()).toEqual({ "record:hot-1": "matched", [`leg:btc:${tx(400)}:0`]: "matched" }); // from-late: open, inside its SLA (no row)
    await saveWalletBackfill(store, {
      chain: "btc", walletId: late!.id, expectCursor: { height: 3, hash: hashes[3]! }, exactFrom: 1, source: "rescan",
      changes: [{ height: 2, blockHash: hashes[2]!, txid: tx(401), asset: "BTC", delta: -2_000_000n }],
      transfers: [
        { walletId: late!.id, asset: "BTC", txid: tx(401), position: 0, direction: "out", amount: 2_000_000n, counterparty: BTC_ADDR2, counterpartyWalletId: null, height: 2, blockHash: hashes[2]! },
        { walletId: late!.id, asset: "BTC", txid: tx(402), position: 1, direction: "out", amount: 9_000_000n, counterparty: BTC_ADDR2, counterpartyWalletId: null, height: 2, blockHash: hashes[2]! },
      ],
    });
    expect(await current()).toEqual({ "record:from-late": "matched", "record:hot-1": "matched", [`leg:btc:${tx(400)}:0`]: "matched", [`leg:btc:${tx(402)}:0`]: "pending" });
    expect((await loadMovementOutcomes(store, { currentOnly: true })).find((r) => r.subject === "record:from-late")).toMatchObject({ height: 2, walletId: late!.id, txid: tx(401) });
    // Idempotent: a second pass over the same range takes nothing in twice.
    const n = (await loadMovementOutcomes(store)).length;
    await store.tx((db) => matchMovementsIn(store, db, { settings: SETTINGS, chains: ["btc"], nowMs: now, rescan: { chain: "btc", fromHeight: 1 } }));
    expect((await loadMovementOutcomes(store)).length).toBe(n);
  });
  it("a block on another chain leaves this chain's unexplained outflow as it is (its finality is read for every pooled leg)", async () => {
    const [other] = await saveWallets(store, [{ chain: "other", label: "other-hot", kind: "address", address: "other-addr" }]);
    await block([out(tx(9), 0, 7_000_000n, BTC_ADDR), fee(tx(9), 1, 1_000n)]);
    now += 601_000;
    await tick();
    expect((await current())[`leg:btc:${tx(9)}:0`]).toBe("unexplained_outflow");
    const otherHashes: string[] = ["genesis".padEnd(64, "0")];
    for (let h = 1; h <= 3; h++) {
      now += 1_000;
      otherHashes[h] = `o${h}`.padEnd(64, "0");
      // The sink's pass for this block takes in the other chain's legs; the btc leg stays in the pool.
      await saveBlock(store, {
        block: { chain: "other", height: h, hash: otherHashes[h]!, parentHash: otherHashes[h - 1]!, time: Math.floor(now / 1000) },
        changes: [], transfers: h === 2 ? [{ walletId: other!.id, asset: "BTC", txid: tx(90), position: 0, direction: "in", amount: 5n, counterparty: BTC_ADDR2 }] : [], finalizedHeight: h,
      });
      await tick();
    }
    const history = (await loadMovementOutcomes(store)).filter((r) => r.subject === `leg:btc:${tx(9)}:0`).map((r) => r.outcome);
    expect(history).toEqual(["pending", "unexplained_outflow"]);
  });
  it("a chain that movements.chains leaves out runs no pass: its legs get no outcome", async () => {
    const [other] = await saveWallets(store, [{ chain: "other", label: "other-hot", kind: "address", address: "other-addr" }]);
    // beforeEach's sink reconciles btc only; a block of "other" with a custody outflow is stored and not matched.
    await saveBlock(store, {
      block: { chain: "other", height: 1, hash: "o1".padEnd(64, "0"), parentHash: "genesis".padEnd(64, "0"), time: Math.floor(now / 1000) },
      changes: [], transfers: [{ walletId: other!.id, asset: "BTC", txid: tx(91), position: 0, direction: "out", amount: 5n, counterparty: BTC_ADDR2 }], finalizedHeight: 1,
    });
    now += 601_000;
    await tick();
    await block([out(tx(92), 0, 7_000_000n, BTC_ADDR)]);
    expect(await current()).toEqual({ [`leg:btc:${tx(92)}:0`]: "pending" });
  });
  it("J8 after a reorg: the failed transaction mined again in another block is missing_on_chain naming the new block", async () => {
    const [eth] = await saveWallets(store, [{ chain: "eth", label: "eth-hot", kind: "address", address: `0x${"aa".repeat(20)}` }]);
    const T = `0x${"f3".repeat(32)}`;
    const user = `0x${"12".repeat(20)}`;
    const ethTick = () => store.tx((db) => matchMovementsIn(store, db, { settings: SETTINGS, chains: ["eth"], nowMs: now }));
    await importMovementRecords({ store, nowMs: () => now }, {
      bytes: Buffer.from(JSON.stringify([{ id: "fail-2", kind: "withdrawal", chain: "eth", asset: "ETH", amount: "1.5", counterparty: user, txid: T, time: iso(now) }])),
      format: "json", sourceName: "t", source: "http", validation: { ...VALIDATION, nowMs: now }, settings: SETTINGS, chains: ["eth"],
    });
    const { saveBlockIn } = await import("../../../src/store/index.js");
    const ethBlock = (h: number, salt: string, gas: bigint) => {
      const hash = `0x${salt.repeat(32)}`;
      return store.tx(async (db) => {
        await saveBlockIn(store, db, {
          block: { chain: "eth", height: h, hash, parentHash: `0x${"00".repeat(32)}`, time: Math.floor(now / 1000) }, changes: [], transfers: [], finalizedHeight: h - 1,
        });
        await saveEvmReadsIn(store, db, { chain: "eth", height: h, blockHash: hash, fullRead: false, silent: [], unattributed: [{ walletId: eth!.id, asset: "ETH", delta: -gas, candidates: [T] }] });
      });
    };
    await ethBlock(1, "a1", 52_000_000_000_000n);
    await ethTick();
    const record = async () => (await loadMovementOutcomes(store, { currentOnly: true })).find((r) => r.subject === "record:fail-2");
    expect(await record()).toMatchObject({ outcome: "missing_on_chain", flags: ["failed_on_chain"], height: 1, blockHash: `0x${"a1".repeat(32)}` });
    // Block 1 is reorged away; the same failed transaction is mined in another block 1 (other gas: another base fee).
    await rollbackTo(store, { chain: "eth", height: 0 });
    expect(await record()).toMatchObject({ outcome: "reorged" });
    await ethBlock(1, "b1", 48_000_000_000_000n);
    await ethTick();
    expect(await record()).toMatchObject({ outcome: "missing_on_chain", flags: ["failed_on_chain"], height: 1, blockHash: `0x${"b1".repeat(32)}`, chainAmount: 48_000_000_000_000n });
    expect((await loadMovementOutcomes(store, { currentOnly: true })).find((r) => r.subject === `leg:eth:${T}:gas`)).toMatchObject({ outcome: "matched", blockHash: `0x${"b1".repeat(32)}` });
  });
});
