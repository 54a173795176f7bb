import { hash as nodeHash } from "node:crypto";
import { type ChunkJob, computeChunkRootsParallel, toShared } from "./compute-chunk-roots.js";
import { SumOverflowError } from "./errors.js";
import { bytesToHex, NONCE_BYTES, SUM_BYTES, TAGS, treeHeight } from "./verify-proof.js";

// Node-side builder of the Merkle-sum tree specified in docs/liabilities-proofs.md and checked
// by verify-proof.ts (which must stay import-free, so the spec constants live there).
//
// A node "record" is hash(32) ‖ sums(16 × assets), the same bytes that go into its parent's
// hash input; children are adjacent in a level buffer, so a parent's input is
// TAG_NODE ‖ level[2i] ‖ level[2i+1] without reassembly.

/** Leaves per stored chunk: the bottom CHUNK_LEVELS levels are recomputed per proof, not stored. */
export const CHUNK_LEVELS = 10;
/** Leaves per chunk (1,024). */
export const CHUNK_LEAVES = 1 << CHUNK_LEVELS;

const enc = (s: string) => Buffer.from(s, "latin1");
const TAG_ACCOUNT = enc(TAGS.account);
const TAG_LEAF = enc(TAGS.leaf);
const TAG_NODE = enc(TAGS.node);
const PAD_HASH = sha256(enc(TAGS.pad));

/** SHA-256 via Node's one-shot hash (about 2x faster than createHash for small inputs). */
export function sha256(data: Uint8Array): Buffer {
  return nodeHash("sha256", data, "buffer") as unknown as Buffer;
}

/** Bytes of one node record for `assetCount` assets. */
export function recordSize(assetCount: number): number {
  return 32 + SUM_BYTES * assetCount;
}

/** The padding record: hash H("BSL1/pad"), all sums zero. Pairs with the last node of an odd level. */
export function createPadRecord(assetCount: number): Uint8Array {
  const r = new Uint8Array(recordSize(assetCount));
  r.set(PAD_HASH, 0);
  return r;
}

/** Reusable scratch buffers for leaf hashing (one per builder; not shared across async work). */
export function createLeafHasher(assetCount: number, maxIdBytes = 4096) {
  const T = TAG_ACCOUNT.length;
  const acct = Buffer.alloc(T + NONCE_BYTES + maxIdBytes);
  TAG_ACCOUNT.copy(acct, 0);
  const leaf = Buffer.alloc(TAG_LEAF.length + 32 + SUM_BYTES * assetCount);
  TAG_LEAF.copy(leaf, 0);
  const stride = SUM_BYTES * assetCount;
  const sumsAt = TAG_LEAF.length + 32;
  return {
    /**
     * Write the leaf record (hash ‖ balances) of one account into out at offset.
     * nonce: NONCE_BYTES at nonces[nonceAt]; balances: 16 bytes BE per asset at balances[balAt].
     */
    writeLeaf(nonces: Uint8Array, nonceAt: number, accountId: string, balances: Uint8Array, balAt: number, out: Uint8Array, offset: number): void {
      for (let k = 0; k < NONCE_BYTES; k++) acct[T + k] = nonces[nonceAt + k]!;
      let len = T + NONCE_BYTES;
      // ASCII ids (the norm) are copied by hand: Buffer.write costs more than the hash for short strings.
      let ascii = accountId.length <= maxIdBytes;
      for (let k = 0; ascii && k < accountId.length; k++) {
        const c = accountId.charCodeAt(k);
        if (c > 127) ascii = false;
        else acct[len + k] = c;
      }
      len = ascii ? len + accountId.length : len + acct.write(accountId, len, "utf8");
      const h = sha256(acct.subarray(0, len));
      for (let k = 0; k < 32; k++) leaf[TAG_LEAF.length + k] = h[k]!;
      for (let k = 0; k < stride; k++) leaf[sumsAt + k] = balances[balAt + k]!;
      const lh = sha256(leaf);
      for (let k = 0; k < 32; k++) out[offset + k] = lh[k]!;
      for (let k = 0; k < stride; k++) out[offset + 32 + k] = balances[balAt + k]!;
    },
  };
}

/**
 * Reduce one level to the next: parent = H(node ‖ left record ‖ right record), sums = left + right;
 * an odd last node is paired with the pad record.
 * @throws SumOverflowError when a sum exceeds 2^128-1.
 */
export function computeParentLevel(level: Uint8Array, count: number, assets: readonly string[]): { level: Uint8Array; count: number } {
  const size = recordSize(assets.length);
  const parents = Math.ceil(count / 2);
  const out = new Uint8Array(parents * size);
  const input = Buffer.alloc(TAG_NODE.length + 2 * size);
  TAG_NODE.copy(input, 0);
  const pad = createPadRecord(assets.length);
  const T = TAG_NODE.length;
  for (let i = 0; i < parents; i++) {
    const l = 2 * i * size;
    const both = 2 * i + 1 < count;
    for (let k = 0; k < size; k++) input[T + k] = level[l + k]!;
    for (let k = 0; k < size; k++) input[T + size + k] = both ? level[l + size + k]! : pad[k]!;
    const h = sha256(input);
    for (let k = 0; k < 32; k++) out[i * size + k] = h[k]!;
    const L = TAG_NODE.length + 32;
    const R = TAG_NODE.length + size + 32;
    for (let a = 0; a < assets.length; a++) {
      if (!addU128(input, L + a * SUM_BYTES, R + a * SUM_BYTES, out, i * size + 32 + a * SUM_BYTES)) {
        throw new SumOverflowError({ asset: assets[a]! });
      }
    }
  }
  return { level: out, count: parents };
}

/** dst[d..d+16) = a[x..] + a[y..] as u128 big-endian; false on overflow. */
function addU128(a: Uint8Array, x: number, y: number, dst: Uint8Array, d: number): boolean {
  let carry = 0;
  for (let k = SUM_BYTES - 1; k >= 0; k--) {
    const s = a[x + k]! + a[y + k]! + carry;
    dst[d + k] = s & 0xff;
    carry = s >> 8;
  }
  return carry === 0;
}

/** Reduce `levels` levels; with `index`, also return the sibling records on the way up. */
export function computeSubtree(
  leaves: Uint8Array, count: number, levels: number, assets: readonly string[], index?: number,
): { top: Uint8Array; siblings: Uint8Array[] } {
  const size = recordSize(assets.length);
  const siblings: Uint8Array[] = [];
  let level = leaves;
  let n = count;
  let idx = index ?? 0;
  for (let k = 0; k < levels; k++) {
    if (index !== undefined) {
      const s = idx ^ 1;
      siblings.push(s < n ? level.slice(s * size, (s + 1) * size) : createPadRecord(assets.length));
    }
    ({ level, count: n } = computeParentLevel(level, n, assets));
    idx >>= 1;
  }
  return { top: level.slice(0, size), siblings };
}

/** Leaf inputs of the tree, by account number, plus the leaf order. */
export type BuildMerkleSumTreeParameters = {
  leafCount: number;
  /** Asset ids in hash order, with decimals (committed in the root). */
  assets: ReadonlyArray<{ id: string; decimals: number }>;
  /** Per account: NONCE_BYTES nonce; 16 × assets balance bytes; UTF-8 id at idBytes[idOffsets[a], idOffsets[a+1]). */
  nonces: Uint8Array;
  balances: Uint8Array;
  idBytes: Uint8Array;
  idOffsets: Uint32Array;
  /** Leaf index → account number. */
  leafToAccount: Uint32Array;
  /** Threads for hashing the leaves (default: available cores; 1 = in-process). */
  workers?: number;
};

/**
 * The built tree: its top node, totals and the stored levels. The root commitment is not here: it
 * binds the snapshot's id and as-of (format 2), which the importer knows only after this
 * (computeRoot over topHash and totals).
 */
export type MerkleSumTree = {
  height: number;
  /** Level of upperLevels[0] (min(height, CHUNK_LEVELS)): chunk roots. */
  baseLevel: number;
  /** Every level from baseLevel to the top, as record buffers; stored so proofs need one chunk of leaves. */
  upperLevels: Array<{ level: number; count: number; records: Uint8Array }>;
  /** The top node's hash (32 bytes). */
  topHash: Uint8Array;
  /** Per-asset totals (the top node's sums), base units. */
  totals: bigint[];
};

/**
 * Build the tree: chunks of CHUNK_LEAVES leaves are hashed into chunk roots (in parallel worker
 * threads for large snapshots, sharing the inputs), then the upper levels in-process.
 * Memory beyond the inputs: about 2 × leafCount / CHUNK_LEAVES records.
 * @throws SumOverflowError
 */
export async function buildMerkleSumTree(p: BuildMerkleSumTreeParameters): Promise<MerkleSumTree> {
  if (p.leafCount < 1) throw new RangeError("a tree needs at least one leaf");
  const ids = p.assets.map((a) => a.id);
  const size = recordSize(ids.length);
  const height = treeHeight(p.leafCount);
  const baseLevel = Math.min(height, CHUNK_LEVELS);
  const chunks = Math.ceil(p.leafCount / CHUNK_LEAVES);
  const parallel = (p.workers ?? 2) > 1 && chunks >= 64;
  const share = <T extends Uint8Array | Uint32Array>(a: T): T => (parallel && !(a.buffer instanceof SharedArrayBuffer) ? toShared(a) : a);
  const job: ChunkJob = {
    leafCount: p.leafCount, assetCount: ids.length, chunkLeaves: CHUNK_LEAVES, baseLevel,
    nonces: share(p.nonces), balances: share(p.balances), idBytes: share(p.idBytes), idOffsets: share(p.idOffsets),
    leafToAccount: share(p.leafToAccount),
    out: parallel ? new Uint8Array(new SharedArrayBuffer(chunks * size)) : new Uint8Array(chunks * size),
    tags: { account: TAG_ACCOUNT, leaf: TAG_LEAF, node: TAG_NODE, padHash: PAD_HASH },
  };
  let overflow: number;
  try {
    overflow = await computeChunkRootsParallel(job, chunks, parallel ? p.workers : 1);
  } catch {
    // A worker could not start or died (e.g. out of memory): same computation in-process.
    overflow = await computeChunkRootsParallel(job, chunks, 1);
  }
  if (overflow >= 0) throw new SumOverflowError({ asset: ids[overflow]! });
  const chunkRoots = new Uint8Array(job.out); // a private copy (the shared one may be large and is done with)
  const upperLevels: MerkleSumTree["upperLevels"] = [{ level: baseLevel, count: chunks, records: chunkRoots }];
  let cur: { level: Uint8Array; count: number } = { level: chunkRoots, count: chunks };
  for (let lv = baseLevel; lv < height; lv++) {
    cur = computeParentLevel(cur.level, cur.count, ids);
    upperLevels.push({ level: lv + 1, count: cur.count, records: cur.level });
  }
  const top = cur.level.subarray(0, size);
  const totals = readSums(top, ids.length);
  return { height, baseLevel, upperLevels, topHash: top.slice(0, 32), totals };
}

/** The sums of a record as bigints. */
export function readSums(record: Uint8Array, assetCount: number): bigint[] {
  const out: bigint[] = [];
  for (let a = 0; a < assetCount; a++) {
    let v = 0n;
    const o = 32 + a * SUM_BYTES;
    for (let k = 0; k < SUM_BYTES; k++) v = (v << 8n) | BigInt(record[o + k]!);
    out.push(v);
  }
  return out;
}

const MASK64 = (1n << 64n) - 1n;

/** Write a u128 big-endian at offset through a DataView. Caller guarantees 0 <= v < 2^128. */
export function writeU128(v: bigint, dv: DataView, offset: number): void {
  if (v > MASK64) dv.setBigUint64(offset, v >> 64n);
  dv.setBigUint64(offset + 8, v & MASK64);
}

/** A record as the proof's JSON path entry. */
export function recordToPathEntry(record: Uint8Array, assetCount: number): { hash: string; sums: string[] } {
  return { hash: bytesToHex(record.subarray(0, 32)), sums: readSums(record, assetCount).map(String) };
}
