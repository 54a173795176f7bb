import { NotIndexedError, NothingIndexedError, UnknownWalletError } from "./errors.js";
import { loadLastFullRead } from "./evm-reads.js";
import { loadFirstHeight } from "./header-pins.js";
import type { ReadQuery, Store } from "./open-store.js";
import { loadWalletStates, type WalletStateName } from "./wallet-states.js";

/** One line of `backstop balances --json`. Amounts are base-unit decimal strings. */
export type BalanceLine = {
  chain: string;
  wallet: string;
  address: string;
  asset: string;
  decimals: number;
  /** The stored balance as of `height`; null while the wallet is pending (its history is not known yet). */
  amount: string | null;
  height: number;
  /** The block at `height`; null when its header was pruned (older than the header window, and not pinned). */
  blockHash: string | null;
  /** True once `height` is at or below the chain's recorded finalized height (Bitcoin: N confirmations; EVM: the node's finalized block where the chain has one; Solana: finalized). */
  finalized: boolean;
  /** The wallet's lifecycle state (pending: added to an indexed chain, not yet backfilled). */
  state: WalletStateName;
  /** Whether this balance counts in reserves at `height`. */
  counted: boolean;
  /** Why it does not count (null when it does). */
  reason: string | null;
  /** The stored history is exact from this height on (null: since the chain's first indexed block). */
  exactFrom: number | null;
  /**
   * The last height at or below `height` at which this balance was read from the node (EVM tokens: the
   * last full read of every (wallet, token), migration 6; between full reads a token moves on Transfer
   * logs only, so a silent change shows at the next one). Every other balance is exact at every stored
   * block (EVM native: read each block; Bitcoin: UTXOs; Solana: pre/post balances): `height`.
   * Null when no full read is stored at or below `height` yet.
   */
  verifiedAt: number | null;
};

/** What the balance read models need of the config: the configured wallets and the assets' decimals. */
export type BalanceConfig = {
  wallets: readonly { chain: string; label: string }[];
  assets: Readonly<Record<string, { id: string; chain: string; decimals: number; native?: boolean }>>;
};

/**
 * The block a balance is as of: the requested height, its hash and time (unix s; both null when the
 * header was pruned: older than the header window and not pinned), and whether it is final.
 */
export type AsOfBlock = { chain: string; height: number; hash: string | null; time: number | null; finalized: boolean };

/** A stored wallet row. */
export type StoredWallet = { id: number; chain: string; label: string; kind: string; address: string | null; descriptor: string | null };

/** The last change of a (wallet, asset) at or below a height: balance after it, its block and transaction. */
export type BalanceAt = { amount: bigint; height: number; blockHash: string; txid: string | null } | null;

const WALLET_COLUMNS = "id, chain, label, kind, address, descriptor";

/** Maps a wallets row (both dialects) to a StoredWallet. */
export function toStoredWallet(r: Record<string, unknown>): StoredWallet {
  return {
    id: Number(r.id), chain: String(r.chain), label: String(r.label), kind: String(r.kind),
    address: r.address === null || r.address === undefined ? null : String(r.address),
    descriptor: r.descriptor === null || r.descriptor === undefined ? null : String(r.descriptor),
  };
}

/**
 * Resolves the block a read is as of: `atHeight` (default: the cursor, or with `latest: "finalized"`
 * the highest final height) must be at or below the chain's cursor and at or above its first indexed
 * block. Heights whose header was pruned are still readable (balances are kept): hash and time are null.
 * Returns null when the chain has no cursor yet (and no height was asked for the finalized default).
 * @throws NotIndexedError, NothingIndexedError (latest "finalized" before any final block)
 */
export async function loadAsOfBlock(q: ReadQuery, p: { chain: string; atHeight?: number; latest?: "indexed" | "finalized" }): Promise<AsOfBlock | null> {
  // One statement: the cursor and, when a height is asked, its header (the API's hot path).
  const [cursor] = await q.raw(
    `SELECT c.height, c.finalized_height, h.hash AS at_hash, h.time AS at_time FROM chain_cursors c
     LEFT JOIN block_headers h ON h.chain = c.chain AND h.height = ? WHERE c.chain = ?`,
    [p.atHeight ?? -1, p.chain],
  );
  if (!cursor) return null;
  const indexed = Number(cursor.height);
  let at = p.atHeight ?? indexed;
  if (p.atHeight === undefined && p.latest === "finalized") {
    if (cursor.finalized_height === null) throw new NothingIndexedError({ chain: p.chain, finalized: true });
    at = Number(cursor.finalized_height);
  }
  if (at > indexed || at < 0) throw new NotIndexedError({ chain: p.chain, height: at, indexed });
  let header: Record<string, unknown> | undefined = p.atHeight === undefined ? undefined : cursor.at_hash == null ? undefined : { hash: cursor.at_hash, time: cursor.at_time };
  if (p.atHeight === undefined) [header] = await q.raw("SELECT hash, time FROM block_headers WHERE chain = ? AND height = ?", [p.chain, at]);
  if (!header) {
    // No header: pruned (readable) or before the chain's first indexed block (not indexed).
    const first = await loadFirstHeight(q, { chain: p.chain });
    if (first === undefined || at < first) throw new NotIndexedError({ chain: p.chain, height: at, indexed });
  }
  const finalized = cursor.finalized_height === null ? null : Number(cursor.finalized_height);
  return { chain: p.chain, height: at, hash: header ? String(header.hash) : null, time: header ? Number(header.time) : null, finalized: finalized !== null && at <= finalized };
}

/**
 * The balance of one (wallet, asset) as of a height: the balance after its last change at or below
 * it (one index seek on balance_changes_wallet), or null when it has none (its balance is 0).
 */
export async function loadBalanceAt(q: ReadQuery, p: { chain: string; walletId: number; asset: string; atHeight: number }): Promise<BalanceAt> {
  const [r] = await q.raw(
    `SELECT balance_after, height, block_hash, txid FROM balance_changes
     WHERE chain = ? AND wallet_id = ? AND asset = ? AND height <= ? ORDER BY height DESC, id DESC LIMIT 1`,
    [p.chain, p.walletId, p.asset, p.atHeight],
  );
  if (!r) return null;
  // Amounts come back as decimal strings (SQLite TEXT, Postgres numeric): exact.
  return { amount: BigInt(String(r.balance_after)), height: Number(r.height), blockHash: String(r.block_hash), txid: r.txid === null ? null : String(r.txid) };
}

/**
 * Finds a stored wallet of the chain by label, by its own address, or by one of its derived
 * addresses (each an index lookup, except the own-address fallback). Undefined when none.
 */
export async function loadWalletByName(q: ReadQuery, p: { chain: string; wallet: string }): Promise<StoredWallet | undefined> {
  const [byLabel] = await q.raw(`SELECT ${WALLET_COLUMNS} FROM wallets WHERE chain = ? AND label = ?`, [p.chain, p.wallet]);
  if (byLabel) return toStoredWallet(byLabel);
  const [derived] = await q.raw(
    `SELECT w.id, w.chain, w.label, w.kind, w.address, w.descriptor FROM wallet_addresses a JOIN wallets w ON w.id = a.wallet_id
     WHERE a.chain = ? AND a.address = ?`,
    [p.chain, p.wallet],
  );
  if (derived) return toStoredWallet(derived);
  const [own] = await q.raw(`SELECT ${WALLET_COLUMNS} FROM wallets WHERE chain = ? AND address = ? LIMIT 1`, [p.chain, p.wallet]);
  return own ? toStoredWallet(own) : undefined;
}

const configuredCache = new WeakMap<object, Set<string>>();
/** True when the wallet (chain, label) is in the config: stored wallets no longer configured are "removed" and not counted. */
export function isConfiguredWallet(config: BalanceConfig, chain: string, label: string): boolean {
  let set = configuredCache.get(config);
  if (!set) configuredCache.set(config, (set = new Set(config.wallets.map((w) => `${w.chain}\u0000${w.label}`))));
  return set.has(`${chain}\u0000${label}`);
}

/** The chain's configured assets, in config order. */
export function chainAssets(config: BalanceConfig, chain: string) {
  return Object.values(config.assets).filter((a) => a.chain === chain);
}

/**
 * Every (wallet, asset) balance of a chain as of a height (default: the indexed tip), zero balances
 * included: what `backstop balances --json` prints. Lists configured wallets and removed ones (their
 * history stays readable), each with its lifecycle state and whether it counts in reserves at that
 * height. Works at heights whose header was pruned. Reads in one snapshot.
 * @throws NotIndexedError, UnknownWalletError
 */
export async function loadBalanceLines(store: Store, config: BalanceConfig, p: { chain: string; at?: number; wallet?: string }): Promise<BalanceLine[]> {
  return store.read((q) => loadBalanceLinesIn(q, config, p));
}

/** loadBalanceLines inside a caller's read snapshot. @throws NotIndexedError, UnknownWalletError */
export async function loadBalanceLinesIn(q: ReadQuery, config: BalanceConfig, p: { chain: string; at?: number; wallet?: string }): Promise<BalanceLine[]> {
  const block = await loadAsOfBlock(q, { chain: p.chain, atHeight: p.at });
  if (!block) return [];
  let states = (await loadWalletStates(q, { chain: p.chain, atHeight: block.height })).filter((w) => isConfiguredWallet(config, p.chain, w.label) || w.state === "removed");
  if (p.wallet !== undefined) {
    const w = await loadWalletByName(q, { chain: p.chain, wallet: p.wallet });
    states = states.filter((s) => s.walletId === w?.id);
    if (!states.length) throw new UnknownWalletError({ chain: p.chain, wallet: p.wallet });
  }
  // A chain with full reads stored is an EVM chain: its token balances are verified at the last one.
  const lastFullRead = await loadLastFullRead(q, { chain: p.chain, atHeight: block.height });
  const hasFullReads = lastFullRead !== null || (await loadLastFullRead(q, { chain: p.chain })) !== null;
  const lines: BalanceLine[] = [];
  for (const w of states) {
    for (const a of chainAssets(config, p.chain)) {
      const b = w.state === "pending" ? null : await loadBalanceAt(q, { chain: p.chain, walletId: w.walletId, asset: a.id, atHeight: block.height });
      lines.push({
        chain: p.chain, wallet: w.label, address: w.address ?? w.descriptor ?? "", asset: a.id, decimals: a.decimals,
        amount: w.state === "pending" ? null : (b?.amount ?? 0n).toString(), height: block.height, blockHash: block.hash, finalized: block.finalized,
        state: w.state, counted: w.counted ?? false, reason: w.countedReason ?? null, exactFrom: w.exactFrom,
        verifiedAt: hasFullReads && !a.native ? lastFullRead : block.height,
      });
    }
  }
  return lines;
}
