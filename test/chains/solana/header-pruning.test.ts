// Headers are kept to the window (issue 8 item 9), on SQLite and Postgres: a follower running for many
// slots keeps `headerWindow` recent headers plus pinned ones (the chain's first block, checkpoint anchors),
// never more; balances at a pruned height still read exactly (they need balance rows, not the header), with
// `blockHash: null`; a pinned height keeps its hash.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { loadBalanceLines } from "../../../src/cli/balances-command.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadCursor, loadHeaderPins, loadHeaders, saveHeaderPin } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";
import { runStep, runtimeBalance, setupWorld } from "./solana-workload.js";

const logger = createLogger({ level: "silent" });
const WINDOW = 20;

describe("header pruning on the LiteSVM chain", () => {
  let net: SolanaDevnet | undefined;
  const dir = mkdtempSync(join(tmpdir(), "backstop-sol-prune-"));
  afterEach(async () => {
    await net?.stop();
    net = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(STORE_KINDS)("keeps the window plus pinned headers; old balances stay exact (%s)", async (kind) => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    const world = setupWorld(net.chain, { custodians: 2, seed: 9 });
    const config = resolveConfig({
      path: "test",
      env: {},
      input: {
        store: { sqlitePath: join(dir, "unused.db") },
        chains: { sol: { chain: "solana-local", rpc: [net.url], pollIntervalMs: 100, birthdaySlot: 0, headerWindow: WINDOW, headerRetentionSeconds: 0 } },
        assets: { SOL: { chain: "sol", decimals: 9, native: true } },
        wallets: world.custody.map((k, i) => ({ label: `c${i}`, chain: "sol", address: k.publicKey.toBase58() })),
      },
    });
    const s = await openTestStore(kind);
    try {
      const indexer = createIndexer({ config, chainKey: "sol", store: s.store, logger });
      for (let i = 0; i < 5; i++) runStep(net.chain, world, 3);
      await indexer.run({ once: true });
      // A checkpoint anchors to this slot: pinned before it leaves the window.
      const anchor = (await loadCursor(s.store, "sol"))!;
      await saveHeaderPin(s.store, { chain: "sol", height: anchor.height, reason: "checkpoint" });
      let maxHeaders = 0;
      while (net.chain.slotOf("finalized") < anchor.height + 6 * WINDOW) {
        for (let i = 0; i < 5; i++) runStep(net.chain, world, 3);
        await indexer.run({ once: true });
        maxHeaders = Math.max(maxHeaders, (await loadHeaders(s.store, { chain: "sol", limit: 100_000 })).length);
      }
      const pins = await loadHeaderPins(s.store, { chain: "sol" });
      expect(pins).toEqual([{ height: 0, reason: "first" }, { height: anchor.height, reason: "checkpoint" }]);
      const headers = await loadHeaders(s.store, { chain: "sol", limit: 100_000 });
      expect(maxHeaders).toBeLessThanOrEqual(WINDOW + pins.length);
      const cursor = (await loadCursor(s.store, "sol"))!;
      expect(headers.filter((h) => h.height > cursor.height - WINDOW).length).toBe(headers.length - pins.length);
      expect(headers.map((h) => h.height)).toEqual(expect.arrayContaining([0, anchor.height]));

      // Old heights: exact balances, the hash only where the header was kept.
      const pruned = anchor.height + 3;
      expect(headers.some((h) => h.height === pruned)).toBe(false);
      for (const slot of [pruned, anchor.height]) {
        const lines = await loadBalanceLines(s.store, config, { chain: "sol", at: slot });
        for (const [i, k] of world.custody.entries()) {
          const line = lines.find((l) => l.wallet === `c${i}`)!;
          expect(line.amount).toBe(String(runtimeBalance(net.chain, k.publicKey.toBase58(), {}, slot)));
          expect(line.blockHash).toBe(slot === anchor.height ? anchor.hash : null);
        }
      }
    } finally {
      await s.dispose();
    }
  }, 240_000);

  it.each(STORE_KINDS)("keeps every header younger than headerRetentionSeconds by block time, so a late snapshot can still be anchored (%s)", async (kind) => {
    // 400 ms slots: a 20 s retention is 50 slots, more than the 20-slot window.
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    const world = setupWorld(net.chain, { custodians: 1, seed: 10 });
    const RETENTION = 20;
    const config = resolveConfig({
      path: "test",
      env: {},
      input: {
        store: { sqlitePath: join(dir, "unused.db") },
        chains: { sol: { chain: "solana-local", rpc: [net.url], pollIntervalMs: 100, birthdaySlot: 0, headerWindow: WINDOW, headerRetentionSeconds: RETENTION } },
        assets: { SOL: { chain: "sol", decimals: 9, native: true } },
        wallets: world.custody.map((k, i) => ({ label: `c${i}`, chain: "sol", address: k.publicKey.toBase58() })),
      },
    });
    const s = await openTestStore(kind);
    try {
      const indexer = createIndexer({ config, chainKey: "sol", store: s.store, logger });
      while (net.chain.slotOf("finalized") < 200) {
        for (let i = 0; i < 10; i++) net.chain.tick();
        await indexer.run({ once: true });
      }
      const headers = await loadHeaders(s.store, { chain: "sol", limit: 100_000 });
      const tip = headers[0]!;
      const kept = new Set(headers.map((h) => h.height));
      // Every produced slot whose block time is within the retention of the newest stored block is kept...
      const young = net.chain.canonical.filter((slot) => slot <= tip.height && net!.chain.blockTimeOf(slot) >= tip.time - RETENTION);
      expect(young.length).toBeGreaterThan(WINDOW + 10);
      for (const slot of young) expect(kept.has(slot), `slot ${slot}`).toBe(true);
      // ...and older ones are pruned (the first block stays pinned).
      const old = net.chain.canonical.filter((slot) => slot > 0 && net!.chain.blockTimeOf(slot) < tip.time - RETENTION - 1 && slot < tip.height - WINDOW);
      expect(old.length).toBeGreaterThan(50);
      for (const slot of old) expect(kept.has(slot), `slot ${slot}`).toBe(false);
    } finally {
      await s.dispose();
    }
  }, 240_000);
});
