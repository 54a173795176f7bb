import { randomBytes } from "node:crypto";

/**
 * A hash set of byte strings that can be probed directly at an offset inside a larger
 * buffer (a raw block), so the scan path never allocates a string or a subarray for a
 * key that is not in the set. Used for watched scriptPubKeys and custody outpoints.
 *
 * The hash samples two 32-bit words (middle, end) plus the length instead of every
 * byte: the keys we store are standard scripts and outpoints whose bytes are
 * themselves hash output, so the sample is uniform. Outputs crafted to share a watched
 * key's sample cost one failed byte comparison each (the chains hold only *stored*
 * keys), so no block content can make a probe slow.
 */
export class ByteKeyTable {
  /** Bucket heads: entry index + 1, 0 = empty. Length is a power of two. */
  private heads: Int32Array;
  private mask: number;
  /** Per entry: next entry index + 1 in the bucket chain (0 = end), cached hash, key bytes. */
  private next: Int32Array;
  private hashes: Int32Array;
  private keys: Array<Uint8Array | undefined> = [];
  private freeList: number[] = [];
  /**
   * Membership prefilter, 16 bits per bucket-head slot (~5% false positives at the
   * table's maximum load): a miss, which is nearly every probe from a block, reads one
   * word of a bitmap small enough for L2 instead of the bucket heads and the cached
   * hashes. Deleted keys leave their bit set until the next rebuild.
   */
  private filter: Int32Array;
  private filterShift: number;
  private staleBits = 0;
  /** Hash seed: random per table, so block contents cannot choose our bucket layout. */
  readonly seed: number;
  /** Number of keys in the set. */
  size = 0;

  /** `seed` lets two tables share hashes (one hashAt, two findAt); random by default. */
  constructor(expected = 16, seed?: number) {
    this.seed = seed ?? randomBytes(4).readInt32LE(0);
    let cap = 16;
    while (cap * 0.75 < expected) cap *= 2;
    this.heads = new Int32Array(cap);
    this.mask = cap - 1;
    this.next = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.filter = new Int32Array(cap >> 1); // cap * 16 bits
    this.filterShift = 32 - Math.log2(cap * 16);
  }

  /** Hash of `buf[off, off+len)`; pure integer arithmetic, no allocation. */
  hashAt(buf: Uint8Array, off: number, len: number): number {
    let a: number;
    let b: number;
    if (len >= 4) {
      // Middle and last words: hash bytes in every standard script (P2PKH's middle word
      // lies inside its 20-byte hash) and, for an outpoint, txid bytes and the vout.
      const m = off + ((len - 4) >> 1);
      a = buf[m]! | (buf[m + 1]! << 8) | (buf[m + 2]! << 16) | (buf[m + 3]! << 24);
      const e = off + len - 4;
      b = buf[e]! | (buf[e + 1]! << 8) | (buf[e + 2]! << 16) | (buf[e + 3]! << 24);
    } else {
      a = len > 0 ? buf[off]! : 0;
      b = len > 1 ? buf[off + 1]! | (len > 2 ? buf[off + 2]! << 8 : 0) : 0;
    }
    let h = Math.imul(a ^ this.seed, 0x9e3779b1) ^ Math.imul(b + len, 0x85ebca6b);
    // Finaliser: every input bit reaches the high bits (filter) and the low bits (bucket).
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39);
    h ^= h >>> 15;
    return h | 0;
  }

  /** Entry index of the key equal to `buf[off, off+len)`, or -1. No allocation. */
  findAt(buf: Uint8Array, off: number, len: number, hash = this.hashAt(buf, off, len)): number {
    // High bits pick the filter bit, low bits the bucket: independent after the finaliser.
    const bit = hash >>> this.filterShift;
    if ((this.filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return -1;
    let e = this.heads[hash & this.mask]! - 1;
    while (e >= 0) {
      if (this.hashes[e] === hash) {
        const k = this.keys[e]!;
        if (k.length === len) {
          let i = 0;
          while (i < len && k[i] === buf[off + i]) i++;
          if (i === len) return e;
        }
      }
      e = this.next[e]! - 1;
    }
    return -1;
  }

  /** True when `key` is in the set. */
  has(key: Uint8Array): boolean {
    return this.findAt(key, 0, key.length) >= 0;
  }

  /** Adds a copy of `key`; returns false when it was already present. */
  add(key: Uint8Array): boolean {
    const hash = this.hashAt(key, 0, key.length);
    if (this.findAt(key, 0, key.length, hash) >= 0) return false;
    if ((this.size + 1) > this.heads.length * 0.75) this.grow();
    let e: number;
    if (this.freeList.length > 0) e = this.freeList.pop()!;
    else {
      e = this.keys.length;
      this.keys.push(undefined);
      if (e >= this.next.length) {
        const n = new Int32Array(this.next.length * 2);
        n.set(this.next);
        this.next = n;
        const h = new Int32Array(this.hashes.length * 2);
        h.set(this.hashes);
        this.hashes = h;
      }
    }
    this.keys[e] = Uint8Array.from(key);
    this.hashes[e] = hash;
    const b = hash & this.mask;
    this.next[e] = this.heads[b]!;
    this.heads[b] = e + 1;
    const bit = hash >>> this.filterShift;
    this.filter[bit >>> 5]! |= 1 << (bit & 31);
    this.size++;
    return true;
  }

  /** Removes `key`; returns false when it was not present. */
  delete(key: Uint8Array): boolean {
    const hash = this.hashAt(key, 0, key.length);
    const e = this.findAt(key, 0, key.length, hash);
    if (e < 0) return false;
    const b = hash & this.mask;
    if (this.heads[b] === e + 1) this.heads[b] = this.next[e]!;
    else {
      let p = this.heads[b]! - 1;
      while (this.next[p] !== e + 1) p = this.next[p]! - 1;
      this.next[p] = this.next[e]!;
    }
    this.keys[e] = undefined;
    this.next[e] = 0;
    this.freeList.push(e);
    this.size--;
    // Rebuild the filter once stale bits outnumber live keys (amortised O(1) per delete).
    if (++this.staleBits > this.size + 64) this.rebuild(this.heads.length);
    return true;
  }

  /** The stored keys (copies are not made: do not mutate them). */
  *values(): IterableIterator<Uint8Array> {
    for (const k of this.keys) if (k !== undefined) yield k;
  }

  private grow(): void {
    this.rebuild(this.heads.length * 2);
  }

  private rebuild(cap: number): void {
    this.heads = new Int32Array(cap);
    this.mask = cap - 1;
    this.filter = new Int32Array(cap >> 1);
    this.filterShift = 32 - Math.log2(cap * 16);
    this.staleBits = 0;
    for (let e = 0; e < this.keys.length; e++) {
      if (this.keys[e] === undefined) continue;
      const hash = this.hashes[e]!;
      const b = hash & this.mask;
      this.next[e] = this.heads[b]!;
      this.heads[b] = e + 1;
      const bit = hash >>> this.filterShift;
      this.filter[bit >>> 5]! |= 1 << (bit & 31);
    }
  }
}
