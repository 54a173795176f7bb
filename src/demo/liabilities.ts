import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatUnits } from "../lib/amounts.js";
import { createRandom } from "../lib/create-random.js";
import type { Logger } from "../lib/logger.js";
import { importSnapshot, type ImportSnapshotReturnType } from "../liabilities/import-snapshot.js";
import { loadProof } from "../liabilities/load-proof.js";
import { verifyProof } from "../liabilities/verify-proof.js";
import type { Store } from "../store/index.js";
import { formatDisplayPath, quoteArg } from "./demo-files.js";

/** Where to write the demo file, which store, and the exact totals to reach. */
export type CreateDemoSnapshotParameters = {
  store: Store;
  /** Scratch directory for the generated CSV. */
  dir: string;
  /** Configured assets (id → decimals); only assets in `totals` appear in the file. */
  assets: Readonly<Record<string, { decimals: number }>>;
  /** Exact liabilities per asset, base units (e.g. computeDemoTotals of the custody balances). */
  totals: Readonly<Record<string, bigint>>;
  /** Number of user accounts (default 300). */
  accounts?: number;
  /** Seed of the generated split (default 1): the same seed gives the same file. */
  seed?: number;
  now?: () => Date;
  logger?: Logger;
};

/** The import summary plus a checked sample proof and printable lines. */
export type CreateDemoSnapshotReturnType = ImportSnapshotReturnType & {
  file: string;
  /**
   * One account's proof, checked with the standalone verifier against the root (its snapshot id and
   * as-of included: format 2), and written to `file` for `backstop verify-proof`.
   */
  sample: { accountId: string; proofBytes: number; verified: boolean; file?: string };
  /** Ready-to-print lines (totals in display units, root). */
  lines: string[];
};

/** Liabilities as a fraction of reserves, in basis points (9000 = 90%: coverage 111%). Exact, floors. */
export function computeDemoTotals(p: { reserves: Readonly<Record<string, bigint>>; fractionBps?: number }): Record<string, bigint> {
  const bps = BigInt(p.fractionBps ?? 9000);
  return Object.fromEntries(Object.entries(p.reserves).map(([asset, r]) => [asset, (r * bps) / 10_000n]));
}

/**
 * Generates a CSV of `accounts` users whose per-asset balances add up exactly to `totals`,
 * imports it (with the totals as control totals and the row count declared) and checks one
 * account's proof. Returns the import summary, the root and printable lines.
 * @throws the import's errors (a bug in the generator would show up as one)
 */
export async function createDemoSnapshot(p: CreateDemoSnapshotParameters): Promise<CreateDemoSnapshotReturnType> {
  const n = p.accounts ?? 300;
  // Seeded: the demo's split is reproducible (the nonces stay random).
  const rand = createRandom(p.seed ?? 1).next;
  const ids = Array.from({ length: n }, (_, i) => `user-${String(i + 1).padStart(5, "0")}`);
  const rows: string[] = ["account_id,asset,amount"];
  const present = Object.entries(p.totals).filter(([asset]) => p.assets[asset]);
  for (const [asset, total] of present) {
    const decimals = p.assets[asset]!.decimals;
    // A few whales and a long tail: weights ~ 1/u^2, every account holds something or nothing.
    const weights = ids.map(() => { const u = rand(); return u < 0.2 ? 0 : Math.floor(1e6 / (u * u)); });
    const sum = weights.reduce((a, b) => a + b, 0) || 1;
    let left = total;
    ids.forEach((id, i) => {
      const last = i === n - 1;
      const amount = last ? left : (total * BigInt(weights[i]!)) / BigInt(sum);
      left -= amount;
      rows.push(`${id},${asset},${formatUnits(amount, decimals)}`); // zero balances included: every user is in the tree
    });
  }
  if (rows.length === 1) rows.push(`${ids[0]},${Object.keys(p.assets)[0]},0`);
  const file = join(p.dir, "liabilities-demo.csv");
  writeFileSync(file, `${rows.join("\n")}\n`);
  const now = p.now?.() ?? new Date();
  const asOf = new Date(Math.floor(now.getTime() / 1000) * 1000 - 1000).toISOString().replace(/\.000Z$/, "Z");
  const r = await importSnapshot({ store: p.store, logger: p.logger, now: () => now }, {
    source: file, format: "csv", asOf, assets: p.assets, rowCount: rows.length - 1,
    controlTotals: Object.fromEntries(present),
  });
  const accountId = ids[Math.floor(n / 2)]!;
  let sample: CreateDemoSnapshotReturnType["sample"] = { accountId, proofBytes: 0, verified: false };
  try {
    const proof = await loadProof(p.store, { snapshotId: r.snapshotId, accountId });
    const proofFile = join(p.dir, `proof-${accountId}.json`);
    writeFileSync(proofFile, `${JSON.stringify(proof, null, 2)}\n`); // what `liabilities proof` prints
    const v = verifyProof(proof, { expectedRoot: r.root });
    sample = { accountId, proofBytes: JSON.stringify(proof).length, verified: v.ok && v.labelsAuthenticated, file: proofFile };
  } catch (err) {
    // The sample account may hold nothing in any asset (no row, no leaf): nothing to show then.
    if ((err as { code?: string }).code !== "LIABILITIES__ACCOUNT_NOT_FOUND") throw err;
  }
  const lines = [
    `liabilities snapshot ${r.snapshotId} (as of ${r.asOf}): ${r.accountCount} accounts, ${r.rowCount} rows`,
    ...r.assets.map((a) => `  ${a.id.padEnd(10)} ${a.totalDisplay}`),
    `  Merkle-sum root ${r.root}`,
    ...(sample.verified && sample.file
      ? [
        `  ${sample.accountId}'s inclusion proof (${sample.proofBytes} bytes) verifies against the root, which commits to the snapshot id and as-of;`,
        `  check it yourself: npx backstop verify-proof ${quoteArg(formatDisplayPath(sample.file))} --root ${r.root}`,
      ]
      : []),
  ];
  return { ...r, file, sample, lines };
}

