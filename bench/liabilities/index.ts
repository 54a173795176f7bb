// Liabilities benchmark (issue 5): generated snapshots of N accounts × 3 assets.
//
//   node --import tsx bench/liabilities/index.ts [--accounts 1000000,10000000] [--store sqlite|postgres|none]
//
// For each N: (1) parse + checks + Merkle-sum tree in memory, (2) with --store, the full
// `importSnapshot` into a fresh store (parse + tree + the one write transaction), (3) proof
// size and verify time. Targets: 1M import+tree ≤ 5 s; 10M ≤ 60 s with peak RSS ≤ 4 GB;
// proof ≤ 1.2 KB; verify ≤ 1 ms. Prints figures; asserts nothing (not a test).
import { createReadStream, createWriteStream, mkdtempSync, openSync, readSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { buildProofFromSnapshot } from "../../src/liabilities/build-proof.js";
import { createSnapshotBuilder } from "../../src/liabilities/build-snapshot.js";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { loadProof } from "../../src/liabilities/load-proof.js";
import { parseSnapshot } from "../../src/liabilities/parse-snapshot.js";
import { type LiabilityProof, verifyProof } from "../../src/liabilities/verify-proof.js";
import { openStore } from "../../src/store/index.js";

const ASSETS = { BTC: { decimals: 8 }, ETH: { decimals: 18 }, USDT: { decimals: 6 } };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

async function generate(path: string, n: number): Promise<number> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let s = "account_id,asset,amount\n";
  for (let i = 0; i < n; i++) {
    // 16-char ids like an exchange's user ids; realistic magnitudes (up to 10k BTC, 1M ETH in wei, 1e9 USDT).
    const id = `u${(i * 2654435761 % 4294967296).toString(16).padStart(8, "0")}${i.toString(36).padStart(7, "0")}`;
    s += `${id},BTC,${i % 10_000}.${String((i * 7) % 1e8).padStart(8, "0")}\n${id},ETH,${i % 1_000_000}.${String(i).padStart(18, "0")}\n${id},USDT,${i % 1e9}.${String(i % 1e6).padStart(6, "0")}\n`;
    if (s.length > 1 << 20) {
      if (!out.write(s)) await new Promise<void>((r) => out.once("drain", () => r()));
      s = "";
    }
  }
  await new Promise<void>((r) => out.end(s, r));
  return n * 3;
}

/** The first data row's account id (read from the file's first 256 bytes). */
function firstId(file: string): string {
  const fd = openSync(file, "r");
  const b = Buffer.alloc(256);
  readSync(fd, b, 0, 256, 0);
  closeSync(fd);
  return b.toString("utf8").split("\n")[1]!.split(",")[0]!;
}

function internalNodes(n: number): number {
  let total = 0;
  for (let c = n; c > 1; c = Math.ceil(c / 2)) total += Math.ceil(c / 2);
  return total;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

function proofFigures(proof: LiabilityProof) {
  const json = JSON.stringify(proof);
  const A = proof.assets.length;
  // Fixed-width binary: per level hash 32 + A × 16; plus nonce, balances, leaf index and count.
  const binary = proof.path.length * (32 + 16 * A) + 16 + 16 * A + 8 + 8;
  // Warm-up first (JIT): without it the first proof measured pays the compilation.
  for (const w = performance.now(); performance.now() - w < 300;) verifyProof(proof, { expectedRoot: proof.root });
  const t0 = performance.now();
  let runs = 0;
  while (performance.now() - t0 < 500) { if (!verifyProof(proof, { expectedRoot: proof.root }).ok) throw new Error("proof did not verify"); runs++; }
  return { jsonBytes: Buffer.byteLength(json), binaryBytes: binary, levels: proof.path.length, verifyMs: (performance.now() - t0) / runs };
}

async function main() {
  const sizes = arg("accounts", "1000000").split(",").map(Number);
  const storeKind = arg("store", "sqlite");
  // --only-store: skip the in-memory phase, so peak RSS is that of a plain `liabilities import`.
  const onlyStore = process.argv.includes("--only-store");
  const dir = mkdtempSync(join(tmpdir(), "backstop-bench-liab-"));
  console.log(`node ${process.version}, ${(await import("node:os")).cpus().length} CPUs, load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  try {
    for (const n of sizes) {
      const file = join(dir, `snap-${n}.csv`);
      const rows = await generate(file, n);
      console.log(`\n== ${n.toLocaleString("en")} accounts × 3 assets (${rows.toLocaleString("en")} rows) ==`);

      // 1. parse + whole-file checks + tree, in memory
      let c0 = process.cpuUsage();
      let t0 = performance.now();
      let sampleId = "";
      if (!onlyStore) {
        const builder = createSnapshotBuilder({ assets: ASSETS });
        for await (const batch of parseSnapshot(createReadStream(file, { highWaterMark: 1 << 20 }), { format: "csv", assets: ASSETS })) builder.add(batch);
        const tParse = performance.now() - t0;
        const cParse = cpuMs(process.cpuUsage(c0));
        const t1 = performance.now();
        const c1 = process.cpuUsage();
        let built: Awaited<ReturnType<typeof builder.finish>> | undefined = await builder.finish();
        const tTree = performance.now() - t1;
        const cTree = cpuMs(process.cpuUsage(c1));
        const hashes = 2 * n + internalNodes(n) + 1;
        console.log(`parse + checks      ${(tParse / 1000).toFixed(2)} s wall (${(cParse / 1000).toFixed(2)} s CPU)  ${Math.round(rows / (tParse / 1000)).toLocaleString("en")} rows/s`);
        console.log(`tree                ${(tTree / 1000).toFixed(2)} s wall (${(cTree / 1000).toFixed(2)} s CPU)  ${Math.round(hashes / (tTree / 1000)).toLocaleString("en")} hashes/s (${hashes.toLocaleString("en")} SHA-256)`);
        console.log(`import + tree       ${((tParse + tTree) / 1000).toFixed(2)} s wall (${((cParse + cTree) / 1000).toFixed(2)} s CPU), in memory   peak RSS ${mb(peakRss())}`);
        const sample = Math.floor(n / 3);
        const meta = { snapshotId: "bench", asOf: "2026-01-31T23:59:59Z" };
        console.log(`proof (in memory)   ${JSON.stringify(proofFigures(buildProofFromSnapshot(built, sample, meta)))}`);
        // Baseline in the same run: the same proof in format 1 (its root does not bind the snapshot id and as-of).
        console.log(`  format 1 baseline ${JSON.stringify(proofFigures(buildProofFromSnapshot(built, sample, { ...meta, version: 1 })))}`);
        sampleId = built.accounts.ids[sample]!;
        built = undefined; // the store import below builds its own
      }

      // 2. the full import into a fresh store
      if (storeKind !== "none") {
        const schema = `bench_${randomBytes(4).toString("hex")}`;
        const store = await openStore(storeKind === "postgres"
          ? { databaseUrl: "postgres://postgres@127.0.0.1:5432/test", pgSchema: schema }
          : { sqlitePath: join(dir, `bench-${n}.db`) });
        try {
          c0 = process.cpuUsage();
          t0 = performance.now();
          let writeStart = 0;
          const r = await importSnapshot({ store }, {
            source: file, format: "csv", asOf: "2026-01-31T23:59:59Z", assets: ASSETS,
            onProgress: (p) => { if (p.phase === "write" && !writeStart) writeStart = performance.now(); },
          });
          const t = performance.now() - t0;
          console.log(`store import (${storeKind})  ${(t / 1000).toFixed(2)} s wall (${(cpuMs(process.cpuUsage(c0)) / 1000).toFixed(2)} s CPU) incl. the write transaction; root ${r.root.slice(0, 16)}…   peak RSS ${mb(peakRss())}`);
          const tp = performance.now();
          const proof = await loadProof(store, { snapshotId: r.snapshotId, accountId: sampleId || firstId(file) });
          console.log(`proof from store    ${(performance.now() - tp).toFixed(1)} ms to build; ${JSON.stringify(proofFigures(proof))}`);
        } finally {
          if (storeKind === "postgres") await store.raw(`DROP SCHEMA ${schema} CASCADE`);
          await store.close();
        }
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
