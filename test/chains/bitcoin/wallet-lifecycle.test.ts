// Wallet lifecycle on a real node (bcoin regtest), SQLite and Postgres: a wallet added to a store that
// already indexed 200 blocks, which received funds at height 50 (and spent some at 160), is `pending`
// (excluded from reserves, with its reason) until its backfill lands, then exact at every height >= its
// birthday, as the node's own blocks say (computeTruth walks them independently). A removed wallet stops
// counting from the height it was removed at; its history stays readable; configured again it is rebuilt.
// A birthday above the node's tip is refused before anything is written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { loadBalanceLines } from "../../../src/cli/balances-command.js";
import { resolveConfig, type ConfigInput } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadBalances, loadCursor, loadWalletStates, type Store } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { computeTruth, createHdAccount, createOwner, createRandom, createRigRpc, createRigWallet, startBcoin, type BcoinNode, type RigRpc, type RigWallet } from "../../rig/bitcoin.js";

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
const CHAIN = "btc";
const BIRTHDAY = 40;

describe("wallet lifecycle on bcoin regtest: added later, backfilled, removed", () => {
  const random = createRandom(8080);
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  const a = createOwner("p2pkh", { random });
  const b = createOwner("p2pkh", { random });
  const hd = createHdAccount("pkh", { random });
  const outside = createOwner("p2pkh", { random });
  const scripts = { A: [a.scriptHex], B: [b.scriptHex], H: [0, 1].flatMap((br) => Array.from({ length: 12 }, (_, i) => hd.owner(br, i).scriptHex)) };

  beforeAll(async () => {
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    // Pre-segwit regtest: coinbase outputs are the funds (P2PKH), spendable 100 blocks later.
    await wallet.mine(49);
    await wallet.mine(1, b); // height 50: B receives its first funds
    await wallet.mine(9);
    await wallet.mine(1, hd.owner(0, 0)); // 60: the descriptor wallet, index 0
    await wallet.mine(9);
    await wallet.mine(1, hd.owner(0, 2)); // 70: index 2 (inside the gap limit of 3)
    await wallet.mine(9);
    await wallet.mine(1, a); // 80: A, configured from the start
    await wallet.mine(79);
    // 160: B spends its height-50 coinbase: part leaves custody, the change comes back to B.
    await wallet.send({ from: [b], to: [{ script: outside.script, value: 1_000_000_000n }], change: b });
    await wallet.mine(1);
    await wallet.mine(40); // tip 201
  }, 240_000);
  afterAll(async () => {
    await node?.stop();
  });

  function config(p: { sqlitePath?: string; wallets: ConfigInput["wallets"]; db?: { databaseUrl?: string; pgSchema?: string } }) {
    return resolveConfig({
      path: "test",
      env: p.db?.databaseUrl ? { DATABASE_URL: p.db.databaseUrl, BACKSTOP_PG_SCHEMA: p.db.pgSchema } : {},
      input: {
        ...(p.sqlitePath ? { store: { sqlitePath: p.sqlitePath } } : {}),
        chains: { [CHAIN]: { chain: "bitcoin-regtest", rpc: [node.authUrl], pollIntervalMs: 100 } },
        assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
        wallets: p.wallets,
      },
    });
  }

  /** For every height in [from, tip]: the stored balance of each label equals the node's blocks' truth. */
  async function expectExact(store: Store, labels: string[], from: number) {
    const truth = await computeTruth(rpc, Object.fromEntries(labels.map((l) => [l, scripts[l as keyof typeof scripts]])));
    const tip = truth.hashes.length - 1;
    expect((await loadCursor(store, CHAIN))!.height).toBe(tip);
    let nonZero = 0;
    for (let h = from; h <= tip; h++) {
      const rows = new Map((await loadBalances(store, { chain: CHAIN, atHeight: h })).map((r) => [r.label, r.amount]));
      for (const l of labels) {
        expect(rows.get(l) ?? 0n, `${l} at ${h}`).toBe(truth.balances[l]![h]!);
        if (truth.balances[l]![h]! > 0n) nonZero++;
      }
    }
    expect(nonZero).toBeGreaterThan(100);
  }

  const walletA = { label: "A", chain: CHAIN, address: a.address };
  const walletB = { label: "B", chain: CHAIN, address: b.address, birthday: BIRTHDAY };
  const walletH = { label: "H", chain: CHAIN, descriptor: hd.descriptor, gapLimit: 3, birthday: BIRTHDAY };

  it.each(STORE_KINDS)("a wallet added after 200 blocks is pending, then exact from its birthday; removal and re-adding (%s)", async (kind) => {
    const s = await openTestStore(kind);
    try {
      const index = (wallets: ConfigInput["wallets"], p: { abortOnHead?: boolean } = {}) => {
        const ac = new AbortController();
        const indexer = createIndexer({
          config: config({ sqlitePath: s.params.sqlitePath, wallets, db: s.params }),
          chainKey: CHAIN,
          store: s.store,
          logger,
          // Stops the run right after the follower synced its wallets, before any backfill: what a
          // process stopped at that moment leaves behind.
          observer: p.abortOnHead ? { onHead: () => ac.abort() } : undefined,
        });
        return indexer.run({ once: true, signal: ac.signal });
      };
      await index([walletA]);
      const tip = await rpc.call<number>("getblockcount");
      expect((await loadCursor(s.store, CHAIN))!.height).toBe(tip);

      // A birthday above the tip: a clear error, nothing written (no wallet row, no state).
      const wallets0 = await s.store.db.select().from(s.store.t.wallets);
      const early = await index([walletA, { ...walletB, birthday: 5_000 }]).catch((e: unknown) => e);
      expect(early).toMatchObject({ code: "CHAIN__BIRTHDAY_ABOVE_TIP", chain: CHAIN });
      expect((early as Error).message).toContain(`wallets[1].birthday: 5000 is above the tip ${tip}`);
      expect(await s.store.db.select().from(s.store.t.wallets)).toEqual(wallets0);

      // Added later: pending until backfilled, excluded from reserves with its reason.
      await index([walletA, walletB, walletH], { abortOnHead: true });
      const pending = await loadBalanceLines(s.store, config({ sqlitePath: s.params.sqlitePath, wallets: [walletA, walletB, walletH] }), { chain: CHAIN });
      for (const label of ["B", "H"]) {
        expect(pending.find((l) => l.wallet === label)).toMatchObject({ state: "pending", counted: false, amount: null, reason: expect.stringContaining(`from height ${BIRTHDAY}`) });
      }
      expect(pending.find((l) => l.wallet === "A")).toMatchObject({ state: "active", counted: true });

      // The backfill: B and H exact at every height >= the birthday, in one transaction with their activation.
      await index([walletA, walletB, walletH]);
      const states = await loadWalletStates(s.store, { chain: CHAIN });
      expect(states.map((w) => [w.label, w.state, w.source, w.exactFrom])).toEqual([["A", "active", "indexed", null], ["B", "active", "rescan", BIRTHDAY], ["H", "active", "rescan", BIRTHDAY]]);
      await expectExact(s.store, ["A", "B", "H"], BIRTHDAY);

      // Followed on: a custody-to-custody payment from A to H's next address (index 4, visible once index 2
      // was used) and to B, found by the live path.
      await wallet.send({ from: [a], to: [{ script: hd.owner(0, 4).script, value: 700_000_000n }, { script: b.script, value: 5_000n }], change: a });
      await wallet.mine(2);
      await index([walletA, walletB, walletH]);
      await expectExact(s.store, ["A", "B", "H"], BIRTHDAY);

      // Removed: counts up to the height it was removed at, its history stays readable.
      const removedAt = (await loadCursor(s.store, CHAIN))!.height;
      await index([walletA, walletH]);
      const cfgAH = config({ sqlitePath: s.params.sqlitePath, wallets: [walletA, walletH] });
      const before = (await loadBalanceLines(s.store, cfgAH, { chain: CHAIN, at: 170 })).find((l) => l.wallet === "B")!;
      expect(before).toMatchObject({ state: "removed", counted: true, amount: String((await computeTruth(rpc, { B: scripts.B })).balances.B![170]) });
      await wallet.mine(1);
      await index([walletA, walletH]);
      const now = (await loadBalanceLines(s.store, cfgAH, { chain: CHAIN })).find((l) => l.wallet === "B")!;
      expect(now).toMatchObject({ state: "removed", counted: false, reason: `removed from the config at height ${removedAt}` });

      // Configured again: pending, then rebuilt from its birthday (its history since removal included).
      await index([walletA, walletB, walletH]);
      expect((await loadWalletStates(s.store, { chain: CHAIN })).find((w) => w.label === "B")).toMatchObject({ state: "active", source: "rescan", exactFrom: BIRTHDAY });
      await expectExact(s.store, ["A", "B", "H"], BIRTHDAY);
    } finally {
      await s.dispose();
    }
  }, 300_000);
});
