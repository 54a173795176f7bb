import { hash as oneShotHash } from "node:crypto";
import {
  checkProofOfWork,
  computeRequiredBits,
  computeRetargetInterval,
  encodeCompactTarget,
  POW_PARAMS,
  type PowParams,
} from "./compute-required-bits.js";
import { InconsistentBlockError } from "./errors.js";
import { HeaderBitsOutOfRangeError, HeaderBitsUnexpectedError, HeaderHashAboveTargetError } from "./proof-of-work-errors.js";
import type { BitcoinNetworkName } from "./wallet-errors.js";

/** A header's fields the work rules read. Hashes are display hex; `time` is unix seconds. */
export type HeaderWorkFields = { height: number; hash: string; prevHash: string; bits: number; time: number };

/**
 * Checks, header after header, that a chain carries the network's proof of work: every hash
 * meets the target its bits encode, within the network's limit, and the bits follow the
 * difficulty rule (retarget every 2,016 blocks, testnet's 20-minute rule, regtest's fixed
 * target). Headers arrive in height order, each the child of the previous one; when one is not
 * (the first after a start, a rollback or a failed write), the checker re-anchors on the node.
 */
export type HeaderWorkChecker = {
  /**
   * Checks one header whose parent is the previously checked header or the stored tip, and
   * remembers it. Network reads only when re-anchoring (the parent's header, one call) and, once
   * per period at most, the headers back to the period's first block (up to 2,015 calls).
   * @throws HeaderHashAboveTargetError, HeaderBitsOutOfRangeError, HeaderBitsUnexpectedError (not retryable)
   * @throws InconsistentBlockError the node's headers do not hash-chain to this header (retryable)
   */
  check(header: HeaderWorkFields): Promise<void>;
};

/** Parameters of createHeaderWorkChecker. */
export type CreateHeaderWorkCheckerParameters = {
  /** Chain key, for messages. */
  chain: string;
  network: BitcoinNetworkName;
  /** The node's header at `height` on its best chain: 80 raw bytes. */
  fetchHeaderAt(height: number): Promise<Uint8Array>;
  /** Parallel header reads while anchoring a period. Default 16. */
  concurrency?: number;
  /** The network's rules; default POW_PARAMS[network] (tests give an easy limit to mine chains quickly). */
  params?: PowParams;
};

type Known = HeaderWorkFields;

/** Creates a HeaderWorkChecker for one chain (in-memory state only). */
export function createHeaderWorkChecker(p: CreateHeaderWorkCheckerParameters): HeaderWorkChecker {
  const params = p.params ?? POW_PARAMS[p.network];
  const limitBits = encodeCompactTarget(params.powLimit);
  const concurrency = p.concurrency ?? 16;
  const interval = computeRetargetInterval(params);
  // The previous header, the first header of its period, and (testnet) the newest header of
  // its period that is at the boundary or not at the pow limit. Only kept while contiguous.
  let last: Known | undefined;
  let periodStart: Known | undefined;
  let lastNonMin: Known | undefined;
  // The oldest header of the contiguous run ending at `last` (the parent fetched when it
  // started): what lies below it is the node's word until fetched and hash-chained to it.
  let anchor: Known | undefined;

  const periodOf = (height: number) => height - (height % interval);

  /** The parent's header from the node, checked against the hash its child names. */
  async function anchorParent(h: HeaderWorkFields): Promise<Known> {
    const parent = readHeader(await p.fetchHeaderAt(h.height - 1), h.height - 1);
    if (parent.hash !== h.prevHash) {
      throw new InconsistentBlockError({ chain: p.chain, height: h.height - 1, problem: `its header hashes to ${parent.hash}, but block ${h.height} names ${h.prevHash} as its parent` });
    }
    periodStart = undefined;
    lastNonMin = undefined;
    anchor = parent;
    return parent;
  }

  /**
   * Fetches the parent's period from its first block up to the anchor (below which nothing was
   * checked here), checks that it hash-chains to the anchor, and sets periodStart and lastNonMin.
   * A one-off per period, and only after a (re)start: a contiguous run records the period's
   * first block when it passes it.
   */
  async function anchorPeriod(parent: Known): Promise<void> {
    const from = periodOf(parent.height);
    const top = anchor && anchor.height >= from ? anchor : parent;
    const heights = Array.from({ length: top.height - from }, (_, i) => from + i);
    const headers: Known[] = new Array(heights.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, heights.length) }, async () => {
        while (next < heights.length) {
          const i = next++;
          headers[i] = readHeader(await p.fetchHeaderAt(heights[i]!), heights[i]!);
        }
      }),
    );
    // Newest first: each header must be the one its child names.
    let expected = top.prevHash;
    for (let i = headers.length - 1; i >= 0; i--) {
      if (headers[i]!.hash !== expected) {
        throw new InconsistentBlockError({ chain: p.chain, height: headers[i]!.height, problem: `its header hashes to ${headers[i]!.hash}, but its child names ${expected} (the node's headers do not chain)` });
      }
      expected = headers[i]!.prevHash;
    }
    const chain = [...headers, top];
    periodStart = chain[0];
    // Headers checked here above the anchor already updated lastNonMin when they qualified.
    if (!(lastNonMin && lastNonMin.height >= from)) lastNonMin = [...chain].reverse().find((k) => k.height % interval === 0 || k.bits !== limitBits);
  }

  return {
    async check(h) {
      const work = checkProofOfWork({ hash: h.hash, bits: h.bits, params });
      if (work === "bits-out-of-range") throw new HeaderBitsOutOfRangeError({ chain: p.chain, height: h.height, hash: h.hash, bits: h.bits, network: p.network });
      if (work === "hash-above-target") throw new HeaderHashAboveTargetError({ chain: p.chain, height: h.height, hash: h.hash, bits: h.bits });
      const self: Known = { height: h.height, hash: h.hash, prevHash: h.prevHash, bits: h.bits, time: h.time };
      if (params.noRetargeting && params.allowMinDifficultyBlocks) {
        // regtest: every block carries the pow limit (Core's rule reduces to that there).
        if (h.bits !== limitBits) throw new HeaderBitsUnexpectedError({ chain: p.chain, height: h.height, hash: h.hash, bits: h.bits, expected: limitBits, rule: "regtest's fixed target" });
        last = self;
        return;
      }
      if (h.height === 0) {
        last = periodStart = lastNonMin = anchor = self;
        return;
      }
      const contiguous = last !== undefined && last.height === h.height - 1 && last.hash === h.prevHash;
      const parent = contiguous ? last! : await anchorParent(h);
      const boundary = h.height % interval === 0;
      let periodFirstTime: number | undefined;
      let lastNonMinBits: number | undefined;
      const parentPeriod = periodOf(parent.height);
      // A retarget needs the period's first block; testnet's walk back needs its last real difficulty.
      const needFirst = boundary && periodStart?.height !== parentPeriod;
      const needNonMin =
        !boundary && params.allowMinDifficultyBlocks && h.time <= parent.time + 2 * params.targetSpacing && parent.bits === limitBits && !(lastNonMin && lastNonMin.height >= parentPeriod);
      if (needFirst || needNonMin) await anchorPeriod(parent);
      if (boundary) periodFirstTime = periodStart!.time;
      if (params.allowMinDifficultyBlocks) lastNonMinBits = lastNonMin?.bits;
      const expected = computeRequiredBits({ params, height: h.height, time: h.time, parent, periodFirstTime, lastNonMinBits });
      if (h.bits !== expected) {
        const rule = boundary
          ? `retarget at ${h.height} from blocks ${h.height - interval}..${h.height - 1}`
          : expected === limitBits && params.allowMinDifficultyBlocks && h.time > parent.time + 2 * params.targetSpacing
            ? "testnet's minimum difficulty twice the block interval after the parent (20 minutes)"
            : "the parent's bits between retargets";
        throw new HeaderBitsUnexpectedError({ chain: p.chain, height: h.height, hash: h.hash, bits: h.bits, expected, rule });
      }
      if (boundary) periodStart = lastNonMin = self;
      else if (h.bits !== limitBits) lastNonMin = self;
      else if (!(lastNonMin && lastNonMin.height >= periodOf(h.height))) lastNonMin = undefined;
      if (periodStart && periodStart.height !== periodOf(h.height)) periodStart = undefined;
      last = self;
    },
  };
}

/** Header fields from 80 raw bytes. */
function readHeader(raw: Uint8Array, height: number): Known {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (b.length !== 80) throw new RangeError(`header at ${height} is ${b.length} bytes, not 80`);
  return {
    height,
    hash: reversedHex(oneShotHash("sha256", oneShotHash("sha256", b, "buffer"), "buffer")),
    prevHash: reversedHex(b.subarray(4, 36)),
    bits: b.readUInt32LE(72),
    time: b.readUInt32LE(68),
  };
}

function reversedHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString("hex");
}
