import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migration0012 } from "../../src/store/migrations/0012-latest-balances.js";
import { loadReservesAt, rollbackTo, saveBlock, saveWallets, type Store } from "../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";

// latest_balances (migration 12) is kept by triggers on balance_changes; checkpoints and live coverage read
// reserves from it (loadReservesAt). After every step of a seeded random walk of blocks, reorgs and
// rollbacks, it must equal the truth computed from balance_changes, and loadReservesAt at every stored
// height must equal the per-pair seek (the previous read) at that height.

const chain = "eth";
const ASSETS = ["ETH", "USDC"] as const;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(STORE_KINDS)("latest balances (%s)", (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let ids: number[];

  beforeEach(async () => {
    ({ store, dispose } = await openTestStore(kind));
    const rows = await saveWallets(store, Array.from({ length: 5 }, (_, i) => ({ chain, label: `w${i}`, kind: "address" as const, address: `0x${i}` })));
    ids = rows.map((r) => r.id);
    for (const id of ids) await store.raw("INSERT INTO wallet_states (wallet_id, chain, state, source, updated_at_ms) VALUES (?, ?, 'active', 'indexed', 0)", [id, chain]);
  });
  afterEach(async () => dispose());

  async function truthLatest(): Promise<string[]> {
    const rows = await store.raw(
      `SELECT b.wallet_id, b.asset, b.height, b.balance_after FROM balance_changes b WHERE NOT EXISTS (SELECT 1 FROM balance_changes c
         WHERE c.chain = b.chain AND c.wallet_id = b.wallet_id AND c.asset = b.asset AND (c.height > b.height OR (c.height = b.height AND c.id > b.id)))`,
    );
    return rows.map((r) => `${r.wallet_id}/${r.asset}@${r.height}=${r.balance_after}`).sort();
  }
  async function storedLatest(): Promise<string[]> {
    const rows = await store.raw("SELECT wallet_id, asset, height, balance_after FROM latest_balances WHERE chain = ?", [chain]);
    return rows.map((r) => `${r.wallet_id}/${r.asset}@${r.height}=${r.balance_after}`).sort();
  }
  async function seekAt(height: number): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    for (const id of ids) {
      for (const asset of ASSETS) {
        const [r] = await store.raw("SELECT balance_after FROM balance_changes WHERE chain = ? AND wallet_id = ? AND asset = ? AND height <= ? ORDER BY height DESC, id DESC LIMIT 1", [chain, id, asset, height]);
        if (r) out.set(`${id}/${asset}`, BigInt(String(r.balance_after)));
      }
    }
    return out;
  }

  it("equals balance_changes' latest row per pair through blocks, reorgs and rollbacks, and loadReservesAt equals the per-pair seek at every height", async () => {
    const rand = rng(kind === "sqlite" ? 7 : 11);
    const hashes: string[] = [];
    let height = -1;
    let tag = 0;
    let checked = 0;
    for (let step = 0; step < 60; step++) {
      if (height > 3 && rand() < 0.2) {
        const to = height - 1 - Math.floor(rand() * 3);
        await rollbackTo(store, { chain, height: to });
        hashes.length = to + 1;
        height = to;
        tag++;
      }
      height++;
      const hash = `${tag.toString(16)}h${height}`.padEnd(64, "0");
      const changes = [];
      const n = Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) {
        // Big values, several changes of one pair in one block (the later one wins: same height, greater id).
        changes.push({ walletId: ids[Math.floor(rand() * ids.length)]!, asset: ASSETS[Math.floor(rand() * 2)]!, txid: null, balance: 2n ** 100n + BigInt(Math.floor(rand() * 1e9)) });
      }
      await saveBlock(store, { block: { chain, height, hash, parentHash: height === 0 ? "0".repeat(64) : hashes[height - 1]!, time: 1_700_000_000 + height }, changes });
      hashes[height] = hash;
      expect(await storedLatest()).toEqual(await truthLatest());
      if (step % 10 === 9) {
        for (let h = 0; h <= height; h++) {
          const r = await store.read((q) => loadReservesAt(q, { chain, height: h, assets: ASSETS }));
          const got = new Map<string, bigint>();
          for (const [id, m] of r.balances) for (const [a, v] of m) got.set(`${id}/${a}`, v);
          expect(got).toEqual(await seekAt(h));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect((await storedLatest()).length).toBeGreaterThan(3);
  });

  it("refuses an update of a balance_changes row (the latest table could drift)", async () => {
    await saveBlock(store, { block: { chain, height: 0, hash: "a".padEnd(64, "0"), parentHash: "0".repeat(64), time: 1 }, changes: [{ walletId: ids[0]!, asset: "ETH", txid: null, balance: 5n }] });
    await expect(store.raw("UPDATE balance_changes SET balance_after = '6'")).rejects.toThrow(/never updated/);
    expect(await storedLatest()).toEqual([`${ids[0]}/ETH@0=5`]);
  });

  it("the migration's fill builds the table from existing rows", async () => {
    for (let h = 0; h < 4; h++) {
      await saveBlock(store, {
        block: { chain, height: h, hash: `f${h}`.padEnd(64, "0"), parentHash: h === 0 ? "0".repeat(64) : `f${h - 1}`.padEnd(64, "0"), time: h },
        changes: ids.slice(0, h + 1).map((walletId) => ({ walletId, asset: "ETH", txid: null, balance: BigInt(100 * h + walletId) })),
      });
    }
    const before = await storedLatest();
    await store.raw("DELETE FROM latest_balances");
    const fill = (kind === "sqlite" ? migration0012.sqlite : migration0012.postgres).find((s) => s.startsWith("INSERT INTO latest_balances"))!;
    await store.raw(fill);
    expect(await storedLatest()).toEqual(before);
    expect(before).toEqual(await truthLatest());
  });
});
