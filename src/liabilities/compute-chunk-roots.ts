import { hash as nodeHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * Everything needed to hash chunks of leaves into chunk roots (docs/liabilities-proofs.md §3).
 * Arrays may live in SharedArrayBuffers, so worker threads read them without copies.
 */
export type ChunkJob = {
  leafCount: number;
  assetCount: number;
  /** Leaves per chunk (CHUNK_LEAVES) and levels reduced inside a chunk (min(height, CHUNK_LEVELS)). */
  chunkLeaves: number;
  baseLevel: number;
  /** 16 bytes per account. */
  nonces: Uint8Array;
  /** 16 × assetCount bytes per account (u128 big-endian). */
  balances: Uint8Array;
  /** UTF-8 of every account id, back to back; account a is idBytes[idOffsets[a], idOffsets[a+1]). */
  idBytes: Uint8Array;
  idOffsets: Uint32Array;
  /** Leaf index → account number. */
  leafToAccount: Uint32Array;
  /** Output: one record (hash ‖ sums) per chunk. */
  out: Uint8Array;
  tags: { account: Uint8Array; leaf: Uint8Array; node: Uint8Array; padHash: Uint8Array };
};

/**
 * Hash chunks [from, to) of a job into their root records. Self-contained on purpose: its source
 * is sent to worker threads, so it uses nothing but its parameters (no imports, no closures).
 * Returns -1, or the index of an asset whose sum overflowed 128 bits.
 */
export function computeChunkRoots(job: ChunkJob, from: number, to: number, hash: (b: Uint8Array) => Uint8Array): number {
  const A = job.assetCount;
  const stride = 16 * A;
  const size = 32 + stride;
  const TA = job.tags.account.length;
  const TL = job.tags.leaf.length;
  const TN = job.tags.node.length;
  let maxId = 0;
  for (let a = 0; a + 1 < job.idOffsets.length; a++) maxId = Math.max(maxId, job.idOffsets[a + 1]! - job.idOffsets[a]!);
  const acct = new Uint8Array(TA + 16 + maxId);
  acct.set(job.tags.account, 0);
  const leafIn = new Uint8Array(TL + 32 + stride);
  leafIn.set(job.tags.leaf, 0);
  const nodeIn = new Uint8Array(TN + 2 * size);
  nodeIn.set(job.tags.node, 0);
  const pad = new Uint8Array(size);
  pad.set(job.tags.padHash, 0);
  let level = new Uint8Array(job.chunkLeaves * size);
  let next = new Uint8Array(Math.max(1, job.chunkLeaves / 2) * size);
  for (let c = from; c < to; c++) {
    const first = c * job.chunkLeaves;
    const n = Math.min(job.chunkLeaves, job.leafCount - first);
    for (let i = 0; i < n; i++) {
      const a = job.leafToAccount[first + i]!;
      acct.set(job.nonces.subarray(a * 16, a * 16 + 16), TA);
      const s = job.idOffsets[a]!;
      const e = job.idOffsets[a + 1]!;
      acct.set(job.idBytes.subarray(s, e), TA + 16);
      leafIn.set(hash(acct.subarray(0, TA + 16 + e - s)), TL);
      const bal = job.balances.subarray(a * stride, a * stride + stride);
      leafIn.set(bal, TL + 32);
      level.set(hash(leafIn), i * size);
      level.set(bal, i * size + 32);
    }
    let count = n;
    for (let lv = 0; lv < job.baseLevel; lv++) {
      const parents = Math.ceil(count / 2);
      for (let p = 0; p < parents; p++) {
        const l = 2 * p * size;
        nodeIn.set(level.subarray(l, l + size), TN);
        nodeIn.set(2 * p + 1 < count ? level.subarray(l + size, l + 2 * size) : pad, TN + size);
        next.set(hash(nodeIn), p * size);
        for (let k = 0; k < A; k++) {
          let carry = 0;
          const x = TN + 32 + 16 * k;
          const y = TN + size + 32 + 16 * k;
          const d = p * size + 32 + 16 * k;
          for (let b = 15; b >= 0; b--) {
            const sum = nodeIn[x + b]! + nodeIn[y + b]! + carry;
            next[d + b] = sum & 0xff;
            carry = sum >> 8;
          }
          if (carry !== 0) return k;
        }
      }
      const t = level;
      level = next;
      next = t;
      count = parents;
    }
    job.out.set(level.subarray(0, size), c * size);
  }
  return -1;
}

/** Chunks below this are hashed in-process: starting workers costs more than it saves. */
const PARALLEL_MIN_CHUNKS = 64;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { hash } = require("node:crypto");
const __name = (f) => f; // esbuild keepNames helper, absent in an eval'd worker
const computeChunkRoots = (${computeChunkRoots.toString()});
parentPort.postMessage(computeChunkRoots(workerData.job, workerData.from, workerData.to, (b) => hash("sha256", b, "buffer")));
`;

/**
 * Hash every chunk, on up to `workers` threads (default: the available cores) when the job is
 * large; the job's arrays must then be SharedArrayBuffer-backed (see toShared). Same result
 * either way. Returns -1 or the index of an asset whose sum overflowed.
 */
export async function computeChunkRootsParallel(job: ChunkJob, chunks: number, workers = availableParallelism()): Promise<number> {
  const w = Math.min(workers, Math.floor(chunks / (PARALLEL_MIN_CHUNKS / 2)));
  const shared = [job.nonces, job.balances, job.idBytes, job.idOffsets, job.leafToAccount, job.out].every((a) => a.buffer instanceof SharedArrayBuffer);
  if (w <= 1 || !shared) return computeChunkRoots(job, 0, chunks, (b) => nodeHash("sha256", b, "buffer") as unknown as Uint8Array);
  const per = Math.ceil(chunks / w);
  const results = await Promise.all(Array.from({ length: w }, (_, i) => new Promise<number>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { job, from: i * per, to: Math.min(chunks, (i + 1) * per) } });
    worker.once("message", (r: number) => resolve(r));
    worker.once("error", reject);
    worker.once("exit", (code) => { if (code !== 0) reject(new Error(`chunk worker exited with ${code}`)); });
  })));
  return results.find((r) => r >= 0) ?? -1;
}

/** A copy of bytes in a SharedArrayBuffer (workers read it without another copy). */
export function toShared<T extends Uint8Array | Uint32Array>(a: T): T {
  const sab = new SharedArrayBuffer(a.byteLength);
  const out = (a instanceof Uint32Array ? new Uint32Array(sab) : new Uint8Array(sab)) as T;
  out.set(a as never);
  return out;
}
