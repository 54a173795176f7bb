// The peers' transaction and block vectors, run through Backstop's one-pass scan (scan-block.ts):
// Bitcoin Core's tx_valid.json / tx_invalid.json and bitcoinjs-lib's transaction and block
// fixtures (unchanged copies in test/fixtures/vectors/, sources in its README).
//
// Every transaction is scanned inside a block (a coinbase, then the transaction) with every
// output script and every prevout watched, so the scan reports all of them: its txids, outputs
// (vout, script, value) and spends (prevouts) must equal bitcoinjs-lib's parse of the same
// bytes. Backstop checks no scripts (the node does), so tx_invalid's script failures scan like
// valid transactions; what CheckTransaction refuses and the scan enforces must be refused.
import { readFileSync } from "node:fs";
import { Block, Transaction } from "bitcoinjs-lib";
import { describe, expect, it } from "vitest";
import { MalformedBlockError } from "../../../src/chains/bitcoin/malformed-block-error.js";
import { parseBlockWithBitcoinjs } from "../../../src/chains/bitcoin/parse-block-with-bitcoinjs.js";
import { scanBlock, type ScanBlockReturnType } from "../../../src/chains/bitcoin/scan-block.js";
import { buildBlock, coinbase, prevTxid } from "./block-fixtures.js";

const VECTORS = new URL("../../fixtures/vectors/", import.meta.url);
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, VECTORS), "utf8")) as T;

type CoreEntry = [Array<[string, number, string, number?]>, string, string] | [string];

/** Core's files interleave comments (one-string entries) with vectors; each vector keeps the comment lines above it. */
function coreVectors(name: string): Array<{ prevouts: Array<[string, number, string, number?]>; hex: string; flags: string; comment: string }> {
  const out: Array<{ prevouts: Array<[string, number, string, number?]>; hex: string; flags: string; comment: string }> = [];
  let comment: string[] = [];
  let lastWasVector = false;
  for (const entry of load<CoreEntry[]>(name)) {
    if (entry.length === 1) {
      if (lastWasVector) comment = [];
      comment.push(entry[0]);
      lastWasVector = false;
      continue;
    }
    const [prevouts, hex, flags] = entry;
    out.push({ prevouts, hex, flags, comment: comment.join(" ") });
    lastWasVector = true;
  }
  return out;
}

/** The transaction in a block after a coinbase, with every output script and prevout watched. */
function scanTransaction(txHex: string) {
  const raw = Buffer.from(txHex, "hex");
  const cb = coinbase(Buffer.from("0014" + "ab".repeat(20), "hex"));
  const header = buildBlock([cb]);
  // buildBlock serialises through bitcoinjs-lib; append the vector's own bytes unchanged.
  const block = Buffer.concat([header.subarray(0, 80), Buffer.from([2]), cb.toBuffer(), raw]);
  return block;
}

const NULL_OUTPOINT = `${"0".repeat(64)}:${0xffffffff}`;

/** Watch set covering everything a bitcoinjs-lib parse of `tx` shows (a custody outpoint is never the null one). */
function watchAll(tx: Transaction) {
  return {
    scripts: new Set(tx.outs.map((o) => o.script.toString("hex"))),
    outpoints: new Set(tx.ins.map((i) => `${prevTxid(i.hash)}:${i.index}`).filter((k) => k !== NULL_OUTPOINT)),
  };
}

function expectSameAsBitcoinjs(block: Buffer, tx: Transaction): ScanBlockReturnType {
  const watch = watchAll(tx);
  const fast = scanBlock(block, watch, { txids: true });
  expect(fast).toEqual(parseBlockWithBitcoinjs(block, watch, { txids: true }));
  const txid = tx.getId();
  expect(fast.txids![1]).toBe(txid);
  const outs = fast.outputs.filter((o) => o.txIndex === 1);
  expect(outs.map((o) => [o.txid, o.vout, o.script, o.value])).toEqual(tx.outs.map((o, vout) => [txid, vout, o.script.toString("hex"), BigInt(o.value)]));
  const watchedIns = tx.ins.map((i, vin) => [vin, prevTxid(i.hash), i.index] as const).filter(([, h, i]) => watch.outpoints.has(`${h}:${i}`));
  expect(fast.spends.filter((s) => s.txIndex === 1).map((s) => [s.vin, s.prevTxid, s.prevVout])).toEqual(watchedIns);
  return fast;
}

function malformed(f: () => unknown): MalformedBlockError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof MalformedBlockError) return e;
    throw e;
  }
}

describe("Bitcoin Core tx_valid.json through scanBlock", () => {
  const vectors = coreVectors("core_tx_valid.json");

  it("has the published vectors", () => {
    expect(vectors.length).toBe(121);
  });

  it("every vector scans to bitcoinjs-lib's txid, outputs and prevouts, and its prevouts are the vector's", () => {
    for (const v of vectors) {
      const tx = Transaction.fromHex(v.hex);
      const r = expectSameAsBitcoinjs(scanTransaction(v.hex), tx);
      // The vector lists the prevouts it spends (txid as display hex), in input order.
      expect(r.spends.map((s) => `${s.prevTxid}:${s.prevVout}`), v.comment).toEqual(
        v.prevouts.map(([hash, index]) => `${hash}:${index >>> 0}`).filter((k) => k !== NULL_OUTPOINT),
      );
      // Every transaction spending custody is reported with all its outputs (the legs' input).
      expect(r.spenders.map((s) => [s.txid, s.inputCount, s.outputs.length])).toEqual(r.spends.length ? [[tx.getId(), tx.ins.length, tx.outs.length]] : []);
    }
  });
});

describe("Bitcoin Core tx_invalid.json through scanBlock", () => {
  const vectors = coreVectors("core_tx_invalid.json");
  // CheckTransaction failures (flag BADTX), by the comment Core gives them, and what the scan does:
  // it refuses what can change a custody balance and leaves the rest to the node.
  const BADTX: Record<string, RegExp | "parsed"> = {
    "No outputs": /has no outputs/,
    "Negative output": /value \d+ sat is above 21,000,000 BTC/,
    "MAX_MONEY + 1 output": /value 2100000000000001 sat is above 21,000,000 BTC/,
    "MAX_MONEY output + 1 output": /outputs sum to more than 21,000,000 BTC/,
    // Watched prevouts: spending one twice would subtract it twice.
    "Duplicate inputs": /spends custody outpoint [0-9a-f]{64}:\d+ a second time/,
    "Coinbase of size 1": "parsed",
    "Coinbase of size 101": "parsed",
    "Null txin, but without being a coinbase": "parsed",
  };

  it("has the published vectors", () => {
    expect(vectors.length).toBe(93);
    expect(vectors.filter((v) => v.flags === "BADTX").length).toBe(9);
  });

  it("BADTX vectors: refused when the rule protects a balance, else parsed like bitcoinjs-lib", () => {
    let refused = 0;
    for (const v of vectors.filter((x) => x.flags === "BADTX")) {
      const key = Object.keys(BADTX).find((k) => v.comment.includes(k));
      expect(key, `no expectation for BADTX vector "${v.comment}"`).toBeDefined();
      const block = scanTransaction(v.hex);
      const expected = BADTX[key!]!;
      if (expected === "parsed") {
        expectSameAsBitcoinjs(block, Transaction.fromHex(v.hex));
        continue;
      }
      // bitcoinjs-lib cannot parse some of these (a "negative" value): watch the vector's own prevouts.
      const watch = { scripts: new Set<string>(), outpoints: new Set(v.prevouts.map(([h, i]) => `${h}:${i >>> 0}`).filter((k) => k !== NULL_OUTPOINT)) };
      const err = malformed(() => scanBlock(block, watch));
      expect(err, `${key}: not refused`).toBeDefined();
      expect(err!.code).toBe("BITCOIN__MALFORMED_BLOCK");
      expect(err!.shortMessage, key).toMatch(expected);
      expect(malformed(() => parseBlockWithBitcoinjs(block, watch)), key).toBeDefined();
      refused++;
    }
    expect(refused).toBe(5);
  });

  it("script-level failures (every other vector) parse and scan like bitcoinjs-lib: scripts are the node's job", () => {
    for (const v of vectors.filter((x) => x.flags !== "BADTX")) {
      const tx = Transaction.fromHex(v.hex);
      expectSameAsBitcoinjs(scanTransaction(v.hex), tx);
    }
  });
});

describe("bitcoinjs-lib transaction fixtures through scanBlock", () => {
  const fixtures = load<{
    valid: Array<{ description: string; id: string; hex: string; raw: { ins: Array<{ hash: string; index: number }>; outs: Array<{ value: number }> } }>;
    invalid: { fromBuffer: Array<{ exception: string; hex: string }> };
  }>("bitcoinjs_transaction.json");

  it.each(fixtures.valid.map((f) => [f.description, f] as const))("valid: %s", (_d, f) => {
    const tx = Transaction.fromHex(f.hex);
    const r = expectSameAsBitcoinjs(scanTransaction(f.hex), tx);
    expect(r.txids![1]).toBe(f.id);
    expect(r.spends.map((s) => [s.prevTxid, s.prevVout])).toEqual(
      f.raw.ins.map((i) => [prevTxid(Buffer.from(i.hash, "hex")), i.index]).filter(([h, i]) => `${h}:${i}` !== NULL_OUTPOINT),
    );
    expect(r.outputs.filter((o) => o.txIndex === 1).every((o) => o.value === BigInt(f.raw.outs[o.vout]!.value))).toBe(true);
  });

  it.each(fixtures.invalid.fromBuffer.map((f) => [f.exception, f] as const))("invalid (%s): refused as malformed", (exception, f) => {
    expect(() => Transaction.fromHex(f.hex)).toThrow(exception);
    const err = malformed(() => scanBlock(scanTransaction(f.hex), { scripts: new Set(), outpoints: new Set() }));
    expect(err).toBeDefined();
    expect(err!.shortMessage).toMatch(exception.includes("superfluous") ? /superfluous witness record/ : /trailing bytes/);
  });
});

describe("bitcoinjs-lib block fixtures through scanBlock", () => {
  const blocks = load<{ valid: Array<{ description: string; id: string; hex: string; merkleRoot: string; prevHash: string; bits: string; timestamp: string }>; invalid: Array<{ exception: string; hex: string }> }>("bitcoinjs_block.json");
  const core = load<Array<{ id: string; transactions: number; hex: string }>>("bitcoinjs_core_blocks.json");

  const withTransactions = [
    ...blocks.valid.filter((b) => b.hex.length > 160).map((b) => [b.description, b.id, b.hex] as const),
    ...core.map((b) => [`core ${b.id.slice(0, 16)}…`, b.id, b.hex] as const),
  ];

  it.each(withTransactions)("%s: same header, txids and matches as bitcoinjs-lib, merkle root verified", (_d, id, hex) => {
    const raw = Buffer.from(hex, "hex");
    const block = Block.fromBuffer(raw);
    const txs = block.transactions!;
    const watch = {
      scripts: new Set(txs.flatMap((t) => t.outs.map((o) => o.script.toString("hex")))),
      outpoints: new Set(txs.flatMap((t) => (t.isCoinbase() ? [] : t.ins.map((i) => `${prevTxid(i.hash)}:${i.index}`)))),
    };
    const fast = scanBlock(raw, watch, { txids: true, verifyMerkleRoot: true });
    expect(fast.header.hash).toBe(id);
    expect(fast.txids).toEqual(txs.map((t) => t.getId()));
    expect(fast).toEqual(parseBlockWithBitcoinjs(raw, watch, { txids: true }));
  });

  it("header-only fixtures and the too-short one are refused as blocks (a block has transactions)", () => {
    for (const b of blocks.valid.filter((x) => x.hex.length === 160)) {
      expect(malformed(() => scanBlock(Buffer.from(b.hex, "hex"), { scripts: new Set(), outpoints: new Set() }))?.shortMessage).toMatch(/block header|transaction count/);
    }
    for (const b of blocks.invalid) expect(malformed(() => scanBlock(Buffer.from(b.hex, "hex"), { scripts: new Set(), outpoints: new Set() }))).toBeDefined();
  });
});
