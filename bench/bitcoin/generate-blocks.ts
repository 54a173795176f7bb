// Synthetic mainnet-size blocks for the Bitcoin benchmark, serialised directly (bitcoinjs-lib
// would take minutes for tens of blocks of 3,000 transactions). Deterministic from a seed.
import { createHash } from "node:crypto";
import { computeMerkleRoot } from "../../src/chains/bitcoin/scan-block.js";

/** Seeded xorshift32: deterministic, fast, good enough for synthetic bytes. */
export function createRng(seed: number) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    u32: next,
    /** Integer in [0, n). */
    int: (n: number) => Math.floor((next() / 0x1_0000_0000) * n),
    chance: (p: number) => next() / 0x1_0000_0000 < p,
    fill(b: Uint8Array, off = 0, len = b.length - off) {
      let i = off;
      const end = off + len;
      for (; i + 4 <= end; i += 4) {
        const w = next();
        b[i] = w;
        b[i + 1] = w >>> 8;
        b[i + 2] = w >>> 16;
        b[i + 3] = w >>> 24;
      }
      for (; i < end; i++) b[i] = next();
    },
  };
}
export type Rng = ReturnType<typeof createRng>;

/** A standard output script kind with its share of outputs (roughly mainnet 2024). */
const OUTPUT_MIX: Array<[ScriptKind, number]> = [
  ["p2wpkh", 0.42],
  ["p2tr", 0.22],
  ["p2sh", 0.14],
  ["p2pkh", 0.13],
  ["p2wsh", 0.09],
];
type ScriptKind = "p2pkh" | "p2sh" | "p2wpkh" | "p2wsh" | "p2tr";

/** A random scriptPubKey of `kind`. */
export function makeScript(rng: Rng, kind: ScriptKind): Buffer {
  switch (kind) {
    case "p2pkh": {
      const b = Buffer.alloc(25);
      b.set([0x76, 0xa9, 0x14]);
      rng.fill(b, 3, 20);
      b.set([0x88, 0xac], 23);
      return b;
    }
    case "p2sh": {
      const b = Buffer.alloc(23);
      b.set([0xa9, 0x14]);
      rng.fill(b, 2, 20);
      b[22] = 0x87;
      return b;
    }
    case "p2wpkh": {
      const b = Buffer.alloc(22);
      b.set([0x00, 0x14]);
      rng.fill(b, 2, 20);
      return b;
    }
    case "p2wsh":
    case "p2tr": {
      const b = Buffer.alloc(34);
      b.set([kind === "p2wsh" ? 0x00 : 0x51, 0x20]);
      rng.fill(b, 2, 32);
      return b;
    }
  }
}

/** A random script of the mainnet mix. */
export function randomMixScript(rng: Rng): Buffer {
  let x = rng.u32() / 0x1_0000_0000;
  for (const [kind, share] of OUTPUT_MIX) {
    if ((x -= share) < 0) return makeScript(rng, kind);
  }
  return makeScript(rng, "p2wpkh");
}

class Writer {
  buf = Buffer.allocUnsafe(4 << 20);
  pos = 0;
  constructor(private rng: Rng) {}
  u8(v: number) {
    this.buf[this.pos++] = v;
  }
  u32(v: number) {
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  u64(v: number) {
    this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
  }
  varint(n: number) {
    if (n < 0xfd) this.u8(n);
    else if (n <= 0xffff) {
      this.u8(0xfd);
      this.buf.writeUInt16LE(n, this.pos);
      this.pos += 2;
    } else {
      this.u8(0xfe);
      this.u32(n);
    }
  }
  random(n: number) {
    this.rng.fill(this.buf, this.pos, n);
    this.pos += n;
  }
  bytes(b: Uint8Array | number[]) {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  varBytes(b: Uint8Array) {
    this.varint(b.length);
    this.bytes(b);
  }
  varRandom(n: number) {
    this.varint(n);
    this.random(n);
  }
}

/** Input spending shapes: scriptSig length and witness item sizes. */
type InputShape = { scriptSig: number; witness: number[] };
const P2WPKH_IN: InputShape = { scriptSig: 0, witness: [72, 33] };
const P2TR_IN: InputShape = { scriptSig: 0, witness: [64] };
const P2PKH_IN: InputShape = { scriptSig: 107, witness: [] };
const P2SH_P2WPKH_IN: InputShape = { scriptSig: 23, witness: [72, 33] };
const P2WSH_MULTI_IN: InputShape = { scriptSig: 0, witness: [0, 72, 72, 105] };

function pickInput(rng: Rng): InputShape {
  const x = rng.int(100);
  if (x < 45) return P2WPKH_IN;
  if (x < 65) return P2TR_IN;
  if (x < 78) return P2PKH_IN;
  if (x < 92) return P2SH_P2WPKH_IN;
  return P2WSH_MULTI_IN;
}

/** Byte layout of one transaction in a block (for re-hashing after a patch). */
export type TxLayout = { index: number; start: number; bodyStart: number; witnessStart: number; lockOff: number; end: number; segwit: boolean };

/** Where the benchmark patches a template block between iterations. */
export type BlockTemplate = {
  raw: Buffer;
  txCount: number;
  /** Every txid, internal order, packed (kept current by the benchmark when it patches). */
  leaves: Buffer;
  /** Layout of the deposit and withdrawal transactions (the ones the benchmark patches). */
  patchedTxs: TxLayout[];
  /** Offsets of prevout hashes of deposit transactions (patched with a counter: fresh txids). */
  depositPatch: number[];
  /** Offsets of 36-byte prevouts of withdrawal transactions (patched with a live custody outpoint). */
  withdrawalPrevout: number[];
};

export type GenerateBlockParameters = {
  rng: Rng;
  height: number;
  /** Approximate sizes: transactions and bytes. */
  txCount: number;
  bytes: number;
  /** Watched scripts to pay: deposits (one custody output each) and withdrawal change. */
  depositScripts: Buffer[];
  withdrawalChangeScripts: Buffer[];
};

/**
 * One synthetic block: a segwit coinbase, ~txCount transactions of the mainnet input and
 * output mix (1-2 in / 2 out mostly; consolidations; batch payouts; OP_RETURN), custody
 * deposits and withdrawals at known offsets, and a few inscription-like transactions with
 * large witnesses that bring it to ~bytes. The header's merkle root is correct.
 */
export function generateBlock(p: GenerateBlockParameters): BlockTemplate {
  const { rng } = p;
  const w = new Writer(rng);
  const txHashes: Buffer[] = [];
  const depositPatch: number[] = [];
  const withdrawalPrevout: number[] = [];
  w.pos = 80 + 3; // header + a 3-byte varint tx count, written at the end
  let txCount = 0;

  type Out = { script: Buffer | number; value: number }; // number = OP_RETURN payload size
  const writeTx = (ins: InputShape[], outs: Out[], onInput?: (i: number, prevoutOff: number) => void): TxLayout => {
    const start = w.pos;
    const segwit = ins.some((i) => i.witness.length > 0);
    w.u32(2);
    if (segwit) w.bytes([0x00, 0x01]);
    const bodyStart = w.pos;
    w.varint(ins.length);
    ins.forEach((shape, i) => {
      onInput?.(i, w.pos);
      w.random(32);
      w.u32(rng.int(4));
      w.varRandom(shape.scriptSig);
      w.u32(0xfffffffd);
    });
    w.varint(outs.length);
    for (const o of outs) {
      w.u64(o.value);
      if (typeof o.script === "number") {
        w.varint(o.script + 2);
        w.bytes([0x6a, o.script]);
        w.random(o.script);
      } else w.varBytes(o.script);
    }
    const witnessStart = w.pos;
    if (segwit) {
      for (const shape of ins) {
        w.varint(shape.witness.length);
        for (const n of shape.witness) w.varRandom(n);
      }
    }
    const lockOff = w.pos;
    w.u32(0);
    const h = createHash("sha256");
    if (segwit) {
      h.update(w.buf.subarray(start, start + 4));
      h.update(w.buf.subarray(bodyStart, witnessStart));
      h.update(w.buf.subarray(lockOff, lockOff + 4));
    } else h.update(w.buf.subarray(start, w.pos));
    txHashes.push(createHash("sha256").update(h.digest()).digest());
    txCount++;
    return { index: txCount - 1, start, bodyStart, witnessStart, lockOff, end: w.pos, segwit };
  };
  const patchedTxs: TxLayout[] = [];

  // Coinbase: BIP34 height, reward output, witness commitment, 32-byte witness reserved value.
  {
    const start = w.pos;
    w.u32(2);
    w.bytes([0x00, 0x01, 0x01]);
    w.bytes(Buffer.alloc(32));
    w.u32(0xffffffff);
    const sig = Buffer.alloc(20);
    sig.set([0x03, p.height & 0xff, (p.height >> 8) & 0xff, (p.height >> 16) & 0xff]);
    rng.fill(sig, 4);
    w.varBytes(sig);
    w.u32(0xffffffff);
    w.varint(2);
    w.u64(312_500_000 + rng.int(50_000_000));
    w.varBytes(makeScript(rng, "p2wpkh"));
    w.u64(0);
    w.varint(38);
    w.bytes([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);
    w.random(32);
    const witnessStart = w.pos;
    w.bytes([0x01, 0x20]);
    w.bytes(Buffer.alloc(32));
    w.u32(0);
    const h = createHash("sha256")
      .update(w.buf.subarray(start, start + 4))
      .update(w.buf.subarray(start + 6, witnessStart))
      .update(w.buf.subarray(w.pos - 4, w.pos));
    txHashes.push(createHash("sha256").update(h.digest()).digest());
    txCount++;
  }

  const deposits = new Set<number>();
  const withdrawals = new Set<number>();
  const regular = p.txCount - 20;
  while (deposits.size < p.depositScripts.length) deposits.add(1 + rng.int(regular - 1));
  while (withdrawals.size < p.withdrawalChangeScripts.length) {
    const t = 1 + rng.int(regular - 1);
    if (!deposits.has(t)) withdrawals.add(t);
  }
  let dep = 0;
  let wd = 0;
  for (let t = 1; t < regular; t++) {
    if (deposits.has(t)) {
      // Customer deposit: 1 input, pays a custody script and the customer's change.
      const layout = writeTx(
        [pickInput(rng)],
        [{ script: p.depositScripts[dep++]!, value: 10_000 + rng.int(50_000_000) }, { script: randomMixScript(rng), value: rng.int(1e8) }],
        (_i, off) => depositPatch.push(off),
      );
      patchedTxs.push(layout);
      continue;
    }
    if (withdrawals.has(t)) {
      // Custody withdrawal: spends one custody output, pays a customer, change back to custody.
      const layout = writeTx(
        [P2WPKH_IN],
        [{ script: randomMixScript(rng), value: 1_000 + rng.int(1_000_000) }, { script: p.withdrawalChangeScripts[wd++]!, value: 546 + rng.int(1000) }],
        (i, off) => {
          if (i === 0) withdrawalPrevout.push(off);
        },
      );
      patchedTxs.push(layout);
      continue;
    }
    const x = rng.int(1000);
    if (x < 30) {
      // Consolidation: many inputs, one output.
      writeTx(Array.from({ length: 5 + rng.int(30) }, () => pickInput(rng)), [{ script: randomMixScript(rng), value: rng.int(1e9) }]);
    } else if (x < 60) {
      // Batch payout.
      writeTx(
        Array.from({ length: 1 + rng.int(3) }, () => pickInput(rng)),
        Array.from({ length: 10 + rng.int(60) }, () => ({ script: randomMixScript(rng), value: rng.int(1e7) })),
      );
    } else if (x < 110) {
      // OP_RETURN (runes, commitments) plus change.
      writeTx([pickInput(rng)], [{ script: 20 + rng.int(60), value: 0 }, { script: randomMixScript(rng), value: rng.int(1e6) }]);
    } else {
      const nIn = rng.chance(0.8) ? 1 : 2 + rng.int(3);
      const nOut = rng.chance(0.15) ? 1 : rng.chance(0.85) ? 2 : 3 + rng.int(4);
      writeTx(
        Array.from({ length: nIn }, () => pickInput(rng)),
        Array.from({ length: nOut }, () => ({ script: randomMixScript(rng), value: rng.int(1e8) })),
      );
    }
  }
  // Inscription-like transactions (P2TR script path, one large witness item) up to ~bytes.
  const left = Math.max(0, p.bytes - w.pos - 20 * 300);
  for (let i = 0; i < 20; i++) {
    const item = Math.min(390_000, Math.floor(left / 20));
    writeTx([{ scriptSig: 0, witness: [64, item, 33] }], [{ script: makeScript(rng, "p2tr"), value: 546 }]);
  }

  const end = w.pos;
  // Header: version, prev hash (patched by the benchmark), merkle root, time, bits, nonce.
  w.pos = 0;
  w.u32(0x20000000);
  w.random(32);
  w.bytes(computeMerkleRoot(txHashes).root);
  w.u32(1_700_000_000 + p.height * 600);
  w.u32(0x17034219);
  w.u32(rng.u32());
  w.bytes([0xfd, txCount & 0xff, txCount >> 8]);
  return { raw: Buffer.from(w.buf.subarray(0, end)), txCount, leaves: Buffer.concat(txHashes), patchedTxs, depositPatch, withdrawalPrevout };
}

/** Re-hashes the patched transactions and rewrites the header's merkle root (after a patch). */
export function refreshMerkleRoot(tpl: BlockTemplate): void {
  const { raw, leaves } = tpl;
  for (const tx of tpl.patchedTxs) {
    const h = createHash("sha256");
    if (tx.segwit) {
      h.update(raw.subarray(tx.start, tx.start + 4));
      h.update(raw.subarray(tx.bodyStart, tx.witnessStart));
      h.update(raw.subarray(tx.lockOff, tx.lockOff + 4));
    } else h.update(raw.subarray(tx.start, tx.end));
    createHash("sha256").update(h.digest()).digest().copy(leaves, tx.index * 32);
  }
  computeMerkleRoot(leaves).root.copy(raw, 36);
}
