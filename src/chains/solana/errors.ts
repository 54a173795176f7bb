import { BackstopError } from "../../lib/errors.js";

/** The Solana part of the config is invalid (addresses, assets); meta lists each problem with its config path. */
export class SolanaConfigError extends BackstopError {
  override name = "SolanaConfigError";
  constructor(p: { chain: string; problems: string[] }) {
    super("SOLANA__INVALID_CONFIG", `Invalid Solana configuration for chain ${p.chain}.`, { meta: p.problems.map((x) => `  ${x}`) });
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

/** The node's answer lacks what the indexer needs (e.g. token balance owners), so balances cannot be derived exactly. */
export class SolanaUnsupportedNodeError extends BackstopError {
  override name = "SolanaUnsupportedNodeError";
  constructor(p: { chain: string; problem: string }) {
    super("SOLANA__UNSUPPORTED_NODE", `The ${p.chain} node's answer cannot be indexed exactly: ${p.problem}.`);
  }
}
