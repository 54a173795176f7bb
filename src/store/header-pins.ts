import { and, asc, eq, sql } from "drizzle-orm";
import type { Db, Store } from "./open-store.js";

/** Why a header is kept past the header window: the chain's first indexed block, or a checkpoint anchor. */
export type HeaderPinReason = "first" | "checkpoint" | (string & {});

/**
 * Pins a header height so that pruning never deletes it (inside the caller's transaction). Idempotent.
 * Pinning a height whose header is already pruned keeps nothing: pin anchors when they are chosen.
 */
export async function saveHeaderPinIn(store: Store, db: Db, p: { chain: string; height: number; reason: HeaderPinReason }): Promise<void> {
  await db.insert(store.t.headerPins).values({ chain: p.chain, height: p.height, reason: p.reason }).onConflictDoNothing();
}

/** saveHeaderPinIn in its own transaction. */
export async function saveHeaderPin(store: Store, p: { chain: string; height: number; reason: HeaderPinReason }): Promise<void> {
  await store.tx((db) => saveHeaderPinIn(store, db, p));
}

/** A chain's pinned heights, ascending. */
export async function loadHeaderPins(store: Store, p: { chain: string }): Promise<Array<{ height: number; reason: string }>> {
  const { t } = store;
  const rows = await store.db.select().from(t.headerPins).where(eq(t.headerPins.chain, p.chain)).orderBy(asc(t.headerPins.height));
  return rows.map((r) => ({ height: Number(r.height), reason: r.reason }));
}

/**
 * Deletes a chain's headers below `below` (and older than `olderThan`), except pinned ones (inside the caller's transaction). Balances
 * at a pruned height stay readable (they need the balance rows, not the header); only the block hash at
 * that exact height is no longer known.
 */
export async function pruneHeadersIn(store: Store, db: Db, p: { chain: string; below: number; olderThan?: number }): Promise<void> {
  // One range delete on the (chain, height) primary key; pins are a handful of rows per chain. `olderThan`
  // (unix s): headers at or after that block time stay, so a snapshot imported late can still be anchored.
  const young = p.olderThan === undefined ? sql`` : sql` AND time < ${p.olderThan}`;
  await db
    .delete(store.t.blockHeaders)
    .where(sql`chain = ${p.chain} AND height < ${p.below}${young} AND NOT EXISTS (SELECT 1 FROM header_pins p WHERE p.chain = block_headers.chain AND p.height = block_headers.height)`);
}

/** The chain's first indexed height (its `first` pin), or undefined before the first block. */
export async function loadFirstHeight(store: Store, p: { chain: string }): Promise<number | undefined> {
  const { t } = store;
  const [row] = await store.db
    .select({ h: sql<number>`min(${t.headerPins.height})` })
    .from(t.headerPins)
    .where(and(eq(t.headerPins.chain, p.chain), eq(t.headerPins.reason, "first")));
  if (row?.h !== null && row?.h !== undefined) return Number(row.h);
  // A store whose first block predates its pin (not expected after migration 5): the oldest header.
  const [oldest] = await store.db.select({ h: sql<number>`min(${t.blockHeaders.height})` }).from(t.blockHeaders).where(eq(t.blockHeaders.chain, p.chain));
  return oldest?.h === null || oldest?.h === undefined ? undefined : Number(oldest.h);
}
