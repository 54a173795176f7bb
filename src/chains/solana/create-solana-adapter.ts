import { BackstopError } from "../../lib/errors.js";
import type { ResolvedConfig } from "../../lib/config.js";
import { loadBalances, loadHeaders, saveFirstBlockWalletsIn, type BackfillChange, type BalanceChangeInput, type WalletStatus } from "../../store/index.js";
import type { ChainAdapter, DecodedBlock, FetchBatchResult, WalletBackfill } from "../chain-adapter.js";
import { computeProviderHosts, rotateUrls } from "../compute-provider-hosts.js";
import { BackfillChainMovedError } from "../errors.js";
import type { IndexerContext } from "../indexer.js";
import { computeSlotChanges } from "./compute-slot-changes.js";
import { createSolanaProvider } from "./create-solana-provider.js";
import { createSolanaRpc, type RpcBlock, type SolanaRpc } from "./create-solana-rpc.js";
import type { WatchedAddresses } from "./parse-block-json.js";
import { SolanaBalanceMismatchError, SolanaConfigError, SolanaMintError } from "./errors.js";
import { validateSolanaAddress } from "./validate-solana-address.js";

/** SPL Token and Token-2022 program ids, by the names the config uses. */
export const TOKEN_PROGRAMS = {
  "spl-token": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
  "token-2022": "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
} as const;

/** Slots whose blocks are fetched concurrently while catching up (one getBlock each). */
const PREFETCH = 8;
/** Ranges shorter than this are fetched slot by slot (getBlock, -32007 = skipped) instead of getBlocks first. */
const DIRECT_SLOTS = 4;
/** Slots listed per getBlocks call while catching up. */
const RANGE = 1000;
/** Produced slots stored per transaction while catching up (bounds memory and what a crash re-fetches). */
const BATCH_BLOCKS = 64;
/** Balance reads in flight during a baseline or balance check. */
const READ_CONCURRENCY = 8;
/** getMultipleAccounts' limit per call. */
const MULTIPLE_ACCOUNTS_MAX = 100;
/** Re-check derived balances against the chain this often while following (ms). */
const VERIFY_EVERY_MS = 10 * 60_000;

/** Returns every Solana-specific config problem of `chainKey`, each with its config path (empty when valid). */
export function validateSolanaConfig(config: ResolvedConfig, chainKey: string): string[] {
  const problems: string[] = [];
  config.wallets.forEach((w, i) => {
    if (w.chain !== chainKey) return;
    const why = validateSolanaAddress(w.address);
    if (why) problems.push(`wallets[${i}].address: ${why}`);
  });
  const birthday = (config.chains[chainKey] as { birthdaySlot?: unknown } | undefined)?.birthdaySlot;
  if (birthday !== undefined && !(Number.isSafeInteger(birthday) && (birthday as number) >= 0)) {
    problems.push(`chains.${chainKey}.birthdaySlot: must be a non-negative integer slot`);
  }
  const mintSeen = new Map<string, string>();
  for (const a of Object.values(config.assets)) {
    if (a.chain !== chainKey || a.native) continue;
    const why = validateSolanaAddress(a.address);
    if (why) problems.push(`assets.${a.id}.address: ${why}`);
    // One mint under two asset ids would count the same tokens twice.
    const prev = mintSeen.get(a.address ?? "");
    if (prev) problems.push(`assets.${a.id}.address: same mint as assets.${prev}`);
    else mintSeen.set(a.address ?? "", a.id);
    const program = (a as { tokenProgram?: unknown }).tokenProgram;
    if (program !== undefined && !(typeof program === "string" && program in TOKEN_PROGRAMS)) {
      problems.push(`assets.${a.id}.tokenProgram: must be "spl-token" or "token-2022"`);
    }
  }
  return problems;
}

/** A balance read from the chain: one (wallet, asset) at the read's context slot. */
type Read = { walletId: number; asset: string; amount: bigint; slot: number };

const blockMissing = (slot: number, why: string) => new BackstopError("SOLANA__BLOCK_MISSING", `Finalized slot ${slot} ${why}.`, { retryable: true });

/**
 * The Solana adapter of the follower: finalized slots only, one getBlock per produced slot (independent of
 * the number of wallets), exact SOL and SPL / Token-2022 changes of custody owners from pre/post balances,
 * skipped slots empty (height = slot). Every stored slot is final when stored, so a stored slot that is no
 * longer on the finalized chain halts the follower (CHAIN__DEEP_REORG); it is never rolled back or
 * re-baselined. First start: balances read at a finalized slot (a baseline), or, with the chain option
 * `birthdaySlot` (custody wallets empty before it), every block from that slot on. After catching up, and
 * every 10 minutes, the derived balances of counted wallets are checked against the chain's own accounts.
 * A wallet added later is backfilled by a replay of [birthday, cursor] for it alone, or without a
 * birthday by a baseline read at a finalized slot (labelled `baseline`): it never halts the chain.
 */
export function createSolanaAdapter(ctx: IndexerContext): ChainAdapter {
  const key = ctx.chainKey;
  const chain = ctx.config.chains[key];
  if (!chain || chain.descriptor.kind !== "solana") throw new SolanaConfigError({ chain: key, problems: ["not a configured Solana chain"] });
  const { store } = ctx;
  const log = ctx.logger.child({ chain: key });
  const hosts = computeProviderHosts(chain.rpc);
  const attempts = chain.rpc.length > 1 ? 2 : undefined;
  const providers = chain.rpc.map((url, i) => createSolanaProvider({ chainKey: key, chain, url, host: hosts[i]!, attempts }));
  // Counted (active) wallets: owner address -> wallet id; and, during a backfill replay, the wallet it rebuilds.
  let owners = new Map<string, number>();
  let replaying: ReadonlyMap<string, number> | undefined;
  // Blocks come without the transactions that name no watched owner (never parsed: votes and the like). The set
  // is read when each getBlock is issued, so a replay watches the wallet it rebuilds too.
  const watched: WatchedAddresses = { has: (a) => owners.has(a) || (replaying?.has(a) ?? false) };
  const makeRpc = (first: number): SolanaRpc => createSolanaRpc({ chain: key, urls: rotateUrls(chain.rpc, first), timeoutMs: chain.rpcTimeoutMs, watched: () => watched });
  let rpc = makeRpc(0);
  const assets = Object.values(ctx.config.assets).filter((a) => a.chain === key);
  const native = assets.find((a) => a.native);
  const tokens = assets.filter((a) => !a.native);
  const mints = new Map(tokens.map((a) => [a.address!, a.id]));
  const birthdaySlot = (chain as { birthdaySlot?: number }).birthdaySlot;

  let wallets: Array<{ id: number; label: string; address: string }> = [];
  const tokenAccounts = new Set<string>();
  let lastVerify = 0;
  let verified = false;
  // Baseline reads of wallets added later, kept until the cursor reaches their slots.
  const pendingReads = new Map<number, Read[]>();

  const pairKey = (walletId: number, asset: string) => `${walletId}\u0000${asset}`;
  const changesOf = (block: RpcBlock, of: ReadonlyMap<string, number>) => computeSlotChanges({ chain: key, block, owners: of, nativeAsset: native?.id, mints });

  /** Mints checked at the finalized slot before anything is written: an initialized mint of its token program, with the configured decimals. */
  async function checkMints() {
    if (!tokens.length) return;
    const problems: string[] = [];
    const { value } = await rpc.getMultipleAccounts(tokens.map((t) => t.address!));
    tokens.forEach((t, i) => {
      const acc = value[i];
      const at = `assets.${t.id}.address`;
      const programs: string[] = Object.values(TOKEN_PROGRAMS);
      if (!acc) return problems.push(`${at}: no account ${t.address} at the finalized slot (unknown mint)`);
      if (!programs.includes(acc.owner)) return problems.push(`${at}: ${t.address} is owned by ${acc.owner}, not a token program (not a mint)`);
      const data = Buffer.from(acc.data[0], "base64");
      // Mint layout: 82 bytes (Token-2022 with extensions: AccountType 1 at offset 165); decimals at 44, is_initialized at 45.
      const isMint = data.length === 82 || (acc.owner === TOKEN_PROGRAMS["token-2022"] && data.length > 165 && data[165] === 1);
      if (!isMint || data[45] !== 1) return problems.push(`${at}: ${t.address} is not an initialized mint`);
      if (data[44] !== t.decimals) problems.push(`assets.${t.id}.decimals: the mint has ${data[44]} decimals, the config says ${t.decimals}`);
      const program = (t as { tokenProgram?: keyof typeof TOKEN_PROGRAMS }).tokenProgram;
      if (program && TOKEN_PROGRAMS[program] !== acc.owner) problems.push(`assets.${t.id}.tokenProgram: the mint belongs to ${acc.owner}, not ${program}`);
      return undefined;
    });
    if (problems.length) throw new SolanaMintError({ chain: key, problems });
  }

  /** Reads every (wallet, asset) balance of `of` from the chain at finalized commitment, each with its context slot. */
  async function readChainBalances(of: ReadonlyArray<{ id: number; address: string }>, minContextSlot?: number): Promise<Read[]> {
    const reads: Read[] = [];
    if (native) {
      for (let i = 0; i < of.length; i += MULTIPLE_ACCOUNTS_MAX) {
        const batch = of.slice(i, i + MULTIPLE_ACCOUNTS_MAX);
        const r = await rpc.getMultipleAccounts(batch.map((w) => w.address), minContextSlot);
        batch.forEach((w, j) => reads.push({ walletId: w.id, asset: native.id, amount: BigInt(r.value[j]?.lamports ?? 0), slot: r.context.slot }));
      }
    }
    const pairs = of.flatMap((w) => tokens.map((t) => ({ w, t })));
    // READ_CONCURRENCY reads in flight: 1,000 wallets x 2 mints is 2,000 calls.
    for (let i = 0; i < pairs.length; i += READ_CONCURRENCY) {
      await Promise.all(
        pairs.slice(i, i + READ_CONCURRENCY).map(async ({ w, t }) => {
          // All of the owner's accounts of this mint, associated or not, in one read at one slot.
          const r = await rpc.getTokenAccountsByOwner(w.address, t.address!, minContextSlot);
          let amount = 0n;
          for (const a of r.value) {
            tokenAccounts.add(a.pubkey);
            amount += Buffer.from(a.account.data[0], "base64").readBigUInt64LE(64);
          }
          reads.push({ walletId: w.id, asset: t.id, amount, slot: r.context.slot });
        }),
      );
    }
    return reads;
  }

  /** Fetches the blocks of `slots` with PREFETCH calls in flight and hands them over strictly in slot order until `each` returns false. */
  async function fetchBlocks(slots: readonly number[], each: (slot: number, block: RpcBlock | null) => Promise<boolean>) {
    const inFlight: Promise<RpcBlock | null>[] = [];
    let next = 0;
    const fill = () => {
      while (inFlight.length < PREFETCH && next < slots.length) inFlight.push(rpc.getBlock(slots[next++]!));
    };
    fill();
    try {
      for (const slot of slots) {
        const block = await inFlight.shift()!;
        fill();
        if (!(await each(slot, block))) return;
      }
    } finally {
      // Settle what is still in flight, so an early exit or error leaves no unhandled rejection.
      await Promise.allSettled(inFlight);
    }
  }

  /** Produced finalized slots in [from, to], listed RANGE at a time. */
  async function listSlots(from: number, to: number): Promise<number[]> {
    const out: number[] = [];
    for (let a = from; a <= to; a += RANGE) out.push(...(await rpc.getBlocks(a, Math.min(to, a + RANGE - 1))));
    return out;
  }

  /**
   * Replays the produced slots in (after, to] for the owners in `of`, calling `each` with every slot's
   * changes. The blocks must form one chain ending at the stored cursor `end` (when given).
   * @throws BackfillChainMovedError when they do not
   */
  async function replay(p: { after: number; to: number; of: ReadonlyMap<string, number>; end?: { height: number; hash: string }; wallet: string; each: (slot: number, block: RpcBlock, changes: ReturnType<typeof changesOf>["changes"]) => void }) {
    const slots = p.to > p.after ? await listSlots(p.after + 1, p.to) : [];
    const stored = new Map((await loadHeaders(store, { chain: key, toHeight: p.to, limit: Math.max(1, p.to - p.after) })).map((h) => [h.height, h.hash]));
    let prev: { slot: number; hash: string } | undefined;
    replaying = p.of;
    try {
      await fetchBlocks(slots, async (slot, block) => {
        if (!block) throw blockMissing(slot, "listed by getBlocks has no block");
        if (stored.has(slot) && stored.get(slot) !== block.blockhash) throw new BackfillChainMovedError({ chain: key, wallet: p.wallet, height: slot, problem: "the node's block is not the stored one" });
        if (prev && (block.parentSlot !== prev.slot || block.previousBlockhash !== prev.hash)) throw new BackfillChainMovedError({ chain: key, wallet: p.wallet, height: slot, problem: "the node's blocks do not link" });
        prev = { slot, hash: block.blockhash };
        p.each(slot, block, changesOf(block, p.of).changes);
        return true;
      });
    } finally {
      replaying = undefined;
    }
    if (p.end && prev && (prev.slot !== p.end.height || prev.hash !== p.end.hash)) {
      throw new BackfillChainMovedError({ chain: key, wallet: p.wallet, height: p.end.height, problem: "the replayed slots do not end at the stored tip" });
    }
  }

  /** The block header at a slot: the stored one when kept, else the node's. */
  async function headerAt(slot: number): Promise<{ blockhash: string; previousBlockhash: string; blockTime: number | null } | null> {
    const [h] = await loadHeaders(store, { chain: key, toHeight: slot, limit: 1 });
    if (h && h.height === slot) return { blockhash: h.hash, previousBlockhash: h.parentHash, blockTime: h.time };
    return rpc.getBlockHeader(slot);
  }

  /**
   * First start: the balances at one finalized slot B. Reads come back at context slots >= F that may
   * differ (finalized moves); each read older than B is carried forward through the blocks in (its slot, B],
   * so all balances are exact at B. B is then stored as the first slot, labelled a baseline.
   */
  async function baselineBatch(): Promise<FetchBatchResult> {
    const f = await rpc.getSlot("finalized");
    const reads = await readChainBalances(wallets, f);
    const b = Math.max(f, ...reads.map((r) => r.slot));
    const lo = Math.min(b, ...reads.map((r) => r.slot));
    const amounts = new Map(reads.map((r) => [pairKey(r.walletId, r.asset), r]));
    let header: RpcBlock | null = null;
    const slots = lo < b ? await rpc.getBlocks(lo + 1, b) : [];
    await fetchBlocks(slots, async (slot, block) => {
      if (!block) throw blockMissing(slot, "listed by getBlocks has no block");
      for (const c of changesOf(block, owners).changes) {
        const r = amounts.get(pairKey(c.walletId, c.asset))!;
        if (slot > r.slot) r.amount += c.delta;
      }
      if (slot === b) header = block;
      return true;
    });
    header ??= await rpc.getBlockHeader(b);
    if (!header) throw blockMissing(b, "(a read's context slot) has no block");
    const h = header as RpcBlock;
    const changes: BalanceChangeInput[] = [...amounts.values()].filter((r) => r.amount !== 0n).map((r) => ({ walletId: r.walletId, asset: r.asset, txid: null, balance: r.amount }));
    log.info({ msg: "baseline", block: b, hash: h.blockhash, wallets: wallets.length, assets: assets.length });
    return {
      blocks: [{ save: { block: { chain: key, height: b, hash: h.blockhash, parentHash: h.previousBlockhash, time: h.blockTime ?? 0 }, changes }, within: (db) => saveFirstBlockWalletsIn(store, db, { chain: key, exactFrom: b, source: "baseline" }) }],
      scannedTo: b,
    };
  }

  /**
   * First start with `birthdaySlot`: the custody wallets held nothing before it, so every finalized block
   * from it is indexed (the first produced slot at or after it starts the history at zero).
   */
  async function birthdayBatch(birthday: number): Promise<FetchBatchResult> {
    const finalized = await rpc.getSlot("finalized");
    const [first] = finalized >= birthday ? await rpc.getBlocks(birthday, Math.min(finalized, birthday + RANGE - 1)) : [];
    if (first === undefined) throw new BackstopError("SOLANA__BIRTHDAY_NOT_FINALIZED", `No finalized block at or after birthday slot ${birthday} yet.`, { retryable: true });
    const block = await rpc.getBlock(first);
    if (!block) throw blockMissing(first, "listed by getBlocks has no block");
    log.info({ msg: "indexing from the wallets' birthday", block: first, birthday });
    return { blocks: [decoded(first, block)], scannedTo: first };
  }

  function decoded(slot: number, block: RpcBlock): DecodedBlock {
    const { changes, tokenAccounts: seen, transfers } = changesOf(block, owners);
    for (const [account, t] of seen) {
      if (tokenAccounts.has(account)) continue;
      tokenAccounts.add(account);
      log.info({ msg: "token account discovered", block: slot, account, wallet_id: t.walletId, mint: t.mint });
    }
    return {
      save: {
        block: { chain: key, height: slot, hash: block.blockhash, parentHash: block.previousBlockhash, time: block.blockTime ?? 0 },
        parentHeight: block.parentSlot,
        changes: changes.map((c) => ({ walletId: c.walletId, asset: c.asset, txid: c.txid, delta: c.delta })),
        transfers,
      },
    };
  }

  async function fetchBatch(p: { from: number; to: number; prev: { height: number; hash: string } | undefined; signal?: AbortSignal }): Promise<FetchBatchResult> {
    if (!p.prev) return birthdaySlot === undefined ? baselineBatch() : birthdayBatch(birthdaySlot);
    let prev = p.prev;
    const end = Math.min(p.to, p.from + RANGE - 1);
    // Near the tip (following), ask for each slot directly: a skipped slot costs one -32007 answer, which
    // is cheaper than a getBlocks call per poll. Further back, list produced slots first.
    const direct = end - p.from < DIRECT_SLOTS;
    const slots = direct ? Array.from({ length: end - p.from + 1 }, (_, i) => p.from + i) : await rpc.getBlocks(p.from, end);
    const blocks: DecodedBlock[] = [];
    let scannedTo = p.from - 1;
    let reorgAt: number | undefined;
    try {
      await fetchBlocks(slots, async (slot, block) => {
        if (p.signal?.aborted) return false;
        if (!block && direct) {
          scannedTo = slot; // skipped slot: empty
          return true;
        }
        if (!block) throw blockMissing(slot, "listed by getBlocks has no block");
        // The node called the parent skipped but it has a block: a node missing data, not a fork.
        if (block.parentSlot > prev.height && block.parentSlot < slot) throw blockMissing(block.parentSlot, `was reported skipped, but slot ${slot} builds on it`);
        if (block.parentSlot !== prev.height || block.previousBlockhash !== prev.hash) {
          reorgAt = slot;
          return false;
        }
        blocks.push(decoded(slot, block));
        prev = { height: slot, hash: block.blockhash };
        scannedTo = slot;
        return blocks.length < BATCH_BLOCKS;
      });
    } catch (error) {
      return { blocks, scannedTo, error };
    }
    if (reorgAt !== undefined) return { blocks, scannedTo, reorgAt };
    // Every listed slot handled: the whole window is scanned (skipped slots after the last block included).
    if (!p.signal?.aborted && blocks.length < BATCH_BLOCKS) scannedTo = end;
    return { blocks, scannedTo };
  }

  /**
   * Checks every counted (wallet, asset) balance against the chain's own accounts read at finalized
   * commitment. Each read is compared with the stored balance at that read's context slot (indexing up to
   * the newest read first), so a finalized slot moving between reads never causes a false alarm.
   * @throws SolanaBalanceMismatchError naming wallet, asset, slot and both amounts.
   */
  async function verify(p: { cursor: { height: number }; first: boolean; indexTo(height: number): Promise<boolean> }) {
    // Once per run after catching up, then every VERIFY_EVERY_MS.
    if (!p.first && verified && performance.now() - lastVerify < VERIFY_EVERY_MS) return;
    if (!wallets.length) return;
    const reads = await readChainBalances(wallets, p.cursor.height);
    const newest = Math.max(p.cursor.height, ...reads.map((r) => r.slot));
    if (newest > p.cursor.height && !(await p.indexTo(newest))) return; // not there yet: check next round
    const bySlot = new Map<number, Map<string, bigint>>();
    for (const slot of new Set(reads.map((r) => r.slot))) {
      const stored = await loadBalances(store, { chain: key, atHeight: slot });
      bySlot.set(slot, new Map(stored.map((b) => [pairKey(b.walletId, b.asset), b.amount])));
    }
    for (const r of reads) {
      const indexed = bySlot.get(r.slot)!.get(pairKey(r.walletId, r.asset)) ?? 0n;
      if (indexed !== r.amount) {
        const w = wallets.find((x) => x.id === r.walletId)!;
        throw new SolanaBalanceMismatchError({ chain: key, wallet: w.label, address: w.address, asset: r.asset, slot: r.slot, indexed, onChain: r.amount });
      }
    }
    lastVerify = performance.now();
    verified = true;
    log.info({ msg: "balances match the chain", block: newest, checked: reads.length });
  }

  /**
   * Backfills a wallet added to the indexed chain. With a birthday: a replay of its produced slots
   * [birthday, cursor] for it alone (exact from the birthday). Without: a baseline read of its balances at
   * a finalized slot B >= the cursor, kept until the cursor reaches B, then carried forward to the cursor
   * (exact from B; heights before B do not count it).
   */
  async function backfillWallet(p: { wallet: WalletStatus; cursor: { height: number; hash: string } }): Promise<WalletBackfill | { after: number }> {
    const w = { id: p.wallet.walletId, address: p.wallet.address! };
    const of = new Map([[w.address, w.id]]);
    const changes: BackfillChange[] = [];
    if (p.wallet.birthday !== null) {
      await replay({
        after: p.wallet.birthday - 1,
        to: p.cursor.height,
        of,
        end: p.cursor,
        wallet: p.wallet.label,
        each: (slot, block, cs) => {
          for (const c of cs) changes.push({ height: slot, blockHash: block.blockhash, txid: c.txid, asset: c.asset, delta: c.delta });
        },
      });
      return { exactFrom: p.wallet.birthday, source: "rescan", changes };
    }
    let reads = pendingReads.get(w.id);
    if (!reads) {
      reads = await readChainBalances([w], p.cursor.height);
      pendingReads.set(w.id, reads);
    }
    const b = Math.max(...reads.map((r) => r.slot));
    if (b > p.cursor.height) return { after: b };
    pendingReads.delete(w.id);
    const header = await headerAt(b);
    if (!header) throw blockMissing(b, "(a read's context slot) has no block");
    const amounts = new Map(reads.map((r) => [r.asset, { ...r }]));
    const after: BackfillChange[] = [];
    await replay({
      after: Math.min(...reads.map((r) => r.slot)),
      to: p.cursor.height,
      of,
      end: p.cursor,
      wallet: p.wallet.label,
      each: (slot, block, cs) => {
        for (const c of cs) {
          const r = amounts.get(c.asset)!;
          if (slot > b) after.push({ height: slot, blockHash: block.blockhash, txid: c.txid, asset: c.asset, delta: c.delta });
          else if (slot > r.slot) r.amount += c.delta;
        }
      },
    });
    for (const r of amounts.values()) changes.push({ height: b, blockHash: header.blockhash, txid: null, asset: r.asset, balance: r.amount });
    log.info({ msg: "baseline", wallet: p.wallet.label, block: b, hash: header.blockhash });
    return { exactFrom: b, source: "baseline", changes: [...changes, ...after] };
  }

  return {
    providers,
    blocksPerCommit: 1,
    depthFinality: false,
    validate: () => validateSolanaConfig(ctx.config, key),
    configError: (problems) => new SolanaConfigError({ chain: key, problems }),
    useProvider(i) {
      rpc = makeRpc(i);
    },
    prepare: () => checkMints(),
    async loadState(p) {
      const active = p.wallets.filter((w) => w.state === "active").map((w) => ({ id: w.walletId, label: w.label, address: w.address! }));
      // A changed set of counted wallets (one just backfilled) is checked against the chain at the next chance.
      if (active.map((w) => w.id).join() !== wallets.map((w) => w.id).join()) verified = false;
      wallets = active;
      owners = new Map(wallets.map((w) => [w.address, w.id]));
    },
    startHeight: (head) => birthdaySlot ?? head.finalized,
    fetchBatch,
    afterCatchUp: (p) => verify(p),
    backfillWallet,
  };
}
