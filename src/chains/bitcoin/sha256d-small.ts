// SHA-256 (FIPS 180-4) for the two small inputs a merkle tree hashes millions of times:
// double SHA-256 of 64 bytes (an inner node) and SHA-256 of 32 bytes (a txid's second
// round). Zero allocation, reading and writing at offsets. For these sizes the per-call
// overhead of node:crypto (~1 µs) is several times the work of the 1-3 compressions.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);
const S = new Int32Array(8);
/** Message schedule of the padding block that follows a 64-byte message (constant). */
const PAD64_W = new Int32Array(64);
{
  PAD64_W[0] = 0x80000000 | 0;
  PAD64_W[15] = 512;
  expand(PAD64_W);
}

function expand(w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
}

/** One compression of the expanded schedule `w` into state `s`. */
function compress(s: Int32Array, w: Int32Array): void {
  let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
}

function readBE(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

/** SHA-256 of the 32-byte digest held in state words `S`, written into `out` at `outOff`. */
function secondRound(out: Uint8Array, outOff: number): void {
  for (let i = 0; i < 8; i++) W[i] = S[i]!;
  W[8] = 0x80000000 | 0;
  for (let i = 9; i < 15; i++) W[i] = 0;
  W[15] = 256;
  expand(W);
  S.set(IV);
  compress(S, W);
  for (let i = 0; i < 8; i++) {
    const v = S[i]!;
    const o = outOff + i * 4;
    out[o] = v >>> 24;
    out[o + 1] = v >>> 16;
    out[o + 2] = v >>> 8;
    out[o + 3] = v;
  }
}

/** Double SHA-256 of `src[srcOff, srcOff+64)` into `out[outOff, outOff+32)` (may overlap the input). */
export function sha256d64(src: Uint8Array, srcOff: number, out: Uint8Array, outOff: number): void {
  for (let i = 0; i < 16; i++) W[i] = readBE(src, srcOff + i * 4);
  expand(W);
  S.set(IV);
  compress(S, W);
  compress(S, PAD64_W);
  secondRound(out, outOff);
}

/** SHA-256 of the 32 bytes `src[srcOff, srcOff+32)` into `out[outOff, outOff+32)` (may overlap). */
export function sha256of32(src: Uint8Array, srcOff: number, out: Uint8Array, outOff: number): void {
  for (let i = 0; i < 8; i++) S[i] = readBE(src, srcOff + i * 4);
  secondRound(out, outOff);
}
