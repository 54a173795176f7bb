// Movement reconciliation benchmark (issue 14): N records and N on-chain movements across three chains
// (Bitcoin regtest, an EVM chain, Solana), half of the records carrying their txid.
//
//   npm run bench:movements -- [--records 1000000] [--store-records 200000] [--naive 20000] [--no-baseline] [--profile FILE]
//
// Figures: (1) parse + validate throughput (pure), (2) import into a fresh SQLite store (parse + one
// write transaction), (3) matching throughput, pure (computeMovementMatches), beside (4) a naive
// matcher (every record scans every leg: O(n²)) on a subset, (5) a store-backed pass (legs stored by
// saveBlock, records open, matchMovementsIn reading and writing outcomes), and (6) the latency from a
// block's save to its outcomes while following (the sink runs inside the block's transaction:
// p50/p99 of saveBlock with 100 legs against a pool of open records). Asserts nothing (not a test).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PublicKey } from "@solana/web3.js";
import { address as bitcoinAddress } from "bitcoinjs-lib";
import { encodeBase58 } from "../../src/devnet/solana/base58.js";
import type { ResolvedMovements } from "../../src/lib/config.js";
import { computeMovementMatches, type PoolLeg, type PoolRecord } from "../../src/reconcile/movements/compute-movement-matches.js";
import { createMovementSink } from "../../src/reconcile/movements/create-movement-sink.js";
import { importMovementRecords } from "../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../src/reconcile/movements/match-movements.js";
import type { MatchLeg } from "../../src/reconcile/movements/movement-types.js";
import { parseMovementRecords } from "../../src/reconcile/movements/parse-movement-records.js";
import type { MovementValidationContext } from "../../src/reconcile/movements/validate-movement-record.js";
import { addBlockEventSink, openStore, saveBlock, saveWallets, type TransferInput } from "../../src/store/index.js";

class RollbackBaseline extends Error {}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const N = arg("records", 1_000_000);
const N_STORE = arg("store-records", 200_000);
const N_NAIVE = arg("naive", 20_000);
/** --profile FILE: a CPU profile of phase (5) only (node:inspector), for finding where the pass's time goes. */
const PROFILE = process.argv.includes("--profile") ? process.argv[process.argv.indexOf("--profile") + 1] : undefined;
const T0 = Date.parse("2026-05-01T00:00:00Z");
const NOW = T0 + 30 * 86_400_000;
const SETTINGS: ResolvedMovements = { graceSeconds: 600, slaSeconds: 3600, windowSeconds: 86_400, feeCeilings: {} };
const CTX: MovementValidationContext = {
  chains: { btc: { kind: "bitcoin", network: "regtest" }, eth: { kind: "evm" }, sol: { kind: "solana" } },
  assets: { BTC: { chain: "btc", decimals: 8 }, ETH: { chain: "eth", decimals: 18 }, SOL: { chain: "sol", decimals: 9 } },
  nowMs: NOW,
};
const CHAINS = ["btc", "eth", "sol"] as const;
const ASSET = { btc: "BTC", eth: "ETH", sol: "SOL" } as const;
const DECIMALS = { btc: 8, eth: 18, sol: 9 } as const;

/** Deterministic workload item i: chain, amount (base units, unique), counterparty, txid, time. */
function item(i: number) {
  const chain = CHAINS[i % 3]!;
  const b = Buffer.alloc(32);
  b.writeUInt32BE(i, 0);
  b.writeUInt32BE((i * 2654435761) >>> 0, 4);
  const counterparty = chain === "btc" ? bitcoinAddress.toBech32(b.subarray(0, 20), 0, "bcrt") : chain === "eth" ? `0x${b.subarray(0, 20).toString("hex")}` : new PublicKey(b).toBase58();
  const tx = Buffer.alloc(64);
  tx.writeUInt32BE(i, 0);
  tx.writeUInt32BE(0xabcdef01, 60);
  const txid = chain === "btc" ? tx.subarray(0, 32).toString("hex") : chain === "eth" ? `0x${tx.subarray(0, 32).toString("hex")}` : encodeBase58(tx);
  const amount = BigInt(1_000 + i) * 10n ** BigInt(DECIMALS[chain] - 3);
  return { chain, asset: ASSET[chain], amount, counterparty, txid, timeMs: T0 + (i % 86_400) * 1000, withTxid: i % 2 === 0 };
}

function display(v: bigint, d: number): string {
  const s = v.toString().padStart(d + 1, "0");
  const frac = s.slice(s.length - d).replace(/0+$/, "");
  return frac ? `${s.slice(0, s.length - d)}.${frac}` : s.slice(0, s.length - d);
}

function csvOf(from: number, to: number): Buffer {
  const parts: string[] = ["id,kind,chain,asset,amount,counterparty,txid,time\n"];
  for (let i = from; i < to; i++) {
    const x = item(i);
    parts.push(`wd-${i},withdrawal,${x.chain},${x.asset},${display(x.amount, DECIMALS[x.chain])},${x.counterparty},${x.withTxid ? x.txid : ""},${new Date(x.timeMs).toISOString()}\n`);
  }
  return Buffer.from(parts.join(""));
}

function legOf(i: number): MatchLeg {
  const x = item(i);
  return {
    subject: `leg:${x.chain}:${x.txid}:0`, chain: x.chain, height: 1 + Math.floor(i / 300), blockHash: `h${Math.floor(i / 300)}`, blockTimeMs: x.timeMs + 60_000,
    txid: x.txid, position: i % 300, walletId: 1, asset: x.asset, direction: "out", amount: x.amount, counterparty: x.counterparty,
    counterpartyWalletId: null, fee: null, feeAsset: null, seenAtMs: NOW, final: true,
  };
}

// Wall clock, and CPU time of this process beside it (the machine is shared: per CPU-second is the figure that
// does not depend on what else runs). `t` is reset by each phase; `cpu0` with it.
let cpu0 = process.cpuUsage();
const cpuMs = () => {
  const d = process.cpuUsage(cpu0);
  return (d.user + d.system) / 1000;
};
const rate = (n: number, ms: number) => {
  const c = cpuMs();
  cpu0 = process.cpuUsage();
  return `${Math.round(n / (ms / 1000)).toLocaleString("en-US")} records/s wall, ${Math.round(n / (c / 1000)).toLocaleString("en-US")} per CPU-second (load ${loadavg()[0]!.toFixed(1)})`;
};
const mem = () => `${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`;

async function main() {
  await pureFigures();
  // The pure part's million records and legs are garbage now: the store figures do not pay for their GC.
  (globalThis as { gc?: () => void }).gc?.();
  await storeFigures();
}

async function pureFigures() {
  console.log(`bench:movements — ${N.toLocaleString("en-US")} records / movements across btc, eth, sol (half with txid); node ${process.version}`);

  // (1) parse + validate
  let t = performance.now(); cpu0 = process.cpuUsage();
  const csv = csvOf(0, N);
  console.log(`generate CSV: ${(csv.length / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now(); cpu0 = process.cpuUsage();
  const parsed = parseMovementRecords(CTX, csv, { format: "csv" });
  const parseMs = performance.now() - t;
  if (parsed.problems) throw new Error(`bench input invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
  console.log(`(1) parse + validate ${N.toLocaleString("en-US")}: ${(parseMs / 1000).toFixed(2)} s, ${rate(N, parseMs)}, ${mem()}`);

  // (3) pure matching at N, (4) naive beside it
  const records: PoolRecord[] = parsed.records.map((record) => ({ record, current: null, currentAtMs: null }));
  const legs: PoolLeg[] = Array.from({ length: N }, (_, i) => ({ leg: legOf(i), current: null }));
  t = performance.now(); cpu0 = process.cpuUsage();
  const r = computeMovementMatches({ records, legs, nowMs: NOW, graceMs: 600_000, slaMs: 3_600_000, windowMs: 86_400_000, feeCeilings: {} });
  const matchMs = performance.now() - t;
  const matched = r.records.filter((x) => x.outcome === "matched").length;
  console.log(`(3) match (pure, indexed) ${N.toLocaleString("en-US")} × ${N.toLocaleString("en-US")}: ${(matchMs / 1000).toFixed(2)} s, ${rate(N, matchMs)}; matched ${matched.toLocaleString("en-US")} (target ≥ 50,000 records/s)`);
  if (matched !== N) console.log(`    NOTE: ${N - matched} records not matched`);
  const sub = records.slice(0, N_NAIVE);
  const subLegs = legs.slice(0, N_NAIVE);
  t = performance.now(); cpu0 = process.cpuUsage();
  let naiveMatched = 0;
  const taken = new Set<PoolLeg>();
  for (const pr of sub) {
    // The obvious matcher: scan every leg for the same txid, else the same attributes, nearest in time.
    let best: PoolLeg | undefined;
    for (const l of subLegs) if (!taken.has(l) && pr.record.txid !== null && l.leg.txid === pr.record.txid && l.leg.amount === pr.record.amount) { best = l; break; }
    if (!best) {
      let d = Infinity;
      for (const l of subLegs) {
        if (taken.has(l) || l.leg.chain !== pr.record.chain || l.leg.amount !== pr.record.amount || l.leg.counterparty !== pr.record.counterparty) continue;
        const dd = Math.abs(l.leg.blockTimeMs - pr.record.timeMs);
        if (dd < d) { d = dd; best = l; }
      }
    }
    if (best) { taken.add(best); naiveMatched++; }
  }
  const naiveMs = performance.now() - t;
  console.log(`(4) naive O(n²) matcher on ${N_NAIVE.toLocaleString("en-US")}: ${(naiveMs / 1000).toFixed(2)} s, ${rate(N_NAIVE, naiveMs)} (at ${N.toLocaleString("en-US")} it would take ~${Math.round((naiveMs * (N / N_NAIVE) ** 2) / 60_000)} min); matched ${naiveMatched}`);

}

/** (2) import into SQLite, (5) store-backed pass, (6) follow latency. */
async function storeFigures() {
  let t = performance.now(); cpu0 = process.cpuUsage();
  const dir = mkdtempSync(join(tmpdir(), "bench-movements-"));
  try {
    const store = await openStore({ sqlitePath: join(dir, "b.db") });
    const ws = await saveWallets(store, CHAINS.map((c) => ({ chain: c, label: `hot-${c}`, kind: "address" as const, address: `hot-${c}` })));
    const wallet = Object.fromEntries(ws.map((w) => [w.chain, w.id]));
    const storeCsv = csvOf(0, N_STORE);
    t = performance.now(); cpu0 = process.cpuUsage();
    const imp = await importMovementRecords({ store, nowMs: () => NOW }, { bytes: storeCsv, format: "csv", sourceName: "bench", source: "file", validation: CTX, settings: SETTINGS, chains: [...CHAINS] });
    const importMs = performance.now() - t;
    console.log(`(2) import ${N_STORE.toLocaleString("en-US")} into SQLite (parse + one transaction + a pass over no chain data): ${(importMs / 1000).toFixed(2)} s, ${rate(imp.inserted, importMs)}, ${mem()}`);

    // Legs of N_STORE movements, 300 per block per chain, stored by saveBlock (the indexer's write, not timed).
    t = performance.now(); cpu0 = process.cpuUsage();
    const perChain: Record<string, TransferInput[][]> = { btc: [], eth: [], sol: [] };
    for (let i = 0; i < N_STORE; i++) {
      const x = item(i);
      const blocks = perChain[x.chain]!;
      const bi = Math.floor(Math.floor(i / 3) / 300);
      (blocks[bi] ??= []).push({ walletId: wallet[x.chain]!, asset: x.asset, txid: x.txid, position: blocks[bi]!.length, direction: "out", amount: x.amount, counterparty: x.counterparty, counterpartyWalletId: null });
    }
    for (const chain of CHAINS) {
      const blocks = perChain[chain]!;
      for (let h = 0; h < blocks.length; h++) {
        await saveBlock(store, { block: { chain, height: h + 1, hash: `${chain}-${h + 1}`, parentHash: `${chain}-${h}`, time: Math.floor((T0 + 3_600_000) / 1000) }, changes: [], transfers: blocks[h]!, finalizedHeight: h + 1 });
      }
    }
    console.log(`    stored ${N_STORE.toLocaleString("en-US")} legs in ${Object.values(perChain).reduce((s, b) => s + b.length, 0)} blocks (${((performance.now() - t) / 1000).toFixed(1)} s, not part of the figures)`);
    // (5b) Baseline in the same run, on the same data: the same pass with every store call through drizzle's query
    // builder and row mapping (the Postgres path; on SQLite the reads as they were before the raw prepared statements),
    // rolled back so (5) starts from the same state. A handle without `$client` makes the store take that path.
    t = performance.now(); cpu0 = process.cpuUsage();
    let baseline: Awaited<ReturnType<typeof matchMovementsIn>> | undefined;
    if (!process.argv.includes("--no-baseline")) await store.tx(async (db) => {
      const viaDrizzle = new Proxy(db, { get: (o, k) => (k === "$client" ? undefined : Reflect.get(o, k, o)) });
      baseline = await matchMovementsIn(store, viaDrizzle, { settings: SETTINGS, chains: [...CHAINS], nowMs: NOW });
      throw new RollbackBaseline();
    }).catch((e: unknown) => { if (!(e instanceof RollbackBaseline)) throw e; });
    const baseMs = performance.now() - t;
    if (baseline) console.log(`(5b) baseline: the same pass through drizzle (rolled back): ${(baseMs / 1000).toFixed(2)} s, ${rate(baseline!.pooledRecords, baseMs)}; ${baseline!.transitions.length.toLocaleString("en-US")} outcomes`);
    const session = PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    }
    t = performance.now(); cpu0 = process.cpuUsage();
    const pass = await store.tx((db) => matchMovementsIn(store, db, { settings: SETTINGS, chains: [...CHAINS], nowMs: NOW }));
    const passMs = performance.now() - t;
    if (session) {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(PROFILE!, JSON.stringify(profile));
      session.disconnect();
    }
    const ok = (await store.raw("SELECT count(*) AS n FROM movement_outcomes WHERE current = 1 AND outcome = 'matched'"))[0]!.n;
    console.log(`(5) store pass (read ${pass.newLegs.toLocaleString("en-US")} legs + ${pass.pooledRecords.toLocaleString("en-US")} open records, match, write ${pass.transitions.length.toLocaleString("en-US")} outcomes): ${(passMs / 1000).toFixed(2)} s, ${rate(pass.pooledRecords, passMs)}; matched ${ok}`);

    // (6) following: 1,000 open records waiting; each new block of 100 legs (90 recorded, 10 not) is matched in its own transaction.
    const pending = 1_000;
    const base = 10_000_000;
    const follow = Array.from({ length: pending }, (_, k) => item(base + k));
    await importMovementRecords({ store, nowMs: () => NOW }, { bytes: csvOf(base, base + pending), format: "csv", sourceName: "bench", source: "file", validation: CTX, settings: SETTINGS, chains: [...CHAINS] });
    addBlockEventSink(store, createMovementSink({ settings: SETTINGS, chains: [...CHAINS], now: () => NOW }));
    const lat: number[] = [];
    const heights: Record<string, number> = Object.fromEntries(CHAINS.map((c) => [c, perChain[c]!.length]));
    for (let b = 0; b < 30; b++) {
      const chain = CHAINS[b % 3]!;
      const legsOf: TransferInput[] = [];
      for (let k = 0; k < 100; k++) {
        const idx = (b * 100 + k) % pending;
        const x = follow[idx]!.chain === chain ? follow[idx]! : item(base + 100_000 + b * 100 + k);
        legsOf.push({ walletId: wallet[chain]!, asset: ASSET[chain], txid: x.chain === chain ? x.txid : `${x.txid}`, position: k, direction: "out", amount: x.chain === chain ? x.amount : 7n + BigInt(k), counterparty: x.counterparty, counterpartyWalletId: null });
      }
      const h = ++heights[chain]!;
      const s0 = performance.now();
      await saveBlock(store, { block: { chain, height: h, hash: `${chain}-${h}`, parentHash: `${chain}-${h - 1}`, time: Math.floor((T0 + 3_600_000) / 1000) }, changes: [], transfers: legsOf, finalizedHeight: h });
      lat.push(performance.now() - s0);
    }
    lat.sort((a, z) => a - z);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1);
    console.log(`(6) block saved → outcomes committed (sink in the block's transaction, ${pending} open records, 100 legs/block): p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (target p99 ≤ 1 s)`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
