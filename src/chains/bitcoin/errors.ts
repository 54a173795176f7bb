import { BackstopError } from "../../lib/errors.js";

/** The node's block data contradicts itself (hash, parent or merkle root): a lying or broken provider. */
export class InconsistentBlockError extends BackstopError {
  override name = "InconsistentBlockError";
  constructor(p: { chain: string; height: number; problem: string }) {
    super("BITCOIN__INCONSISTENT_BLOCK", `Block ${p.height} from the ${p.chain} node is inconsistent: ${p.problem}.`, { retryable: true });
  }
}

/** The chain's config is unusable for the Bitcoin indexer (wallets, assets). */
export class BitcoinConfigError extends BackstopError {
  override name = "BitcoinConfigError";
  constructor(p: { chain: string; problem: string }) {
    super("BITCOIN__CONFIG", `Chain ${p.chain}: ${p.problem}.`);
  }
}
