import type { BuiltSnapshot } from "./build-snapshot.js";
import {
  CHUNK_LEAVES, computeSubtree, createLeafHasher, createPadRecord, readSums, recordSize, recordToPathEntry,
} from "./merkle-sum-tree.js";
import { bytesToHex, computeRoot, type LiabilityProof, NONCE_BYTES, PROOF_VERSION, type ProofVersion, SUM_BYTES } from "./verify-proof.js";

/** Inputs of buildProof: the snapshot's public header, the account's chunk of leaves and the stored upper levels. */
export type BuildProofParameters = {
  /** The snapshot's proof format (its stored root is of this format). */
  version: ProofVersion;
  snapshotId: string;
  asOf: string;
  assets: Array<{ id: string; decimals: number }>;
  leafCount: number;
  height: number;
  baseLevel: number;
  root: string;
  totals: bigint[];
  leafIndex: number;
  /** The leaves of the account's chunk (leaf indexes chunkStart.. in order): verbatim id, nonce, balance bytes. */
  chunk: Array<{ accountId: string; nonce: Uint8Array; balances: Uint8Array }>;
  /** Stored record at (level, index) for levels ≥ baseLevel, or undefined past the level's end (a pad). */
  upperRecord(level: number, index: number): Uint8Array | undefined;
};

/** Assemble one account's inclusion proof from its chunk of leaves and the stored upper levels. Pure. */
export function buildProof(p: BuildProofParameters): LiabilityProof {
  const ids = p.assets.map((a) => a.id);
  const size = recordSize(ids.length);
  const hasher = createLeafHasher(ids.length);
  const leaves = new Uint8Array(p.chunk.length * size);
  p.chunk.forEach((l, i) => hasher.writeLeaf(l.nonce, 0, l.accountId, l.balances, 0, leaves, i * size));
  const inChunk = p.leafIndex % CHUNK_LEAVES;
  const { siblings } = computeSubtree(leaves, p.chunk.length, p.baseLevel, ids, inChunk);
  for (let level = p.baseLevel; level < p.height; level++) {
    const sib = Math.floor(p.leafIndex / 2 ** level) ^ 1;
    siblings.push(p.upperRecord(level, sib) ?? createPadRecord(ids.length));
  }
  const me = p.chunk[inChunk]!;
  return {
    version: p.version,
    snapshotId: p.snapshotId,
    asOf: p.asOf,
    assets: p.assets,
    accountId: me.accountId,
    nonce: bytesToHex(me.nonce),
    balances: readSums(concatHashless(me.balances), ids.length).map(String),
    leafIndex: p.leafIndex,
    leafCount: p.leafCount,
    path: siblings.map((r) => recordToPathEntry(r, ids.length)),
    root: p.root,
    totals: p.totals.map(String),
  };
}

/** Prefix 32 zero bytes so readSums (which skips a record's hash) reads a bare balance vector. */
function concatHashless(balances: Uint8Array): Uint8Array {
  const r = new Uint8Array(32 + balances.length);
  r.set(balances, 32);
  return r;
}

/** The root commitment of an in-memory BuiltSnapshot under the given labels (default format PROOF_VERSION). */
export function computeSnapshotRoot(s: BuiltSnapshot, meta: { snapshotId: string; asOf: string; version?: ProofVersion }): string {
  return computeRoot({
    version: meta.version ?? PROOF_VERSION, snapshotId: meta.snapshotId, asOf: meta.asOf, leafCount: s.accountCount,
    assets: s.assets, topHash: s.tree.topHash, topSums: s.totals,
  });
}

/** Proof for account number `account` of an in-memory BuiltSnapshot (tests, benchmark); format PROOF_VERSION unless given. */
export function buildProofFromSnapshot(
  s: BuiltSnapshot, account: number, meta: { snapshotId: string; asOf: string; version?: ProofVersion },
): LiabilityProof {
  const leafIndex = s.accounts.leafToAccount.indexOf(account);
  if (leafIndex < 0) throw new RangeError("no such account");
  const B = s.assets.length;
  const first = leafIndex - (leafIndex % CHUNK_LEAVES);
  const last = Math.min(s.accountCount, first + CHUNK_LEAVES);
  const chunk = [];
  for (let i = first; i < last; i++) {
    const a = s.accounts.leafToAccount[i]!;
    chunk.push({
      accountId: s.accounts.ids[a]!,
      nonce: s.accounts.nonces.subarray(a * NONCE_BYTES, (a + 1) * NONCE_BYTES),
      balances: s.accounts.balances.subarray(a * B * SUM_BYTES, (a + 1) * B * SUM_BYTES),
    });
  }
  const size = recordSize(B);
  return buildProof({
    version: meta.version ?? PROOF_VERSION,
    snapshotId: meta.snapshotId,
    asOf: meta.asOf,
    assets: s.assets,
    leafCount: s.accountCount,
    height: s.tree.height,
    baseLevel: s.tree.baseLevel,
    root: computeSnapshotRoot(s, meta),
    totals: s.totals,
    leafIndex,
    chunk,
    upperRecord(level, index) {
      const l = s.tree.upperLevels.find((u) => u.level === level);
      if (!l || index >= l.count) return undefined;
      return l.records.subarray(index * size, (index + 1) * size);
    },
  });
}
