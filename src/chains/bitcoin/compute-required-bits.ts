import type { BitcoinNetworkName } from "./wallet-errors.js";

/** Blocks per difficulty period on every Bitcoin network (Core's DifficultyAdjustmentInterval). */
export const RETARGET_INTERVAL = 2016;
/** The period's intended duration, seconds (two weeks: Core's nPowTargetTimespan). */
export const TARGET_TIMESPAN = 14 * 24 * 60 * 60;
/** The intended block interval, seconds (Core's nPowTargetSpacing). */
export const TARGET_SPACING = 10 * 60;

/** A network's proof-of-work rules, as Bitcoin Core's chainparams set them. */
export type PowParams = {
  /** The easiest allowed target. */
  powLimit: bigint;
  /** The period's intended duration, seconds (two weeks on every Bitcoin network). */
  targetTimespan: number;
  /** The intended block interval, seconds (ten minutes); a period is timespan / spacing blocks. */
  targetSpacing: number;
  /** testnet3 and regtest: a block more than 20 minutes after its parent may (must) use the pow limit. */
  allowMinDifficultyBlocks: boolean;
  /** regtest: the target never changes. */
  noRetargeting: boolean;
};

/** Proof-of-work parameters per network (Core's chainparams.cpp; testnet = testnet3, without BIP-94). */
const PERIOD = { targetTimespan: TARGET_TIMESPAN, targetSpacing: TARGET_SPACING };
export const POW_PARAMS: Record<BitcoinNetworkName, PowParams> = {
  mainnet: { powLimit: (1n << 224n) - 1n, ...PERIOD, allowMinDifficultyBlocks: false, noRetargeting: false },
  testnet: { powLimit: (1n << 224n) - 1n, ...PERIOD, allowMinDifficultyBlocks: true, noRetargeting: false },
  signet: { powLimit: 0x00000377aen << 216n, ...PERIOD, allowMinDifficultyBlocks: false, noRetargeting: false },
  regtest: { powLimit: 0x7fffffn << 232n, ...PERIOD, allowMinDifficultyBlocks: true, noRetargeting: true },
};

/** Blocks per period (2,016 on every Bitcoin network). */
export function computeRetargetInterval(params: PowParams): number {
  return params.targetTimespan / params.targetSpacing;
}

const U256 = (1n << 256n) - 1n;

/**
 * The target a compact `bits` value encodes (Core's arith_uint256::SetCompact), with its
 * negative and overflow flags: a 3-byte mantissa with a sign bit, times 256^(exponent - 3).
 */
export function decodeCompactTarget(bits: number): { target: bigint; negative: boolean; overflow: boolean } {
  const size = bits >>> 24;
  const word = bits & 0x007fffff;
  const target = size <= 3 ? BigInt(word >>> (8 * (3 - size))) : BigInt(word) << BigInt(8 * (size - 3));
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target: target & U256, negative, overflow };
}

/** The compact `bits` of a target (Core's arith_uint256::GetCompact, never negative). */
export function encodeCompactTarget(target: bigint): number {
  let size = 0;
  for (let t = target; t > 0n; t >>= 8n) size++;
  let compact = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  // The mantissa's top bit is the sign: shift it out into the exponent.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return (compact | (size << 24)) >>> 0;
}

/**
 * Why a header's work is unacceptable, or null when its hash meets the target its bits encode
 * and that target is within the network's limit (Core's CheckProofOfWork). `hash` is display hex.
 */
export function checkProofOfWork(p: { hash: string; bits: number; params: PowParams }): "bits-out-of-range" | "hash-above-target" | null {
  const { target, negative, overflow } = decodeCompactTarget(p.bits);
  if (negative || overflow || target === 0n || target > p.params.powLimit) return "bits-out-of-range";
  if (BigInt(`0x${p.hash}`) > target) return "hash-above-target";
  return null;
}

/** What computeRequiredBits needs to know about the chain below the header. Times are unix seconds. */
export type RequiredBitsParameters = {
  params: PowParams;
  /** Height of the header being checked. */
  height: number;
  /** Its timestamp. */
  time: number;
  /** Its parent: bits and time. */
  parent: { bits: number; time: number };
  /** At a period boundary (height % 2016 == 0): the time of the period's first block, height - 2016. */
  periodFirstTime?: number;
  /**
   * testnet's min-difficulty rule, between boundaries: the bits of the newest block of the
   * parent's period that is at the boundary or not at the pow limit (Core walks back to it).
   */
  lastNonMinBits?: number;
};

/**
 * The `bits` a header at `height` must carry (Bitcoin Core's GetNextWorkRequired and
 * CalculateNextWorkRequired): at a boundary, the parent's target scaled by the last period's
 * timespan (parent time minus the period's first block time, clamped to a quarter and four
 * times two weeks), at most the pow limit; between boundaries, the parent's bits. testnet3 may
 * use the pow limit 20 minutes after the parent and otherwise returns to the last real
 * difficulty; regtest keeps its fixed target. Integer arithmetic on 256 bits, as Core does.
 * @throws RangeError when the rule needs `periodFirstTime` or `lastNonMinBits` and it is missing
 */
export function computeRequiredBits(p: RequiredBitsParameters): number {
  const limitBits = encodeCompactTarget(p.params.powLimit);
  const interval = computeRetargetInterval(p.params);
  if (p.height % interval !== 0) {
    if (p.params.allowMinDifficultyBlocks) {
      if (p.time > p.parent.time + p.params.targetSpacing * 2) return limitBits;
      if (p.parent.bits !== limitBits) return p.parent.bits;
      if (p.lastNonMinBits === undefined) throw new RangeError(`height ${p.height}: the min-difficulty rule needs the last non-minimum bits of the period`);
      return p.lastNonMinBits;
    }
    return p.parent.bits;
  }
  if (p.params.noRetargeting) return p.parent.bits;
  if (p.periodFirstTime === undefined) throw new RangeError(`height ${p.height}: a retarget needs the time of block ${p.height - interval}`);
  const span = p.params.targetTimespan;
  let timespan = p.parent.time - p.periodFirstTime;
  if (timespan < span / 4) timespan = Math.trunc(span / 4);
  if (timespan > span * 4) timespan = span * 4;
  // arith_uint256 wraps at 2^256; reproduced so that the bits match Core's even then.
  let target = ((decodeCompactTarget(p.parent.bits).target * BigInt(timespan)) & U256) / BigInt(span);
  if (target > p.params.powLimit) target = p.params.powLimit;
  return encodeCompactTarget(target);
}
