// Standalone verifier of a Backstop liabilities inclusion proof.
//
// This module has NO imports (no node:, no Buffer, no npm package) so that it runs
// unchanged in a browser (the transparency page) and in Node. It carries its own
// SHA-256: WebCrypto's digest is async-only and absent on plain-HTTP pages, and a
// synchronous verifier keeps the page and the CLI on the same code path.
// The exact encoding is specified in docs/liabilities-proofs.md; keep the two in step.

/** Proof format version written for new snapshots; bump on any change to the encoding below. */
export const PROOF_VERSION = 2;
/** Every proof format this verifier checks: 1 (root without the snapshot's identity) and 2 (root bound to it). */
export const PROOF_VERSIONS = [1, 2] as const;
/** A proof format version. */
export type ProofVersion = (typeof PROOF_VERSIONS)[number];
/** Bytes of the per-account random nonce (salt). */
export const NONCE_BYTES = 16;
/** Bytes of every balance and sum: unsigned 128-bit big-endian. */
export const SUM_BYTES = 16;
/**
 * Domain-separation tags (ASCII, prefix-free), prepended to every hash input. Leaves, nodes and the
 * pad are the same in both formats; only the root commitment differs (`root` v1, `boundRoot` v2).
 */
export const TAGS = {
  account: "BSL1/acct",
  leaf: "BSL1/leaf",
  node: "BSL1/node",
  pad: "BSL1/pad",
  root: "BSL1/root",
  boundRoot: "BSL2/root",
} as const;
/** Snapshot ids the importer accepts, and the only ones a version-2 root commits to (no spaces, no control characters). */
export const SNAPSHOT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** As-of timestamps the importer accepts: ISO-8601 with seconds and an explicit offset (`Z` or `±hh:mm`). */
export const AS_OF_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))$/;

/** An account's inclusion proof, as printed by `backstop liabilities proof`. Amounts are base-unit decimal strings. */
export type LiabilityProof = {
  /** 2: the root commits to snapshotId and asOf. 1 (snapshots imported before format 2): they are unauthenticated labels. */
  version: ProofVersion;
  snapshotId: string;
  /** ISO-8601 with offset, verbatim as imported. */
  asOf: string;
  /** Asset order of every balance and sum vector, with decimals (committed in the root in both formats). */
  assets: Array<{ id: string; decimals: number }>;
  accountId: string;
  /** Hex, NONCE_BYTES bytes. */
  nonce: string;
  /** The account's balance per asset, base units. */
  balances: string[];
  leafIndex: number;
  leafCount: number;
  /** Siblings from the leaf level up; side given by the bits of leafIndex (0 = we are the left child). */
  path: Array<{ hash: string; sums: string[] }>;
  /** Hex SHA-256 root commitment. */
  root: string;
  /** Per-asset totals of the whole snapshot, base units. */
  totals: string[];
};

/**
 * Outcome of verifyProof: never throws. On success, `labelsAuthenticated` says whether the snapshot
 * id and as-of are part of what was checked (format 2) or only what the proof says about itself
 * (format 1: show them as unverified labels). `snapshotId`/`asOf` are null when a v1 proof carries
 * no string there.
 */
export type VerifyProofReturnType =
  | {
    ok: true; version: ProofVersion; root: string; totals: bigint[]; balances: bigint[];
    assets: Array<{ id: string; decimals: number }>;
    snapshotId: string | null; asOf: string | null; labelsAuthenticated: boolean;
  }
  | { ok: false; reason: string };

const MAX_U128 = (1n << 128n) - 1n;
const HEX64 = /^[0-9a-f]{64}$/;
const NONCE_HEX = new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`);
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Verify an inclusion proof: recompute the leaf from (nonce, account id, balances), fold the
 * sibling path (checking every sum is a non-negative u128 and no sum overflows), and compare the
 * root commitment (and its totals) with the proof's, and with `expectedRoot` if given (the
 * published root: a proof is only as good as the root it is checked against).
 * Never throws: malformed input yields `{ ok: false, reason }`.
 */
export function verifyProof(proof: unknown, opts: { expectedRoot?: string } = {}): VerifyProofReturnType {
  try {
    return verify(proof, opts.expectedRoot);
  } catch (e) {
    return { ok: false, reason: `malformed proof: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function fail(reason: string): VerifyProofReturnType {
  return { ok: false, reason };
}

function verify(input: unknown, expectedRoot: string | undefined): VerifyProofReturnType {
  if (typeof input !== "object" || input === null) return fail("proof is not an object");
  const p = input as Partial<LiabilityProof>;
  const version = p.version;
  if (version !== 1 && version !== 2) return fail(`unsupported proof version ${String(version)}`);
  // Format 2 commits to the labels, so they must be exactly what the importer could have written
  // (which also keeps control characters out of what a terminal or page prints as verified).
  if (version === 2) {
    if (typeof p.snapshotId !== "string" || !SNAPSHOT_ID_PATTERN.test(p.snapshotId)) return fail("snapshotId must match [A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    if (typeof p.asOf !== "string" || !AS_OF_PATTERN.test(p.asOf)) return fail("asOf must be ISO-8601 with seconds and an explicit offset");
  }
  if (!Array.isArray(p.assets) || p.assets.length === 0 || p.assets.length > 255) return fail("assets must be a list of 1..255 assets");
  const assets = p.assets;
  for (const a of assets) {
    if (typeof a?.id !== "string" || !Number.isInteger(a.decimals) || a.decimals < 0 || a.decimals > 255) return fail("malformed asset entry");
    if (utf8(a.id).length === 0 || utf8(a.id).length > 255) return fail("asset id must be 1..255 UTF-8 bytes");
  }
  const n = assets.length;
  if (typeof p.accountId !== "string") return fail("accountId must be a string");
  if (typeof p.nonce !== "string" || !NONCE_HEX.test(p.nonce)) return fail(`nonce must be ${NONCE_BYTES * 2} lowercase hex digits`);
  const leafCount = p.leafCount;
  const leafIndex = p.leafIndex;
  if (!Number.isSafeInteger(leafCount) || leafCount! < 1) return fail("leafCount must be a positive integer");
  if (!Number.isSafeInteger(leafIndex) || leafIndex! < 0 || leafIndex! >= leafCount!) return fail("leafIndex out of range");
  const balances = parseVector(p.balances, n, "balances");
  if (typeof balances === "string") return fail(balances);
  const totals = parseVector(p.totals, n, "totals");
  if (typeof totals === "string") return fail(totals);
  if (typeof p.root !== "string" || !HEX64.test(p.root)) return fail("root must be 64 lowercase hex digits");
  if (!Array.isArray(p.path)) return fail("path must be a list");
  const height = treeHeight(leafCount!);
  if (p.path.length !== height) return fail(`path has ${p.path.length} levels, a tree of ${leafCount} leaves has ${height}`);

  // Leaf: H(leaf ‖ H(acct ‖ nonce ‖ utf8(accountId)) ‖ balances)
  const accountHash = sha256(concat([ascii(TAGS.account), hexToBytes(p.nonce), utf8(p.accountId)]));
  let sums = balances;
  let hash = sha256(concat([ascii(TAGS.leaf), accountHash, encodeSums(sums)]));
  for (let level = 0; level < height; level++) {
    const sibling = p.path[level]!;
    if (typeof sibling?.hash !== "string" || !HEX64.test(sibling.hash)) return fail(`path[${level}].hash must be 64 lowercase hex digits`);
    const sibSums = parseVector(sibling.sums, n, `path[${level}].sums`);
    if (typeof sibSums === "string") return fail(sibSums);
    const sibHash = hexToBytes(sibling.hash);
    const weAreLeft = Math.floor(leafIndex! / 2 ** level) % 2 === 0;
    const [l, ls, r, rs] = weAreLeft ? [hash, sums, sibHash, sibSums] : [sibHash, sibSums, hash, sums];
    const next: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const s = ls[i]! + rs[i]!;
      if (s > MAX_U128) return fail(`sum of ${assets[i]!.id} overflows 128 bits at level ${level + 1}`);
      next.push(s);
    }
    hash = sha256(concat([ascii(TAGS.node), l, encodeSums(ls), r, encodeSums(rs)]));
    sums = next;
  }
  for (let i = 0; i < n; i++) {
    if (sums[i] !== totals[i]) return fail(`the path's ${assets[i]!.id} sum does not equal the proof's total`);
  }
  const root = computeRoot({
    version, snapshotId: p.snapshotId ?? "", asOf: p.asOf ?? "", leafCount: leafCount!, assets, topHash: hash, topSums: sums,
  });
  if (root !== p.root) return fail("recomputed root does not match the proof's root");
  if (expectedRoot !== undefined && root !== expectedRoot.toLowerCase().replace(/^0x/, "")) {
    return fail("root does not match the expected (published) root");
  }
  return {
    ok: true, version, root, totals, balances, assets: assets.map((a) => ({ id: a.id, decimals: a.decimals })),
    snapshotId: typeof p.snapshotId === "string" ? p.snapshotId : null,
    asOf: typeof p.asOf === "string" ? p.asOf : null,
    labelsAuthenticated: version === 2,
  };
}

/** Tree height for a leaf count: ceil(log2(leafCount)), 0 for one leaf. */
export function treeHeight(leafCount: number): number {
  let h = 0;
  while (2 ** h < leafCount) h++;
  return h;
}

/** What a snapshot's root commits to: the tree's top node, its shape and assets, and (format 2) the snapshot's identity. */
export type ComputeRootParameters = {
  version: ProofVersion;
  /** Committed in format 2 only (1..255 UTF-8 bytes there). */
  snapshotId: string;
  /** Committed in format 2 only, verbatim (1..255 UTF-8 bytes there). */
  asOf: string;
  leafCount: number;
  assets: ReadonlyArray<{ id: string; decimals: number }>;
  /** The top node's 32-byte hash. */
  topHash: Uint8Array;
  /** The top node's sums (the per-asset totals), base units. */
  topSums: bigint[];
};

/**
 * The root commitment (hex) of a snapshot, as published and as a proof of `version` carries it:
 *   v1: H("BSL1/root" ‖ u64 leafCount ‖ u8 n ‖ (u8 len ‖ id ‖ u8 decimals)* ‖ top hash ‖ top sums)
 *   v2: H("BSL2/root" ‖ u8 len ‖ snapshotId ‖ u8 len ‖ asOf ‖ the same fields as v1 after its tag)
 * @throws RangeError when a v2 label is empty or longer than 255 UTF-8 bytes
 */
export function computeRoot(p: ComputeRootParameters): string {
  return bytesToHex(sha256(encodeRootInput(p)));
}

/** The bytes hashed into the root commitment (see computeRoot). @throws RangeError on a v2 label outside 1..255 bytes */
export function encodeRootInput(p: ComputeRootParameters): Uint8Array {
  const count = new Uint8Array(8);
  let c = p.leafCount;
  for (let i = 7; i >= 0; i--) { count[i] = c % 256; c = Math.floor(c / 256); }
  const parts: Uint8Array[] = [];
  if (p.version === 2) {
    parts.push(ascii(TAGS.boundRoot));
    for (const label of [p.snapshotId, p.asOf]) {
      const b = utf8(label);
      if (b.length < 1 || b.length > 255) throw new RangeError("a root label must be 1..255 UTF-8 bytes");
      parts.push(Uint8Array.of(b.length), b);
    }
  } else parts.push(ascii(TAGS.root));
  parts.push(count, Uint8Array.of(p.assets.length));
  for (const a of p.assets) {
    const id = utf8(a.id);
    parts.push(Uint8Array.of(id.length), id, Uint8Array.of(a.decimals));
  }
  parts.push(p.topHash, encodeSums(p.topSums));
  return concat(parts);
}

function parseVector(v: unknown, n: number, what: string): bigint[] | string {
  if (!Array.isArray(v) || v.length !== n) return `${what} must list ${n} amounts`;
  const out: bigint[] = [];
  for (const s of v) {
    if (typeof s !== "string" || !DECIMAL.test(s) || s.length > 39) return `${what} must be non-negative base-unit decimal strings`;
    const b = BigInt(s);
    if (b > MAX_U128) return `${what} exceeds 128 bits`;
    out.push(b);
  }
  return out;
}

/** Concatenated u128 big-endian encodings. */
export function encodeSums(sums: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(sums.length * SUM_BYTES);
  sums.forEach((s, i) => hexInto(s.toString(16).padStart(SUM_BYTES * 2, "0"), out, i * SUM_BYTES));
  return out;
}

function hexInto(h: string, out: Uint8Array, offset: number): void {
  for (let i = 0; i < h.length / 2; i++) out[offset + i] = (nibble(h.charCodeAt(2 * i)) << 4) | nibble(h.charCodeAt(2 * i + 1));
}

function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87; // '0'-'9', 'a'-'f' (inputs are validated lowercase hex)
}

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const ENCODER = new TextEncoder();

function utf8(s: string): Uint8Array {
  return ENCODER.encode(s);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function hexToBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  hexInto(h, out, 0);
  return out;
}

/** Lowercase hex of bytes. */
export function bytesToHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return s;
}

// ---- SHA-256 (FIPS 180-4), small and synchronous ----------------------------------------

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const W = new Uint32Array(64); // message schedule, reused: sha256 is synchronous and not reentrant

/** SHA-256 digest of bytes (pure TypeScript, synchronous). */
export function sha256(data: Uint8Array): Uint8Array {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const bitLen = data.length * 8;
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  dv.setUint32(padded.length - 4, bitLen >>> 0);
  const w = W;
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!, b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0; h[1] = (h[1]! + b) | 0; h[2] = (h[2]! + c) | 0; h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0; h[5] = (h[5]! + f) | 0; h[6] = (h[6]! + g) | 0; h[7] = (h[7]! + hh) | 0;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, h[i]!);
  return out;
}
