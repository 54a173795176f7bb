// Proof of work: compact targets, Core's retarget rule, and the header-by-header checker, on
// real mainnet headers around a retarget boundary (test/fixtures/bitcoin/README.md says where they
// come from), on Bitcoin Core's pow_tests.cpp values and bitcoinjs-lib's block fixtures, and on
// synthetic chains mined here under an easy limit to reach every branch of the rule.
import { hash as oneShotHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  checkProofOfWork,
  computeRequiredBits,
  computeRetargetInterval,
  decodeCompactTarget,
  encodeCompactTarget,
  POW_PARAMS,
  RETARGET_INTERVAL,
  TARGET_TIMESPAN,
  type PowParams,
} from "../../../src/chains/bitcoin/compute-required-bits.js";
import { createHeaderWorkChecker, type HeaderWorkFields } from "../../../src/chains/bitcoin/create-header-work-checker.js";
import { InconsistentBlockError } from "../../../src/chains/bitcoin/errors.js";
import { HeaderBitsOutOfRangeError, HeaderBitsUnexpectedError, HeaderHashAboveTargetError } from "../../../src/chains/bitcoin/proof-of-work-errors.js";
import { loadFixture } from "./block-fixtures.js";

const FIRST = 826_560;
const RAW = loadFixture("mainnet-headers-826560-828577");
const headerAt = (height: number) => RAW.subarray((height - FIRST) * 80, (height - FIRST + 1) * 80);
const LAST = FIRST + RAW.length / 80 - 1;

function sha256d(b: Uint8Array): Buffer {
  return oneShotHash("sha256", oneShotHash("sha256", b, "buffer"), "buffer");
}

function fields(raw: Uint8Array, height: number): HeaderWorkFields {
  const b = Buffer.from(raw);
  return {
    height,
    hash: Buffer.from(sha256d(b)).reverse().toString("hex"),
    prevHash: Buffer.from(b.subarray(4, 36)).reverse().toString("hex"),
    bits: b.readUInt32LE(72),
    time: b.readUInt32LE(68),
  };
}

/** A node that answers header requests from a list, counting them. */
function headerSource(get: (height: number) => Uint8Array | undefined) {
  const asked: number[] = [];
  return {
    asked,
    fetchHeaderAt: async (height: number) => {
      asked.push(height);
      const h = get(height);
      if (!h) throw new Error(`no header at ${height}`);
      return h;
    },
  };
}

describe("compact targets", () => {
  it("decode like bitcoinjs-lib's block fixtures and re-encode to the same bits", () => {
    const fixtures = JSON.parse(readFileSync(new URL("../../fixtures/vectors/bitcoinjs_block.json", import.meta.url), "utf8")) as {
      targets: Array<{ bits: string; expected: string }>;
      valid: Array<{ id: string; bits: string; valid: boolean; hex: string; description: string }>;
    };
    for (const t of fixtures.targets) {
      const bits = Number.parseInt(t.bits, 16);
      expect(decodeCompactTarget(bits).target.toString(16).padStart(64, "0")).toBe(t.expected);
      // Re-encoding gives the canonical form: the same bits unless they carry the sign bit.
      if (!(bits & 0x00800000)) expect(encodeCompactTarget(decodeCompactTarget(bits).target)).toBe(bits);
    }
    // Their headers: the published verdict on each one's work ("nonce changed" has none).
    for (const b of fixtures.valid) {
      const f = fields(Buffer.from(b.hex, "hex").subarray(0, 80), 0);
      expect(f.hash).toBe(b.id);
      expect(checkProofOfWork({ hash: f.hash, bits: f.bits, params: POW_PARAMS.mainnet }), b.description).toBe(b.valid ? null : "hash-above-target");
    }
  });

  it("flag negative and overflowing encodings, and targets above the network's limit", () => {
    expect(decodeCompactTarget(0x04923456).negative).toBe(true);
    expect(decodeCompactTarget(0xff123456).overflow).toBe(true);
    expect(decodeCompactTarget(0x01003456).target).toBe(0n);
    const hash = "00".repeat(32);
    expect(checkProofOfWork({ hash, bits: 0x04923456, params: POW_PARAMS.mainnet })).toBe("bits-out-of-range");
    expect(checkProofOfWork({ hash, bits: 0x01003456, params: POW_PARAMS.mainnet })).toBe("bits-out-of-range");
    expect(checkProofOfWork({ hash, bits: 0x1d00ffff, params: POW_PARAMS.mainnet })).toBe(null);
    // One step easier than mainnet's limit, and regtest's limit on mainnet.
    expect(checkProofOfWork({ hash, bits: 0x1d01ffff, params: POW_PARAMS.mainnet })).toBe("bits-out-of-range");
    expect(checkProofOfWork({ hash, bits: 0x207fffff, params: POW_PARAMS.mainnet })).toBe("bits-out-of-range");
    expect(checkProofOfWork({ hash, bits: 0x207fffff, params: POW_PARAMS.regtest })).toBe(null);
    expect(encodeCompactTarget(POW_PARAMS.signet.powLimit)).toBe(0x1e0377ae);
    expect(encodeCompactTarget(POW_PARAMS.mainnet.powLimit)).toBe(0x1d00ffff);
  });
});

describe("computeRequiredBits (Bitcoin Core's GetNextWorkRequired)", () => {
  const at = (height: number, parent: { bits: number; time: number }, periodFirstTime: number) =>
    computeRequiredBits({ params: POW_PARAMS.mainnet, height, time: parent.time + 600, parent, periodFirstTime });

  it("gives pow_tests.cpp's answers (plain, at the pow limit, both clamps)", () => {
    expect(at(32256, { bits: 0x1d00ffff, time: 1262152739 }, 1261130161)).toBe(0x1d00d86a);
    expect(at(2016, { bits: 0x1d00ffff, time: 1233061996 }, 1231006505)).toBe(0x1d00ffff);
    expect(at(68544, { bits: 0x1c05a3f4, time: 1279297671 }, 1279008237)).toBe(0x1c0168fd);
    expect(at(46368, { bits: 0x1c387f6f, time: 1269211443 }, 1263163443)).toBe(0x1d00e1fd);
  });

  it("gives the real retarget at 828,576 from the real headers, and nothing else from altered ones", () => {
    const first = fields(headerAt(FIRST), FIRST);
    const parent = fields(headerAt(828_575), 828_575);
    const boundary = fields(headerAt(828_576), 828_576);
    expect(boundary.bits).not.toBe(parent.bits);
    expect(at(828_576, parent, first.time)).toBe(boundary.bits);
    // A period one hour longer or shorter, or other bits on the last block: other bits required.
    expect(at(828_576, { ...parent, time: parent.time + 3600 }, first.time)).not.toBe(boundary.bits);
    expect(at(828_576, parent, first.time + 3600)).not.toBe(boundary.bits);
    expect(at(828_576, { ...parent, bits: parent.bits + 1 }, first.time)).not.toBe(boundary.bits);
    // Between boundaries the parent's bits, whatever the times.
    expect(computeRequiredBits({ params: POW_PARAMS.mainnet, height: 828_577, time: 1, parent: boundary })).toBe(boundary.bits);
  });

  it("testnet: minimum difficulty 20 minutes after the parent, else back to the last real difficulty; regtest never retargets", () => {
    const limit = 0x1d00ffff;
    const parent = { bits: limit, time: 1_000_000 };
    const p = { params: POW_PARAMS.testnet, height: 5001, parent };
    expect(computeRequiredBits({ ...p, time: parent.time + 1201, lastNonMinBits: 0x1b0404cb })).toBe(limit);
    expect(computeRequiredBits({ ...p, time: parent.time + 1200, lastNonMinBits: 0x1b0404cb })).toBe(0x1b0404cb);
    expect(computeRequiredBits({ ...p, parent: { bits: 0x1b0404cb, time: parent.time }, time: parent.time + 60 })).toBe(0x1b0404cb);
    expect(() => computeRequiredBits({ ...p, time: parent.time + 60 })).toThrow(RangeError);
    expect(computeRequiredBits({ params: POW_PARAMS.regtest, height: 4032, time: 9e9, parent: { bits: 0x207fffff, time: 0 }, periodFirstTime: 0 })).toBe(0x207fffff);
  });
});

describe("createHeaderWorkChecker on real mainnet headers", () => {
  it("accepts the real chain across the retarget when started mid-period, fetching the period's start once", async () => {
    const source = headerSource((h) => (h >= FIRST && h <= LAST ? headerAt(h) : undefined));
    const checker = createHeaderWorkChecker({ chain: "btc", network: "mainnet", fetchHeaderAt: source.fetchHeaderAt });
    const start = 828_000;
    for (let h = start; h <= LAST; h++) await checker.check(fields(headerAt(h), h));
    // The parent of the first block (one read), then the period's first block up to it, once.
    expect(source.asked.length).toBe(1 + (start - 1 - FIRST));
    expect(new Set(source.asked).size).toBe(source.asked.length);
    expect(Math.min(...source.asked)).toBe(FIRST);
  });

  it("refuses the boundary header with altered bits or time, or any header whose hash is above its target", async () => {
    const source = headerSource((h) => (h >= FIRST && h <= LAST ? headerAt(h) : undefined));
    const checker = createHeaderWorkChecker({ chain: "btc", network: "mainnet", fetchHeaderAt: source.fetchHeaderAt });
    for (let h = 828_570; h < 828_576; h++) await checker.check(fields(headerAt(h), h));
    const boundary = Buffer.from(headerAt(828_576));
    const alter = (offset: number, v: number) => {
      const b = Buffer.from(boundary);
      b.writeUInt32LE(v, offset);
      return fields(b, 828_576);
    };
    // Changing any field changes the hash: the work no longer meets the target (the named height and hash).
    for (const bad of [alter(72, boundary.readUInt32LE(72) + 1), alter(68, boundary.readUInt32LE(68) + 600), alter(76, (boundary.readUInt32LE(76) ^ 1) >>> 0)]) {
      const err = await checker.check(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HeaderHashAboveTargetError);
      expect((err as HeaderHashAboveTargetError).code).toBe("BITCOIN__HASH_ABOVE_TARGET");
      expect((err as Error).message).toContain(`Block 828576 (${bad.hash})`);
      expect((err as HeaderHashAboveTargetError).retryable).toBe(false);
    }
    // The real one still passes after the refusals (nothing was remembered from them).
    await checker.check(fields(boundary, 828_576));
  });

  it("refuses a node whose headers do not hash-chain to the block being checked", async () => {
    const tampered = Buffer.from(headerAt(827_000));
    tampered.writeUInt32LE(tampered.readUInt32LE(68) + 1, 68);
    const source = headerSource((h) => (h === 827_000 ? tampered : h >= FIRST && h <= LAST ? headerAt(h) : undefined));
    const checker = createHeaderWorkChecker({ chain: "btc", network: "mainnet", fetchHeaderAt: source.fetchHeaderAt });
    for (let h = 828_570; h < 828_576; h++) await checker.check(fields(headerAt(h), h));
    const err = await checker.check(fields(headerAt(828_576), 828_576)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InconsistentBlockError);
    expect((err as Error).message).toMatch(/Block 827000 .* is inconsistent: its header hashes to/);
  });
});

/** A chain mined here under `params` (an easy limit): times and bits as given, work ground to fit. */
function mineChain(params: PowParams, p: { from: number; count: number; times: (h: number) => number; bits?: (h: number, required: number) => number }) {
  const interval = computeRetargetInterval(params);
  const headers: Buffer[] = [];
  const known: HeaderWorkFields[] = [];
  let prev: Buffer = Buffer.alloc(32, 0x42);
  const limit = encodeCompactTarget(params.powLimit);
  for (let i = 0; i < p.count; i++) {
    const height = p.from + i;
    const time = p.times(height);
    const parent = known[i - 1];
    let required = limit;
    if (parent && !params.noRetargeting) {
      const periodStart = known.find((k) => k.height === height - interval);
      let lastNonMin: HeaderWorkFields | undefined;
      for (let j = known.length - 1; j >= 0 && known[j]!.height >= height - 1 - ((height - 1) % interval); j--) {
        if (known[j]!.height % interval === 0 || known[j]!.bits !== limit) {
          lastNonMin = known[j];
          break;
        }
      }
      required = computeRequiredBits({ params, height, time, parent, periodFirstTime: periodStart?.time, lastNonMinBits: lastNonMin?.bits });
    }
    const bits = p.bits ? p.bits(height, required) : required;
    const h = Buffer.alloc(80);
    h.writeInt32LE(0x20000000, 0);
    prev.copy(h, 4);
    h.fill(i & 0xff, 36, 68);
    h.writeUInt32LE(time, 68);
    h.writeUInt32LE(bits, 72);
    // Big-endian target bytes, compared with the reversed hash bytes (no BigInt per nonce).
    const target = Buffer.from(decodeCompactTarget(bits).target.toString(16).padStart(64, "0"), "hex");
    for (let nonce = 0; ; nonce++) {
      h.writeUInt32LE(nonce, 76);
      if (Buffer.from(sha256d(h)).reverse().compare(target) <= 0) break;
    }
    headers.push(h);
    known.push(fields(h, height));
    prev = sha256d(h);
  }
  return { headers, known };
}

describe("createHeaderWorkChecker on mined chains (short periods, every rule)", () => {
  // Core's rules with 16-block periods of 16-second blocks and an easy limit (1 hash in 2^10 meets
  // it; small enough that limit × 4 × timespan stays within 256 bits), so chains mine in a test.
  const easy: PowParams = { powLimit: (1n << 246n) - 1n, targetTimespan: 256, targetSpacing: 16, allowMinDifficultyBlocks: false, noRetargeting: false };
  const N = 16;

  it("retargets: accepts the required bits at each boundary, refuses one unit off; between boundaries the parent's bits", async () => {
    // Blocks twice as fast as intended: the target drops at 16 and again at 32.
    const times = (h: number) => 1_600_000_000 + h * 8;
    const chain = mineChain(easy, { from: 0, count: 2 * N + 2, times });
    const t = (h: number) => decodeCompactTarget(chain.known[h]!.bits).target;
    expect(t(16) < t(15)).toBe(true);
    expect(t(32) < t(31)).toBe(true);
    expect(t(31)).toBe(t(16));
    const source = headerSource((h) => chain.headers[h]);
    const checker = createHeaderWorkChecker({ chain: "t", network: "mainnet", params: easy, fetchHeaderAt: source.fetchHeaderAt });
    for (const k of chain.known) await checker.check(k);
    expect(source.asked).toEqual([]);
    // A chain whose block 32 carries bits one unit off (work ground to meet them): refused by the rule.
    const fork = mineChain(easy, { from: 0, count: 2 * N + 1, times, bits: (h, required) => (h === 32 ? required - 1 : required) });
    const fresh = createHeaderWorkChecker({ chain: "t", network: "mainnet", params: easy, fetchHeaderAt: headerSource((h) => fork.headers[h]).fetchHeaderAt });
    for (const k of fork.known.slice(0, 32)) await fresh.check(k);
    const err = await fresh.check(fork.known[32]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeaderBitsUnexpectedError);
    expect((err as HeaderBitsUnexpectedError).code).toBe("BITCOIN__UNEXPECTED_BITS");
    expect((err as Error).message).toMatch(/^Block 32 \([0-9a-f]{64}\) from the t node has bits 0x[0-9a-f]{8}; the difficulty rule requires 0x[0-9a-f]{8} \(retarget at 32 from blocks 16..31\)/);
    // Started cold at the boundary (no earlier state): the period is fetched from the node and checked.
    const cold = headerSource((h) => fork.headers[h]);
    const c2 = createHeaderWorkChecker({ chain: "t", network: "mainnet", params: easy, fetchHeaderAt: cold.fetchHeaderAt });
    expect(await c2.check(fork.known[32]!).catch((e: unknown) => e)).toBeInstanceOf(HeaderBitsUnexpectedError);
    expect(cold.asked.sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    // Between boundaries, bits other than the parent's.
    const mid = mineChain(easy, { from: 0, count: 10, times, bits: (h, required) => (h === 9 ? required - 1 : required) });
    const c3 = createHeaderWorkChecker({ chain: "t", network: "mainnet", params: easy, fetchHeaderAt: headerSource((h) => mid.headers[h]).fetchHeaderAt });
    for (const k of mid.known.slice(0, 9)) await c3.check(k);
    const e3 = await c3.check(mid.known[9]!).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(HeaderBitsUnexpectedError);
    expect((e3 as Error).message).toMatch(/the parent's bits between retargets/);
  });

  it("testnet's rule: minimum difficulty after twice the block interval, then back to the period's real difficulty", async () => {
    const tn: PowParams = { ...easy, allowMinDifficultyBlocks: true };
    // A fast first period (the real difficulty rises at 16), then a 100-second gap before every third block.
    const times = (h: number) => 1_600_000_000 + h * 8 + (h > 18 ? 100 * Math.floor((h - 18) / 3) : 0);
    const chain = mineChain(tn, { from: 0, count: 40, times });
    const limit = encodeCompactTarget(tn.powLimit);
    expect(chain.known.slice(17, 32).some((k) => k.bits === limit)).toBe(true);
    expect(chain.known.slice(17, 32).some((k) => k.bits !== limit)).toBe(true);
    const source = headerSource((h) => chain.headers[h]);
    // Started in the middle of the second period: the walk back needs the period from the node.
    const checker = createHeaderWorkChecker({ chain: "t", network: "testnet", params: tn, fetchHeaderAt: source.fetchHeaderAt });
    for (const k of chain.known.slice(25)) await checker.check(k);
    expect(Math.min(...source.asked)).toBe(16);
    // A late block that keeps the real difficulty instead of the minimum is refused, and so is a
    // punctual one that takes the minimum.
    const late = chain.known.findIndex((k, i) => i > 20 && k.bits === limit);
    const wrongLate = mineChain(tn, { from: 0, count: late + 1, times, bits: (h, required) => (h === late ? chain.known[16]!.bits : required) });
    const c2 = createHeaderWorkChecker({ chain: "t", network: "testnet", params: tn, fetchHeaderAt: headerSource((h) => wrongLate.headers[h]).fetchHeaderAt });
    for (const k of wrongLate.known.slice(16, late)) await c2.check(k);
    const err = await c2.check(wrongLate.known[late]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeaderBitsUnexpectedError);
    expect((err as Error).message).toMatch(/minimum difficulty twice the block interval after the parent/);
    const punctual = chain.known.findIndex((k, i) => i > late && k.bits !== limit);
    const wrongPunctual = mineChain(tn, { from: 0, count: punctual + 1, times, bits: (h, required) => (h === punctual ? limit : required) });
    const c3 = createHeaderWorkChecker({ chain: "t", network: "testnet", params: tn, fetchHeaderAt: headerSource((h) => wrongPunctual.headers[h]).fetchHeaderAt });
    for (const k of wrongPunctual.known.slice(16, punctual)) await c3.check(k);
    expect(await c3.check(wrongPunctual.known[punctual]!).catch((e: unknown) => e)).toBeInstanceOf(HeaderBitsUnexpectedError);
  });

  it("regtest: the fixed target only; bits easier than the limit are out of range", async () => {
    const checker = createHeaderWorkChecker({ chain: "r", network: "regtest", fetchHeaderAt: async () => { throw new Error("regtest needs no reads"); } });
    const chain = mineChain(POW_PARAMS.regtest, { from: 100, count: 3, times: (h) => h, bits: () => 0x207fffff });
    for (const k of chain.known) await checker.check(k);
    const harder = mineChain(POW_PARAMS.regtest, { from: 100, count: 1, times: (h) => h, bits: () => 0x2000ffff });
    expect(await checker.check(harder.known[0]!).catch((e: unknown) => e)).toBeInstanceOf(HeaderBitsUnexpectedError);
    const easier = { ...chain.known[0]!, bits: 0x20ffffff };
    expect(await checker.check(easier).catch((e: unknown) => e)).toBeInstanceOf(HeaderBitsOutOfRangeError);
  });
});

describe("the period arithmetic", () => {
  it("uses two weeks and 2,016 blocks on every network", () => {
    expect(TARGET_TIMESPAN).toBe(1_209_600);
    for (const params of Object.values(POW_PARAMS)) expect(computeRetargetInterval(params)).toBe(RETARGET_INTERVAL);
  });
});
