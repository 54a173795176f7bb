import { isBackstopError, type BackstopError } from "../lib/errors.js";
import { recordBlocksIndexed, recordChainHead, recordReorg } from "../lib/metrics.js";
import { sleep } from "../lib/sleep.js";
import {
  acquireInstanceLock,
  loadCursor,
  loadHeaders,
  loadWalletStates,
  mapStoreError,
  pruneHeadersIn,
  rollbackTo,
  saveBlockIn,
  saveChainHealth,
  saveProviderHealth,
  saveWallets,
  saveWalletBackfill,
  syncWalletStates,
  type ChainHealthInput,
  type FollowerState,
  type InstanceLock,
  type InstanceLockLostError,
  type ProviderHealthInput,
  type WalletStatus,
} from "../store/index.js";
import type { ChainAdapter, ChainHead, DecodedBlock } from "./chain-adapter.js";
import { BirthdayAboveTipError, DeepReorgError, ProviderLaggingError } from "./errors.js";
import type { Indexer, IndexerContext, IndexerRunParameters } from "./indexer.js";

/** Chain identity (genesis hash, EVM chain id) of the provider in use is re-checked this often while following. */
const IDENTITY_CHECK_MS = 60_000;
/** Health is written at most this often while following (state changes and errors are written at once). */
const HEALTH_FLUSH_MS = 5_000;
/** While the cursor is more than a finality window below the node's finalized height, the head is re-read at most this often. */
const HEAD_REFRESH_MS = 10_000;
/** Other providers' hashes at the finalized height are compared with ours at most this often, when finality advances. */
const DISAGREEMENT_CHECK_MS = 60_000;
/** A `--once` run waits this long without any new block for a source that is behind (EVM: Ponder), then fails. */
const ONCE_WAIT_MS = 10 * 60_000;
/** Longest pause between retries after a retryable failure. */
const MAX_PAUSE_MS = 10_000;

/** Options for tests; production uses the defaults. */
export type FollowerOptions = {
  /** Ms between chain identity checks while following; default 60 000. */
  identityCheckMs?: number;
  /** Ms a `--once` run waits for a source that is behind; default 600 000. */
  onceWaitMs?: number;
  /** Ms between provider disagreement checks; default 60 000. */
  disagreementCheckMs?: number;
  /** Ms between health writes while following; default 5 000. */
  healthFlushMs?: number;
};

/**
 * The one follower of every chain (issue 8): it owns the cursor, the reorg walk-back against one provider,
 * the finality rule, the stored-tip check at start, pause-and-retry from the cursor (a `--once` run fails
 * instead), provider selection (a provider that lacks heights the store has is lagging: moved away from or
 * waited for, never a reason to roll back), wallet lifecycle (pending wallets backfilled before they
 * count), header pruning, chain health and the instance lock. The adapter fetches and decodes.
 * Finality rule: a rollback never removes a block recorded as final (the recorded finalized height never
 * decreases), and on block-count chains (`depthFinality`) never one `finalityDepth` or more deep.
 * @throws BackstopError from `run`: DeepReorgError, WrongNetworkError, the adapter's fatal errors; with `once`, any error
 */
export function createFollower(ctx: IndexerContext, adapter: ChainAdapter, opts: FollowerOptions = {}): Indexer {
  const { store, config, chainKey: key } = ctx;
  const chain = config.chains[key]!;
  const log = ctx.logger.child({ chain: key });
  const obs = ctx.observer;
  const providers = adapter.providers;
  const flushMs = opts.healthFlushMs ?? HEALTH_FLUSH_MS;
  const provState = providers.map(() => ({ lagging: false, identityOk: false, tip: null as number | null, tipDirty: false }));
  let selected = 0;
  let identityAt = 0;
  let cachedHead: { head: ChainHead; at: number } | undefined;
  let disagreementAt = Number.NEGATIVE_INFINITY;
  let disagreementHeight = -1;
  let wallets: WalletStatus[] = [];
  let state: FollowerState | undefined;
  let healthPatch: ChainHealthInput = { chain: key };
  let lastFlush = 0;

  // ---------------------------------------------------------------- health (written as things happen, cheaply)

  async function flushHealth() {
    const patch = healthPatch;
    healthPatch = { chain: key };
    lastFlush = performance.now();
    try {
      await saveChainHealth(store, patch);
      for (const [i, s] of provState.entries()) {
        if (!s.tipDirty || s.tip === null) continue;
        s.tipDirty = false;
        await saveProviderHealth(store, { chain: key, host: providers[i]!.host, tip: s.tip });
      }
    } catch (err) {
      // Health is best effort: a store that cannot take it now gets the next flush.
      log.debug({ msg: "health not written", error: isBackstopError(err) ? err.shortMessage : String(err) });
    }
  }

  async function recordHealth(patch: Omit<ChainHealthInput, "chain">, now = false) {
    healthPatch = { ...healthPatch, ...patch, blockStored: healthPatch.blockStored || patch.blockStored };
    if (now || patch.reorgDepth !== undefined || patch.error || performance.now() - lastFlush >= flushMs) await flushHealth();
  }

  async function recordProvider(p: Omit<ProviderHealthInput, "chain">) {
    try {
      await saveProviderHealth(store, { chain: key, ...p });
    } catch (err) {
      log.debug({ msg: "provider health not written", error: isBackstopError(err) ? err.shortMessage : String(err) });
    }
  }

  async function setState(next: FollowerState, err?: BackstopError | { code: string; shortMessage: string }) {
    const error = err ? { code: err.code, message: err.shortMessage } : undefined;
    if (next === state && !error) return;
    state = next;
    obs?.onStateChange?.({ chain: key, state: next, error });
    await recordHealth({ state: next, ...(error ? { error } : {}) }, true);
  }

  // ---------------------------------------------------------------- providers

  /**
   * Reads the head from the provider in use, or the next one: a provider whose tip is below the stored
   * cursor lacks heights the store has: it is lagging (logged once), and another one is used. When every
   * provider lags, ProviderLaggingError (retryable: the follower waits; nothing is rolled back).
   */
  async function selectProvider(cursorHeight: number | null): Promise<ChainHead> {
    const order = [selected, ...providers.keys()].filter((i, n, all) => all.indexOf(i) === n);
    const behind: Array<{ host: string; tip: number | null }> = [];
    let lastError: unknown;
    for (const i of order) {
      const p = providers[i]!;
      const s = provState[i]!;
      try {
        if (!s.identityOk) {
          await p.checkIdentity();
          s.identityOk = true;
          if (i === selected) identityAt = performance.now();
        }
        const head = await p.fetchHead();
        s.tip = head.tip;
        s.tipDirty = true;
        if (cursorHeight !== null && head.tip < cursorHeight) {
          behind.push({ host: p.host, tip: head.tip });
          if (!s.lagging) {
            s.lagging = true;
            log.warn({ msg: "lagging", code: "CHAIN__PROVIDER_LAGGING", provider: p.host, provider_tip: head.tip, block: cursorHeight });
            await recordProvider({ host: p.host, tip: head.tip, lagging: true });
          }
          continue;
        }
        if (s.lagging) {
          s.lagging = false;
          log.info({ msg: "provider caught up", provider: p.host, provider_tip: head.tip });
          await recordProvider({ host: p.host, tip: head.tip, lagging: false });
        }
        if (i !== selected) {
          log.warn({ msg: "switching provider", from: providers[selected]!.host, to: p.host, provider_tip: head.tip });
          selected = i;
          identityAt = performance.now();
          adapter.useProvider(i);
        }
        return head;
      } catch (err) {
        if (!isBackstopError(err) || !err.retryable) throw err;
        lastError = err;
        await recordProvider({ host: p.host, errorCode: err.code });
      }
    }
    if (behind.length) throw new ProviderLaggingError({ chain: key, indexed: cursorHeight!, providers: behind });
    throw lastError;
  }

  /** The head to follow; while catching up far below finality, a recent one is reused (RPC calls per block stay flat, as the EVM mirror's did). */
  async function readHead(cursorHeight: number | null): Promise<ChainHead> {
    const identityDue = performance.now() - identityAt > (opts.identityCheckMs ?? IDENTITY_CHECK_MS);
    if (identityDue) provState[selected]!.identityOk = false;
    // Only far below (a finality window under the finalized height): near the head, e.g. a Solana cursor on
    // the last produced slot below a run of skipped ones, every round reads a fresh head.
    const far = cachedHead !== undefined && cursorHeight !== null && cursorHeight < cachedHead.head.finalized - chain.finalityDepth;
    if (!identityDue && cachedHead && far && performance.now() - cachedHead.at < HEAD_REFRESH_MS) {
      return cachedHead.head;
    }
    const head = await selectProvider(cursorHeight);
    cachedHead = { head, at: performance.now() };
    const host = providers[selected]!.host;
    recordChainHead(key, head.tip);
    obs?.onHead?.({ chain: key, provider: host, ...head });
    await recordHealth({ node: { tip: head.tip, finalized: head.finalized, safe: head.safe ?? null }, provider: host });
    return head;
  }

  // ---------------------------------------------------------------- reorgs

  /**
   * Walks back from the cursor through the stored headers, against the provider in use only, to the newest
   * block it still has; rolls back to it in one transaction. Never below a block recorded as final (nor,
   * on block-count chains, `finalityDepth` or more deep): DeepReorgError instead. A provider that lacks a
   * stored height is lagging, not a reorg: ProviderLaggingError, nothing rolled back.
   * Returns true when it rolled back.
   */
  async function reconcile(reason: string): Promise<boolean> {
    const cursor = await loadCursor(store, key);
    if (!cursor) return false;
    const provider = providers[selected]!;
    const finalized = cursor.finalizedHeight;
    const limit = Math.max(chain.headerWindow, finalized === null ? 0 : cursor.height - finalized) + 1;
    const headers = await loadHeaders(store, { chain: key, limit });
    let above: { height: number; storedHash: string; nodeHash: string | null } | undefined;
    const deep = async (atDepth: number) => {
      // A provider serving another chain looks like a reorg: say so instead.
      await provider.checkIdentity();
      const at = above ?? { height: cursor.height, storedHash: cursor.hash, nodeHash: null };
      return new DeepReorgError({ chain: key, depth: atDepth, finalityDepth: adapter.depthFinality ? chain.finalityDepth : null, finalizedHeight: finalized, height: at.height, storedHash: at.storedHash, nodeHash: at.nodeHash, provider: provider.host });
    };
    for (const h of headers) {
      // Below the recorded finalized height there is nothing a rollback may remove.
      if (finalized !== null && h.height < finalized) throw await deep(cursor.height - h.height);
      const node = await provider.fetchHashAt(h.height);
      if (node.kind === "beyond-tip") throw new ProviderLaggingError({ chain: key, indexed: cursor.height, providers: [{ host: provider.host, tip: null }] });
      if (node.kind === "block" && node.hash === h.hash) {
        if (h.height === cursor.height) return false;
        const depth = cursor.height - h.height;
        if ((finalized !== null && h.height < finalized) || (adapter.depthFinality && depth >= chain.finalityDepth)) throw await deep(depth);
        await provider.checkIdentity();
        log.warn({ msg: "reorg", reason, from_height: cursor.height, to_height: h.height, depth, block: h.hash, provider: provider.host });
        await rollbackTo(store, { chain: key, height: h.height });
        recordReorg(key, depth);
        obs?.onReorg?.({ chain: key, depth, fromHeight: cursor.height, toHeight: h.height });
        await recordHealth({ reorgDepth: depth, indexedHeight: h.height });
        cachedHead = undefined;
        await reloadState();
        return true;
      }
      above = { height: h.height, storedHash: h.hash, nodeHash: node.kind === "block" ? node.hash : null };
    }
    throw await deep(headers.length ? cursor.height - headers[headers.length - 1]!.height + 1 : 0);
  }

  // ---------------------------------------------------------------- blocks

  async function reloadState() {
    wallets = await loadWalletStates(store, { chain: key });
    await adapter.loadState({ wallets });
  }

  /** Stores decoded blocks in ONE transaction, each with its cursor, then prunes old headers in it. */
  async function commit(blocks: readonly DecodedBlock[], head: ChainHead, recordedFinalized: number | null): Promise<number | null> {
    const last = blocks[blocks.length - 1]!.save.block;
    const finalizedAfter = Math.max(recordedFinalized ?? -1, Math.min(head.finalized, last.height));
    // Kept: the header window, everything above the recorded finalized height (a rollback may walk there),
    // headers younger than headerRetentionSeconds (a late snapshot's anchor), pins.
    const keepFrom = finalizedAfter < 0 ? null : Math.min(last.height - chain.headerWindow + 1, finalizedAfter);
    try {
      await store.tx(async (db) => {
        for (const b of blocks) {
          await saveBlockIn(store, db, { ...b.save, finalizedHeight: head.finalized >= 0 ? head.finalized : undefined });
          await b.within?.(db);
        }
        if (keepFrom !== null && keepFrom > 0) await pruneHeadersIn(store, db, { chain: key, below: keepFrom, olderThan: last.time - chain.headerRetentionSeconds });
      });
    } catch (err) {
      await reloadState().catch(() => undefined);
      throw err;
    }
    const active = blocks.filter((b) => b.save.changes.length).length;
    if (active) log.debug({ msg: "custody activity", block: last.height, hash: last.hash, blocks: active });
    recordBlocksIndexed(key, blocks.length);
    obs?.onBlocksIndexed?.({ chain: key, count: blocks.length, height: last.height, tip: head.tip });
    await recordHealth({ blockStored: true, indexedHeight: last.height, finalizedHeight: finalizedAfter >= 0 ? finalizedAfter : null });
    return finalizedAfter >= 0 ? finalizedAfter : null;
  }

  type CatchUpResult = { scannedTo: number; applied: number; rolledBack: boolean; moved: boolean; waiting?: BackstopError };

  /** Stores every block after the cursor up to `target`, batch by batch as the adapter decodes them. */
  async function catchUp(target: number, head: ChainHead, p: IndexerRunParameters): Promise<CatchUpResult> {
    const cursor = await loadCursor(store, key);
    let prev = cursor ? { height: cursor.height, hash: cursor.hash } : undefined;
    let recordedFinalized = cursor?.finalizedHeight ?? null;
    let from = cursor ? cursor.height + 1 : adapter.startHeight(head);
    const out: CatchUpResult = { scannedTo: from - 1, applied: 0, rolledBack: false, moved: false };
    while (from <= target && !p.signal?.aborted) {
      const r = await adapter.fetchBatch({ from, to: target, prev, head, signal: p.signal });
      const per = adapter.blocksPerCommit ?? (r.blocks.length || 1);
      for (let i = 0; i < r.blocks.length; i += per) {
        const group = r.blocks.slice(i, i + per);
        recordedFinalized = await commit(group, head, recordedFinalized);
        const last = group[group.length - 1]!.save.block;
        prev = { height: last.height, hash: last.hash };
        out.applied += group.length;
        p.onProgress?.({ height: last.height, tip: head.tip });
      }
      out.scannedTo = Math.max(out.scannedTo, r.scannedTo);
      if (r.error !== undefined) throw r.error;
      if (r.reorgAt !== undefined) {
        out.rolledBack = await reconcile(`block ${r.reorgAt} does not extend the stored block ${prev?.height ?? "-"}`);
        out.scannedTo = -1;
        return out;
      }
      if (r.moved) return { ...out, moved: true, scannedTo: -1 };
      if (r.waiting) return { ...out, waiting: r.waiting };
      if (r.scannedTo < from) break;
      from = r.scannedTo + 1;
    }
    return out;
  }

  // ---------------------------------------------------------------- wallets

  /** Backfills wallets added to the indexed chain, one at a time, each in one transaction with its activation. */
  async function backfillPending(p: IndexerRunParameters, indexTo: (height: number) => Promise<boolean>) {
    if (!adapter.backfillWallet) return;
    let changed = false;
    for (const w of wallets.filter((x) => x.state === "pending")) {
      // A baseline read at a slot the cursor has not reached yet: index up to it, then ask again (bounded).
      for (let attempt = 0; attempt < 3 && !p.signal?.aborted; attempt++) {
        const cursor = await loadCursor(store, key);
        if (!cursor) return;
        const t0 = performance.now();
        log.info({ msg: "backfilling wallet", wallet: w.label, from: w.birthday ?? chain.startHeight, block: cursor.height });
        const r = await adapter.backfillWallet({ wallet: w, cursor: { height: cursor.height, hash: cursor.hash }, signal: p.signal });
        if ("after" in r) {
          await indexTo(r.after);
          continue;
        }
        await saveWalletBackfill(store, { chain: key, walletId: w.walletId, expectCursor: { height: cursor.height, hash: cursor.hash }, ...r });
        log.info({ msg: "wallet backfilled", wallet: w.label, source: r.source, exact_from: r.exactFrom, block: cursor.height, changes: r.changes.length, ms: Math.round(performance.now() - t0) });
        changed = true;
        break;
      }
    }
    if (changed) await reloadState();
  }

  // ---------------------------------------------------------------- start and run

  /**
   * Once per follower (the config does not change while it lives): config problems (before any call), the
   * provider's identity and head, the adapter's node checks, wallet birthdays, then wallets and their states.
   * Nothing is written before every check passed.
   */
  async function prepareFollower() {
    const problems = adapter.validate();
    if (problems.length) throw adapter.configError(problems);
    const cursor = await loadCursor(store, key);
    const head = await readHead(cursor?.height ?? null);
    await adapter.prepare({ provider: providers[selected]! });
    const configured = config.wallets.map((w, i) => ({ w, i })).filter(({ w }) => w.chain === key);
    const early = configured.filter(({ w }) => w.birthday !== undefined && w.birthday > head.tip);
    if (early.length) {
      throw new BirthdayAboveTipError({ chain: key, tip: head.tip, provider: providers[selected]!.host, wallets: early.map(({ w, i }) => ({ path: `wallets[${i}]`, label: w.label, birthday: w.birthday! })) });
    }
    const rows = await saveWallets(
      store,
      configured.map(({ w }) => ({ chain: key, label: w.label, kind: w.descriptor ? "descriptor" : "address", address: w.address ?? null, descriptor: w.descriptor ?? null, gapLimit: w.descriptor ? w.gapLimit : null })),
    );
    wallets = await syncWalletStates(store, {
      chain: key,
      cursorHeight: cursor?.height ?? null,
      configured: rows.map((r, n) => ({ walletId: r.id, birthday: configured[n]!.w.birthday ?? null })),
      pendingReason: ({ birthday, readded }) =>
        adapter.pendingReason ??
        `${readded ? "configured again after removal: its history is rebuilt" : "added to an indexed chain: it counts once backfilled"} from height ${birthday ?? chain.startHeight} to the cursor`,
    });
    for (const w of wallets) if (w.state !== "active") log.warn({ msg: `wallet ${w.state}`, wallet: w.label, reason: w.reason });
    await adapter.loadState({ wallets });
  }

  /** After catching up: other providers' hashes at the recorded finalized height must equal ours (rate-limited). */
  async function checkDisagreement() {
    if (providers.length < 2 || performance.now() - disagreementAt < (opts.disagreementCheckMs ?? DISAGREEMENT_CHECK_MS)) return;
    const cursor = await loadCursor(store, key);
    const height = cursor?.finalizedHeight ?? null;
    if (height === null || height <= disagreementHeight) return;
    const [ours] = await loadHeaders(store, { chain: key, toHeight: height, limit: 1 });
    if (!ours || ours.height !== height) return;
    disagreementAt = performance.now();
    disagreementHeight = height;
    for (const [i, p] of providers.entries()) {
      if (i === selected) continue;
      const theirs = await p.fetchHashAt(height).catch(() => undefined);
      if (!theirs || theirs.kind === "beyond-tip") continue;
      const hash = theirs.kind === "block" ? theirs.hash : "(no block)";
      if (hash === ours.hash) continue;
      log.error({ msg: "provider disagreement", code: "CHAIN__PROVIDER_DISAGREEMENT", provider: p.host, block: height, hash, expected: ours.hash, expected_from: providers[selected]!.host });
      await recordProvider({ host: p.host, disagreement: { height, hash, expected: ours.hash } });
    }
  }

  let prepared = false;

  async function follow(p: IndexerRunParameters): Promise<void> {
    let started = false;
    let firstCatchUp = true;
    let failures = 0;
    let waitingSince: number | undefined;
    let keep = false;
    const indexTo = async (height: number) => {
      const head = await readHead((await loadCursor(store, key))?.height ?? null);
      const r = await catchUp(Math.min(height, head.tip), head, p);
      return !r.rolledBack && r.scannedTo >= height;
    };
    try {
      for (;;) {
        if (p.signal?.aborted) return;
        try {
          if (!started) {
            await setState("catching_up");
            // Every run re-checks the identity of each provider it uses before anything else.
            for (const s of provState) s.identityOk = false;
            cachedHead = undefined;
            if (!prepared) {
              await prepareFollower();
              prepared = true;
            }
            // A reorg may have happened while we were down: re-validate the stored tip before going forward.
            await readHead((await loadCursor(store, key))?.height ?? null);
            await reconcile("stored tip no longer on the node's chain (checked at start)");
            started = true;
          }
          const cursor = await loadCursor(store, key);
          const head = await readHead(cursor?.height ?? null);
          const target = p.to === undefined ? head.tip : Math.min(head.tip, p.to);
          // Near the head, a reorg can replace the stored tip without a new block arriving: check it each round
          // (not when the stored tip is recorded final, e.g. every Solana slot: the next block's link checks it).
          const tipFinal = cursor?.finalizedHeight !== null && cursor?.finalizedHeight !== undefined && cursor.height <= cursor.finalizedHeight;
          if (cursor && !tipFinal && cursor.height >= head.finalized && (await reconcile("tip check"))) continue;
          const r = await catchUp(target, head, p);
          if (p.signal?.aborted) return;
          if (r.applied > 0) waitingSince = undefined;
          failures = 0;
          if (r.rolledBack || r.moved) continue;
          if (r.scannedTo >= target) {
            await backfillPending(p, indexTo);
            const c = await loadCursor(store, key);
            if (c && adapter.afterCatchUp) await adapter.afterCatchUp({ cursor: { height: c.height, hash: c.hash }, first: firstCatchUp, indexTo, signal: p.signal });
            firstCatchUp = false;
            await checkDisagreement();
            if (p.once || (p.to !== undefined && target === p.to)) {
              keep = p.once === true;
              return;
            }
            await setState("following");
            await sleep(chain.pollIntervalMs, p.signal);
            continue;
          }
          // Not at the head yet (or waiting for a source that is behind): catching up, also after a pause.
          await setState("catching_up");
          if (r.waiting) {
            waitingSince ??= performance.now();
            if (p.once && performance.now() - waitingSince > (opts.onceWaitMs ?? ONCE_WAIT_MS)) throw r.waiting;
            log.debug({ msg: "waiting", code: r.waiting.code, error: r.waiting.shortMessage });
          }
          if (r.applied === 0) await sleep(chain.pollIntervalMs, p.signal);
        } catch (thrown) {
          // A read that bypassed store.tx (a dropped Postgres connection) is typed here too.
          const err = mapStoreError(thrown, store.target);
          if (isBackstopError(err) && err.retryable && !p.once && !p.signal?.aborted) {
            failures++;
            const lagging = err instanceof ProviderLaggingError;
            // Lagging was logged once per provider already; a pause is logged each time (it is an outage).
            if (!lagging) log.warn({ msg: "indexer paused", code: err.code, error: err.shortMessage, attempt: failures });
            await setState(lagging ? "lagging" : "paused", err);
            // A poll interval for the first few failures (a dropped connection recovers at once), then doubling.
            await sleep(Math.min(chain.pollIntervalMs * 2 ** Math.max(0, Math.min(failures - 3, 10)), Math.max(MAX_PAUSE_MS, chain.pollIntervalMs)), p.signal);
            cachedHead = undefined;
            // Rebuild in-memory state from the store: the cursor did not move, nothing is skipped.
            if (prepared) await reloadState().catch(() => undefined);
            continue;
          }
          await setState("halted", isBackstopError(err) ? err : { code: (err as Error)?.name ?? "Error", shortMessage: String((err as Error)?.message ?? err).slice(0, 300) });
          throw err;
        }
      }
    } finally {
      if (state !== "halted") await setState("stopped");
      await flushHealth();
      await adapter.end?.({ keep: keep && !p.signal?.aborted });
    }
  }

  const inner: Indexer = {
    run: (p) => follow(p),
    close: async () => adapter.end?.({ keep: false }),
    async fetchStatus() {
      const head = await providers[selected]!.fetchHead();
      const cursor = await loadCursor(store, key);
      const finalized = cursor ? Math.min(cursor.height, head.finalized) : null;
      return { tip: head.tip, indexed: cursor?.height ?? null, finalized: finalized !== null && finalized >= 0 ? finalized : null };
    },
  };
  return withInstanceLock(ctx, inner);
}

/**
 * Wraps an indexer so each `run` first takes the chain's instance lock (`chain:<key>` in the store),
 * renews it while running and releases it at the end (TESTING.md C9). A lock found taken over stops the
 * run (its signal aborts between blocks) and the run rejects with InstanceLockLostError. A store that is
 * busy or unreachable delays a follower's start; a `once` run fails instead.
 * @throws InstanceLockHeldError when another live process holds the lock
 */
export function withInstanceLock(ctx: IndexerContext, inner: Indexer, opts: { ttlMs?: number } = {}): Indexer {
  return {
    async run(p) {
      const ac = new AbortController();
      let lost: InstanceLockLostError | undefined;
      const acquire = () =>
        acquireInstanceLock(ctx.store, {
          name: `chain:${ctx.chainKey}`,
          ttlMs: opts.ttlMs,
          onLost: (err) => {
            lost = err;
            ctx.logger.error({ msg: "instance lock lost; stopping", chain: ctx.chainKey, code: err.code });
            ac.abort();
          },
        });
      let lock: InstanceLock;
      for (let attempt = 1; ; attempt++) {
        try {
          lock = await acquire();
          break;
        } catch (err) {
          // A store that is busy (e.g. a long snapshot import holds SQLite's write lock) or briefly
          // unreachable delays a follower's start; a held lock, or any error in a `once` run, does not wait.
          if (!isBackstopError(err) || !err.retryable || p.once || p.signal?.aborted) throw err;
          ctx.logger.warn({ msg: "waiting for the store to take the instance lock", chain: ctx.chainKey, code: err.code, attempt });
          await sleep(Math.min(30_000, 1_000 * attempt), p.signal);
          if (p.signal?.aborted) return;
        }
      }
      const forward = () => ac.abort();
      if (p.signal?.aborted) ac.abort();
      p.signal?.addEventListener("abort", forward, { once: true });
      try {
        await inner.run({ ...p, signal: ac.signal });
      } catch (err) {
        throw lost ?? err;
      } finally {
        p.signal?.removeEventListener("abort", forward);
        await lock.release();
      }
      if (lost) throw lost;
    },
    fetchStatus: () => inner.fetchStatus(),
    close: async () => inner.close?.(),
  };
}
