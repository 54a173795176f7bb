import { hash as oneShotHash } from "node:crypto";
import { ByteKeyTable } from "./byte-key-table.js";
import { createWatchSet, type WatchSet } from "./create-watch-set.js";
import { MalformedBlockError } from "./malformed-block-error.js";
import { MerkleRootMismatchError } from "./merkle-root-mismatch-error.js";
import { sha256d64, sha256of32 } from "./sha256d-small.js";

/** The 80-byte header's fields; hashes as display hex (byte-reversed, as RPCs and explorers show them). */
export type BlockHeaderFields = {
  hash: string;
  prevHash: string;
  merkleRoot: string;
  version: number;
  /** Block timestamp, unix seconds (miner-set; not monotonic). */
  time: number;
  bits: number;
  nonce: number;
};

/** An output paying a watched scriptPubKey. `value` in satoshis. */
export type OutputMatch = {
  /** Index of the transaction in the block (0 = coinbase). */
  txIndex: number;
  txid: string;
  vout: number;
  /** scriptPubKey, lowercase hex. */
  script: string;
  value: bigint;
};

/** An input spending a custody outpoint: `txid`/`vin` spend `prevTxid:prevVout`. */
export type SpendMatch = {
  txIndex: number;
  txid: string;
  vin: number;
  prevTxid: string;
  prevVout: number;
};

/** One output of a transaction that spends a custody outpoint (whatever it pays). `value` in satoshis. */
export type SpenderOutput = {
  vout: number;
  /** scriptPubKey, lowercase hex. */
  script: string;
  value: bigint;
};

/**
 * A transaction that spends at least one custody outpoint, with every one of its outputs:
 * what the transfer legs (who paid whom, the fee) are computed from. `inputCount` counts all
 * its inputs, custody or not (the fee is known only when every input is a custody outpoint).
 */
export type SpenderTransaction = {
  txIndex: number;
  txid: string;
  inputCount: number;
  outputs: SpenderOutput[];
};

/** What a scan returns: header, sizes and the matches, each list in block order. */
export type ScanBlockReturnType = {
  header: BlockHeaderFields;
  /** Raw block size, bytes. */
  size: number;
  txCount: number;
  outputs: OutputMatch[];
  spends: SpendMatch[];
  /** Transactions with at least one entry in `spends`, each with all its outputs. */
  spenders: SpenderTransaction[];
  /** Every txid in block order, only with `txids: true`. */
  txids?: string[];
};

/** Either a WatchSet (fast: reuse it across blocks) or plain sets (converted on every call, O(size)). */
export type ScanWatch =
  | WatchSet
  | {
      /** scriptPubKeys, lowercase hex. */
      scripts: ReadonlySet<string>;
      /** Custody outpoints, "txid:vout" with the txid as display hex. */
      outpoints: ReadonlySet<string>;
    };

/** Options of scanBlock. */
export type ScanBlockOptions = {
  /** Compute and return every txid (one double SHA-256 per transaction, ~2-3 µs each here). */
  txids?: boolean;
  /**
   * Check the header's merkle root against every txid, rejecting CVE-2012-2459 mutated
   * blocks. Costs ~10 ms of CPU for a 3,000-transaction block (bench/bitcoin), against
   * ~0.3 ms for the scan itself.
   */
  verifyMerkleRoot?: boolean;
};

/** 21,000,000 BTC in sat: Bitcoin Core's MAX_MONEY, the bound of any output and any transaction's outputs. */
export const MAX_MONEY = 2_100_000_000_000_000n;
// MAX_MONEY as the two little-endian 32-bit words of an output's 8-byte value.
const MAX_MONEY_HI = Number(MAX_MONEY >> 32n);
const MAX_MONEY_LO = Number(MAX_MONEY & 0xffffffffn);
const MAX_MONEY_NUMBER = Number(MAX_MONEY);

// Smallest possible serialisations, used to reject absurd counts before looping.
const MIN_INPUT_SIZE = 41; // 32 prev hash + 4 vout + 1 script length + 4 sequence
const MIN_OUTPUT_SIZE = 9; // 8 value + 1 script length
const MIN_TX_SIZE = 10; // 4 version + 1 + 1 counts + 4 locktime

/**
 * Scans a raw block in one pass over its bytes and returns its header and the outputs
 * paying watched scripts and inputs spending custody outpoints, each in block order.
 *
 * Only transactions with a match are hashed (txid = double SHA-256 of the non-witness
 * serialisation), so a block without custody activity costs no hashing beyond its
 * header (unless `txids` or `verifyMerkleRoot`). Every txid is not needed for
 * intra-block chains: an in-block custody output is itself a match, so its txid is
 * known by the time a later input spends it. Intra-block chains are handled inside: an output that matches becomes a
 * custody outpoint for the rest of this block, so a later input of the same block
 * spending it is reported as a spend. The caller's WatchSet is never mutated; the
 * indexer applies `outputs`/`spends` to it after storing the block.
 *
 * Besides the bytes, it enforces the parts of Bitcoin Core's CheckTransaction that decide
 * what Backstop counts: a transaction has outputs; every output value and the sum of a
 * transaction's outputs are at most MAX_MONEY (values are unsigned here, so Core's
 * "negative output" is one of these); a segwit-marked transaction carries at least one
 * non-empty witness (Core refuses a "superfluous witness record"); no custody outpoint is
 * spent twice in the block. Script validity, coinbase shape and duplicate non-custody
 * inputs are the node's business: they cannot change a custody balance.
 *
 * @throws MalformedBlockError (`BITCOIN__MALFORMED_BLOCK`, with the byte offset) on bytes
 *   that are not a valid block: truncated, non-canonical or oversized varint, unknown segwit
 *   flag, counts the remaining bytes cannot hold, trailing bytes, or a transaction that
 *   breaks one of the rules above.
 * @throws MerkleRootMismatchError (`BITCOIN__MERKLE_ROOT_MISMATCH`) with `verifyMerkleRoot`.
 */
export function scanBlock(
  raw: Uint8Array,
  watch: ScanWatch,
  opts: ScanBlockOptions = {},
): ScanBlockReturnType {
  const ws: WatchSet =
    watch.scripts instanceof ByteKeyTable
      ? (watch as WatchSet)
      : createWatchSet({
          scripts: watch.scripts as ReadonlySet<string>,
          outpoints: watch.outpoints as ReadonlySet<string>,
        });
  const scripts = ws.scripts;
  const outpoints = ws.outpoints;
  const wantTxids = opts.txids === true;
  const hashAll = wantTxids || opts.verifyMerkleRoot === true;
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = buf.length;

  if (end < 80) throw truncated(end, 80 - end, "block header");
  const header = readHeader(buf);

  let pos = 80;
  const [txCount, txCountEnd] = readVarInt(buf, pos, "transaction count");
  pos = txCountEnd;
  if (txCount === 0) throw new MalformedBlockError({ offset: 80, reason: "block has no transactions" });
  if (txCount > (end - pos) / MIN_TX_SIZE) {
    throw new MalformedBlockError({
      offset: 80,
      reason: `transaction count ${txCount} exceeds what the ${end - pos} remaining bytes can hold`,
    });
  }

  const outputs: OutputMatch[] = [];
  const spends: SpendMatch[] = [];
  const spenders: SpenderTransaction[] = [];
  const txids: string[] | undefined = wantTxids ? [] : undefined;
  // Every txid (internal order) back to back, one spare slot for the merkle tree's odd duplicate.
  const leaves = hashAll ? Buffer.allocUnsafe((txCount + 1) * 32) : undefined;
  const scratch: HashScratch = { buf: Buffer.allocUnsafe(4096) };
  const lazyHash = Buffer.allocUnsafe(32);
  // Custody outpoints created earlier in this block (36-byte wire keys), made on first match.
  let created: ByteKeyTable | undefined;
  // Custody outpoints already spent in this block, made on the first custody spend: a second
  // spend of one is a double spend (an invalid block) and would be subtracted twice.
  let spentHere: ByteKeyTable | undefined;
  // Matches of the current transaction, as offsets, until its txid is known.
  const pendingIn: number[] = []; // pairs: vin, offset of prevout
  const pendingOut: number[] = []; // triples: vout, offset of value, script length
  const pendingAll: number[] = []; // same triples for every output of a tx spending custody
  const watchScripts = scripts.size > 0;

  for (let t = 0; t < txCount; t++) {
    const txStart = pos;
    if (pos + 4 > end) throw truncated(pos, 4, `transaction ${t} version`);
    pos += 4;
    let segwit = false;
    if (pos < end && buf[pos] === 0) {
      // BIP144 marker; the flag must be 1 (Bitcoin Core rejects other flag bits).
      if (pos + 1 >= end) throw truncated(pos + 1, 1, `transaction ${t} segwit flag`);
      if (buf[pos + 1] !== 1) {
        throw new MalformedBlockError({ offset: pos + 1, reason: `transaction ${t} has unknown segwit flag ${buf[pos + 1]}` });
      }
      segwit = true;
      pos += 2;
    }
    const bodyStart = pos;

    // Inputs.
    let nIn: number;
    if (pos < end && buf[pos]! < 0xfd) nIn = buf[pos++]!;
    else [nIn, pos] = readVarInt(buf, pos, `transaction ${t} input count`);
    if (nIn > (end - pos) / MIN_INPUT_SIZE) throw tooMany(pos, t, "input", nIn, end - pos);
    const checkOutpoints = outpoints.size > 0 || created !== undefined;
    for (let i = 0; i < nIn; i++) {
      const prevOff = pos;
      pos += 36;
      if (pos >= end) throw truncated(prevOff, 37, `transaction ${t} input ${i}`);
      let sl: number;
      if (buf[pos]! < 0xfd) sl = buf[pos++]!;
      else [sl, pos] = readVarInt(buf, pos, `transaction ${t} input ${i} script length`);
      pos += sl + 4;
      if (pos > end) throw truncated(pos - sl - 4, sl + 4, `transaction ${t} input ${i} script and sequence`);
      if (checkOutpoints) {
        const h = outpoints.hashAt(buf, prevOff, 36);
        if (
          (outpoints.size > 0 && outpoints.findAt(buf, prevOff, 36, h) >= 0) ||
          (created !== undefined && created.findAt(buf, prevOff, 36, h) >= 0)
        ) {
          spentHere ??= new ByteKeyTable(16, outpoints.seed);
          if (spentHere.findAt(buf, prevOff, 36, h) >= 0) {
            throw new MalformedBlockError({
              offset: prevOff,
              reason: `transaction ${t} input ${i} spends custody outpoint ${reversedHex(buf.subarray(prevOff, prevOff + 32))}:${readU32(buf, prevOff + 32)} a second time in this block`,
            });
          }
          spentHere.add(Buffer.from(buf.subarray(prevOff, prevOff + 36)));
          pendingIn.push(i, prevOff);
        }
      }
    }

    // Outputs.
    let nOut: number;
    if (pos < end && buf[pos]! < 0xfd) nOut = buf[pos++]!;
    else [nOut, pos] = readVarInt(buf, pos, `transaction ${t} output count`);
    if (nOut > (end - pos) / MIN_OUTPUT_SIZE) throw tooMany(pos, t, "output", nOut, end - pos);
    if (nOut === 0) throw new MalformedBlockError({ offset: pos - 1, reason: `transaction ${t} has no outputs` });
    const spendsCustody = pendingIn.length > 0;
    // The outputs' sum so far, in sat. A Number is exact here: every term is an integer
    // at most MAX_MONEY (< 2^53) and the loop stops as soon as the sum passes MAX_MONEY,
    // so it never exceeds 2 × MAX_MONEY. It is a bound check only; amounts leave as bigint.
    let outSum = 0;
    for (let o = 0; o < nOut; o++) {
      const valueOff = pos;
      pos += 8;
      if (pos >= end) throw truncated(valueOff, 9, `transaction ${t} output ${o}`);
      const lo = readU32(buf, valueOff);
      const hi = readU32(buf, valueOff + 4);
      if (hi > MAX_MONEY_HI || (hi === MAX_MONEY_HI && lo > MAX_MONEY_LO)) {
        throw new MalformedBlockError({ offset: valueOff, reason: `transaction ${t} output ${o} value ${readU64(buf, valueOff)} sat is above 21,000,000 BTC` });
      }
      outSum += hi * 4294967296 + lo;
      if (outSum > MAX_MONEY_NUMBER) {
        throw new MalformedBlockError({ offset: valueOff, reason: `transaction ${t} outputs sum to more than 21,000,000 BTC (output ${o})` });
      }
      let sl: number;
      if (buf[pos]! < 0xfd) sl = buf[pos++]!;
      else [sl, pos] = readVarInt(buf, pos, `transaction ${t} output ${o} script length`);
      const scriptOff = pos;
      pos += sl;
      if (pos > end) throw truncated(scriptOff, sl, `transaction ${t} output ${o} script`);
      if (watchScripts && scripts.findAt(buf, scriptOff, sl) >= 0) pendingOut.push(o, valueOff, sl);
      if (spendsCustody) pendingAll.push(o, valueOff, sl);
    }

    // Witnesses: skipped, never hashed (the txid excludes them).
    const witnessStart = pos;
    if (segwit) {
      let anyWitness = false;
      for (let i = 0; i < nIn; i++) {
        let items: number;
        if (pos < end && buf[pos]! < 0xfd) items = buf[pos++]!;
        else [items, pos] = readVarInt(buf, pos, `transaction ${t} witness ${i} item count`);
        if (items > end - pos) throw tooMany(pos, t, `witness ${i} item`, items, end - pos);
        if (items > 0) anyWitness = true;
        for (let k = 0; k < items; k++) {
          let l: number;
          if (pos < end && buf[pos]! < 0xfd) l = buf[pos++]!;
          else [l, pos] = readVarInt(buf, pos, `transaction ${t} witness ${i} item ${k} length`);
          pos += l;
          if (pos > end) throw truncated(pos - l, l, `transaction ${t} witness ${i} item ${k}`);
        }
      }
      // Core and bitcoinjs-lib refuse the segwit serialisation when every witness is empty.
      if (!anyWitness) {
        throw new MalformedBlockError({ offset: witnessStart, reason: `transaction ${t} is segwit-serialised but every witness is empty (superfluous witness record)` });
      }
    }
    const lockOff = pos;
    pos += 4;
    if (pos > end) throw truncated(lockOff, 4, `transaction ${t} locktime`);

    if (hashAll || pendingIn.length > 0 || pendingOut.length > 0) {
      const hash = leaves ? leaves.subarray(t * 32, t * 32 + 32) : lazyHash;
      computeTxHash(buf, txStart, segwit, bodyStart, witnessStart, lockOff, pos, scratch, hash);
      // The display string only when someone reads it (merkle verification alone does not).
      const txid = wantTxids || pendingIn.length > 0 || pendingOut.length > 0 ? reversedHex(hash) : "";
      txids?.push(txid);
      for (let j = 0; j < pendingIn.length; j += 2) {
        const off = pendingIn[j + 1]!;
        spends.push({
          txIndex: t,
          txid,
          vin: pendingIn[j]!,
          prevTxid: reversedHex(buf.subarray(off, off + 32)),
          prevVout: readU32(buf, off + 32),
        });
      }
      for (let j = 0; j < pendingOut.length; j += 3) {
        const vout = pendingOut[j]!;
        const valueOff = pendingOut[j + 1]!;
        const sl = pendingOut[j + 2]!;
        const scriptOff = pendingOut[j + 1]! + 8 + varIntSize(sl);
        outputs.push({
          txIndex: t,
          txid,
          vout,
          script: Buffer.from(buf.buffer, buf.byteOffset + scriptOff, sl).toString("hex"),
          value: readU64(buf, valueOff),
        });
        created ??= new ByteKeyTable(16, outpoints.seed); // same seed: one hash per input
        const key = Buffer.allocUnsafe(36);
        hash.copy(key, 0);
        key.writeUInt32LE(vout, 32);
        created.add(key);
      }
      if (pendingAll.length > 0) {
        const all: SpenderOutput[] = [];
        for (let j = 0; j < pendingAll.length; j += 3) {
          const valueOff = pendingAll[j + 1]!;
          const sl = pendingAll[j + 2]!;
          const scriptOff = valueOff + 8 + varIntSize(sl);
          all.push({ vout: pendingAll[j]!, script: Buffer.from(buf.buffer, buf.byteOffset + scriptOff, sl).toString("hex"), value: readU64(buf, valueOff) });
        }
        spenders.push({ txIndex: t, txid, inputCount: nIn, outputs: all });
      }
      pendingIn.length = 0;
      pendingOut.length = 0;
      pendingAll.length = 0;
    }
  }

  if (pos !== end) {
    throw new MalformedBlockError({ offset: pos, reason: `${end - pos} trailing bytes after the last transaction` });
  }
  if (opts.verifyMerkleRoot && leaves) {
    const { root, mutated } = computeMerkleRootInPlace(leaves, txCount);
    const expected = reversedHex(root);
    if (expected !== header.merkleRoot || mutated) {
      throw new MerkleRootMismatchError({ blockHash: header.hash, expected: header.merkleRoot, actual: expected, mutated });
    }
  }
  return txids === undefined
    ? { header, size: end, txCount, outputs, spends, spenders }
    : { header, size: end, txCount, outputs, spends, spenders, txids };
}

/**
 * Merkle root of txids (internal byte order) as Bitcoin Core computes it, with its
 * mutation flag: true when two identical hashes are paired at some level (the
 * CVE-2012-2459 duplicate-transactions trick, which keeps the root but changes the body).
 */
export function computeMerkleRoot(hashes: readonly Uint8Array[] | Buffer): { root: Buffer; mutated: boolean } {
  if (Buffer.isBuffer(hashes)) {
    // Packed: 32-byte hashes back to back.
    const level = Buffer.alloc(hashes.length + 32);
    hashes.copy(level, 0);
    return computeMerkleRootInPlace(level, hashes.length / 32);
  }
  const level = Buffer.alloc((hashes.length + 1) * 32);
  hashes.forEach((h, i) => level.set(h, i * 32));
  return computeMerkleRootInPlace(level, hashes.length);
}

/** computeMerkleRoot over `n` hashes packed in `level` (n + 1 slots; overwritten). */
function computeMerkleRootInPlace(level: Buffer, n: number): { root: Buffer; mutated: boolean } {
  if (n === 0) return { root: Buffer.alloc(32), mutated: false };
  let mutated = false;
  while (n > 1) {
    for (let i = 0; i + 1 < n; i += 2) {
      // Byte loop, not Buffer#compare: its argument checks cost more than the comparison.
      const a = i * 32;
      let k = 0;
      while (k < 32 && level[a + k] === level[a + 32 + k]) k++;
      if (k === 32) mutated = true;
    }
    if (n % 2 === 1) level.copy(level, n * 32, (n - 1) * 32, n * 32);
    const pairs = (n + 1) >> 1;
    // In place: pair i is read (slots 2i, 2i+1) before slot i is written, and i <= 2i.
    for (let i = 0; i < pairs; i++) sha256d64(level, i * 64, level, i * 32);
    n = pairs;
  }
  return { root: Buffer.from(level.subarray(0, 32)), mutated };
}

function readHeader(buf: Uint8Array): BlockHeaderFields {
  const hash = sha256d(buf.subarray(0, 80));
  return {
    hash: reversedHex(hash),
    prevHash: reversedHex(buf.subarray(4, 36)),
    merkleRoot: reversedHex(buf.subarray(36, 68)),
    version: readU32(buf, 0) | 0,
    time: readU32(buf, 68),
    bits: readU32(buf, 72),
    nonce: readU32(buf, 76),
  };
}

type HashScratch = { buf: Buffer };

/**
 * Double SHA-256 of the non-witness serialisation into `out` (internal byte order).
 * Per-call overhead, not bytes, dominates here: the first round is one `crypto.hash`
 * call (about half the cost of `createHash`; a segwit transaction's three pieces are
 * copied into a scratch buffer for it), the second round on 32 bytes is plain JS.
 */
function computeTxHash(
  buf: Buffer,
  txStart: number,
  segwit: boolean,
  bodyStart: number,
  witnessStart: number,
  lockOff: number,
  txEnd: number,
  scratch: HashScratch,
  out: Buffer,
): void {
  let first: Buffer;
  if (!segwit) first = oneShotHash("sha256", buf.subarray(txStart, txEnd), "buffer");
  else {
    // version || inputs+outputs || locktime: marker, flag and witnesses left out.
    const n = 4 + (witnessStart - bodyStart) + 4;
    if (scratch.buf.length < n) scratch.buf = Buffer.allocUnsafe(Math.max(n, scratch.buf.length * 2));
    const s = scratch.buf;
    buf.copy(s, 0, txStart, txStart + 4);
    buf.copy(s, 4, bodyStart, witnessStart);
    buf.copy(s, n - 4, lockOff, txEnd);
    first = oneShotHash("sha256", s.subarray(0, n), "buffer");
  }
  sha256of32(first, 0, out, 0);
}

function sha256d(data: Uint8Array): Buffer {
  return oneShotHash("sha256", oneShotHash("sha256", data, "buffer"), "buffer");
}

function reversedHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString("hex");
}

function readU32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

/** An 8-byte little-endian unsigned value (an output's sat amount) as bigint. */
function readU64(buf: Uint8Array, off: number): bigint {
  return BigInt(readU32(buf, off)) + (BigInt(readU32(buf, off + 4)) << 32n);
}

function varIntSize(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/**
 * Reads a CompactSize at `off`; returns [value, offset after it]. Rejects, as Bitcoin
 * Core does, non-canonical encodings and values above 2^32 (no count or length in a
 * block can be that large; a 4 MB block bounds them far lower anyway).
 */
function readVarInt(buf: Uint8Array, off: number, what: string): [number, number] {
  const end = buf.length;
  if (off >= end) throw truncated(off, 1, what);
  const first = buf[off]!;
  if (first < 0xfd) return [first, off + 1];
  if (first === 0xfd) {
    if (off + 3 > end) throw truncated(off, 3, what);
    const v = buf[off + 1]! | (buf[off + 2]! << 8);
    if (v < 0xfd) throw nonCanonical(off, what);
    return [v, off + 3];
  }
  if (first === 0xfe) {
    if (off + 5 > end) throw truncated(off, 5, what);
    const v = readU32(buf, off + 1);
    if (v <= 0xffff) throw nonCanonical(off, what);
    return [v, off + 5];
  }
  if (off + 9 > end) throw truncated(off, 9, what);
  if (readU32(buf, off + 5) === 0) throw nonCanonical(off, what);
  throw new MalformedBlockError({ offset: off, reason: `${what} is a varint above 2^32` });
}

function truncated(offset: number, need: number, what: string): MalformedBlockError {
  return new MalformedBlockError({ offset, reason: `block ends inside ${what} (${need} bytes)` });
}

function nonCanonical(offset: number, what: string): MalformedBlockError {
  return new MalformedBlockError({ offset, reason: `${what} is a non-canonical varint` });
}

function tooMany(offset: number, t: number, what: string, n: number, left: number): MalformedBlockError {
  return new MalformedBlockError({
    offset,
    reason: `transaction ${t} ${what} count ${n} exceeds what the ${left} remaining bytes can hold`,
  });
}
