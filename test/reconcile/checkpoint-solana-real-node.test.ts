// Checkpoints against the LiteSVM chain (the Solana runtime, served over JSON-RPC), on SQLite and on
// Postgres: the real follower indexes a seeded random workload (SOL, an SPL token and a Token-2022 token,
// skipped slots, abandoned forks, failed transactions), a snapshot is imported at a time T between slots,
// more custody activity follows T, and createCheckpoint must produce exactly the runtime's truth:
// the anchor is the last produced (canonical) slot whose block time is <= T, and the reserves per asset
// are the sum over the custody owners of the runtime's account state at that slot (lamports; token
// amounts summed over every token account the owner has of the mint).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../src/chains/create-indexer.js";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { resolveConfig, resolveSnapshotAssets, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { buildJwks } from "../../src/reconcile/build-jwks.js";
import { createCheckpoint } from "../../src/reconcile/create-checkpoint.js";
import { createSigningKey } from "../../src/reconcile/signing-key.js";
import { verifyCheckpoints } from "../../src/reconcile/verify-checkpoints.js";
import { startSolanaDevnet, type SolanaDevnet } from "../rig/solana.js";
import { openTestStore, STORE_KINDS } from "../helpers/stores.js";
import { runStep, runtimeBalance, setupWorld, type World } from "../chains/solana/solana-workload.js";

const quiet = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent", format: "json" });
const KEY = createSigningKey();
const GENESIS = 1_700_000_000;

describe("checkpoints against the LiteSVM chain", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-cp-sol-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let net: SolanaDevnet | undefined;
  afterAll(async () => net?.stop());

  const configFor = (url: string, world: World, sqlitePath: string): ResolvedConfig =>
    resolveConfig({
      path: "(test)",
      env: { CP_KEY: KEY.text },
      input: {
        store: { sqlitePath },
        chains: { sol: { chain: "solana-local", rpc: [url], pollIntervalMs: 100 } },
        assets: {
          SOL_sol: { chain: "sol", native: true, decimals: 9, backs: "SOL" },
          USDC_sol: { chain: "sol", decimals: 6, address: world.mints[0]!.mint.toBase58(), tokenProgram: "spl-token", backs: "USDC" },
          PYUSD_sol: { chain: "sol", decimals: 6, address: world.mints[1]!.mint.toBase58(), tokenProgram: "token-2022", backs: "PYUSD" },
        },
        liabilityAssets: { SOL: { decimals: 9 }, USDC: { decimals: 6 }, PYUSD: { decimals: 6 } },
        checkpoints: { signingKey: { env: "CP_KEY" }, keys: [{ x: KEY.jwk.x, notBefore: "2020-01-01T00:00:00Z" }] },
        wallets: world.custody.map((k, i) => ({ label: `custody-${i}`, chain: "sol", address: k.publicKey.toBase58() })),
      },
    });

  it.each(STORE_KINDS)("on %s: the anchor and every asset's reserves equal the runtime's state at the anchor slot", async (kind) => {
    // One second per slot: every slot has its own block time, so T can fall between two of them.
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 3, slotMs: 1000, genesisTime: GENESIS });
    const chain = net.chain;
    const world = setupWorld(chain, { custodians: 3, seed: kind === "sqlite" ? 501 : 502 });
    const s = await openTestStore(kind);
    try {
      const config = configFor(net.url, world, s.params.sqlitePath ?? join(dir, "unused.db"));
      const indexer = createIndexer({ config, chainKey: "sol", store: s.store, logger: quiet });
      for (let step = 0; step < 8; step++) {
        runStep(chain, world);
        await indexer.run({ once: true });
      }
      // T: half a second after the newest produced slot's block time (floored: block times are whole seconds).
      const before = chain.canonical.at(-1)!;
      const T = chain.blockTimeOf(before);
      const file = join(dir, `${kind}-liabilities.csv`);
      writeFileSync(file, "account_id,asset,amount\nu1,SOL,1\nu1,USDC,2\nu2,PYUSD,3\n");
      await importSnapshot({ store: s.store, logger: quiet, now: () => new Date((T + 3600) * 1000) }, { source: file, format: "csv", asOf: new Date(T * 1000 + 500).toISOString(), assets: resolveSnapshotAssets(config) });

      // Activity after T must not count; then enough slots for finality past T (and any window after the anchor).
      const truthAt = (slot: number) => ({
        SOL: world.custody.reduce((sum, k) => sum + runtimeBalance(chain, k.publicKey.toBase58(), {}, slot), 0n),
        USDC: world.custody.reduce((sum, k) => sum + runtimeBalance(chain, k.publicKey.toBase58(), { mint: world.mints[0]!.mint.toBase58() }, slot), 0n),
        PYUSD: world.custody.reduce((sum, k) => sum + runtimeBalance(chain, k.publicKey.toBase58(), { mint: world.mints[1]!.mint.toBase58() }, slot), 0n),
      });
      for (let step = 0; step < 6; step++) runStep(chain, world);
      for (let i = 0; i < 200; i++) chain.tick();
      await indexer.run({ once: true });
      await indexer.close?.();

      const r = await createCheckpoint({ store: s.store, config }, { wait: false });
      const d = r.signed.document;
      // The oracle's anchor: the last canonical slot whose block time is <= T (skipped slots have no block).
      const anchorSlot = [...chain.canonical].filter((slot) => chain.blockTimeOf(slot) <= T).at(-1)!;
      const anchor = d.anchors.find((a) => a.chain === "sol")!;
      expect(anchor.height).toBe(anchorSlot);
      expect(anchor.time).toBe(chain.blockTimeOf(anchorSlot));
      expect(anchor.anchored).toBe(true);
      const truth = truthAt(anchorSlot);
      for (const asset of ["SOL", "USDC", "PYUSD"] as const) {
        const line = d.assets.find((a) => a.asset === asset)!.backing[0]!;
        expect(BigInt(line.amount), asset).toBe(truth[asset]);
      }
      // The activity after T moved the runtime's state: the checkpoint is not simply the tip's.
      const tip = truthAt(chain.canonical.at(-1)!);
      expect(tip.SOL === truth.SOL && tip.USDC === truth.USDC && tip.PYUSD === truth.PYUSD).toBe(false);
      expect(d.scope.wallets).toBe(3);
      expect(verifyCheckpoints([{ name: "cp", text: r.stored.signed }], { jwks: buildJwks(config.checkpoints.keys) }).checked).toHaveLength(1);
    } finally {
      await s.dispose();
      await net.stop();
      net = undefined;
    }
  }, 600_000);
});
