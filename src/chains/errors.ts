import { BackstopError, type ErrorCode } from "../lib/errors.js";

/**
 * The base of the chain-neutral follower errors: every one names its chain, and carries the values
 * at fault in `context` (for the API, alerts and logs), so no reader parses the message.
 */
export class ChainError extends BackstopError {
  override name = "ChainError";
  /** The config's chain key. */
  readonly chain: string;
  /** The values at fault (heights, hashes, provider host), JSON-safe. */
  readonly context: Readonly<Record<string, string | number | null>>;
  constructor(
    code: ErrorCode,
    p: { chain: string; context: Record<string, string | number | null>; shortMessage: string; meta?: string[]; retryable?: boolean; cause?: unknown },
  ) {
    super(code, p.shortMessage, { meta: p.meta, retryable: p.retryable, cause: p.cause });
    this.chain = p.chain;
    this.context = { chain: p.chain, ...p.context };
  }
}

/** A reorg reaching a block recorded as final (or as deep as a block-count finality): the follower halts instead of diverging. */
export class DeepReorgError extends ChainError {
  override name = "DeepReorgError";
  constructor(p: { chain: string; depth: number; finalityDepth: number | null; finalizedHeight: number | null; height: number; storedHash: string; nodeHash: string | null; provider?: string }) {
    const rule = p.finalityDepth === null ? `final up to ${p.finalizedHeight ?? "?"}` : `finality ${p.finalityDepth}`;
    super("CHAIN__DEEP_REORG", {
      chain: p.chain,
      context: { depth: p.depth, finalityDepth: p.finalityDepth, finalizedHeight: p.finalizedHeight, height: p.height, storedHash: p.storedHash, nodeHash: p.nodeHash, provider: p.provider ?? null },
      shortMessage: `Reorg on ${p.chain} deeper than finality: ${p.depth} blocks (${rule}). Indexer halted.`,
      meta: [
        `  at height ${p.height}: stored ${p.storedHash}, node ${p.nodeHash ?? "(no block)"}${p.provider ? ` (${p.provider})` : ""}`,
        "  Checkpoints over these heights must be reviewed; restart after investigating.",
      ],
    });
  }
}

/** The node serves another network than the chain descriptor names (genesis hash, or EVM chain id, differs). Fatal. */
export class WrongNetworkError extends ChainError {
  override name = "WrongNetworkError";
  constructor(p: { chain: string; what: "genesis hash" | "chain id"; expected: string; actual: string; provider: string; network?: string }) {
    super("CHAIN__WRONG_NETWORK", {
      chain: p.chain,
      context: { what: p.what, expected: p.expected, actual: p.actual, provider: p.provider, network: p.network ?? null },
      shortMessage: `The ${p.chain} node at ${p.provider} is on another network: ${p.what} ${p.actual}, expected ${p.expected}.`,
      meta: [...(p.network ? [`  node reports chain "${p.network}"`] : []), "  Check the RPC URL; Backstop refuses to index a chain it cannot identify."],
    });
  }
}

/** The node is still syncing (initial block download, or headers ahead of blocks): its tip is not the network's. */
export class NodeSyncingError extends ChainError {
  override name = "NodeSyncingError";
  constructor(p: { chain: string; provider: string; blocks: number; headers: number }) {
    super("CHAIN__NODE_SYNCING", {
      chain: p.chain,
      context: { provider: p.provider, blocks: p.blocks, headers: p.headers },
      shortMessage: `The ${p.chain} node at ${p.provider} is still syncing (blocks ${p.blocks}, headers ${p.headers}).`,
      meta: ["  Wait until it has caught up; Backstop refuses to index a chain tip that is not the network's."],
      retryable: true,
    });
  }
}

/** Every provider lacks heights the store already has (they are behind): the follower waits, never rolls back. */
export class ProviderLaggingError extends ChainError {
  override name = "ProviderLaggingError";
  constructor(p: { chain: string; indexed: number; providers: ReadonlyArray<{ host: string; tip: number | null }> }) {
    const list = p.providers.map((x) => `${x.host} at ${x.tip ?? "?"}`).join(", ");
    super("CHAIN__PROVIDER_LAGGING", {
      chain: p.chain,
      context: { indexed: p.indexed, providers: list },
      shortMessage: `Every ${p.chain} provider is behind the indexed height ${p.indexed} (${list}).`,
      meta: ["  Waiting for a provider to catch up; nothing is rolled back."],
      retryable: true,
    });
  }
}

/** The node reports a finalized (or safe) block ahead of its latest block: a broken or lying provider. Nothing is written. */
export class InconsistentHeadError extends ChainError {
  override name = "InconsistentHeadError";
  constructor(p: { chain: string; provider: string; latest: number; tag: "finalized" | "safe"; tagged: number }) {
    super("CHAIN__INCONSISTENT_HEAD", {
      chain: p.chain,
      context: { provider: p.provider, latest: p.latest, tag: p.tag, tagged: p.tagged },
      shortMessage: `The ${p.chain} node at ${p.provider} reports its ${p.tag} block ${p.tagged} ahead of its latest block ${p.latest}.`,
      meta: ["  A provider that contradicts itself is not trusted with finality; nothing was written."],
      retryable: true,
    });
  }
}

/** A wallet's configured birthday is above the node's tip: a height that does not exist yet. Nothing is written. */
export class BirthdayAboveTipError extends ChainError {
  override name = "BirthdayAboveTipError";
  constructor(p: { chain: string; wallets: ReadonlyArray<{ path: string; label: string; birthday: number }>; tip: number; provider: string }) {
    super("CHAIN__BIRTHDAY_ABOVE_TIP", {
      chain: p.chain,
      context: { tip: p.tip, provider: p.provider, wallets: p.wallets.map((w) => w.label).join(", ") },
      shortMessage: `Wallet birthday above the ${p.chain} node's tip ${p.tip} (${p.provider}): no such block yet.`,
      meta: p.wallets.map((w) => `  ${w.path}.birthday: ${w.birthday} is above the tip ${p.tip} (wallet "${w.label}")`),
    });
  }
}

/** While backfilling a wallet, the node's blocks stopped linking to the stored chain (a reorg): nothing written, retried. */
export class BackfillChainMovedError extends ChainError {
  override name = "BackfillChainMovedError";
  constructor(p: { chain: string; wallet: string; height: number; problem: string }) {
    super("CHAIN__BACKFILL_CHAIN_MOVED", {
      chain: p.chain,
      context: { wallet: p.wallet, height: p.height, problem: p.problem },
      shortMessage: `Backfill of wallet "${p.wallet}" on ${p.chain} stopped at height ${p.height}: ${p.problem}.`,
      meta: ["  Nothing was written; the follower re-checks its stored tip and tries again."],
      retryable: true,
    });
  }
}
