// Bitcoin scan benchmark: `npm run bench:bitcoin` (node --import tsx bench/bitcoin/index.ts).
// Synthetic mainnet-size blocks against 100,000 watched scripts: (b) bitcoinjs-lib baseline,
// (a) the fast scan path, (c) scan + match + saveBlock into SQLite, as the indexer runs it.
// Options (env): BENCH_SECONDS per phase (default 8), BENCH_SEED (default 1),
// BENCH_PHASES (default "b,a,c"; e.g. "c" to profile the store alone).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Block } from "bitcoinjs-lib";
import { buildBitcoinTransferTxs, computeBitcoinTransfers } from "../../src/chains/bitcoin/compute-bitcoin-transfers.js";
import { createHeaderWorkChecker } from "../../src/chains/bitcoin/create-header-work-checker.js";
import { createWatchSet, encodeOutpoint, type WatchSet } from "../../src/chains/bitcoin/create-watch-set.js";
import { parseBlockWithBitcoinjs } from "../../src/chains/bitcoin/parse-block-with-bitcoinjs.js";
import { scanBlock, type ScanBlockReturnType } from "../../src/chains/bitcoin/scan-block.js";
import {
  markAddressesUsedIn,
  openStore,
  saveBlockIn,
  saveWalletAddresses,
  saveWallets,
  type BalanceChangeInput,
  type OutpointSpend,
  type TransferInput,
  type UtxoInput,
} from "../../src/store/index.js";
import { createRng, generateBlock, randomMixScript, refreshMerkleRoot, type BlockTemplate } from "./generate-blocks.js";

const SEED = Number(process.env.BENCH_SEED ?? 1);
const PHASE_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const TEMPLATES = 24; // distinct blocks (36 MB), patched per iteration into a fresh chain
const BLOCK_TXS = 3_000;
const BLOCK_BYTES = 1_500_000;
const WATCHED = 100_000;
const WALLETS = 100; // 100 descriptor wallets x 1,000 derived addresses
const DEPOSITS_PER_BLOCK = 6;
const WITHDRAWALS_PER_BLOCK = 3; // each spends one custody UTXO and pays change back to custody
const TARGET_BLOCKS_PER_S = 300;
const CHAIN = "bitcoin";
const PHASES = new Set((process.env.BENCH_PHASES ?? "b,a,h,c").split(","));

type Owner = { walletId: number; addressId: number };

async function main() {
  const rng = createRng(SEED);
  log(`Backstop Bitcoin benchmark · node ${process.version} · ${cpus().length} CPUs (${cpus()[0]?.model.trim()}) · seed ${SEED}`);

  // Watched set: 100k scripts of the mainnet mix, owned by 100 wallets.
  let t0 = performance.now();
  const watched: Buffer[] = [];
  const seen = new Set<string>();
  while (watched.length < WATCHED) {
    const s = randomMixScript(rng);
    const hex = s.toString("hex");
    if (!seen.has(hex)) seen.add(hex), watched.push(s);
  }
  const templates: BlockTemplate[] = [];
  for (let i = 0; i < TEMPLATES; i++) {
    templates.push(
      generateBlock({
        rng,
        height: 840_000 + i,
        txCount: BLOCK_TXS,
        bytes: BLOCK_BYTES,
        depositScripts: Array.from({ length: DEPOSITS_PER_BLOCK }, () => watched[rng.int(WATCHED)]!),
        withdrawalChangeScripts: Array.from({ length: WITHDRAWALS_PER_BLOCK }, () => watched[rng.int(WATCHED)]!),
      }),
    );
  }
  const shape = describeTemplates(templates);
  log(
    `setup: ${TEMPLATES} distinct blocks generated in ${fmt((performance.now() - t0) / 1000, 1)} s: ` +
      `avg ${fmt(shape.bytes / 1e6, 2)} MB, ${fmt(shape.txs, 0)} txs, ${fmt(shape.ins, 0)} inputs, ${fmt(shape.outs, 0)} outputs ` +
      `(${shape.mix}) per block`,
  );
  log(
    `       ${WATCHED.toLocaleString("en")} watched scripts in ${WALLETS} wallets; per block ${DEPOSITS_PER_BLOCK} custody deposits, ` +
      `${WITHDRAWALS_PER_BLOCK} custody spends with change back to custody`,
  );
  log("");
  const results: string[] = [];

  // (b) Baseline: bitcoinjs-lib Block.fromBuffer on the same blocks.
  if (PHASES.has("b")) {
    const r = timeBox(PHASE_SECONDS / 2, (i) => {
      Block.fromBuffer(templates[i % TEMPLATES]!.raw);
      return templates[i % TEMPLATES]!.raw.length;
    });
    results.push(row("(b) bitcoinjs-lib Block.fromBuffer", r));
  }
  if (PHASES.has("b")) {
    const scripts = new Set(watched.map((s) => s.toString("hex")));
    const r = timeBox(PHASE_SECONDS / 2, (i) => {
      parseBlockWithBitcoinjs(templates[i % TEMPLATES]!.raw, { scripts, outpoints: new Set() });
      return templates[i % TEMPLATES]!.raw.length;
    });
    results.push(row("    bitcoinjs-lib parse + match (Set<string>)", r));
  }

  // (a') Fast path hashing every transaction and checking the merkle root (pristine templates).
  if (PHASES.has("a")) {
    const ws = createWatchSet({ scripts: watched });
    const r = timeBox(PHASE_SECONDS / 2, (i) => {
      scanBlock(templates[i % TEMPLATES]!.raw, ws, { verifyMerkleRoot: true });
      return templates[i % TEMPLATES]!.raw.length;
    });
    results.push(row("(a') scanBlock + every txid + merkle check", r));
  }

  // (a) Fast path: parse + match + custody-UTXO bookkeeping in memory, on a fresh chain.
  if (PHASES.has("a")) {
    t0 = performance.now();
    const ws = createWatchSet({ scripts: watched });
    const setupMs = performance.now() - t0;
    const owners = new Map<string, Owner>(watched.map((s, i) => [s.toString("hex"), { walletId: 1 + (i % WALLETS), addressId: 1 + i }]));
    const sim = createChainSim(templates, ws, owners);
    let matches = 0;
    const r = timeBox(PHASE_SECONDS, () => {
      const raw = sim.nextBlock();
      const res = scanBlock(raw, ws);
      matches += sim.apply(res, { legs: false }).changes.length;
      return raw.length;
    });
    results.push(row("(a) scanBlock parse + match", r, `${fmt(matches / r.blocks, 1)} balance changes/block`));
    log(`watch set of ${WATCHED.toLocaleString("en")} scripts built in ${fmt(setupMs, 0)} ms`);
  }

  // (h) The proof-of-work check per header (hash meets target, difficulty rule), on 2,018 real
  // mainnet headers across a retarget (test/fixtures/bitcoin/), against the merkle check's cost.
  if (PHASES.has("h")) {
    const raw = gunzipSync(readFileSync(new URL("../../test/fixtures/bitcoin/mainnet-headers-826560-828577.bin.gz", import.meta.url)));
    const first = 826_560;
    const n = raw.length / 80;
    const fields = Array.from({ length: n }, (_, i) => {
      const h = raw.subarray(i * 80, i * 80 + 80);
      return { height: first + i, hash: Buffer.from(sha256d(h)).reverse().toString("hex"), prevHash: Buffer.from(h.subarray(4, 36)).reverse().toString("hex"), bits: h.readUInt32LE(72), time: h.readUInt32LE(68) };
    });
    let checked = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    while (performance.now() - start < (PHASE_SECONDS / 4) * 1000) {
      // A checker that saw the period's first block (as a running indexer has), then every header.
      const checker = createHeaderWorkChecker({ chain: CHAIN, network: "mainnet", fetchHeaderAt: async (h) => raw.subarray((h - first) * 80, (h - first) * 80 + 80) });
      for (let i = 1; i < n; i++) await checker.check(fields[i]!);
      checked += n - 1;
    }
    const cpu = process.cpuUsage(cpu0);
    const us = (cpu.user + cpu.system) / checked;
    results.push(`(h) proof-of-work check (target, retarget rule)  ${checked} headers: ${fmt(us, 1)} µs of CPU per header (the merkle check: see (a'))`);
  }

  // (c) Parse + match + store: what `backstop index` does per block, on SQLite.
  if (PHASES.has("c")) {
    const dir = mkdtempSync(join(tmpdir(), "backstop-bench-"));
    const store = await openStore({ sqlitePath: join(dir, "bench.db") });
    try {
      t0 = performance.now();
      const wallets = await saveWallets(
        store,
        Array.from({ length: WALLETS }, (_, i) => ({ chain: CHAIN, label: `bench-${i}`, kind: "descriptor" as const, descriptor: `wpkh(bench-${i})`, gapLimit: 20 })),
      );
      const addresses = await saveWalletAddresses(store, {
        chain: CHAIN,
        addresses: watched.map((s, i) => ({
          walletId: wallets[i % WALLETS]!.id,
          chain: CHAIN,
          kind: "synthetic",
          address: `synthetic:${s.toString("hex")}`,
          script: s.toString("hex"),
          branch: 0,
          index: Math.floor(i / WALLETS),
        })),
      });
      const owners = new Map<string, Owner>(addresses.map((a) => [a.script!, { walletId: a.walletId, addressId: a.id }]));
      log(`store: ${WALLETS} wallets + ${addresses.length.toLocaleString("en")} addresses saved in ${fmt((performance.now() - t0) / 1000, 1)} s (${join(dir, "bench.db")})`);

      const ws = createWatchSet({ scripts: watched });
      const sim = createChainSim(templates, ws, owners);
      let totalRows = 0;
      // Both runs continue one chain in one store: first without, then with the merkle check.
      // All runs continue one chain in one store.
      const modes = [
        { name: "(c) parse + match + saveBlock (SQLite)", verifyMerkleRoot: false, perTx: 1, seconds: PHASE_SECONDS * 1.5 },
        { name: "(c'') same, 20 blocks per transaction", verifyMerkleRoot: false, perTx: 20, seconds: PHASE_SECONDS * 0.75 },
        { name: "(c') same, with verifyMerkleRoot (indexer default)", verifyMerkleRoot: true, perTx: 1, seconds: PHASE_SECONDS * 0.75 },
      ];
      for (const { name, verifyMerkleRoot, perTx, seconds } of modes) {
        let rows = 0;
        let legs = 0;
        let scanMs = 0;
        let storeMs = 0;
        const excluded = { ms: 0, cpuUs: 0 };
        const r = await timeBoxAsync(seconds, excluded, perTx, async () => {
          let bytes = 0;
          const t0 = performance.now();
          let scanned = 0;
          // Each block is applied with its cursor; with perTx > 1 several share one commit
          // (catch-up), and the watch set follows block by block inside the transaction.
          await store.tx(async (db) => {
            for (let k = 0; k < perTx; k++) {
              const raw = sim.nextBlock();
              if (verifyMerkleRoot) {
                // The generator's own re-hash of the patched transactions is not the indexer's work.
                const w0 = performance.now();
                const c0 = process.cpuUsage();
                refreshMerkleRoot(sim.template());
                const c = process.cpuUsage(c0);
                excluded.ms += performance.now() - w0;
                excluded.cpuUs += c.user + c.system;
              }
              const t1 = performance.now();
              const res = scanBlock(raw, ws, { verifyMerkleRoot });
              const height = sim.height;
              const block = sim.apply(res);
              scanned += performance.now() - t1;
              await saveBlockIn(store, db, {
                block: { chain: CHAIN, height, hash: res.header.hash, parentHash: res.header.prevHash, time: res.header.time },
                changes: block.changes,
                utxos: { created: block.created, spent: block.spent },
                transfers: block.transfers,
              });
              if (block.addressIds.length > 0) await markAddressesUsedIn(store, db, { ids: block.addressIds, height });
              rows += block.changes.length;
              legs += block.transfers.length;
              bytes += raw.length;
            }
          });
          scanMs += scanned;
          storeMs += performance.now() - t0 - scanned;
          return bytes;
        });
        totalRows += rows;
        results.push(row(name, r, `${fmt(rows / r.seconds, 0)} balance rows/s`));
        results.push(
          `    per block: scan + match + legs ${fmt(scanMs / r.blocks, 2)} ms, store ${fmt((storeMs - excluded.ms) / r.blocks, 2)} ms (wall) ` +
            `(${fmt(rows / r.blocks, 1)} balance rows, ${fmt(legs / r.blocks, 1)} transfer legs, ${DEPOSITS_PER_BLOCK + WITHDRAWALS_PER_BLOCK} UTXOs created, ${WITHDRAWALS_PER_BLOCK} spent)`,
        );
        if (name.startsWith("(c) ")) {
          const rate = r.blocks / r.seconds;
          const cpuRate = r.blocks / r.cpuSeconds;
          results.push(
            `target ≥ ${TARGET_BLOCKS_PER_S} blocks/s for (c): ${rate >= TARGET_BLOCKS_PER_S ? "MET" : "MISSED"} on the wall clock ` +
              `(${fmt(rate, 0)} blocks/s; ${fmt(cpuRate, 0)} blocks per CPU-second, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs)`,
          );
        }
      }
      const [{ n } = { n: 0 }] = (await store.raw("SELECT count(*) AS n FROM balance_changes")) as Array<{ n: number }>;
      if (Number(n) !== totalRows) throw new Error(`stored ${n} balance rows, expected ${totalRows}`);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  log("");
  for (const line of results) log(line);
  log(`peak RSS ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB`);
}

/**
 * A fresh chain made from the templates: each block gets the previous block's hash, a
 * new nonce, deposit transactions with fresh txids, and withdrawals spending the oldest
 * live custody UTXOs. `apply` turns a scan result into what the indexer stores, and
 * updates the watch set (new custody outpoints in, spent ones out).
 */
function createChainSim(templates: BlockTemplate[], ws: WatchSet, owners: Map<string, Owner>) {
  let prevHash = Buffer.alloc(32);
  const live: Uint8Array[] = [];
  const utxos = new Map<string, { value: bigint; walletId: number; script: string }>();
  const sim = {
    height: 840_000,
    /** The template the current (last patched) block was made from. */
    template: () => templates[sim.height % templates.length]!,
    nextBlock(): Buffer {
      const tpl = templates[sim.height % templates.length]!;
      const raw = tpl.raw;
      raw.set(prevHash, 4);
      raw.writeUInt32LE(1_700_000_000 + sim.height * 600, 68);
      raw.writeUInt32LE(sim.height, 76);
      for (const off of tpl.depositPatch) raw.writeUInt32LE(sim.height, off);
      for (const off of tpl.withdrawalPrevout) {
        const next = live.shift();
        if (next) raw.set(next, off);
        else raw.writeUInt32LE(sim.height ^ 0x5a5a5a5a, off);
      }
      return raw;
    },
    apply(res: ScanBlockReturnType, p: { legs?: boolean } = {}) {
      // The transfer legs as the indexer computes them, from the state before this block.
      let transfers: TransferInput[] = [];
      if (p.legs !== false) {
        const txs = buildBitcoinTransferTxs({ block: res, walletOfScript: (s) => owners.get(s)?.walletId, spentOutput: (txid, vout) => utxos.get(`${txid}:${vout}`) });
        // The synthetic values do not balance (a withdrawal may pay more than the output it spends):
        // count one outside input, so the legs are computed without asserting the fee.
        transfers = computeBitcoinTransfers({ asset: "BTC", network: "mainnet", txs: txs.map((t) => (t.inputCount === undefined ? t : { ...t, inputCount: t.inputCount + 1 })) });
      }
      const deltas = new Map<string, BalanceChangeInput>();
      const created: UtxoInput[] = [];
      const spent: OutpointSpend[] = [];
      const addressIds: number[] = [];
      const addDelta = (walletId: number, txid: string, d: bigint) => {
        const key = `${walletId}:${txid}`;
        const c = deltas.get(key);
        if (c) c.delta! += d;
        else deltas.set(key, { walletId, asset: "BTC", txid, delta: d });
      };
      for (const o of res.outputs) {
        const owner = owners.get(o.script)!;
        created.push({ txid: o.txid, vout: o.vout, walletId: owner.walletId, addressId: owner.addressId, script: o.script, value: o.value });
        addressIds.push(owner.addressId);
        addDelta(owner.walletId, o.txid, o.value);
        utxos.set(`${o.txid}:${o.vout}`, { value: o.value, walletId: owner.walletId, script: o.script });
        ws.addOutpoint(o.txid, o.vout);
        live.push(encodeOutpoint(o.txid, o.vout));
      }
      for (const s of res.spends) {
        const key = `${s.prevTxid}:${s.prevVout}`;
        const u = utxos.get(key)!;
        spent.push({ txid: s.prevTxid, vout: s.prevVout, spentTxid: s.txid });
        addDelta(u.walletId, s.txid, -u.value);
        utxos.delete(key);
        ws.deleteOutpoint(s.prevTxid, s.prevVout);
      }
      prevHash = Buffer.from(res.header.hash, "hex").reverse();
      sim.height++;
      return { changes: [...deltas.values()], created, spent, addressIds, transfers };
    },
  };
  return sim;
}

/** Wall-clock seconds, and this process's CPU seconds (user + system, all its threads). */
type Timing = { blocks: number; bytes: number; seconds: number; cpuSeconds: number; rssMb: number };

function timeBox(seconds: number, fn: (i: number) => number): Timing {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let blocks = 0;
  let bytes = 0;
  while (performance.now() - start < seconds * 1000) bytes += fn(blocks++);
  return finish(blocks, bytes, start, cpu0);
}

/** Like timeBox; `excluded` (filled by fn) is work that is not the measured path's, subtracted. */
async function timeBoxAsync(
  seconds: number,
  excluded: { ms: number; cpuUs: number },
  blocksPerCall: number,
  fn: () => Promise<number>,
): Promise<Timing> {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let blocks = 0;
  let bytes = 0;
  while (performance.now() - start - excluded.ms < seconds * 1000) {
    bytes += await fn();
    blocks += blocksPerCall;
  }
  return finish(blocks, bytes, start, cpu0, excluded);
}

function finish(blocks: number, bytes: number, start: number, cpu0: NodeJS.CpuUsage, excluded = { ms: 0, cpuUs: 0 }): Timing {
  const cpu = process.cpuUsage(cpu0);
  return {
    blocks,
    bytes,
    seconds: (performance.now() - start - excluded.ms) / 1000,
    cpuSeconds: (cpu.user + cpu.system - excluded.cpuUs) / 1e6,
    rssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function row(name: string, r: Timing, extra = ""): string {
  return (
    `${name.padEnd(46)} ${String(r.blocks).padStart(5)} blocks in ${fmt(r.seconds, 1).padStart(4)} s: ` +
    `${fmt(r.blocks / r.seconds, 0).padStart(5)} blocks/s ${fmt(r.bytes / 1e6 / r.seconds, 0).padStart(5)} MB/s ` +
    `(per CPU-second: ${fmt(r.blocks / r.cpuSeconds, 0)} blocks)${extra ? `, ${extra}` : ""}, peak RSS ${fmt(r.rssMb, 0)} MB`
  );
}

function describeTemplates(templates: BlockTemplate[]) {
  let txs = 0;
  let ins = 0;
  let outs = 0;
  let bytes = 0;
  const kinds = new Map<string, number>();
  for (const t of templates) {
    const b = Block.fromBuffer(t.raw);
    bytes += t.raw.length;
    for (const tx of b.transactions!) {
      txs++;
      ins += tx.ins.length;
      outs += tx.outs.length;
      for (const o of tx.outs) {
        const k = kindOf(o.script);
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    }
  }
  const n = templates.length;
  const mix = [...kinds.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, c]) => `${k} ${fmt((100 * c) / outs, 0)}%`)
    .join(" · ");
  return { txs: txs / n, ins: ins / n, outs: outs / n, bytes: bytes / n, mix };
}

function kindOf(s: Buffer): string {
  if (s.length === 22 && s[0] === 0 && s[1] === 0x14) return "P2WPKH";
  if (s.length === 34 && s[0] === 0 && s[1] === 0x20) return "P2WSH";
  if (s.length === 34 && s[0] === 0x51 && s[1] === 0x20) return "P2TR";
  if (s.length === 25 && s[0] === 0x76) return "P2PKH";
  if (s.length === 23 && s[0] === 0xa9) return "P2SH";
  if (s[0] === 0x6a) return "OP_RETURN";
  return "other";
}

function sha256d(b: Uint8Array): Buffer {
  return createHash("sha256").update(createHash("sha256").update(b).digest()).digest();
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function log(line: string) {
  process.stdout.write(`${line}\n`);
}

await main();
