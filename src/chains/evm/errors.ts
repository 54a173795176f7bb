import { BackstopError } from "../../lib/errors.js";

/** The EVM chain's config is unusable (malformed addresses, no native asset...); meta lists every problem. */
export class EvmConfigError extends BackstopError {
  override name = "EvmConfigError";
  constructor(p: { chain: string; problems: string[] }) {
    super("EVM__CONFIG", `Chain ${p.chain}: invalid EVM configuration.`, { meta: p.problems.map((x) => `  ${x}`) });
  }
}

/** A configured token address has no contract code, or does not answer `balanceOf`. */
export class EvmUnknownTokenError extends BackstopError {
  override name = "EvmUnknownTokenError";
  constructor(p: { chain: string; asset: string; address: string; problem: string }) {
    super("EVM__UNKNOWN_TOKEN", `Token ${p.asset} on ${p.chain} at ${p.address}: ${p.problem}.`);
  }
}

/** Multicall3 is not deployed on the chain; balance reads are batched through it. */
export class EvmMissingMulticallError extends BackstopError {
  override name = "EvmMissingMulticallError";
  constructor(p: { chain: string; address: string }) {
    super("EVM__NO_MULTICALL3", `No Multicall3 contract at ${p.address} on ${p.chain}.`, {
      meta: ["  Backstop batches balance reads through Multicall3 (deployed on nearly every EVM chain)."],
    });
  }
}

/** Ponder could not be started, or keeps crashing; meta carries the last lines of its log (redacted). */
export class PonderStartError extends BackstopError {
  override name = "PonderStartError";
  constructor(p: { chain: string; problem: string; log?: string[]; retryable?: boolean; cause?: unknown }) {
    super("EVM__PONDER_FAILED", `Ponder for ${p.chain} failed: ${p.problem}.`, {
      meta: (p.log ?? []).map((l) => `  ponder: ${l}`),
      retryable: p.retryable ?? false,
      cause: p.cause,
    });
  }
}

/** Ponder's read route answered with an error or an unexpected payload. */
export class PonderRouteError extends BackstopError {
  override name = "PonderRouteError";
  constructor(p: { chain: string; problem: string; cause?: unknown }) {
    super("EVM__PONDER_ROUTE", `Reading Ponder's results for ${p.chain} failed: ${p.problem}.`, { retryable: true, cause: p.cause });
  }
}

/** The node no longer has a block Backstop is mirroring (reorged away between two reads): retried. */
export class EvmBlockUnavailableError extends BackstopError {
  override name = "EvmBlockUnavailableError";
  constructor(p: { chain: string; height: number; hash: string }) {
    super("EVM__BLOCK_UNAVAILABLE", `Block ${p.height} (${p.hash}) of ${p.chain} is no longer on the node.`, { retryable: true });
  }
}

/**
 * The node does not offer a method Backstop's EVM indexing needs (or not back to the start height: an
 * archive node is needed when `startHeight` is in the past). Refused at start, never a child that retries forever.
 */
export class EvmMethodUnavailableError extends BackstopError {
  override name = "EvmMethodUnavailableError";
  constructor(p: { chain: string; method: string; provider: string; problem: string; cause?: unknown }) {
    super("EVM__METHOD_UNAVAILABLE", `Chain ${p.chain}: provider ${p.provider} does not offer ${p.method} (${p.problem}).`, {
      meta: [
        "  Backstop's EVM indexing needs eth_chainId, eth_blockNumber, eth_getBlockByNumber, eth_getBlockByHash, eth_getLogs",
        "  and eth_call at historical blocks back to the chain's startHeight (an archive node). No debug_*, trace_* or receipts.",
      ],
      cause: p.cause,
    });
  }
}

/** Ponder runs but has not advanced for too long while the node has new blocks: a child failing slowly. */
export class PonderStalledError extends BackstopError {
  override name = "PonderStalledError";
  constructor(p: { chain: string; indexed: number | null; tip: number; seconds: number; log?: string[] }) {
    super("EVM__PONDER_STALLED", `Ponder for ${p.chain} has not indexed a block for ${p.seconds} s (at ${p.indexed ?? "nothing"}, node at ${p.tip}).`, {
      meta: (p.log ?? []).map((l) => `  ponder: ${l}`),
    });
  }
}
