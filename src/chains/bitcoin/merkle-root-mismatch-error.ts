import { BackstopError } from "../../lib/errors.js";

/**
 * A block body whose transactions do not hash to the header's merkle root, or that is
 * a CVE-2012-2459 mutation (duplicated transactions, same root): the node served a body
 * that is not the block its header commits to. Hashes are display hex.
 */
export class MerkleRootMismatchError extends BackstopError {
  override name = "MerkleRootMismatchError";
  constructor(p: { blockHash: string; expected: string; actual: string; mutated: boolean }) {
    super(
      "BITCOIN__MERKLE_ROOT_MISMATCH",
      p.mutated
        ? `Block ${p.blockHash} is a mutated block (duplicated transactions).`
        : `Block ${p.blockHash} body does not match its header's merkle root.`,
      // Another node (or another fetch) may serve the genuine body.
      { meta: [`header merkle root: ${p.expected}`, `computed merkle root: ${p.actual}`], retryable: true },
    );
  }
}
