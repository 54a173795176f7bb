import { randomBytes } from "node:crypto";
import { Block, Transaction } from "bitcoinjs-lib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createWatchSet } from "../../../src/chains/bitcoin/create-watch-set.js";
import { MalformedBlockError } from "../../../src/chains/bitcoin/malformed-block-error.js";
import { MerkleRootMismatchError } from "../../../src/chains/bitcoin/merkle-root-mismatch-error.js";
import { parseBlockWithBitcoinjs } from "../../../src/chains/bitcoin/parse-block-with-bitcoinjs.js";
import { MAX_MONEY, scanBlock, type ScanBlockReturnType } from "../../../src/chains/bitcoin/scan-block.js";
import {
  BIG_TXS,
  REAL_BLOCKS,
  buildBlock,
  coinbase,
  loadFixture,
  prevTxid,
  randomScript,
  scriptKind,
  type ScriptKind,
} from "./block-fixtures.js";

const NO_WATCH = { scripts: new Set<string>(), outpoints: new Set<string>() };
const KINDS = ["p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr"] as const;

/** Random non-matching scripts of every standard kind, and random outpoints. */
function decoys(n: number): { scripts: string[]; outpoints: string[] } {
  const scripts: string[] = [];
  const outpoints: string[] = [];
  for (let i = 0; i < n; i++) {
    scripts.push(randomScript(KINDS[i % KINDS.length]!, randomBytes).toString("hex"));
    outpoints.push(`${randomBytes(32).toString("hex")}:${i % 4}`);
  }
  return { scripts, outpoints };
}

/**
 * A watch set chosen from the block's own outputs: a spread of every script kind, every
 * output that a later transaction of the same block spends (intra-block chains), a
 * spread of the block's external prevouts, and random decoys that must not match.
 */
function watchFromBlock(raw: Buffer): { scripts: Set<string>; outpoints: Set<string> } {
  const block = Block.fromBuffer(raw);
  const txs = block.transactions!;
  const created = new Map<string, string>(); // "txid:vout" -> script hex
  const perKind = new Map<ScriptKind, number>();
  const scripts = new Set<string>();
  const outpoints = new Set<string>();
  txs.forEach((tx, t) => {
    tx.ins.forEach((input, i) => {
      const key = `${prevTxid(input.hash)}:${input.index}`;
      const inBlock = created.get(key);
      if (inBlock !== undefined) scripts.add(inBlock);
      else if (t > 0 && (t + i) % 9 === 0) outpoints.add(key);
    });
    const txid = tx.getId();
    tx.outs.forEach((o, vout) => {
      const hex = o.script.toString("hex");
      created.set(`${txid}:${vout}`, hex);
      const kind = scriptKind(o.script);
      const seen = perKind.get(kind) ?? 0;
      perKind.set(kind, seen + 1);
      if (seen % 13 === 0) scripts.add(hex);
    });
  });
  const d = decoys(2_000);
  for (const s of d.scripts) scripts.add(s);
  for (const o of d.outpoints) outpoints.add(o);
  return { scripts, outpoints };
}

function expectMalformed(fn: () => unknown): MalformedBlockError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedBlockError);
    expect((err as MalformedBlockError).code).toBe("BITCOIN__MALFORMED_BLOCK");
    return err as MalformedBlockError;
  }
  throw new Error("expected a MalformedBlockError, got a result");
}

/** A small block exercising every branch: coinbase, legacy, segwit, multi-input, OP_RETURN, big varints. */
function smallBlock(): { raw: Buffer; txs: Transaction[] } {
  const cb = coinbase(randomScript("p2wpkh", () => Buffer.alloc(20, 1)));
  const legacy = new Transaction();
  legacy.addInput(Buffer.alloc(32, 2), 1, 0xfffffffe, Buffer.alloc(107, 3));
  legacy.addOutput(randomScript("p2pkh", (n) => Buffer.alloc(n, 4)), 50_000);
  legacy.addOutput(Buffer.concat([Buffer.from("6a4c", "hex"), Buffer.from([80]), Buffer.alloc(80, 5)]), 0);
  const segwit = new Transaction();
  segwit.version = 2;
  segwit.addInput(legacy.getHash(), 0, 0xfffffffd);
  segwit.addInput(Buffer.alloc(32, 6), 7, 0xffffffff, Buffer.alloc(300, 7)); // 0xfd varint script
  segwit.addOutput(randomScript("p2tr", (n) => Buffer.alloc(n, 8)), 1_000);
  segwit.addOutput(randomScript("p2wsh", (n) => Buffer.alloc(n, 9)), 2_000);
  segwit.setWitness(0, [Buffer.alloc(64, 10)]);
  segwit.setWitness(1, [Buffer.alloc(0), Buffer.alloc(72, 11), Buffer.alloc(400, 12)]);
  segwit.locktime = 800_000;
  const txs = [cb, legacy, segwit];
  return { raw: buildBlock(txs), txs };
}

describe("scanBlock on real mainnet blocks", () => {
  for (const hash of REAL_BLOCKS) {
    it(`agrees with bitcoinjs-lib on every txid and every match (${hash.slice(0, 24)}…)`, () => {
      const raw = loadFixture(`block-${hash}`);
      const watch = watchFromBlock(raw);
      const ref = parseBlockWithBitcoinjs(raw, watch, { txids: true });
      const fast = scanBlock(raw, watch, { txids: true, verifyMerkleRoot: true });
      expect(fast.header.hash).toBe(hash);
      expect(fast).toEqual(ref);
      // Same result through a WatchSet built once (the indexer's way) and without txids.
      const { txids: _txids, ...withoutTxids } = ref;
      expect(scanBlock(raw, createWatchSet(watch))).toEqual(withoutTxids);

      // The watch set really exercises every kind, external spends and intra-block chains.
      const kinds = new Set(fast.outputs.map((o) => scriptKind(Buffer.from(o.script, "hex"))));
      for (const k of ["p2pkh", "p2sh", "p2wpkh", "p2wsh"] as const) expect(kinds).toContain(k);
      const inBlock = new Set(fast.txids);
      const intra = fast.spends.filter((s) => inBlock.has(s.prevTxid));
      expect(intra.length).toBeGreaterThan(0);
      expect(fast.spends.length - intra.length).toBeGreaterThan(0);
      // Every intra-block spend spends an output reported earlier in the same scan.
      const createdKeys = new Set(fast.outputs.map((o) => `${o.txid}:${o.vout}`));
      for (const s of intra) expect(createdKeys).toContain(`${s.prevTxid}:${s.prevVout}`);
    });
  }

  it("matches nothing and returns no txids when nothing is watched", () => {
    const raw = loadFixture(`block-${REAL_BLOCKS[0]}`);
    const r = scanBlock(raw, NO_WATCH);
    expect(r).toMatchObject({ txCount: 2165, size: raw.length, outputs: [], spends: [] });
    expect(r.txids).toBeUndefined();
    expect(r.header).toEqual(parseBlockWithBitcoinjs(raw, NO_WATCH).header);
    expect(r.header).toMatchObject({ time: 1521610529 }); // 2018-03-21 05:35:29 UTC
  });

  it("rejects a real block whose body was altered (merkle root check)", () => {
    const raw = Buffer.from(loadFixture(`block-${REAL_BLOCKS[1]}`));
    const { txCount } = scanBlock(raw, NO_WATCH);
    expect(txCount).toBe(1044);
    // Flip a byte of the last transaction's locktime: still parses, no longer the header's body.
    raw.writeUInt8(raw[raw.length - 1]! ^ 0x01, raw.length - 1);
    expect(() => scanBlock(raw, NO_WATCH)).not.toThrow();
    expect(() => scanBlock(raw, NO_WATCH, { verifyMerkleRoot: true })).toThrow(MerkleRootMismatchError);
  });
});

describe("scanBlock on extreme real transactions", () => {
  const cases = Object.entries(BIG_TXS);
  for (const [label, txid] of cases) {
    it(`computes the txid and matches like bitcoinjs-lib (${label})`, () => {
      const tx = Transaction.fromBuffer(loadFixture(`tx-${txid}`));
      const cbScript = randomScript("p2wpkh", randomBytes);
      const cb = coinbase(cbScript);
      // A child spending every 1000th output of the big transaction, in the same block.
      const child = new Transaction();
      for (let v = 0; v < tx.outs.length; v += 1000) child.addInput(tx.getHash(), v);
      child.addOutput(randomScript("p2tr", randomBytes), 1);
      const raw = buildBlock([cb, tx, child]);
      const watch = {
        scripts: new Set([cbScript.toString("hex"), ...tx.outs.map((o) => o.script.toString("hex")), ...decoys(500).scripts]),
        outpoints: new Set([...tx.ins.map((i) => `${prevTxid(i.hash)}:${i.index}`), ...decoys(500).outpoints]),
      };
      const fast = scanBlock(raw, watch, { txids: true, verifyMerkleRoot: true });
      expect(fast.txids![1]).toBe(txid);
      expect(fast).toEqual(parseBlockWithBitcoinjs(raw, watch, { txids: true }));
      expect(fast.outputs.length).toBe(1 + tx.outs.length);
      expect(fast.spends.length).toBe(tx.ins.length + child.ins.length);
    });
  }

  it("finds the one P2TR output among 69,420 outputs (0xfe varint count)", () => {
    const tx = Transaction.fromBuffer(loadFixture(`tx-${BIG_TXS.outputs69k}`));
    const p2tr = tx.outs.map((o, vout) => ({ o, vout })).filter(({ o }) => scriptKind(o.script) === "p2tr");
    expect(p2tr.length).toBeGreaterThan(0);
    const raw = buildBlock([coinbase(randomScript("p2pkh", randomBytes)), tx]);
    const r = scanBlock(raw, createWatchSet({ scripts: p2tr.map(({ o }) => o.script) }));
    expect(r.outputs.map((m) => [m.vout, m.value, scriptKind(Buffer.from(m.script, "hex"))])).toEqual(
      p2tr.map(({ o, vout }) => [vout, BigInt(o.value), "p2tr"]),
    );
  });
});

describe("scanBlock on synthetic blocks", () => {
  it("reports values exactly up to 21,000,000 BTC and refuses anything above (2^53 + 1, 2^64 - 1)", () => {
    const script = randomScript("p2wpkh", randomBytes);
    const tx = new Transaction();
    tx.addInput(Buffer.alloc(32, 1), 0);
    tx.addOutput(script, 1);
    tx.addOutput(script, 2);
    const raw = buildBlock([coinbase(script, 0), tx]);
    // Patch the values in place (the merkle root is not checked here).
    const r0 = scanBlock(raw, createWatchSet({ scripts: [script] }));
    const off1 = findAll(raw, Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, script.length]), script]));
    expect(off1.length).toBe(1);
    const off2 = findAll(raw, Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, script.length]), script]))[0]!;
    const patched = (v1: bigint, v2: bigint) => {
      const b = Buffer.from(raw);
      b.writeBigUInt64LE(v1, off1[0]!);
      b.writeBigUInt64LE(v2, off2);
      return b;
    };
    expect(r0.outputs.map((o) => o.value)).toEqual([0n, 1n, 2n]);
    const atMax = scanBlock(patched(MAX_MONEY, 0n), createWatchSet({ scripts: [script] }));
    expect(atMax.outputs.map((o) => o.value)).toEqual([0n, MAX_MONEY, 0n]);
    expect(parseBlockWithBitcoinjs(patched(MAX_MONEY, 0n), createWatchSet({ scripts: [script] }))).toEqual(atMax);
    for (const [v1, v2, why] of [
      [MAX_MONEY + 1n, 0n, /output 0 value 2100000000000001 sat is above 21,000,000 BTC/],
      [2n ** 53n + 1n, 0n, /output 0 value 9007199254740993 sat is above/],
      [1n, 2n ** 64n - 1n, /output 1 value 18446744073709551615 sat is above/],
      // Each output within range, their sum not (Core's "MAX_MONEY output + 1 output").
      [MAX_MONEY, 1n, /transaction 1 outputs sum to more than 21,000,000 BTC \(output 1\)/],
    ] as const) {
      const err = expectMalformed(() => scanBlock(patched(v1, v2), NO_WATCH));
      expect(err.shortMessage).toMatch(why);
      expectMalformed(() => parseBlockWithBitcoinjs(patched(v1, v2), NO_WATCH));
    }
  });

  it("refuses a segwit-serialised transaction whose witnesses are all empty (superfluous witness record)", () => {
    const { txs } = smallBlock();
    // txs[1] without witnesses, serialised by hand with the segwit marker and one empty stack per input.
    const tx = txs[1]!.clone();
    tx.ins.forEach((_, i) => tx.setWitness(i, []));
    const legacy = tx.toBuffer();
    expect(legacy[4]).not.toBe(0);
    const body = legacy.subarray(4, legacy.length - 4);
    const superfluous = Buffer.concat([legacy.subarray(0, 4), Buffer.from([0, 1]), body, Buffer.alloc(tx.ins.length, 0), legacy.subarray(-4)]);
    expect(() => Transaction.fromBuffer(superfluous)).toThrow(/superfluous witness/);
    const good = buildBlock([txs[0]!, tx]);
    const raw = Buffer.concat([good.subarray(0, 81), txs[0]!.toBuffer(), superfluous]);
    raw[80] = 2;
    expect(scanBlock(good, NO_WATCH).txCount).toBe(2);
    const err = expectMalformed(() => scanBlock(raw, NO_WATCH));
    expect(err.shortMessage).toMatch(/transaction 1 is segwit-serialised but every witness is empty/);
    expectMalformed(() => parseBlockWithBitcoinjs(raw, NO_WATCH));
    // One non-empty witness anywhere makes the same serialisation valid.
    const oneItem = Buffer.concat([legacy.subarray(0, 4), Buffer.from([0, 1]), body, Buffer.alloc(tx.ins.length - 1, 0), Buffer.from([1, 1, 0xaa]), legacy.subarray(-4)]);
    const ok = Buffer.concat([good.subarray(0, 81), txs[0]!.toBuffer(), oneItem]);
    ok[80] = 2;
    expect(scanBlock(ok, NO_WATCH, { txids: true }).txids![1]).toBe(Transaction.fromBuffer(oneItem).getId());
  });

  it("refuses a transaction without outputs, and a custody outpoint spent twice in one block", () => {
    const { txs } = smallBlock();
    const noOut = new Transaction();
    noOut.addInput(Buffer.alloc(32, 7), 0);
    const err = expectMalformed(() => scanBlock(buildBlock([txs[0]!, noOut]), NO_WATCH));
    expect(err.shortMessage).toMatch(/transaction 1 has no outputs/);
    const a = new Transaction();
    a.addInput(Buffer.alloc(32, 9), 3);
    a.addOutput(randomScript("p2wpkh", randomBytes), 1000);
    const b = new Transaction();
    b.addInput(Buffer.alloc(32, 9), 3);
    b.addOutput(randomScript("p2tr", randomBytes), 900);
    const raw = buildBlock([txs[0]!, a, b]);
    const spent = `${prevTxid(Buffer.alloc(32, 9))}:3`;
    // Not custody: the node's business, the scan passes it.
    expect(scanBlock(raw, NO_WATCH).txCount).toBe(3);
    const twice = expectMalformed(() => scanBlock(raw, { scripts: new Set(), outpoints: new Set([spent]) }));
    expect(twice.shortMessage).toMatch(new RegExp(`transaction 2 input 0 spends custody outpoint ${spent} a second time`));
    expectMalformed(() => parseBlockWithBitcoinjs(raw, { scripts: new Set(), outpoints: new Set([spent]) }));
  });

  it("detects a CVE-2012-2459 mutated block (duplicated last transactions, same merkle root)", () => {
    const { txs } = smallBlock();
    const good = buildBlock(txs);
    const mutated = Buffer.concat([good, txs[2]!.toBuffer()]);
    mutated[80] = 4; // transaction count 3 -> 4
    expect(scanBlock(mutated, NO_WATCH).header.merkleRoot).toBe(scanBlock(good, NO_WATCH).header.merkleRoot);
    expect(() => scanBlock(good, NO_WATCH, { verifyMerkleRoot: true })).not.toThrow();
    const err = (() => {
      try {
        scanBlock(mutated, NO_WATCH, { verifyMerkleRoot: true });
      } catch (e) {
        return e as MerkleRootMismatchError;
      }
    })();
    expect(err).toBeInstanceOf(MerkleRootMismatchError);
    expect(err!.code).toBe("BITCOIN__MERKLE_ROOT_MISMATCH");
    expect(err!.shortMessage).toMatch(/mutated block/);
  });

  it("random transactions serialised by bitcoinjs-lib scan identically in both paths", () => {
    let valid = 0;
    fc.assert(
      fc.property(arbBlock(), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (txs, picks) => {
        const raw = buildBlock(txs);
        // Watch a random subset of the outputs and prevouts, plus decoys.
        const scripts = new Set<string>(decoys(20).scripts);
        const outpoints = new Set<string>(decoys(20).outpoints);
        let k = 0;
        for (const tx of txs) {
          for (const o of tx.outs) if (picks[k++ % 64]) scripts.add(o.script.toString("hex"));
          for (const i of tx.ins) if (picks[k++ % 64]) outpoints.add(`${prevTxid(i.hash)}:${i.index}`);
        }
        const watch = { scripts, outpoints };
        // Some generated blocks break a transaction rule (no outputs, too much money, a custody
        // outpoint spent twice): both paths must then refuse them.
        const outcome = (f: () => ScanBlockReturnType) => {
          try {
            return f();
          } catch (e) {
            if (e instanceof MalformedBlockError) return "malformed";
            throw e;
          }
        };
        const fast = outcome(() => scanBlock(raw, watch, { txids: true, verifyMerkleRoot: true }));
        const ref = outcome(() => parseBlockWithBitcoinjs(raw, watch, { txids: true }));
        expect(fast).toEqual(ref);
        if (fast === "malformed") return;
        valid++;
        expect(fast.txids).toEqual(txs.map((t) => t.getId()));
        expect(fast.spenders.map((s) => s.txIndex)).toEqual([...new Set(fast.spends.map((s) => s.txIndex))]);
      }),
      { numRuns: 300 },
    );
    // Most of them are valid: the comparison is not only about refusals.
    expect(valid).toBeGreaterThan(150);
  });
});

describe("scanBlock on malformed bytes", () => {
  it("gives BITCOIN__MALFORMED_BLOCK with the offset for every truncation of a small block", () => {
    const { raw } = smallBlock();
    expect(scanBlock(raw, NO_WATCH).txCount).toBe(3);
    for (let len = 0; len < raw.length; len++) {
      const err = expectMalformed(() => scanBlock(raw.subarray(0, len), NO_WATCH));
      expect(err.offset).toBeGreaterThanOrEqual(0);
      expect(err.offset).toBeLessThanOrEqual(len);
      expectMalformed(() => parseBlockWithBitcoinjs(raw.subarray(0, len), NO_WATCH));
    }
  });

  it("rejects truncated real blocks at 40 points in both paths", () => {
    const raw = loadFixture(`block-${REAL_BLOCKS[1]}`);
    // 40 fixed cut points spread over the block (a stride that lands inside every structure).
    for (let i = 0; i < 40; i++) {
      const len = 81 + ((i * 19_997 + 7) % (raw.length - 81));
      const err = expectMalformed(() => scanBlock(raw.subarray(0, len), NO_WATCH));
      expect(err.offset).toBeLessThanOrEqual(len);
      expectMalformed(() => parseBlockWithBitcoinjs(raw.subarray(0, len), NO_WATCH));
    }
  });

  it("names the problem and the offset", () => {
    const { raw } = smallBlock();
    const cases: Array<[Buffer, string]> = [
      [raw.subarray(0, 50), "Malformed Bitcoin block at byte 50: block ends inside block header (30 bytes)."],
      [raw.subarray(0, 80), "Malformed Bitcoin block at byte 80: block ends inside transaction count (1 bytes)."],
      [Buffer.concat([raw, Buffer.from([0])]), `Malformed Bitcoin block at byte ${raw.length}: 1 trailing bytes after the last transaction.`],
      [patch(raw, 80, [0xfd, 0x03, 0x00]), "Malformed Bitcoin block at byte 80: transaction count is a non-canonical varint."],
      [patch(raw, 80, [0xff, 1, 0, 0, 0, 1, 0, 0, 0]), "Malformed Bitcoin block at byte 80: transaction count is a varint above 2^32."],
      [patch(raw, 80, [0xfe, 0xff, 0xff, 0xff, 0x7f]), `Malformed Bitcoin block at byte 80: transaction count 2147483647 exceeds what the ${raw.length - 81} remaining bytes can hold.`],
      [patch(raw, 80, [0x00]), "Malformed Bitcoin block at byte 80: block has no transactions."],
    ];
    for (const [bytes, message] of cases) expect(expectMalformed(() => scanBlock(bytes, NO_WATCH)).shortMessage).toBe(message);
  });

  it("rejects an input count the bytes cannot hold and an unknown segwit flag", () => {
    const { raw, txs } = smallBlock();
    const cbLen = txs[0]!.byteLength();
    const legacyStart = 81 + cbLen;
    // Legacy transaction's input count (after its 4-byte version) -> 0xfe 0x00000100 (65536... inputs).
    const big = Buffer.concat([raw.subarray(0, legacyStart + 4), Buffer.from([0xfe, 0, 0, 1, 0]), raw.subarray(legacyStart + 5)]);
    expect(expectMalformed(() => scanBlock(big, NO_WATCH)).shortMessage).toMatch(
      new RegExp(`^Malformed Bitcoin block at byte ${legacyStart + 9}: transaction 1 input count 65536 exceeds`),
    );
    const segwitStart = legacyStart + txs[1]!.byteLength();
    expect(raw[segwitStart + 4]).toBe(0);
    expect(raw[segwitStart + 5]).toBe(1);
    const flag = patch(raw, segwitStart + 5, [2]);
    expect(expectMalformed(() => scanBlock(flag, NO_WATCH)).shortMessage).toBe(
      `Malformed Bitcoin block at byte ${segwitStart + 5}: transaction 2 has unknown segwit flag 2.`,
    );
  });

  it("never crashes or hangs on mutated or random bytes (fast-check)", () => {
    const { raw } = smallBlock();
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom("set", "insert", "delete") }), {
          minLength: 1,
          maxLength: 6,
        }),
        (edits) => {
          let b = Buffer.from(raw);
          for (const e of edits) {
            const at = e.at % (b.length + 1);
            if (e.op === "set" && at < b.length) b[at] = e.byte;
            else if (e.op === "insert") b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
            else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
          }
          expectTypedOrResult(() => scanBlock(b, NO_WATCH, { verifyMerkleRoot: true }));
          expectTypedOrResult(() => scanBlock(b, { scripts: new Set(["0014" + "00".repeat(20)]), outpoints: new Set() }));
        },
      ),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (bytes) => {
        expectTypedOrResult(() => scanBlock(bytes, NO_WATCH));
      }),
      { numRuns: 2_000 },
    );
  });
});

function expectTypedOrResult(fn: () => ScanBlockReturnType): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof MalformedBlockError || err instanceof MerkleRootMismatchError)) throw err;
  }
}

function patch(raw: Buffer, at: number, bytes: number[]): Buffer {
  // Replaces the byte at `at` with `bytes` (a varint replacing a one-byte count).
  return Buffer.concat([raw.subarray(0, at), Buffer.from(bytes), raw.subarray(at + 1)]);
}

function findAll(hay: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/** Arbitrary blocks of 1..6 random valid transactions, some spending earlier ones in the block. */
function arbBlock(): fc.Arbitrary<Transaction[]> {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
  const script = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...KINDS).chain((k) => bytes(32, 32).map((b) => randomScript(k, (n) => b.subarray(0, n)))) },
    { weight: 1, arbitrary: bytes(0, 80).map((b) => Buffer.concat([Buffer.from([0x6a]), b])) },
    { weight: 1, arbitrary: bytes(0, 300) }, // arbitrary bytes, sometimes a 0xfd length
  );
  const input = fc.record({
    hash: bytes(32, 32),
    index: fc.oneof(fc.nat(5), fc.constant(0xffffffff)),
    script: fc.oneof(fc.constant(Buffer.alloc(0)), bytes(0, 300)),
    sequence: fc.oneof(fc.constant(0xffffffff), fc.nat({ max: 0xffffffff })),
    witness: fc.array(bytes(0, 300), { maxLength: 4 }),
    spendEarlier: fc.option(fc.record({ tx: fc.nat(), vout: fc.nat() }), { nil: undefined }),
  });
  const output = fc.record({
    script,
    value: fc.oneof({ weight: 8, arbitrary: fc.nat(100_000_000) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_100_000_000_000_000 }) }), // bitcoinjs-lib refuses one output above 21M (the patched-block test covers that); sums above it still occur
  });
  const tx = fc.record({
    version: fc.constantFrom(1, 2, 3),
    locktime: fc.nat({ max: 0xffffffff }),
    ins: fc.array(input, { minLength: 1, maxLength: 5 }),
    outs: fc.oneof({ weight: 20, arbitrary: fc.array(output, { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.constant([]) }),
  });
  return fc.array(tx, { minLength: 1, maxLength: 6 }).map((specs) => {
    const built: Transaction[] = [];
    // An earlier output is spent once at most (a second spend would be a double spend).
    const spentEarlier = new Set<string>();
    for (const s of specs) {
      const t = new Transaction();
      t.version = s.version;
      t.locktime = s.locktime;
      for (const i of s.ins) {
        const k = i.spendEarlier && built.length > 0 ? i.spendEarlier.tx % built.length : -1;
        const earlier = k >= 0 ? built[k]! : undefined;
        const vout = earlier && earlier.outs.length > 0 ? i.spendEarlier!.vout % earlier.outs.length : -1;
        if (earlier && vout >= 0 && !spentEarlier.has(`${k}:${vout}`)) {
          spentEarlier.add(`${k}:${vout}`);
          t.addInput(earlier.getHash(), vout, i.sequence, i.script);
        } else t.addInput(i.hash, i.index, i.sequence, i.script);
      }
      for (const o of s.outs) t.addOutput(o.script, o.value);
      s.ins.forEach((i, n) => t.setWitness(n, i.witness));
      built.push(t);
    }
    return built;
  });
}
