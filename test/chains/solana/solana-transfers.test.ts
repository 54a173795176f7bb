import { Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram } from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import { afterEach, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadTransfers, saveWallets } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { createAta, createMint, mintTo, send, startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";
import { expectStoreMatchesChain } from "./solana-workload.js";

const logger = createLogger({ level: "silent" });
const SOL = BigInt(LAMPORTS_PER_SOL);
const FEE = 5000n; // per signature; these transactions set no compute-unit price

type Expected = { wallet: string; asset: string; txid: string; direction: "in" | "out" | "fee"; amount: bigint; counterparty: string | null; counterpartyWallet: string | null };

describe("Solana transfer legs on the LiteSVM chain", () => {
  let net: SolanaDevnet | undefined;
  afterEach(async () => {
    await net?.stop();
  });

  it.each(STORE_KINDS)("records deposits, withdrawals to new token accounts, custody-to-custody moves and custody-paid fees exactly (%s)", async (kind) => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1 });
    const { chain } = net;
    const payer = Keypair.generate();
    const authority = Keypair.generate();
    const hot = Keypair.generate();
    const cold = Keypair.generate();
    const user = Keypair.generate();
    for (const k of [payer, hot, cold, user]) chain.airdrop(k.publicKey, 100n * SOL);
    chain.tick();
    const usdc = createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: spl.TOKEN_PROGRAM_ID });
    const pyusd = createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: spl.TOKEN_2022_PROGRAM_ID });
    const ata = (owner: Keypair, mint: PublicKey) => createAta(chain, { payer, owner: owner.publicKey, mint, programId: mint.equals(usdc) ? spl.TOKEN_PROGRAM_ID : spl.TOKEN_2022_PROGRAM_ID });
    const acc = { hotUsdc: ata(hot, usdc), hotPyusd: ata(hot, pyusd), coldUsdc: ata(cold, usdc), coldPyusd: ata(cold, pyusd), userUsdc: ata(user, usdc) };
    mintTo(chain, { payer, authority, mint: usdc, to: acc.userUsdc, amount: 1_000_000_000n, programId: spl.TOKEN_PROGRAM_ID });
    mintTo(chain, { payer, authority, mint: pyusd, to: acc.hotPyusd, amount: 500_000_000n, programId: spl.TOKEN_2022_PROGRAM_ID });
    for (let i = 0; i < 3; i++) chain.tick();

    const store = await openTestStore(kind);
    try {
      const config = resolveConfig({
        path: "transfers.config",
        env: {},
        input: {
          chains: { sol: { chain: "solana-local", rpc: [net.url], pollIntervalMs: 50 } },
          assets: {
            SOL: { chain: "sol", decimals: 9, native: true },
            USDC: { chain: "sol", decimals: 6, address: usdc.toBase58(), tokenProgram: "spl-token" },
            PYUSD: { chain: "sol", decimals: 6, address: pyusd.toBase58(), tokenProgram: "token-2022" },
          },
          wallets: [
            { label: "hot", chain: "sol", address: hot.publicKey.toBase58() },
            { label: "cold", chain: "sol", address: cold.publicKey.toBase58() },
          ],
        },
      });
      const indexer = createIndexer({ config, chainKey: "sol", store: store.store, logger });
      await indexer.run({ once: true }); // baseline: balances before the workload, no legs

      // The workload, each transaction with the legs it must produce (the test's own accounting).
      const expected: Expected[] = [];
      const H = hot.publicKey.toBase58();
      const C = cold.publicKey.toBase58();
      const U = user.publicKey.toBase58();
      const legs = (txid: string, ...l: Omit<Expected, "txid">[]) => expected.push(...l.map((x) => ({ ...x, txid })));
      const transfer = (from: PublicKey, mint: PublicKey, to: PublicKey, owner: Keypair, amount: bigint) =>
        spl.createTransferCheckedInstruction(from, mint, to, owner.publicKey, amount, 6, [], mint.equals(usdc) ? spl.TOKEN_PROGRAM_ID : spl.TOKEN_2022_PROGRAM_ID);

      // 1. SOL deposit; the user pays the fee.
      let r = send(chain, user, [SystemProgram.transfer({ fromPubkey: user.publicKey, toPubkey: hot.publicKey, lamports: 3n * SOL / 2n })]);
      legs(r.signature, { wallet: "hot", asset: "SOL", direction: "in", amount: 3n * SOL / 2n, counterparty: U, counterpartyWallet: null });
      // 2. Token deposit.
      r = send(chain, user, [transfer(acc.userUsdc, usdc, acc.hotUsdc, user, 250_000_000n)]);
      legs(r.signature, { wallet: "hot", asset: "USDC", direction: "in", amount: 250_000_000n, counterparty: U, counterpartyWallet: null });
      chain.tick();
      // 3. Withdrawal to a new token account of a new owner, created in the same transaction; hot pays fee and rent.
      const recipient = Keypair.generate().publicKey;
      const fresh = Keypair.generate();
      const rent = chain.svm.minimumBalanceForRentExemption(BigInt(spl.ACCOUNT_SIZE));
      r = send(chain, hot, [
        SystemProgram.createAccount({ fromPubkey: hot.publicKey, newAccountPubkey: fresh.publicKey, lamports: Number(rent), space: spl.ACCOUNT_SIZE, programId: spl.TOKEN_PROGRAM_ID }),
        spl.createInitializeAccount3Instruction(fresh.publicKey, usdc, recipient, spl.TOKEN_PROGRAM_ID),
        transfer(acc.hotUsdc, usdc, fresh.publicKey, hot, 100_000_000n),
      ], [fresh]);
      legs(r.signature,
        { wallet: "hot", asset: "SOL", direction: "fee", amount: 2n * FEE, counterparty: null, counterpartyWallet: null },
        { wallet: "hot", asset: "SOL", direction: "out", amount: rent, counterparty: fresh.publicKey.toBase58(), counterpartyWallet: null },
        { wallet: "hot", asset: "USDC", direction: "out", amount: 100_000_000n, counterparty: recipient.toBase58(), counterpartyWallet: null });
      // 4. Custody to custody (tokens); the receiving custody wallet pays the fee.
      r = send(chain, cold, [transfer(acc.hotPyusd, pyusd, acc.coldPyusd, hot, 70_000_000n)], [hot]);
      legs(r.signature,
        { wallet: "cold", asset: "SOL", direction: "fee", amount: 2n * FEE, counterparty: null, counterpartyWallet: null },
        { wallet: "hot", asset: "PYUSD", direction: "out", amount: 70_000_000n, counterparty: C, counterpartyWallet: "cold" },
        { wallet: "cold", asset: "PYUSD", direction: "in", amount: 70_000_000n, counterparty: H, counterpartyWallet: "hot" });
      chain.tick({ skip: 1 });
      // 5. Custody to custody (SOL), the sender pays.
      r = send(chain, cold, [SystemProgram.transfer({ fromPubkey: cold.publicKey, toPubkey: hot.publicKey, lamports: 3n * SOL / 10n })]);
      legs(r.signature,
        { wallet: "cold", asset: "SOL", direction: "fee", amount: FEE, counterparty: null, counterpartyWallet: null },
        { wallet: "cold", asset: "SOL", direction: "out", amount: 3n * SOL / 10n, counterparty: H, counterpartyWallet: "hot" },
        { wallet: "hot", asset: "SOL", direction: "in", amount: 3n * SOL / 10n, counterparty: C, counterpartyWallet: "cold" });
      // 6. A failed withdrawal (more than the balance, landed without preflight): only the fee.
      r = send(chain, hot, [transfer(acc.hotUsdc, usdc, acc.userUsdc, hot, 10n ** 15n)], [], { skipPreflight: true });
      expect(r.err).not.toBeNull();
      legs(r.signature, { wallet: "hot", asset: "SOL", direction: "fee", amount: FEE, counterparty: null, counterpartyWallet: null });
      // 7. A batched SOL withdrawal to two new addresses; a payer outside custody pays the fee.
      const [a, b] = [Keypair.generate().publicKey, Keypair.generate().publicKey];
      r = send(chain, payer, [SystemProgram.transfer({ fromPubkey: hot.publicKey, toPubkey: a, lamports: SOL / 10n }), SystemProgram.transfer({ fromPubkey: hot.publicKey, toPubkey: b, lamports: SOL / 5n })], [hot]);
      legs(r.signature,
        { wallet: "hot", asset: "SOL", direction: "out", amount: SOL / 10n, counterparty: a.toBase58(), counterpartyWallet: null },
        { wallet: "hot", asset: "SOL", direction: "out", amount: SOL / 5n, counterparty: b.toBase58(), counterpartyWallet: null });
      chain.tick();
      // 8. Minted to custody: no owner paid it.
      r = mintTo(chain, { payer, authority, mint: usdc, to: acc.coldUsdc, amount: 9_000_000n, programId: spl.TOKEN_PROGRAM_ID });
      legs(r.signature, { wallet: "cold", asset: "USDC", direction: "in", amount: 9_000_000n, counterparty: null, counterpartyWallet: null });
      for (let i = 0; i < 3; i++) chain.tick();

      await indexer.run({ once: true });
      const wallets = new Map((await saveWallets(store.store, config.wallets.map((w) => ({ chain: "sol", label: w.label, kind: "address" as const, address: w.address! })))).map((w) => [w.id, w.label]));
      const stored = await loadTransfers(store.store, { chain: "sol" });
      const got = stored.map((x) => ({ wallet: wallets.get(x.walletId)!, asset: x.asset, txid: x.txid!, direction: x.direction, amount: x.amount, counterparty: x.counterparty, counterpartyWallet: x.counterpartyWalletId == null ? null : wallets.get(x.counterpartyWalletId)! }));
      const order = (l: Expected) => `${l.txid} ${l.wallet} ${l.asset} ${l.direction} ${l.counterparty} ${l.amount}`;
      expect(got.map(order).sort()).toEqual(expected.map(order).sort());
      // Every leg's slot and block hash is the one its transaction is in; positions order the legs in the block.
      for (const x of stored) expect([x.height, x.blockHash]).toEqual([chain.signatures.get(x.txid!)!.slot, chain.blocks.get(chain.signatures.get(x.txid!)!.slot)!.blockhash]);
      expect(new Set(stored.map((x) => `${x.blockHash}:${x.position}`)).size).toBe(stored.length);

      // The legs of each (wallet, asset, transaction) add up to its balance change: in − out − fee = delta.
      const changes = await store.store.db.select().from(store.store.t.balanceChanges);
      const sums = new Map<string, bigint>();
      for (const x of stored) {
        const k = `${x.walletId} ${x.asset} ${x.txid}`;
        sums.set(k, (sums.get(k) ?? 0n) + (x.direction === "in" ? x.amount : -x.amount));
      }
      const withTx = changes.filter((c) => c.txid !== null);
      expect(withTx.length).toBeGreaterThan(10);
      for (const c of withTx) expect(sums.get(`${c.walletId} ${c.asset} ${c.txid}`), `${c.asset} ${c.txid}`).toBe(c.delta);
      expect(sums.size).toBe(withTx.length);
      await expectStoreMatchesChain({ chain, store: store.store, chainKey: "sol", wallets: [{ label: "hot", address: H }, { label: "cold", address: C }], assets: [{ id: "SOL" }, { id: "USDC", mint: usdc.toBase58() }, { id: "PYUSD", mint: pyusd.toBase58() }] });

      // Solana is followed at finalized commitment only: a replaced finalized block is a finality
      // violation that halts the chain (CHAIN__DEEP_REORG) with every stored leg left as it was.
      const legsBefore = await loadTransfers(store.store, { chain: "sol" });
      chain.abandon({ depth: 4, force: true });
      mintTo(chain, { payer, authority, mint: usdc, to: acc.coldUsdc, amount: 1_000_000n, programId: spl.TOKEN_PROGRAM_ID });
      for (let i = 0; i < 3; i++) chain.tick();
      await expect(indexer.run({ once: true })).rejects.toMatchObject({ code: "CHAIN__DEEP_REORG", chain: "sol" });
      expect(await loadTransfers(store.store, { chain: "sol" })).toEqual(legsBefore);
    } finally {
      await store.dispose();
    }
  }, 120_000);
});
