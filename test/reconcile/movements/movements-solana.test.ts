// Movement reconciliation on the LiteSVM Solana chain (served over JSON-RPC, indexed by the real
// follower), SQLite and Postgres: token withdrawals to users' new token accounts (created in the same
// transaction, custody paying the rent and fee), a token deposit, a custody-to-custody token move, and a
// token outflow nobody recorded. Records by the HTTP-equivalent JSON batch, some sent before and some
// after their movement.
import { Keypair, LAMPORTS_PER_SOL, type PublicKey, SystemProgram } from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import { afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { resolveConfig, resolveMovementsConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { createMovementSink } from "../../../src/reconcile/movements/create-movement-sink.js";
import { importMovementRecords } from "../../../src/reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../../../src/reconcile/movements/match-movements.js";
import { createMovementValidationContext } from "../../../src/reconcile/movements/validate-movement-record.js";
import { addBlockEventSink, loadMovementOutcomes } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { createAta, createMint, mintTo, send, startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";

const logger = createLogger({ level: "silent" });
const SOL = BigInt(LAMPORTS_PER_SOL);

describe("movements on the LiteSVM Solana chain", () => {
  let net: SolanaDevnet | undefined;
  afterEach(async () => {
    await net?.stop();
  });

  it.each(STORE_KINDS)("token withdrawals to new token accounts, deposit, internal move, unrecorded outflow (%s)", async (kind) => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1, genesisTime: Math.floor(Date.now() / 1000) - 60 });
    const { chain } = net;
    const payer = Keypair.generate();
    const authority = Keypair.generate();
    const hot = Keypair.generate();
    const cold = Keypair.generate();
    const user = Keypair.generate();
    for (const k of [payer, hot, cold, user]) chain.airdrop(k.publicKey, 100n * SOL);
    chain.tick();
    const usdc = createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: spl.TOKEN_PROGRAM_ID });
    const ata = (owner: PublicKey) => createAta(chain, { payer, owner, mint: usdc, programId: spl.TOKEN_PROGRAM_ID });
    const hotUsdc = ata(hot.publicKey);
    const coldUsdc = ata(cold.publicKey);
    const userUsdc = ata(user.publicKey);
    mintTo(chain, { payer, authority, mint: usdc, to: hotUsdc, amount: 1_000_000_000n, programId: spl.TOKEN_PROGRAM_ID });
    mintTo(chain, { payer, authority, mint: usdc, to: userUsdc, amount: 1_000_000_000n, programId: spl.TOKEN_PROGRAM_ID });
    for (let i = 0; i < 3; i++) chain.tick();

    const s = await openTestStore(kind);
    let now = Date.now();
    try {
      const config = resolveConfig({
        path: "test",
        env: {},
        input: {
          chains: { sol: { chain: "solana-local", rpc: [net.url], pollIntervalMs: 50 } },
          assets: { SOL: { chain: "sol", decimals: 9, native: true }, USDC: { chain: "sol", decimals: 6, address: usdc.toBase58(), tokenProgram: "spl-token" } },
          wallets: [{ label: "hot", chain: "sol", address: hot.publicKey.toBase58() }, { label: "cold", chain: "sol", address: cold.publicKey.toBase58() }],
          movements: { graceSeconds: 60, slaSeconds: 600, feeCeilings: { SOL: "0.01" } },
        },
      });
      const settings = resolveMovementsConfig(config);
      addBlockEventSink(s.store, createMovementSink({ settings, chains: ["sol"], now: () => now }));
      const indexer = createIndexer({ config, chainKey: "sol", store: s.store, logger });
      await indexer.run({ once: true });
      const batch = (list: object[]) =>
        importMovementRecords({ store: s.store, nowMs: () => now }, {
          bytes: Buffer.from(JSON.stringify(list)), format: "json", sourceName: "batch", source: "http",
          validation: createMovementValidationContext(config, now), settings, chains: ["sol"],
        });
      const iso = () => new Date(now).toISOString();
      const transfer = (to: PublicKey, amount: bigint, owner = hot) => spl.createTransferCheckedInstruction(owner === hot ? hotUsdc : userUsdc, usdc, to, owner.publicKey, amount, 6, [], spl.TOKEN_PROGRAM_ID);
      /** A withdrawal to a new owner's new token account, created in the same transaction (hot pays rent and fee). */
      const withdrawToNew = (amount: bigint) => {
        const recipient = Keypair.generate().publicKey;
        const fresh = Keypair.generate();
        const rent = chain.svm.minimumBalanceForRentExemption(BigInt(spl.ACCOUNT_SIZE));
        const r = send(chain, hot, [
          SystemProgram.createAccount({ fromPubkey: hot.publicKey, newAccountPubkey: fresh.publicKey, lamports: Number(rent), space: spl.ACCOUNT_SIZE, programId: spl.TOKEN_PROGRAM_ID }),
          spl.createInitializeAccount3Instruction(fresh.publicKey, usdc, recipient, spl.TOKEN_PROGRAM_ID),
          transfer(fresh.publicKey, amount),
        ], [fresh]);
        return { recipient: recipient.toBase58(), signature: r.signature, rent };
      };

      // Recorded before: two withdrawals (one with its signature); after: a deposit.
      const w1 = withdrawToNew(100_000_000n);
      const w2 = withdrawToNew(2_500_000n);
      await batch([
        { id: "w-1", kind: "withdrawal", chain: "sol", asset: "USDC", amount: "100", counterparty: w1.recipient, txid: w1.signature, time: iso() },
        { id: "w-2", kind: "withdrawal", chain: "sol", asset: "USDC", amount: "2.5", counterparty: w2.recipient, time: iso() },
      ]);
      const dep = send(chain, user, [transfer(hotUsdc, 40_000_000n, user)]);
      const internal = send(chain, hot, [transfer(coldUsdc, 5_000_000n)]);
      const thief = Keypair.generate().publicKey;
      const thiefUsdc = ata(thief);
      const theft = send(chain, hot, [transfer(thiefUsdc, 7_000_000n)]);
      for (let i = 0; i < 3; i++) chain.tick();
      await indexer.run({ once: true });
      await batch([{ id: "d-1", kind: "deposit", chain: "sol", asset: "USDC", amount: "40", counterparty: user.publicKey.toBase58(), time: iso() }]);
      now += 61_000;
      await s.store.tx((db) => matchMovementsIn(s.store, db, { settings, chains: ["sol"], nowMs: now }));

      const rows = await loadMovementOutcomes(s.store, { currentOnly: true });
      const by = (pred: (r: (typeof rows)[number]) => boolean) => rows.filter(pred).map((r) => [r.subject.startsWith("record:") ? r.recordId : r.txid, r.asset, r.outcome, r.chainAmount, r.counterparty, r.flags]);
      expect(by((r) => r.subject.startsWith("record:")).sort()).toEqual([
        ["d-1", "USDC", "matched", 40_000_000n, user.publicKey.toBase58(), []],
        ["w-1", "USDC", "matched", 100_000_000n, w1.recipient, []],
        ["w-2", "USDC", "matched", 2_500_000n, w2.recipient, []],
      ].sort());
      // The rent of each new token account is a cost of its withdrawal (below the SOL fee ceiling), not an outflow.
      expect(by((r) => r.flags.includes("transaction_cost")).sort()).toEqual([
        [w1.signature, "SOL", "matched", w1.rent, expect.any(String), ["transaction_cost"]],
        [w2.signature, "SOL", "matched", w2.rent, expect.any(String), ["transaction_cost"]],
      ].sort());
      // The transaction's fee (two signatures) is shown once, on its first out leg's row (here the rent).
      expect(rows.filter((r) => r.txid === w1.signature && r.fee !== null).map((r) => [r.fee, r.feeAsset, r.recordId])).toEqual([[10_000n, "SOL", "w-1"]]);
      expect(by((r) => r.subject.startsWith("leg:") && !r.flags.includes("transaction_cost")).sort()).toEqual([
        // The deposit was pending when its (late) record arrived: its own subject now says matched.
        [dep.signature, "USDC", "matched", 40_000_000n, user.publicKey.toBase58(), []],
        [internal.signature, "USDC", "internal", 5_000_000n, cold.publicKey.toBase58(), []],
        [theft.signature, "USDC", "unexplained_outflow", 7_000_000n, thief.toBase58(), []],
      ].sort());
    } finally {
      await s.dispose();
    }
  }, 120_000);
});
