import { asc, eq, sql, type SQL } from "drizzle-orm";
import { loadDbNowMs, sqlNowMs } from "./db-clock.js";
import type { Store } from "./open-store.js";

/**
 * What a chain's follower is doing: catching up to the node's head, following it, paused on a retryable
 * failure (retried from the cursor), lagging (every provider is behind the store), halted on a fatal
 * error (it exited), or stopped (a `--once` run finished, or the process stopped cleanly).
 */
export type FollowerState = "catching_up" | "following" | "paused" | "lagging" | "halted" | "stopped";

/** A partial update of a chain's health: only the fields given change. */
export type ChainHealthInput = {
  chain: string;
  state?: FollowerState;
  /** The provider the follower reads from (host only, never credentials). */
  provider?: string;
  /** The node's head as just read (its read time is the database's now). */
  node?: { tip: number; finalized: number; safe?: number | null };
  indexedHeight?: number | null;
  finalizedHeight?: number | null;
  /** Blocks were just stored (last_block_at = now). */
  blockStored?: boolean;
  /** A rollback of this depth just happened (counted). */
  reorgDepth?: number;
  /** The last error (kept until a newer one). */
  error?: { code: string; message: string };
};

/** One chain's health as stored, with ages on the database's clock (ms; null when never). */
export type ChainHealth = {
  chain: string;
  state: FollowerState;
  provider: string | null;
  nodeTip: number | null;
  nodeFinalized: number | null;
  nodeSafe: number | null;
  nodeReadAgeMs: number | null;
  indexedHeight: number | null;
  finalizedHeight: number | null;
  lastBlockAgeMs: number | null;
  reorgCount: number;
  lastReorgDepth: number | null;
  lastReorgAgeMs: number | null;
  lastError: { code: string; message: string; ageMs: number } | null;
  updatedAgeMs: number;
  providers: ProviderHealth[];
};

/** One provider's health: last tip it reported, lagging since, last error, last disagreement seen. */
export type ProviderHealth = {
  host: string;
  lastTip: number | null;
  lastTipAgeMs: number | null;
  /** Ms since it started lagging (behind the store), null while it is not. */
  laggingForMs: number | null;
  lastErrorCode: string | null;
  lastErrorAgeMs: number | null;
  disagreement: { height: number; hash: string; expected: string; ageMs: number } | null;
};

export type ProviderHealthInput = {
  chain: string;
  host: string;
  tip?: number;
  /** true: lagging from now on (kept if already lagging); false: not lagging. */
  lagging?: boolean;
  errorCode?: string;
  /** A different block hash than ours at a finalized height. */
  disagreement?: { height: number; hash: string; expected: string };
};

/** Upserts a chain's health row (only the fields given change). Cheap: one statement. */
export async function saveChainHealth(store: Store, p: ChainHealthInput): Promise<void> {
  const { t } = store;
  const now = sql.raw(sqlNowMs(store.dialect));
  const set: Record<string, SQL | string | number | null> = { updatedAtMs: now };
  if (p.state !== undefined) set.state = p.state;
  if (p.provider !== undefined) set.provider = p.provider;
  if (p.node) Object.assign(set, { nodeTip: p.node.tip, nodeFinalized: p.node.finalized, nodeSafe: p.node.safe ?? null, nodeReadAtMs: now });
  if (p.indexedHeight !== undefined) set.indexedHeight = p.indexedHeight;
  if (p.finalizedHeight !== undefined) set.finalizedHeight = p.finalizedHeight;
  if (p.blockStored) set.lastBlockAtMs = now;
  if (p.reorgDepth !== undefined) Object.assign(set, { lastReorgDepth: p.reorgDepth, lastReorgAtMs: now, reorgCount: sql`${t.chainHealth.reorgCount} + 1` });
  if (p.error) Object.assign(set, { lastErrorCode: p.error.code, lastErrorMessage: p.error.message.slice(0, 500), lastErrorAtMs: now });
  // A first row: the set above, plus a state and a plain reorg count (the update's increment names the row).
  const insert = { ...set, chain: p.chain, state: p.state ?? "catching_up", reorgCount: p.reorgDepth === undefined ? 0 : 1 };
  await store.tx(async (db) => {
    await db
      .insert(t.chainHealth)
      .values(insert as typeof t.chainHealth.$inferInsert)
      .onConflictDoUpdate({ target: t.chainHealth.chain, set: set as Partial<typeof t.chainHealth.$inferInsert> });
  });
}

/** Upserts one provider's health row. */
export async function saveProviderHealth(store: Store, p: ProviderHealthInput): Promise<void> {
  const { t } = store;
  const now = sql.raw(sqlNowMs(store.dialect));
  const set: Record<string, SQL | string | number | null> = { updatedAtMs: now };
  if (p.tip !== undefined) Object.assign(set, { lastTip: p.tip, lastTipAtMs: now });
  if (p.lagging === true) set.laggingSinceMs = sql`COALESCE(${t.providerHealth.laggingSinceMs}, ${now})`;
  if (p.lagging === false) set.laggingSinceMs = null;
  if (p.errorCode !== undefined) Object.assign(set, { lastErrorCode: p.errorCode, lastErrorAtMs: now });
  if (p.disagreement) Object.assign(set, { disagreementAtMs: now, disagreementHeight: p.disagreement.height, disagreementHash: p.disagreement.hash, expectedHash: p.disagreement.expected });
  const insert: Record<string, unknown> = { chain: p.chain, host: p.host, ...set };
  if (p.lagging === true) insert.laggingSinceMs = now;
  await store.tx(async (db) => {
    await db
      .insert(t.providerHealth)
      .values(insert as typeof t.providerHealth.$inferInsert)
      .onConflictDoUpdate({ target: [t.providerHealth.chain, t.providerHealth.host], set: set as Partial<typeof t.providerHealth.$inferInsert> });
  });
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const age = (nowMs: number, at: unknown): number | null => (at === null || at === undefined ? null : Math.max(0, nowMs - Number(at)));

/** Every chain's health (or one chain's), with its providers and ages measured on the database's clock. */
export async function loadChainHealth(store: Store, p: { chain?: string } = {}): Promise<ChainHealth[]> {
  const { t } = store;
  const nowMs = await loadDbNowMs(store);
  const rows = await (p.chain === undefined ? store.db.select().from(t.chainHealth) : store.db.select().from(t.chainHealth).where(eq(t.chainHealth.chain, p.chain))).orderBy(asc(t.chainHealth.chain));
  const providers = await (p.chain === undefined ? store.db.select().from(t.providerHealth) : store.db.select().from(t.providerHealth).where(eq(t.providerHealth.chain, p.chain))).orderBy(asc(t.providerHealth.host));
  return rows.map((r) => ({
    chain: r.chain,
    state: r.state as FollowerState,
    provider: r.provider,
    nodeTip: num(r.nodeTip),
    nodeFinalized: num(r.nodeFinalized),
    nodeSafe: num(r.nodeSafe),
    nodeReadAgeMs: age(nowMs, r.nodeReadAtMs),
    indexedHeight: num(r.indexedHeight),
    finalizedHeight: num(r.finalizedHeight),
    lastBlockAgeMs: age(nowMs, r.lastBlockAtMs),
    reorgCount: Number(r.reorgCount),
    lastReorgDepth: num(r.lastReorgDepth),
    lastReorgAgeMs: age(nowMs, r.lastReorgAtMs),
    lastError: r.lastErrorCode ? { code: r.lastErrorCode, message: r.lastErrorMessage ?? "", ageMs: age(nowMs, r.lastErrorAtMs) ?? 0 } : null,
    updatedAgeMs: age(nowMs, r.updatedAtMs) ?? 0,
    providers: providers
      .filter((x) => x.chain === r.chain)
      .map((x) => ({
        host: x.host,
        lastTip: num(x.lastTip),
        lastTipAgeMs: age(nowMs, x.lastTipAtMs),
        laggingForMs: age(nowMs, x.laggingSinceMs),
        lastErrorCode: x.lastErrorCode,
        lastErrorAgeMs: age(nowMs, x.lastErrorAtMs),
        disagreement:
          x.disagreementHeight === null || x.disagreementHeight === undefined
            ? null
            : { height: Number(x.disagreementHeight), hash: x.disagreementHash ?? "", expected: x.expectedHash ?? "", ageMs: age(nowMs, x.disagreementAtMs) ?? 0 },
      })),
  }));
}
