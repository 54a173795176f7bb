import { BackstopError } from "../../lib/errors.js";

const hex = (bits: number) => `0x${bits.toString(16).padStart(8, "0")}`;

/**
 * A header whose hash is above the target its own bits encode: a block nobody mined. A
 * provider serving it lies (or serves a made-up branch); no other provider can make it
 * valid, so the indexer stops instead of retrying (a security incident, not an outage).
 */
export class HeaderHashAboveTargetError extends BackstopError {
  override name = "HeaderHashAboveTargetError";
  constructor(p: { chain: string; height: number; hash: string; bits: number }) {
    super("BITCOIN__HASH_ABOVE_TARGET", `Block ${p.height} (${p.hash}) from the ${p.chain} node has no proof of work: its hash is above the target its bits ${hex(p.bits)} encode.`, {
      meta: ["  A provider that serves it serves a made-up chain; nothing from it was stored."],
    });
  }
}

/** A header's bits encode a negative, zero or overflowing target, or one easier than the network allows. */
export class HeaderBitsOutOfRangeError extends BackstopError {
  override name = "HeaderBitsOutOfRangeError";
  constructor(p: { chain: string; height: number; hash: string; bits: number; network: string }) {
    super("BITCOIN__BITS_OUT_OF_RANGE", `Block ${p.height} (${p.hash}) from the ${p.chain} node has bits ${hex(p.bits)}, a target outside what ${p.network} allows.`, {
      meta: ["  A provider that serves it serves a made-up chain; nothing from it was stored."],
    });
  }
}

/**
 * A header's bits differ from what the network's difficulty rule requires at its height (the
 * 2,016-block retarget, the parent's bits in between, testnet's 20-minute rule, regtest's fixed
 * target): the work is not the network's (Core's "bad-diffbits").
 */
export class HeaderBitsUnexpectedError extends BackstopError {
  override name = "HeaderBitsUnexpectedError";
  constructor(p: { chain: string; height: number; hash: string; bits: number; expected: number; rule: string }) {
    super("BITCOIN__UNEXPECTED_BITS", `Block ${p.height} (${p.hash}) from the ${p.chain} node has bits ${hex(p.bits)}; the difficulty rule requires ${hex(p.expected)} (${p.rule}).`, {
      meta: ["  A provider that serves it serves a made-up chain; nothing from it was stored."],
    });
  }
}
