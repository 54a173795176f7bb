// Wallet lifecycle on the LiteSVM chain, SQLite and Postgres: custody wallets that received funds from
// slot 40 on are added to a store that already indexed 200 slots. Until backfilled they are `pending`
// (excluded, with a reason). With a birthday, the backfill replays [birthday, cursor] for that wallet alone:
// exact at every slot >= the birthday. Without, a baseline read at a finalized slot B, labelled as such:
// exact from B, not counted before it. The balance check then covers them: no restart loop.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { loadBalanceLines } from "../../../src/cli/balances-command.js";
import { resolveConfig, type ConfigInput } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadBalances, loadCursor, loadWalletStates, type Store } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";
import { runStep, runtimeBalance, setupWorld, type World } from "./solana-workload.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
const BIRTHDAY = 40;

describe("Solana wallet lifecycle: added later, backfilled by replay or baseline", () => {
  let net: SolanaDevnet | undefined;
  const dir = mkdtempSync(join(tmpdir(), "backstop-sol-life-"));
  afterEach(async () => {
    await net?.stop();
    net = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function input(url: string, world: World, wallets: ConfigInput["wallets"]): ConfigInput {
    return {
      store: { sqlitePath: join(dir, "unused.db") },
      // birthdaySlot 0: the store indexes every slot from the start (200 slots before the wallets are added).
      chains: { sol: { chain: "solana-local", rpc: [url], pollIntervalMs: 100, birthdaySlot: 0 } },
      assets: {
        SOL: { chain: "sol", decimals: 9, native: true },
        ...Object.fromEntries(world.mints.map((m, i) => [m.id, { chain: "sol", decimals: m.decimals, address: m.mint.toBase58(), tokenProgram: i === 1 ? "token-2022" : "spl-token" }])),
      },
      wallets,
    };
  }

  /** For every slot in [from, cursor]: the stored balance of the wallet equals the runtime's state at that slot. */
  async function expectExact(store: Store, p: { net: SolanaDevnet; world: World; label: string; address: string; from: number }) {
    const cursor = (await loadCursor(store, "sol"))!.height;
    const assets: Array<{ id: string; mint?: string }> = [{ id: "SOL" }, ...p.world.mints.map((m) => ({ id: m.id, mint: m.mint.toBase58() }))];
    let nonZero = 0;
    for (let slot = p.from; slot <= cursor; slot++) {
      const rows = (await loadBalances(store, { chain: "sol", atHeight: slot })).filter((r) => r.label === p.label);
      for (const a of assets) {
        const want = runtimeBalance(p.net.chain, p.address, a, slot);
        expect(rows.find((r) => r.asset === a.id)?.amount ?? 0n, `${p.label} ${a.id} at slot ${slot}`).toBe(want);
        if (want > 0n) nonZero++;
      }
    }
    return nonZero;
  }

  it.each(STORE_KINDS)("pending until backfilled; exact from the birthday (replay) or from a labelled baseline (%s)", async (kind) => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2 });
    for (let i = 0; i < BIRTHDAY; i++) net.chain.tick({ skip: i % 7 === 3 ? 1 : 0 });
    // The custody wallets get their first funds now (slots > 40), then move them around.
    const world = setupWorld(net.chain, { custodians: 3, seed: 40 });
    while (net.chain.slotOf("finalized") < 200) runStep(net.chain, world, 4);
    const [a, b, c] = world.custody.map((k) => k.publicKey.toBase58()) as [string, string, string];
    const A = { label: "A", chain: "sol", address: a };
    const B = { label: "B", chain: "sol", address: b, birthday: BIRTHDAY };
    const C = { label: "C", chain: "sol", address: c };
    const s = await openTestStore(kind);
    try {
      const run = (wallets: ConfigInput["wallets"], p: { abortOnHead?: boolean } = {}) => {
        const ac = new AbortController();
        const config = resolveConfig({ input: input(net!.url, world, wallets), path: "test", env: {} });
        const indexer = createIndexer({ config, chainKey: "sol", store: s.store, logger, observer: p.abortOnHead ? { onHead: () => ac.abort() } : undefined });
        return { config, done: indexer.run({ once: true, signal: ac.signal }) };
      };
      await run([A]).done;
      expect((await loadCursor(s.store, "sol"))!.height).toBeGreaterThanOrEqual(200);

      // Added: pending, excluded from reserves with the reason.
      const added = run([A, B, C], { abortOnHead: true });
      await added.done;
      const pending = await loadBalanceLines(s.store, added.config, { chain: "sol" });
      for (const label of ["B", "C"]) expect(pending.filter((l) => l.wallet === label).every((l) => l.state === "pending" && !l.counted && l.amount === null && l.reason)).toBe(true);

      // Backfilled in the next run; the balance check after it covers them (a mismatch would halt the run).
      for (let i = 0; i < 3; i++) runStep(net.chain, world, 4);
      await run([A, B, C]).done;
      const states = await loadWalletStates(s.store, { chain: "sol" });
      const byLabel = new Map(states.map((w) => [w.label, w]));
      expect(byLabel.get("B")).toMatchObject({ state: "active", source: "rescan", exactFrom: BIRTHDAY });
      expect(byLabel.get("C")).toMatchObject({ state: "active", source: "baseline" });
      const baselineSlot = byLabel.get("C")!.exactFrom!;
      expect(baselineSlot).toBeGreaterThanOrEqual(200);
      expect(await expectExact(s.store, { net, world, label: "B", address: b, from: BIRTHDAY })).toBeGreaterThan(100);
      await expectExact(s.store, { net, world, label: "C", address: c, from: baselineSlot });
      await expectExact(s.store, { net, world, label: "A", address: a, from: 0 });
      // Before its baseline C does not count; from it on it does.
      const config = resolveConfig({ input: input(net.url, world, [A, B, C]), path: "test", env: {} });
      const at = async (slot: number) => (await loadBalanceLines(s.store, config, { chain: "sol", at: slot })).find((l) => l.wallet === "C" && l.asset === "SOL")!;
      expect(await at(baselineSlot - 1)).toMatchObject({ counted: false, reason: expect.stringContaining("(a baseline)") });
      expect(await at(baselineSlot)).toMatchObject({ counted: true });

      // Following on, and restarted: no balance-check halt, still exact.
      for (let i = 0; i < 4; i++) runStep(net.chain, world, 4);
      await run([A, B, C]).done;
      await run([A, B, C]).done;
      await expectExact(s.store, { net, world, label: "B", address: b, from: BIRTHDAY });
      await expectExact(s.store, { net, world, label: "C", address: c, from: baselineSlot });
    } finally {
      await s.dispose();
    }
  }, 240_000);
});
