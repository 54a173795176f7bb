import { hash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256d64, sha256of32 } from "../../../src/chains/bitcoin/sha256d-small.js";

const sha = (b: Uint8Array) => hash("sha256", b, "buffer");

describe("sha256d-small", () => {
  it("matches known values", () => {
    const input = Buffer.alloc(64, 0xab);
    const out = Buffer.alloc(32);
    sha256d64(input, 0, out, 0);
    expect(out.toString("hex")).toBe(sha(sha(input)).toString("hex"));
    sha256of32(Buffer.alloc(32), 0, out, 0);
    // SHA-256 of 32 zero bytes, a widely published constant.
    expect(out.toString("hex")).toBe("66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
  });

  it("agrees with node:crypto on random inputs, at offsets, including in place", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(16), (bytes, off) => {
        const buf = Buffer.concat([Buffer.alloc(off, 7), bytes, Buffer.alloc(16, 9)]);
        const out = Buffer.alloc(40, 1);
        sha256d64(buf, off, out, 3);
        expect(out.subarray(3, 35)).toEqual(sha(sha(bytes)));
        sha256of32(buf, off, out, 5);
        expect(out.subarray(5, 37)).toEqual(sha(bytes.subarray(0, 32)));
        // In place, as the merkle tree does (output slot i inside input pair i).
        sha256d64(buf, off, buf, off);
        expect(buf.subarray(off, off + 32)).toEqual(sha(sha(bytes)));
      }),
      { numRuns: 500 },
    );
  });
});
