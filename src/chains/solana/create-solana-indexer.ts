import { BackstopError } from "../../lib/errors.js";
import { sleep } from "../../lib/sleep.js";
import type { ResolvedConfig } from "../../lib/config.js";
import { loadBalances, loadCursor, loadHeaders, mapStoreError, rollbackTo, saveBlockIn, saveWallets, type BalanceChangeInput } from "../../store/index.js";
import type { Indexer, IndexerContext, IndexerRunParameters } from "../indexer.js";
import { computeSlotChanges } from "./compute-slot-changes.js";
import { createSolanaRpc, type RpcBlock, type SolanaRpc } from "./create-solana-rpc.js";
import {
  SolanaBalanceMismatchError,
  SolanaConfigError,
  SolanaDeepReorgError,
  SolanaGenesisMismatchError,
  SolanaMintError,
} from "./errors.js";
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

/**
 * The Solana indexer: follows finalized slots with one getBlock per produced slot (independent of
 * the number of wallets), derives exact SOL and SPL / Token-2022 changes of custody owners from
 * pre/post balances, and writes each slot with its cursor in one transaction (height = slot).
 * Skipped slots are empty. A stored slot no longer on the chain is rolled back. After catching up,
 * derived balances are checked against the chain's own accounts at the same finalized slot.
 * First start: balances read at the finalized slot (a baseline), or, with the chain option
 * `birthdaySlot` (custody wallets empty before it), every block from that slot on.
 */
export function createSolanaIndexer(ctx: IndexerContext): Indexer {
  const chainKey = ctx.chainKey;
  const chain = ctx.config.chains[chainKey];
  if (!chain || chain.descriptor.kind !== "solana") throw new SolanaConfigError({ chain: chainKey, problems: ["not a configured Solana chain"] });
  const { store } = ctx;
  const log = ctx.logger.child({ chain: chainKey });
  // Blocks come without the transactions that name no custody owner (never parsed: votes and the like).
  const rpc: SolanaRpc = createSolanaRpc({ chain: chainKey, urls: chain.rpc, timeoutMs: chain.rpcTimeoutMs, watched: () => owners });
  const assets = Object.values(ctx.config.assets).filter((a) => a.chain === chainKey);
  const native = assets.find((a) => a.native);
  const tokens = assets.filter((a) => !a.native);
  const mints = new Map(tokens.map((a) => [a.address!, a.id]));
  const walletConfigs = ctx.config.wallets.filter((w) => w.chain === chainKey);

  let owners = new Map<string, number>(); // owner address -> wallet id
  let wallets: { id: number; label: string; address: string }[] = [];
  const tokenAccounts = new Set<string>();
  let lastVerify = 0;
  let started = false;

  const key = (walletId: number, asset: string) => `${walletId}\u0000${asset}`;

  /** @throws SolanaGenesisMismatchError when the node serves another cluster. */
  async function checkGenesis() {
    const genesis = await rpc.getGenesisHash();
    if (genesis !== chain!.descriptor.genesisHash) throw new SolanaGenesisMismatchError({ chain: chainKey, expected: chain!.descriptor.genesisHash, actual: genesis });
  }

  /** Config, cluster identity and mints, all checked before anything is written. */
  async function checkChain() {
    const problems = validateSolanaConfig(ctx.config, chainKey);
    if (problems.length) throw new SolanaConfigError({ chain: chainKey, problems });
    await checkGenesis();
    if (!tokens.length) return;
    const mintProblems: string[] = [];
    const { value } = await rpc.getMultipleAccounts(tokens.map((t) => t.address!));
    tokens.forEach((t, i) => {
      const acc = value[i];
      const at = `assets.${t.id}.address`;
      const programs: string[] = Object.values(TOKEN_PROGRAMS);
      if (!acc) return mintProblems.push(`${at}: no account ${t.address} at the finalized slot (unknown mint)`);
      if (!programs.includes(acc.owner)) return mintProblems.push(`${at}: ${t.address} is owned by ${acc.owner}, not a token program (not a mint)`);
      const data = Buffer.from(acc.data[0], "base64");
      // Mint layout: 82 bytes (Token-2022 with extensions: AccountType 1 at offset 165); decimals at 44, is_initialized at 45.
      const isMint = data.length === 82 || (acc.owner === TOKEN_PROGRAMS["token-2022"] && data.length > 165 && data[165] === 1);
      if (!isMint || data[45] !== 1) return mintProblems.push(`${at}: ${t.address} is not an initialized mint`);
      if (data[44] !== t.decimals) mintProblems.push(`assets.${t.id}.decimals: the mint has ${data[44]} decimals, the config says ${t.decimals}`);
      const program = (t as { tokenProgram?: keyof typeof TOKEN_PROGRAMS }).tokenProgram;
      if (program && TOKEN_PROGRAMS[program] !== acc.owner) mintProblems.push(`assets.${t.id}.tokenProgram: the mint belongs to ${acc.owner}, not ${program}`);
      return undefined;
    });
    if (mintProblems.length) throw new SolanaMintError({ chain: chainKey, problems: mintProblems });
  }

  async function loadState() {
    const rows = await saveWallets(store, walletConfigs.map((w) => ({ chain: chainKey, label: w.label, kind: "address" as const, address: w.address! })));
    wallets = rows.map((r) => ({ id: r.id, label: r.label, address: r.address! }));
    owners = new Map(wallets.map((w) => [w.address, w.id]));
  }

  /** Reads every (wallet, asset) balance from the chain at finalized commitment, each with its context slot. */
  async function readChainBalances(minContextSlot?: number) {
    const reads: { walletId: number; asset: string; amount: bigint; slot: number }[] = [];
    if (native) {
      for (let i = 0; i < wallets.length; i += MULTIPLE_ACCOUNTS_MAX) {
        const batch = wallets.slice(i, i + MULTIPLE_ACCOUNTS_MAX);
        const r = await rpc.getMultipleAccounts(batch.map((w) => w.address), minContextSlot);
        batch.forEach((w, j) => reads.push({ walletId: w.id, asset: native.id, amount: BigInt(r.value[j]?.lamports ?? 0), slot: r.context.slot }));
      }
    }
    const pairs = wallets.flatMap((w) => tokens.map((t) => ({ w, t })));
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

  async function fetchBlocks(slots: number[], each: (slot: number, block: RpcBlock | null) => Promise<boolean>) {
    // Bounded prefetch: PREFETCH getBlock calls in flight, applied strictly in slot order.
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

  /**
   * First start: the balances at one finalized slot B. Reads come back at context slots >= F that
   * may differ (finalized moves); each read older than B is carried forward through the blocks in
   * (its slot, B], so all balances are exact at B. B is then stored as the first slot.
   */
  async function baseline() {
    const f = await rpc.getSlot("finalized");
    const reads = await readChainBalances(f);
    const b = Math.max(f, ...reads.map((r) => r.slot));
    const lo = Math.min(b, ...reads.map((r) => r.slot));
    const amounts = new Map(reads.map((r) => [key(r.walletId, r.asset), r]));
    let header: RpcBlock | null = null;
    const slots = lo < b ? await rpc.getBlocks(lo + 1, b) : [];
    await fetchBlocks(slots, async (slot, block) => {
      if (!block) throw new BackstopError("SOLANA__BLOCK_MISSING", `Finalized slot ${slot} listed by getBlocks has no block.`, { retryable: true });
      for (const c of computeSlotChanges({ chain: chainKey, block, owners, nativeAsset: native?.id, mints }).changes) {
        const r = amounts.get(key(c.walletId, c.asset))!;
        if (slot > r.slot) r.amount += c.delta;
      }
      if (slot === b) header = block;
      return true;
    });
    header ??= await rpc.getBlockHeader(b);
    if (!header) throw new BackstopError("SOLANA__BLOCK_MISSING", `Finalized slot ${b} (a read's context slot) has no block.`, { retryable: true });
    const h = header as RpcBlock;
    const changes: BalanceChangeInput[] = [...amounts.values()].filter((r) => r.amount !== 0n).map((r) => ({ walletId: r.walletId, asset: r.asset, txid: null, balance: r.amount }));
    await store.tx((db) => saveBlockIn(store, db, { block: { chain: chainKey, height: b, hash: h.blockhash, parentHash: h.previousBlockhash, time: h.blockTime ?? 0 }, changes, finalizedHeight: b }));
    log.info({ msg: "baseline", block: b, hash: h.blockhash, wallets: wallets.length, assets: assets.length });
  }

  /** Walks back from the cursor to the newest stored slot still on the finalized chain; rolls back to it. */
  async function reconcile(reason: string) {
    const cursor = await loadCursor(store, chainKey);
    if (!cursor) return;
    // A provider that switched clusters also "changes" stored slots: refuse before rolling anything back.
    await checkGenesis();
    const headers = await loadHeaders(store, { chain: chainKey, limit: chain!.headerWindow + 1 });
    for (const [i, h] of headers.entries()) {
      const onChain = await rpc.getBlockHeader(h.height);
      if (onChain?.blockhash === h.hash) {
        if (i === 0) return;
        if (i > chain!.finalityDepth) throw new SolanaDeepReorgError({ chain: chainKey, slot: headers[i - 1]!.height, storedHash: headers[i - 1]!.hash, depth: i, finalityDepth: chain!.finalityDepth });
        // Finalized data replaced: a cluster fault or a lying provider. Roll back and say so loudly.
        log.error({ msg: "finalized slot replaced, rolling back", reason, from_block: cursor.height, to_block: h.height, depth: i, block: h.hash });
        await rollbackTo(store, { chain: chainKey, height: h.height });
        await loadState();
        return;
      }
    }
    const oldest = headers[headers.length - 1]!;
    if (headers.length <= chain!.finalityDepth && headers.length <= chain!.headerWindow) {
      // Even the first stored slot (the baseline) was replaced: start over from a fresh baseline.
      log.error({ msg: "finalized slots replaced back to the baseline, re-reading balances", reason, from_block: cursor.height, to_block: oldest.height - 1 });
      await rollbackTo(store, { chain: chainKey, height: oldest.height - 1 });
      await loadState();
      await baseline();
      return;
    }
    throw new SolanaDeepReorgError({ chain: chainKey, slot: oldest.height, storedHash: oldest.hash, depth: headers.length, finalityDepth: chain!.finalityDepth });
  }

  async function applyBlock(slot: number, block: RpcBlock, cursor: { height: number; hash: string }, finalized: number): Promise<boolean> {
    if (block.parentSlot !== cursor.height || block.previousBlockhash !== cursor.hash) return false;
    const { changes, tokenAccounts: seen, transfers } = computeSlotChanges({ chain: chainKey, block, owners, nativeAsset: native?.id, mints });
    await store.tx((db) =>
      saveBlockIn(store, db, {
        block: { chain: chainKey, height: slot, hash: block.blockhash, parentHash: block.previousBlockhash, time: block.blockTime ?? 0 },
        parentHeight: block.parentSlot,
        changes: changes.map((c) => ({ walletId: c.walletId, asset: c.asset, txid: c.txid, delta: c.delta })),
        finalizedHeight: finalized,
        transfers,
      }),
    );
    for (const [account, t] of seen) {
      if (tokenAccounts.has(account)) continue;
      tokenAccounts.add(account);
      log.info({ msg: "token account discovered", block: slot, account, wallet_id: t.walletId, mint: t.mint });
    }
    if (changes.length) log.debug({ msg: "custody activity", block: slot, hash: block.blockhash, changes: changes.length });
    return true;
  }

  /** Applies every finalized slot after the cursor up to `target`. Returns false after a rollback. */
  async function catchUp(target: number, p: IndexerRunParameters, finalized: number): Promise<boolean> {
    const stored = (await loadCursor(store, chainKey))!;
    let cursor = { height: stored.height, hash: stored.hash };
    // Scan windows advance even through runs of skipped slots, where the cursor stays on the last block.
    let scanFrom = cursor.height + 1;
    while (scanFrom <= target && !p.signal?.aborted) {
      const end = Math.min(target, scanFrom + RANGE - 1);
      // Near the tip (following), ask for each slot directly: a skipped slot costs one -32007
      // answer, which is cheaper than a getBlocks call per poll. Further back, list produced slots first.
      const direct = end - scanFrom < DIRECT_SLOTS;
      const slots = direct ? Array.from({ length: end - scanFrom + 1 }, (_, i) => scanFrom + i) : await rpc.getBlocks(scanFrom, end);
      let ok = true;
      await fetchBlocks(slots, async (slot, block) => {
        if (p.signal?.aborted) return false;
        if (!block && direct) return true; // skipped slot: empty
        if (!block) throw new BackstopError("SOLANA__BLOCK_MISSING", `Finalized slot ${slot} listed by getBlocks has no block.`, { retryable: true });
        if (block.parentSlot > cursor.height && block.parentSlot < slot) {
          // The node called the parent skipped but it has a block: a node missing data, not a fork.
          throw new BackstopError("SOLANA__BLOCK_MISSING", `Slot ${block.parentSlot} was reported skipped, but slot ${slot} builds on it.`, { retryable: true });
        }
        if (!(await applyBlock(slot, block, cursor, finalized))) {
          ok = false;
          return false;
        }
        cursor = { height: slot, hash: block.blockhash };
        p.onProgress?.({ height: slot, tip: finalized });
        return true;
      });
      if (!ok) {
        await reconcile(`a slot after ${cursor.height} does not build on the stored slot`);
        return false;
      }
      scanFrom = end + 1;
    }
    return !p.signal?.aborted;
  }

  /**
   * Checks every derived (wallet, asset) balance against the chain's own accounts read at finalized
   * commitment. Each read is compared with the stored balance at that read's context.slot (indexing
   * up to the newest read first), so a finalized slot moving between reads never causes a false alarm.
   * @throws SolanaBalanceMismatchError naming wallet, asset and both amounts.
   */
  async function verify(p: IndexerRunParameters) {
    // Chain identity is rechecked with every balance check: a provider may switch clusters mid-run (TESTING.md B4).
    await checkGenesis();
    const cursor = (await loadCursor(store, chainKey))!;
    const reads = await readChainBalances(cursor.height);
    const newest = Math.max(cursor.height, ...reads.map((r) => r.slot));
    if (newest > cursor.height && !(await catchUp(newest, p, newest))) return; // rolled back: check next round
    const bySlot = new Map<number, Map<string, bigint>>();
    for (const slot of new Set(reads.map((r) => r.slot))) {
      const stored = await loadBalances(store, { chain: chainKey, atHeight: slot });
      bySlot.set(slot, new Map(stored.map((b) => [key(b.walletId, b.asset), b.amount])));
    }
    for (const r of reads) {
      const indexed = bySlot.get(r.slot)!.get(key(r.walletId, r.asset)) ?? 0n;
      if (indexed !== r.amount) {
        const w = wallets.find((x) => x.id === r.walletId)!;
        throw new SolanaBalanceMismatchError({ chain: chainKey, wallet: w.label, address: w.address, asset: r.asset, slot: r.slot, indexed, onChain: r.amount });
      }
    }
    lastVerify = performance.now();
    log.info({ msg: "balances match the chain", block: newest, checked: reads.length });
  }

  /**
   * First start with `birthdaySlot`: the custody wallets held nothing before it, so index every
   * finalized block from it (the first produced slot at or after it starts the history at zero).
   * The balance check after catching up proves the assumption.
   */
  async function startAtBirthday(birthday: number) {
    const finalized = await rpc.getSlot("finalized");
    const [first] = finalized >= birthday ? await rpc.getBlocks(birthday, Math.min(finalized, birthday + RANGE - 1)) : [];
    if (first === undefined) throw new BackstopError("SOLANA__BIRTHDAY_NOT_FINALIZED", `No finalized block at or after birthday slot ${birthday} yet.`, { retryable: true });
    const block = await rpc.getBlock(first);
    if (!block) throw new BackstopError("SOLANA__BLOCK_MISSING", `Finalized slot ${first} listed by getBlocks has no block.`, { retryable: true });
    const { changes, transfers } = computeSlotChanges({ chain: chainKey, block, owners, nativeAsset: native?.id, mints });
    await store.tx((db) =>
      saveBlockIn(store, db, {
        block: { chain: chainKey, height: first, hash: block.blockhash, parentHash: block.previousBlockhash, time: block.blockTime ?? 0 },
        changes: changes.map((c) => ({ walletId: c.walletId, asset: c.asset, txid: c.txid, delta: c.delta })),
        finalizedHeight: first,
        transfers,
      }),
    );
    log.info({ msg: "indexing from the wallets' birthday", block: first, birthday });
  }

  async function start() {
    if (started) return;
    await checkChain();
    await loadState();
    const birthday = (chain as { birthdaySlot?: number }).birthdaySlot;
    if (!(await loadCursor(store, chainKey))) await (birthday === undefined ? baseline() : startAtBirthday(birthday));
    else await reconcile("stored slot no longer finalized (checked at start)");
    started = true;
  }

  return {
    async run(p: IndexerRunParameters) {
      await start();
      let verified = false;
      for (;;) {
        try {
          const finalized = await rpc.getSlot("finalized");
          const target = p.to === undefined ? finalized : Math.min(finalized, p.to);
          const done = await catchUp(target, p, finalized);
          if (p.signal?.aborted) return;
          if (!done) continue;
          if (!verified || performance.now() - lastVerify > VERIFY_EVERY_MS) {
            await verify(p);
            verified = true;
          }
          if (p.once || (p.to !== undefined && target === p.to)) return;
          await sleep(chain!.pollIntervalMs, p.signal);
        } catch (thrown) {
          // A read that bypassed store.tx (a dropped Postgres connection) is typed here too.
          const err = mapStoreError(thrown, store.target);
          if (err instanceof BackstopError && err.retryable && !p.once) {
            log.warn({ msg: "indexer paused", code: err.code, error: err.shortMessage });
            await sleep(chain!.pollIntervalMs, p.signal);
            await loadState().catch(() => undefined);
            continue;
          }
          throw err;
        }
        if (p.signal?.aborted) return;
      }
    },
    async fetchStatus() {
      const tip = await rpc.getSlot("processed");
      const finalized = await rpc.getSlot("finalized");
      const cursor = await loadCursor(store, chainKey);
      return { tip, indexed: cursor?.height ?? null, finalized: cursor ? Math.min(cursor.height, finalized) : null };
    },
  };
}

