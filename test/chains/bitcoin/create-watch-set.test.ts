import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteKeyTable } from "../../../src/chains/bitcoin/byte-key-table.js";
import { createWatchSet, encodeOutpoint, parseOutpoint } from "../../../src/chains/bitcoin/create-watch-set.js";

const TXID = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

describe("createWatchSet", () => {
  it("stores scripts and outpoints in wire form", () => {
    const ws = createWatchSet({ scripts: ["0014" + "ab".repeat(20)], outpoints: [`${TXID}:1`, { txid: TXID, vout: 7 }] });
    expect(ws.hasScript("0014" + "ab".repeat(20))).toBe(true);
    expect(ws.hasScript(Buffer.from("0014" + "ab".repeat(20), "hex"))).toBe(true);
    expect(ws.hasScript("0014" + "ab".repeat(19) + "ac")).toBe(false);
    expect(ws.hasOutpoint(TXID, 1)).toBe(true);
    expect(ws.hasOutpoint(TXID, 2)).toBe(false);
    expect(ws.deleteOutpoint(TXID, 7)).toBe(true);
    expect(ws.deleteOutpoint(TXID, 7)).toBe(false);
    expect(ws.outpoints.size).toBe(1);
    // Internal byte order, then vout little-endian: exactly the bytes an input carries.
    expect(Buffer.from(encodeOutpoint(TXID, 0x01020304)).toString("hex")).toBe(
      Buffer.from(TXID, "hex").reverse().toString("hex") + "04030201",
    );
    expect(parseOutpoint(`${TXID.toUpperCase()}:4294967295`)).toEqual({ txid: TXID, vout: 4294967295 });
  });

  it("rejects malformed scripts and outpoints", () => {
    expect(() => createWatchSet({ scripts: ["0014zz"] })).toThrow(TypeError);
    expect(() => createWatchSet({ scripts: ["001"] })).toThrow(TypeError);
    expect(() => createWatchSet({ outpoints: [`${TXID}`] })).toThrow(TypeError);
    expect(() => encodeOutpoint(TXID, 2 ** 32)).toThrow(TypeError);
    expect(() => encodeOutpoint(TXID.slice(2), 0)).toThrow(TypeError);
  });
});

describe("ByteKeyTable", () => {
  it("behaves like a Set of hex strings through adds, deletes and growth (fast-check model)", () => {
    const key = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 40 }),
      // Keys that share the sampled words and differ elsewhere: same bucket, must still differ.
      fc.nat(255).map((b) => Uint8Array.from([...Array(12).fill(0), b, ...Array(12).fill(0)])),
      fc.nat(255).map((b) => Uint8Array.from([1, 2, 3, 4, b, 0, 0, 0, 9, 9, 9, 9])),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ op: fc.constantFrom("add", "delete", "has"), key }), { maxLength: 400 }), (ops) => {
        const table = new ByteKeyTable(1);
        const model = new Set<string>();
        for (const { op, key: k } of ops) {
          const hex = Buffer.from(k).toString("hex");
          if (op === "add") expect(table.add(k)).toBe(!model.has(hex)), model.add(hex);
          else if (op === "delete") expect(table.delete(k)).toBe(model.delete(hex));
          else expect(table.has(k)).toBe(model.has(hex));
          expect(table.size).toBe(model.size);
        }
        expect(new Set([...table.values()].map((v) => Buffer.from(v).toString("hex")))).toEqual(model);
        // findAt probes inside a larger buffer at an offset.
        for (const hex of model) {
          const b = Buffer.concat([Buffer.from([7, 7, 7]), Buffer.from(hex, "hex"), Buffer.from([7])]);
          expect(table.findAt(b, 3, hex.length / 2)).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
