import { buildCaip2ChainId } from "../lib/caip2.js";
import type { ResolvedConfig } from "../lib/config.js";
import { StoreInvariantError } from "../store/errors.js";
import { loadCheckpoint, loadCheckpoints, loadCheckpointTip, saveCheckpoint, type StoredCheckpoint } from "../store/checkpoints.js";
import { loadAnchorHeaders, loadChainCursor, loadReservesAt } from "../store/load-reserves-at.js";
import { loadReserveWindow } from "../store/load-reserve-window.js";
import type { Store } from "../store/open-store.js";
import { loadLatestSnapshot, loadSnapshot, loadSnapshots, type SnapshotSummary } from "../liabilities/load-snapshot.js";
import { buildCheckpointDocument, type ChainReserves } from "./build-checkpoint-document.js";
import { computeReserveWindow } from "./compute-reserve-window.js";
import type { AnchorEntry, Discrepancy, SignedCheckpoint } from "./checkpoint-document.js";
import { chooseAnchor, type AnchorRule } from "./choose-anchor.js";
import { AnchorReadError, AnchorUnavailableError, CheckpointConflictError, CheckpointSnapshotNotFoundError, NoSigningKeyError, NotFinalizedPastError, ProvisionalCheckpointError, SigningKeyNotPublishedError, type OpenWindow } from "./errors.js";
import { formatSignedCheckpoint, signCheckpoint } from "./sign-checkpoint.js";
import { parseSigningKey, type SigningKey } from "./signing-key.js";
import { resolveBacking } from "./resolve-backing.js";

/** Default maxAnchorSkewSeconds per chain kind (config `chains.<key>.maxAnchorSkewSeconds`). */
export const DEFAULT_MAX_ANCHOR_SKEW_SECONDS = { bitcoin: 7200, evm: 600, solana: 120 } as const;

/** Default windowBlocks (W) per chain kind (config `chains.<key>.windowBlocks`); EVM: the chain's finality depth. */
export const DEFAULT_WINDOW_BLOCKS = { bitcoin: 6, solana: 150 } as const;
/** Default window dressing threshold, bps of anchored reserves (config `checkpoints.windowDressingBps`). */
export const DEFAULT_WINDOW_DRESSING_BPS = 1000;

/** W of a chain: its `windowBlocks`, else the default of its kind (EVM: its finality depth). */
export function resolveWindowBlocks(chain: ResolvedConfig["chains"][string]): number {
  if (chain.windowBlocks !== undefined) return chain.windowBlocks;
  const kind = chain.descriptor.kind;
  return kind === "evm" ? chain.finalityDepth : DEFAULT_WINDOW_BLOCKS[kind];
}

/** What creating a checkpoint needs of the config. */
export type CheckpointConfig = Pick<ResolvedConfig, "chains" | "assets" | "liabilityAssets" | "checkpoints">;

/** A full read of EVM balances at an anchor block (src/chains/evm/fetch-anchor-balances.ts), injected so reconcile stays free of RPC. */
export type FetchAnchorBalances = (p: { chain: string; height: number; hash: string; pairs: ReadonlyArray<{ wallet: string; asset: string }> }) => Promise<bigint[]>;

export type CreateCheckpointContext = {
  store: Store;
  config: CheckpointConfig;
  /** EVM full reads at the anchor; without it, EVM reserves are the store's values (no discrepancy check). */
  fetchAnchorBalances?: FetchAnchorBalances;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** Filled with the last attempt's milliseconds per phase (anchors, reserves, window, fullRead, document, signature, save): the benchmark's figures. */
  timings?: Record<string, number>;
};

export type CreateCheckpointParameters = {
  /** Default: the latest snapshot. */
  snapshotId?: string;
  /**
   * Wait for every chain to finalize past the snapshot's time and then past its window after the anchor
   * (default true); false: throw NotFinalizedPastError, or ProvisionalCheckpointError.
   */
  wait?: boolean;
  /** Poll interval while waiting, ms. Default 2000. */
  pollMs?: number;
};

export type CreateCheckpointReturnType = {
  /** false: the snapshot already had a standing checkpoint, returned as it is. */
  created: boolean;
  stored: StoredCheckpoint;
  signed: SignedCheckpoint;
};

/**
 * Creates the signed checkpoint of a snapshot (or returns its standing one): chooses each chain's anchor
 * (chooseAnchor), waits until every chain finalized anchor + W (before that the checkpoint is provisional and
 * nothing is signed), reads every counted wallet's balance there and the reserve window (one range read of
 * balance changes per chain) in one store snapshot, takes the full read of
 * EVM balances at the anchor hash, builds, signs and appends the document (seq = tip + 1, previous digest).
 * A standing checkpoint whose anchor was reorganised away is superseded by a new one (`invalidates`).
 * Retries when another writer appended first, or a reorg moved an anchor before the write.
 * @throws NoSigningKeyError, BadSigningKeyError, SigningKeyNotPublishedError, CheckpointSnapshotNotFoundError,
 *   NotFinalizedPastError, ProvisionalCheckpointError (wait false), AnchorUnavailableError, AnchorReadError
 */
export async function createCheckpoint(ctx: CreateCheckpointContext, p: CreateCheckpointParameters = {}): Promise<CreateCheckpointReturnType> {
  const { store, config } = ctx;
  if (!config.checkpoints.signingKey) throw new NoSigningKeyError();
  const key = parseSigningKey(config.checkpoints.signingKey, { env: config.checkpoints.signingKeyEnv });
  const snapshot = p.snapshotId === undefined ? await loadLatestSnapshot(store) : await loadSnapshot(store, { snapshotId: p.snapshotId });
  if (!snapshot) throw new CheckpointSnapshotNotFoundError({ snapshotId: p.snapshotId });
  const asOf = Math.floor(snapshot.asOfMs / 1000);
  requirePublishedKey(config, key, snapshot.asOfMs);

  for (let attempt = 0; ; attempt++) {
    const standing = (await loadCheckpoints(store, { snapshotId: snapshot.snapshotId })).filter((c) => c.supersededBy === null);
    let invalidates: number | null = null;
    const current = standing[standing.length - 1];
    if (current) {
      if (await anchorsStillStored(store, current.anchors)) {
        const stored = (await loadCheckpoint(store, { seq: current.seq }))!;
        return { created: false, stored, signed: JSON.parse(stored.signed) as SignedCheckpoint };
      }
      invalidates = current.seq;
    }
    const timings = ctx.timings ?? {};
    const read = await readAnchoredReserves(ctx, { snapshot, asOf, timings });
    if (read.kind === "wait" || read.kind === "provisional") {
      if (p.wait === false) {
        throw read.kind === "wait" ? new NotFinalizedPastError({ chains: read.chains, asOf: snapshot.asOf }) : new ProvisionalCheckpointError({ snapshotId: snapshot.snapshotId, chains: read.chains });
      }
      await (ctx.sleep ?? defaultSleep)(p.pollMs ?? 2000, ctx.signal);
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? new Error("aborted");
      attempt = -1; // waiting is not a failed attempt
      continue;
    }
    let t = performance.now();
    const chains = await applyFullReads(ctx, read.chains);
    timings.fullRead = performance.now() - t;
    t = performance.now();
    const document = buildCheckpointDocument({
      seq: (read.tip?.seq ?? 0) + 1,
      previousDigest: read.tip?.digest ?? null,
      invalidates,
      snapshot: { id: snapshot.snapshotId, asOf: snapshot.asOf, asOfTime: asOf, fileDigest: `sha256:${snapshot.contentHash}`, root: snapshot.root, proofVersion: snapshot.proofVersion },
      liabilities: snapshot.assets.map((a) => ({ asset: a.id, decimals: a.decimals, total: a.total })),
      chainAssets: resolveBacking(config),
      chains,
      windowDressingBps: config.checkpoints.windowDressingBps ?? DEFAULT_WINDOW_DRESSING_BPS,
    });
    timings.document = performance.now() - t;
    t = performance.now();
    const signed = signCheckpoint(document, key);
    timings.signature = performance.now() - t;
    t = performance.now();
    try {
      await saveCheckpoint(store, {
        seq: document.seq, digest: signed.digest, previousDigest: document.previousDigest, snapshotId: snapshot.snapshotId, status: document.status,
        invalidates, kid: key.jwk.kid, signed: formatSignedCheckpoint(signed), anchors: document.anchors.map((a) => ({ chain: a.chain, height: a.height, hash: a.hash })),
      });
    } catch (err) {
      // The tip moved (another writer) or an anchor was reorganised away: choose again on a fresh read.
      const retry = err instanceof StoreInvariantError || (err as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY" || (err as { code?: string }).code === "23505";
      if (!retry) throw err;
      if (attempt >= 4) throw new CheckpointConflictError({ seq: document.seq, cause: err });
      continue;
    }
    timings.save = performance.now() - t;
    return { created: true, stored: (await loadCheckpoint(store, { seq: document.seq }))!, signed };
  }
}

/** Where a snapshot without a standing checkpoint stands: waiting for finality past T, provisional (a window open), or ready to sign. */
export type CheckpointReadiness =
  | { state: "waiting"; chains: Array<{ chain: string; finalized: number | null }> }
  | { state: "provisional"; chains: OpenWindow[] }
  | { state: "ready" };

/**
 * Reads (never writes) whether a snapshot's checkpoint could be signed now: `checkpoint list` shows a
 * provisional one with the heights it waits for.
 * @throws CheckpointSnapshotNotFoundError, AnchorUnavailableError
 */
export async function loadCheckpointReadiness(ctx: Pick<CreateCheckpointContext, "store" | "config">, p: { snapshotId: string }): Promise<CheckpointReadiness> {
  const snapshot = await loadSnapshot(ctx.store, { snapshotId: p.snapshotId });
  if (!snapshot) throw new CheckpointSnapshotNotFoundError({ snapshotId: p.snapshotId });
  // Anchors and windows only: `status` calls this for every pending snapshot, and reserves are not needed to say where one stands.
  const read = await readAnchoredReserves(ctx, { snapshot, asOf: Math.floor(snapshot.asOfMs / 1000), timings: {}, anchorsOnly: true });
  if (read.kind === "wait") return { state: "waiting", chains: read.chains };
  if (read.kind === "provisional") return { state: "provisional", chains: read.chains };
  return { state: "ready" };
}

/** A snapshot without a standing checkpoint, and where it stands (`unavailable`: its anchors cannot be read, with why). */
export type PendingCheckpoint = { snapshotId: string } & (CheckpointReadiness | { state: "unavailable"; problem: string });

/**
 * Every imported snapshot that has no standing checkpoint (none, or only invalidated ones), newest first, with
 * its readiness: what `checkpoint list` and `status` show. Reads only.
 */
export async function loadPendingCheckpoints(ctx: Pick<CreateCheckpointContext, "store" | "config">): Promise<PendingCheckpoint[]> {
  const standing = new Set((await loadCheckpoints(ctx.store)).filter((c) => c.supersededBy === null).map((c) => c.snapshotId));
  const out: PendingCheckpoint[] = [];
  for (const s of await loadSnapshots(ctx.store)) {
    if (standing.has(s.snapshotId)) continue;
    const r = await loadCheckpointReadiness(ctx, { snapshotId: s.snapshotId })
      .catch((err: unknown) => ({ state: "unavailable" as const, problem: (err as { shortMessage?: string }).shortMessage ?? String(err) }));
    out.push({ snapshotId: s.snapshotId, ...r });
  }
  return out;
}

function requirePublishedKey(config: CheckpointConfig, key: SigningKey, asOfMs: number): void {
  const published = config.checkpoints.keys.find((k) => k.x === key.jwk.x);
  if (!published) throw new SigningKeyNotPublishedError({ kid: key.jwk.kid, x: key.jwk.x, problem: "is not listed in checkpoints.keys" });
  if (asOfMs < published.notBeforeMs || (published.notAfterMs !== null && asOfMs >= published.notAfterMs)) {
    throw new SigningKeyNotPublishedError({ kid: key.jwk.kid, x: key.jwk.x, problem: `is not valid at the snapshot's time ([${published.notBefore}, ${published.notAfter ?? "open"}))` });
  }
}

async function anchorsStillStored(store: Store, anchors: ReadonlyArray<{ chain: string; height: number; hash: string }>): Promise<boolean> {
  for (const a of anchors) {
    const [h] = await store.raw("SELECT hash FROM block_headers WHERE chain = ? AND height = ?", [a.chain, a.height]);
    if (!h || String(h.hash) !== a.hash) return false;
  }
  return true;
}

type ReadResult =
  | { kind: "wait"; chains: Array<{ chain: string; finalized: number | null }> }
  | { kind: "provisional"; chains: OpenWindow[] }
  | { kind: "ready"; tip: { seq: number; digest: string } | undefined; chains: Array<ChainReserves & { evmPairs?: Array<{ walletId: number; wallet: string; label: string; asset: string; store: bigint }> }> };

/** Anchors and reserves of every chain, in one store snapshot (`anchorsOnly`: the anchors and windows alone, no reserves read; `ready` then carries no chains). */
async function readAnchoredReserves(ctx: Pick<CreateCheckpointContext, "store" | "config">, p: { snapshot: SnapshotSummary; asOf: number; timings: Record<string, number>; anchorsOnly?: boolean }): Promise<ReadResult> {
  const { config } = ctx;
  return ctx.store.read(async (q) => {
    const waiting: Array<{ chain: string; finalized: number | null }> = [];
    const open: OpenWindow[] = [];
    p.timings.anchors = 0;
    p.timings.reserves = 0;
    p.timings.window = 0;
    const chains: Extract<ReadResult, { kind: "ready" }>["chains"] = [];
    for (const [key, chain] of Object.entries(config.chains).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const kind = chain.descriptor.kind;
      // Every chain, Bitcoin included, anchors on the block time (docs/decisions.md): Bitcoin's median time
      // past trails the clock by about an hour, so an MTP anchor would count about six blocks of activity
      // after T in reserves (deposits after the snapshot, not in its liabilities). Times that go backwards
      // are handled by the rule itself (the block before the first block after T).
      const rule: AnchorRule = "block-time";
      let t = performance.now();
      const cursor = await loadChainCursor(q, { chain: key });
      const finalized = cursor?.finalizedHeight ?? null;
      const headers = finalized === null ? [] : await loadAnchorHeaders(q, { chain: key, asOf: p.asOf, upTo: finalized, lookback: 1 });
      const choice = chooseAnchor({ headers, finalizedHeight: finalized, asOf: p.asOf, rule });
      p.timings.anchors += performance.now() - t;
      if (choice.kind === "wait") {
        waiting.push({ chain: key, finalized });
        continue;
      }
      if (choice.kind === "unavailable") throw new AnchorUnavailableError({ chain: key, problem: choice.problem });
      // The window after the anchor must be final before anything is read or signed: until then an outflow
      // right after the anchor could still appear (or be reorganised), so the checkpoint is provisional.
      const windowBlocks = resolveWindowBlocks(chain);
      if (finalized! < choice.height + windowBlocks) open.push({ chain: key, anchorHeight: choice.height, windowEnd: choice.height + windowBlocks, finalized: finalized! });
      // Nothing will be signed this time: skip the reads of the remaining chains (their anchors still say what they wait for).
      if (waiting.length || open.length || p.anchorsOnly) continue;
      const maxSkew = chain.maxAnchorSkewSeconds ?? DEFAULT_MAX_ANCHOR_SKEW_SECONDS[kind];
      const skew = p.asOf - choice.ruleTime;
      const anchor: AnchorEntry = {
        chain: key, caip2: buildCaip2ChainId(chain.descriptor), height: choice.height, hash: choice.hash, time: choice.time, ruleTime: choice.ruleTime, rule,
        finality: kind === "bitcoin" ? `${chain.finalityDepth} confirmations` : kind === "solana" ? "finalized commitment" : chain.descriptor.finalizedTag ? "finalized block tag" : `${chain.finalityDepth} blocks deep`,
        skewSeconds: skew, maxSkewSeconds: maxSkew, anchored: skew <= maxSkew,
      };
      t = performance.now();
      const assets = Object.values(config.assets).filter((a) => a.chain === key);
      const reserves = await loadReservesAt(q, { chain: key, height: choice.height, assets: assets.map((a) => a.id) });
      const totals: Record<string, bigint> = {};
      const counted = reserves.wallets.filter((w) => w.counted);
      const evmPairs: NonNullable<Extract<ReadResult, { kind: "ready" }>["chains"][number]["evmPairs"]> = [];
      for (const w of counted) {
        for (const a of assets) {
          const v = reserves.balances.get(w.walletId)?.get(a.id) ?? 0n;
          totals[a.id] = (totals[a.id] ?? 0n) + v;
          if (kind === "evm" && w.address) evmPairs.push({ walletId: w.walletId, wallet: w.address, label: w.label, asset: a.id, store: v });
        }
      }
      for (const a of assets) totals[a.id] ??= 0n;
      p.timings.reserves += performance.now() - t;
      t = performance.now();
      const changes = await loadReserveWindow(q, { chain: key, fromHeight: choice.height - windowBlocks, toHeight: choice.height + windowBlocks, assets: assets.map((a) => a.id) });
      const anchorBalances = new Map(counted.map((w) => [w.walletId, reserves.balances.get(w.walletId) ?? new Map<string, bigint>()]));
      const windowAssets = computeReserveWindow({ anchorHeight: choice.height, windowBlocks, assets: assets.map((a) => a.id), anchorBalances, changes });
      const walletLabels = new Map(counted.map((w) => [w.walletId, w.label]));
      p.timings.window += performance.now() - t;
      chains.push({
        anchor, totals, countedWallets: counted.length,
        excluded: reserves.wallets.filter((w) => !w.counted).map((w) => ({ wallet: w.label, reason: w.countedReason ?? w.reason ?? "not counted" })),
        addressEntries: counted.map((w) => w.address ?? w.descriptor ?? w.label),
        discrepancies: [],
        window: { blocks: windowBlocks, assets: windowAssets, walletLabels },
        evmPairs: kind === "evm" ? evmPairs : undefined,
      });
    }
    if (waiting.length) return { kind: "wait", chains: waiting };
    if (open.length) return { kind: "provisional", chains: open };
    return { kind: "ready", tip: await loadCheckpointTip(q), chains };
  });
}

/** EVM: the node's full read at the anchor hash is what counts; every difference from the store is a discrepancy. */
async function applyFullReads(ctx: CreateCheckpointContext, chains: Extract<ReadResult, { kind: "ready" }>["chains"]): Promise<ChainReserves[]> {
  const out: ChainReserves[] = [];
  for (const c of chains) {
    const { evmPairs, ...rest } = c;
    if (!evmPairs || !ctx.fetchAnchorBalances || evmPairs.length === 0) {
      out.push(rest);
      continue;
    }
    let node: bigint[];
    try {
      node = await ctx.fetchAnchorBalances({ chain: c.anchor.chain, height: c.anchor.height, hash: c.anchor.hash, pairs: evmPairs.map((x) => ({ wallet: x.wallet, asset: x.asset })) });
    } catch (cause) {
      throw new AnchorReadError({ chain: c.anchor.chain, height: c.anchor.height, cause });
    }
    const totals: Record<string, bigint> = Object.fromEntries(Object.keys(c.totals).map((k) => [k, 0n]));
    const discrepancies: Discrepancy[] = [];
    evmPairs.forEach((x, i) => {
      const v = node[i]!;
      totals[x.asset] = (totals[x.asset] ?? 0n) + v;
      if (v !== x.store) discrepancies.push({ chain: c.anchor.chain, wallet: x.label, asset: x.asset, height: c.anchor.height, store: x.store.toString(), node: v.toString() });
    });
    out.push({ ...rest, totals, discrepancies });
  }
  return out;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}
