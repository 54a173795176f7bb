import { BackstopError } from "../../lib/errors.js";

/** The Solana part of the config is invalid (addresses, assets); meta lists each problem with its config path. */
export class SolanaConfigError extends BackstopError {
  override name = "SolanaConfigError";
  constructor(p: { chain: string; problems: string[] }) {
    super("SOLANA__INVALID_CONFIG", `Invalid Solana configuration for chain ${p.chain}.`, { meta: p.problems.map((x) => `  ${x}`) });
  }
}

/** The node serves another cluster than the chain descriptor names (genesis hash differs). */
export class SolanaGenesisMismatchError extends BackstopError {
  override name = "SolanaGenesisMismatchError";
  constructor(p: { chain: string; expected: string; actual: string }) {
    super("SOLANA__WRONG_GENESIS", `The ${p.chain} RPC serves another cluster: genesis hash ${p.actual}, expected ${p.expected}.`, {
      meta: [`  expected: ${p.expected}`, `  node:     ${p.actual}`],
    });
  }
}

/** A configured mint is not an initialized mint account of a token program at the finalized slot, or its decimals differ. */
export class SolanaMintError extends BackstopError {
  override name = "SolanaMintError";
  constructor(p: { chain: string; problems: string[] }) {
    super("SOLANA__UNKNOWN_MINT", `Configured Solana mint(s) on ${p.chain} do not match the chain.`, { meta: p.problems.map((x) => `  ${x}`) });
  }
}

/** The balance the indexer derived differs from the chain's own account state at the same finalized slot. */
export class SolanaBalanceMismatchError extends BackstopError {
  override name = "SolanaBalanceMismatchError";
  constructor(p: { chain: string; wallet: string; address: string; asset: string; slot: number; indexed: bigint; onChain: bigint }) {
    super(
      "SOLANA__BALANCE_MISMATCH",
      `Indexed ${p.asset} balance of wallet ${p.wallet} on ${p.chain} is ${p.indexed}, the chain says ${p.onChain} at slot ${p.slot}.`,
      { meta: [`  wallet: ${p.wallet} (${p.address})`, `  asset: ${p.asset}`, `  slot: ${p.slot}`, `  indexed: ${p.indexed}`, `  chain: ${p.onChain}`] },
    );
  }
}

/** A stored slot is no longer on the cluster's finalized chain, deeper than the configured depth: halt, never diverge silently. */
export class SolanaDeepReorgError extends BackstopError {
  override name = "SolanaDeepReorgError";
  constructor(p: { chain: string; slot: number; storedHash: string; depth: number; finalityDepth: number }) {
    super(
      "SOLANA__FINALIZED_REORG",
      `Stored slot ${p.slot} of ${p.chain} is no longer on the finalized chain, ${p.depth} stored slot(s) deep (limit ${p.finalityDepth}).`,
      { meta: [`  stored blockhash: ${p.storedHash}`] },
    );
  }
}

/** The node's answer lacks what the indexer needs (e.g. token balance owners), so balances cannot be derived exactly. */
export class SolanaUnsupportedNodeError extends BackstopError {
  override name = "SolanaUnsupportedNodeError";
  constructor(p: { chain: string; problem: string }) {
    super("SOLANA__UNSUPPORTED_NODE", `The ${p.chain} node's answer cannot be indexed exactly: ${p.problem}.`);
  }
}
