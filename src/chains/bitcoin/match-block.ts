import { isBackstopError } from "../../lib/errors.js";
import type { WatchSet } from "./create-watch-set.js";
import { InconsistentBlockError } from "./errors.js";
import { scanBlock, type SpenderTransaction } from "./scan-block.js";

/** What a custody indexer needs from one raw block: header links, custody outputs, custody spends. */
export type MatchedBlock = {
  hash: string;
  prevHash: string;
  /** Header time, unix seconds. */
  time: number;
  /** Header difficulty bits (compact target). */
  bits: number;
  /** Outputs paying a watched script, in block order. `value` in sat. */
  outputs: { txIndex: number; txid: string; vout: number; script: string; value: bigint }[];
  /** Inputs spending a custody outpoint (also one created earlier in the same block), in block order. */
  spends: { txIndex: number; txid: string; prevTxid: string; prevVout: number }[];
  /** Transactions that spend custody, each with its input count and every output (for the transfer legs). */
  spenders: SpenderTransaction[];
};

/**
 * Scans a raw block (one pass, src/chains/bitcoin/scan-block.ts) against the
 * watched scripts and custody outpoints. Checks that the block hashes to
 * `expectedHash` (what the node said is at that height) and, with
 * `verifyMerkleRoot` (default), that the merkle root commits to the
 * transactions, so a provider cannot alter either unnoticed.
 * @throws InconsistentBlockError
 */
export function matchBlock(p: {
  chain: string;
  height: number;
  raw: Uint8Array;
  expectedHash: string;
  watch: WatchSet;
  verifyMerkleRoot?: boolean;
}): MatchedBlock {
  let scan: ReturnType<typeof scanBlock>;
  try {
    scan = scanBlock(p.raw, p.watch, { verifyMerkleRoot: p.verifyMerkleRoot ?? true });
  } catch (cause) {
    const why = isBackstopError(cause) ? cause.shortMessage.replace(/\.$/, "") : String(cause);
    throw new InconsistentBlockError({ chain: p.chain, height: p.height, problem: why });
  }
  if (scan.header.hash !== p.expectedHash) {
    throw new InconsistentBlockError({ chain: p.chain, height: p.height, problem: `hashes to ${scan.header.hash}, not ${p.expectedHash}` });
  }
  return {
    hash: scan.header.hash,
    prevHash: scan.header.prevHash,
    time: scan.header.time,
    bits: scan.header.bits,
    outputs: scan.outputs.map((o) => ({ txIndex: o.txIndex, txid: o.txid, vout: o.vout, script: o.script, value: o.value })),
    spends: scan.spends.map((s) => ({ txIndex: s.txIndex, txid: s.txid, prevTxid: s.prevTxid, prevVout: s.prevVout })),
    spenders: scan.spenders,
  };
}
