import { randomFillSync } from "node:crypto";
import { computeAccountKey } from "./compute-account-key.js";
import {
  ControlTotalMismatchError, DuplicateUserIdError, InvalidControlTotalError, RowCountMismatchError,
} from "./errors.js";
import { buildMerkleSumTree, type MerkleSumTree, writeU128 } from "./merkle-sum-tree.js";
import type { SnapshotRow } from "./parse-snapshot.js";
import { NONCE_BYTES, SUM_BYTES } from "./verify-proof.js";


/** A fully validated snapshot in memory: accounts, their nonces and leaf positions, totals and tree. */
export type BuiltSnapshot = {
  rowCount: number;
  accountCount: number;
  /** Assets present in the file, sorted by id: the order of every balance and sum vector. */
  assets: Array<{ id: string; decimals: number }>;
  /** Per-asset totals in `assets` order, base units. */
  totals: bigint[];
  tree: MerkleSumTree;
  accounts: {
    /** Verbatim ids, by account number (first appearance order). */
    ids: string[];
    /** Normalised keys (computeAccountKey), by account number. */
    keys: string[];
    /** NONCE_BYTES per account. */
    nonces: Uint8Array;
    /** SUM_BYTES × assets per account, u128 big-endian, in `assets` order. */
    balances: Uint8Array;
    /** Leaf index → account number (a uniformly random permutation, so position says nothing). */
    leafToAccount: Uint32Array;
  };
};

/** Accumulates parsed rows, then runs the whole-file checks and builds the tree. */
export type SnapshotBuilder = {
  /** Add a batch of parsed rows. Duplicates are collected, not thrown, so every row number can be listed. */
  add(rows: readonly SnapshotRow[]): void;
  /**
   * Run the whole-file checks and build the tree.
   * @throws DuplicateUserIdError, RowCountMismatchError, ControlTotalMismatchError, InvalidControlTotalError, SumOverflowError
   */
  finish(p?: { rowCount?: number; controlTotals?: Record<string, bigint>; workers?: number }): Promise<BuiltSnapshot>;
};

/**
 * Accumulate parsed rows into one balance vector per account (uniqueness policy: one row per
 * (normalised account, asset), and one spelling per normalised account), then build the tree.
 * Memory: about 60 + 20 × assets bytes per account plus the id strings.
 */
export function createSnapshotBuilder(p: { assets: Readonly<Record<string, { decimals: number }>> }): SnapshotBuilder {
  const allAssets = Object.keys(p.assets).sort().map((id) => ({ id, decimals: p.assets[id]!.decimals }));
  const A = allAssets.length;
  const assetIndex = new Map(allAssets.map((a, i) => [a.id, i]));
  const stride = A * SUM_BYTES;
  const byKey = new Map<string, number>();
  const ids: string[] = [];
  const keys: string[] = [];
  let cap = 1024;
  // Shared memory from the start: the tree's worker threads read these without another copy.
  let balances = new Uint8Array(new SharedArrayBuffer(cap * stride));
  let dv = new DataView(balances.buffer);
  let rowOf = new Int32Array(cap * A); // row number of (account, asset); 0 = absent
  const dupes = new Map<number, Set<number>>();
  let rowCount = 0;

  const grow = () => {
    cap *= 2;
    const b = new Uint8Array(new SharedArrayBuffer(cap * stride));
    b.set(balances);
    balances = b;
    dv = new DataView(balances.buffer);
    const r = new Int32Array(cap * A);
    r.set(rowOf);
    rowOf = r;
  };

  const markDuplicate = (acct: number, row: number) => {
    let set = dupes.get(acct);
    if (!set) {
      set = new Set();
      dupes.set(acct, set);
      for (let a = 0; a < A; a++) if (rowOf[acct * A + a]! > 0) set.add(rowOf[acct * A + a]!);
    }
    set.add(row);
  };

  // Exports are usually grouped by account: consecutive rows of one id skip the map.
  let lastId = "";
  let lastAcct = -1;
  return {
    add(rows) {
      for (const r of rows) {
        rowCount++;
        const a = assetIndex.get(r.asset);
        if (a === undefined) throw new RangeError("row with an unconfigured asset (rows must come from parseSnapshot)");
        let acct: number | undefined;
        if (r.accountId === lastId) acct = lastAcct;
        else {
          const key = computeAccountKey(r.accountId);
          acct = byKey.get(key);
          if (acct === undefined) {
          acct = ids.length;
          if (acct === cap) grow();
          // Copy long ids out of the chunk string they were sliced from, or every chunk stays alive.
          const id = r.accountId.length < 13 ? r.accountId : Buffer.from(r.accountId, "utf8").toString("utf8");
          byKey.set(key === r.accountId ? id : key, acct);
          ids.push(id);
          keys.push(key === r.accountId ? id : key);
          } else if (ids[acct] !== r.accountId) {
            markDuplicate(acct, r.row); // same account spelled differently ("Alice" / "alice ")
            continue;
          }
          lastId = r.accountId;
          lastAcct = acct;
        }
        const slot = acct * A + a;
        if (rowOf[slot] !== 0) {
          markDuplicate(acct, r.row);
          continue;
        }
        rowOf[slot] = r.row;
        if (r.amount !== 0n) writeU128(r.amount, dv, slot * SUM_BYTES);
      }
    },

    async finish(opts = {}) {
      if (dupes.size > 0) {
        throw new DuplicateUserIdError([...dupes.values()].map((s) => ({ rows: [...s].sort((x, y) => x - y) })));
      }
      const n = ids.length;
      if (opts.rowCount !== undefined && opts.rowCount !== rowCount) {
        throw new RowCountMismatchError({ declared: opts.rowCount, actual: rowCount });
      }
      for (const asset of Object.keys(opts.controlTotals ?? {})) {
        if (!assetIndex.has(asset)) throw new InvalidControlTotalError({ text: asset, reason: `asset "${asset}" is not configured` });
      }
      // Keep only assets that occur in the file: smaller leaves and proofs.
      const present = allAssets.map((_, i) => { for (let k = 0; k < n; k++) if (rowOf[k * A + i] !== 0) return true; return false; });
      const assets = allAssets.filter((_, i) => present[i]);
      let bal: Buffer = Buffer.from(balances.buffer, 0, n * stride);
      if (assets.length !== A) bal = compact(bal, n, A, present);

      const nonces = Buffer.from(new SharedArrayBuffer(n * NONCE_BYTES));
      randomFillSync(nonces);
      const leafToAccount = randomPermutation(n);
      const { idBytes, idOffsets } = encodeIds(ids);
      const tree = await buildMerkleSumTree({
        leafCount: n, assets, nonces, balances: bal, idBytes, idOffsets, leafToAccount, workers: opts.workers,
      });
      // The root's sums are the totals (exact u128 additions, overflow refused in the tree).
      const totals = tree.totals;
      for (const [asset, declared] of Object.entries(opts.controlTotals ?? {})) {
        const i = assets.findIndex((x) => x.id === asset);
        const actual = i === -1 ? 0n : totals[i]!;
        if (declared !== actual) throw new ControlTotalMismatchError({ asset, declared, actual });
      }
      return {
        rowCount, accountCount: n, assets, totals, tree,
        accounts: { ids, keys, nonces, balances: bal, leafToAccount },
      };
    },
  };
}

function compact(bal: Buffer, n: number, A: number, present: boolean[]): Buffer {
  const keep = present.map((p, i) => (p ? i : -1)).filter((i) => i >= 0);
  const B = keep.length;
  const out = Buffer.from(new SharedArrayBuffer(n * B * SUM_BYTES));
  for (let k = 0; k < n; k++) {
    keep.forEach((a, j) => {
      out.set(bal.subarray((k * A + a) * SUM_BYTES, (k * A + a + 1) * SUM_BYTES), (k * B + j) * SUM_BYTES);
    });
  }
  return out;
}

/** Fisher-Yates with crypto randomness (53-bit uniform draws). */
function randomPermutation(n: number): Uint32Array {
  const perm = new Uint32Array(new SharedArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) perm[i] = i;
  const batch = new Uint32Array(8192);
  let used = batch.length;
  for (let i = n - 1; i > 0; i--) {
    if (used + 2 > batch.length) { randomFillSync(batch); used = 0; }
    const r = (batch[used++]! * 2 ** 21 + (batch[used++]! >>> 11)) / 2 ** 53;
    const j = Math.floor(r * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/** All ids as UTF-8, back to back, with n + 1 offsets (the leaf hash input; shareable with workers). */
function encodeIds(ids: readonly string[]): { idBytes: Uint8Array; idOffsets: Uint32Array } {
  const idOffsets = new Uint32Array(ids.length + 1);
  let cap = 16;
  for (const id of ids) cap += id.length;
  let idBytes = Buffer.allocUnsafe(cap);
  let pos = 0;
  for (let a = 0; a < ids.length; a++) {
    const id = ids[a]!;
    if (pos + id.length * 3 > idBytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(idBytes.length * 2, pos + id.length * 3));
      idBytes.copy(grown, 0, 0, pos);
      idBytes = grown;
    }
    // ASCII by hand (the norm; Buffer.write costs more than the copy for short strings).
    let ascii = true;
    for (let k = 0; k < id.length; k++) {
      const c = id.charCodeAt(k);
      if (c > 127) { ascii = false; break; }
      idBytes[pos + k] = c;
    }
    pos += ascii ? id.length : idBytes.write(id, pos, "utf8");
    idOffsets[a + 1] = pos;
  }
  const shared = new Uint8Array(new SharedArrayBuffer(Math.max(1, pos)), 0, pos);
  shared.set(idBytes.subarray(0, pos));
  const sharedOffsets = new Uint32Array(new SharedArrayBuffer(idOffsets.byteLength));
  sharedOffsets.set(idOffsets);
  return { idBytes: shared, idOffsets: sharedOffsets };
}
