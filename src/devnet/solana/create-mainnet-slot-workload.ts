import { ComputeBudgetProgram, Keypair, PublicKey, SystemProgram, type TransactionInstruction } from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import { createAta, createMint, createRandom, createValidator, mintTo, send, sendVote, type Validator } from "./chain-actions.js";
import { SolanaChainTxError, type SolanaChain } from "./create-solana-chain.js";

/** Shape of createMainnetSlotWorkload's slots (counts per slot). */
export type MainnetSlotWorkloadOptions = {
  /** Validators, each voting once per slot (mainnet: ~1,000 votes a slot). */
  validators: number;
  /** Non-vote transactions per slot (mainnet: ~300). */
  others: number;
  /** Custody owners, each with SOL and both tokens. */
  custodians: number;
  /** Share of the non-vote transactions that touch custody (default 0.1). */
  custodyShare?: number;
  /** Seed of the workload's choices. */
  seed: number;
};

/** What one slot of the workload sent. */
export type MainnetSlotStats = { votes: number; others: number; custody: number; failed: number };

type Owner = { key: Keypair; usdc: PublicKey; pyusd: PublicKey };
type Token = { mint: PublicKey; programId: PublicKey; decimals: number };

/**
 * A mainnet-shaped slot on the LiteSVM chain: about 1,000 vote transactions and 300 others per slot.
 * Votes are real vote-program TowerSync transactions from real vote accounts (the mainnet shape: one
 * signature, identity + vote account + Vote111…, a 31-lockout tower). The others carry compute-budget
 * instructions (SetComputeUnitLimit + SetComputeUnitPrice, as ~90% of mainnet's do) and are swaps
 * (two owners, two tokens, two signers), token and SOL transfers between users, failed transfers
 * (landed without preflight, fee paid), and a share that touches custody: SOL and token deposits,
 * withdrawals to new token accounts created in the same transaction, custody-to-custody moves, with
 * fees paid by custody wallets. What it lacks next to mainnet: CPI-heavy programs (DEX routes with
 * inner instructions and long logs) and lookup tables, so its `"full"` blocks are smaller than
 * mainnet's and the measured reduction is a lower bound.
 */
export function createMainnetSlotWorkload(chain: SolanaChain, p: MainnetSlotWorkloadOptions) {
  const random = createRandom(p.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const amount = (max: number) => 1n + BigInt(Math.floor(random() * max));
  const payer = Keypair.generate();
  const authority = Keypair.generate();
  chain.airdrop(payer.publicKey, 10_000_000n * 1_000_000_000n);
  chain.tick();
  const tokens: Token[] = [spl.TOKEN_PROGRAM_ID, spl.TOKEN_2022_PROGRAM_ID].map((programId) => ({ programId, decimals: 6, mint: createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId }) }));
  const [usdc, pyusd] = tokens as [Token, Token];
  const owner = (key: Keypair, fund: boolean): Owner => {
    chain.airdrop(key.publicKey, 1_000n * 1_000_000_000n);
    const [a, b] = tokens.map((t) => createAta(chain, { payer, owner: key.publicKey, mint: t.mint, programId: t.programId })) as [PublicKey, PublicKey];
    if (fund) for (const [t, to] of [[usdc, a], [pyusd, b]] as const) mintTo(chain, { payer, authority, mint: t.mint, to, amount: 10n ** 15n, programId: t.programId });
    return { key, usdc: a, pyusd: b };
  };
  const custody: Owner[] = [];
  const users: Owner[] = [];
  const pools: Owner[] = [];
  for (let i = 0; i < p.custodians; i++) {
    custody.push(owner(Keypair.generate(), true));
    if (i % 200 === 199) chain.tick();
  }
  for (let i = 0; i < 200; i++) {
    users.push(owner(Keypair.generate(), true));
    if (i % 100 === 99) chain.tick();
  }
  for (let i = 0; i < 20; i++) pools.push(owner(Keypair.generate(), true));
  chain.tick();
  const validators: Validator[] = [];
  for (let i = 0; i < p.validators; i++) {
    validators.push(createValidator(chain, { payer }));
    if (i % 200 === 199) chain.tick();
  }
  // Votes name the newest 31 produced slots: give the chain a history first.
  for (let i = 0; i < 32; i++) chain.tick();

  const budget = (): TransactionInstruction[] => [
    ComputeBudgetProgram.setComputeUnitLimit({ units: 50_000 + Math.floor(random() * 350_000) }),
    ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000 + Math.floor(random() * 2_000_000) }),
  ];
  const account = (o: Owner, t: Token) => (t === usdc ? o.usdc : o.pyusd);
  // Sent without preflight, as bots and exchanges send: half the runtime work per transaction.
  const NO_PREFLIGHT = { skipPreflight: true };
  const transfer = (from: Owner, to: Owner | PublicKey, t: Token, n: bigint) =>
    spl.createTransferCheckedInstruction(account(from, t), t.mint, to instanceof PublicKey ? to : account(to, t), from.key.publicKey, n, t.decimals, [], t.programId);

  /** Custody traffic, in rotation so every kind appears in every few slots. */
  let custodyTurn = 0;
  function custodyTx(): void {
    const c = pick(custody);
    const t = pick(tokens);
    switch (custodyTurn++ % 6) {
      case 0: { // SOL deposit from a user
        const u = pick(users);
        send(chain, u.key, [...budget(), SystemProgram.transfer({ fromPubkey: u.key.publicKey, toPubkey: c.key.publicKey, lamports: amount(5e9) })], [], NO_PREFLIGHT);
        return;
      }
      case 1: { // token deposit from a user
        const u = pick(users);
        send(chain, u.key, [...budget(), transfer(u, c, t, amount(1e9))], [], NO_PREFLIGHT);
        return;
      }
      case 2: { // token withdrawal to a new token account, created in the same transaction; custody pays
        const recipient = Keypair.generate().publicKey;
        const fresh = Keypair.generate();
        const size = t.programId.equals(spl.TOKEN_2022_PROGRAM_ID) ? spl.getAccountLen([spl.ExtensionType.ImmutableOwner]) : spl.ACCOUNT_SIZE;
        const rent = Number(chain.svm.minimumBalanceForRentExemption(BigInt(size)));
        const ixs = [...budget(), SystemProgram.createAccount({ fromPubkey: c.key.publicKey, newAccountPubkey: fresh.publicKey, lamports: rent, space: size, programId: t.programId })];
        if (size !== spl.ACCOUNT_SIZE) ixs.push(spl.createInitializeImmutableOwnerInstruction(fresh.publicKey, t.programId));
        ixs.push(spl.createInitializeAccount3Instruction(fresh.publicKey, t.mint, recipient, t.programId), transfer(c, fresh.publicKey, t, amount(1e8)));
        send(chain, c.key, ixs, [fresh], NO_PREFLIGHT);
        return;
      }
      case 3: { // SOL withdrawal to a new address
        send(chain, c.key, [...budget(), SystemProgram.transfer({ fromPubkey: c.key.publicKey, toPubkey: Keypair.generate().publicKey, lamports: amount(1e9) })], [], NO_PREFLIGHT);
        return;
      }
      case 4: { // custody to custody, tokens; the sender pays
        const c2 = pick(custody.filter((x) => x !== c));
        send(chain, c.key, [...budget(), transfer(c, c2, t, amount(1e9))], [], NO_PREFLIGHT);
        return;
      }
      default: { // custody to custody, SOL, a third custody wallet pays the fee
        const [c2, c3] = [pick(custody.filter((x) => x !== c)), pick(custody.filter((x) => x !== c))];
        send(chain, c3.key, [...budget(), SystemProgram.transfer({ fromPubkey: c.key.publicKey, toPubkey: c2.key.publicKey, lamports: amount(1e9) })], [c.key], NO_PREFLIGHT);
      }
    }
  }

  function otherTx(): boolean {
    const r = random();
    const u = pick(users);
    if (r < 0.5) {
      // A swap against a pool: the user sends one token and receives the other; both sign.
      const pool = pick(pools);
      const [give, get] = random() < 0.5 ? [usdc, pyusd] : [pyusd, usdc];
      send(chain, u.key, [...budget(), transfer(u, pool, give, amount(1e8)), transfer(pool, u, get, amount(1e8))], [pool.key], NO_PREFLIGHT);
    } else if (r < 0.72) send(chain, u.key, [...budget(), transfer(u, pick(users), pick(tokens), amount(1e8))], [], NO_PREFLIGHT);
    else if (r < 0.9) send(chain, u.key, [...budget(), SystemProgram.transfer({ fromPubkey: u.key.publicKey, toPubkey: pick(users).key.publicKey, lamports: amount(1e8) })], [], NO_PREFLIGHT);
    else {
      // A failed transfer (more than the balance), landed without preflight as bots send: only the fee moves.
      send(chain, u.key, [...budget(), transfer(u, pick(users), usdc, 10n ** 18n)], [], NO_PREFLIGHT);
      return false;
    }
    return true;
  }

  /** Fills the open slot: one vote per validator and `others` non-vote transactions, interleaved. */
  function fillSlot(): MainnetSlotStats {
    const stats: MainnetSlotStats = { votes: 0, others: 0, custody: 0, failed: 0 };
    const share = p.custodyShare ?? 0.1;
    const perOther = p.others > 0 ? p.validators / p.others : 0;
    let v = 0;
    for (let i = 0; i < p.others; i++) {
      for (const target = Math.round((i + 1) * perOther); v < target; v++) if (sendVote(chain, validators[v]!).landed) stats.votes++;
      try {
        if (random() < share) {
          custodyTx();
          stats.custody++;
        } else if (!otherTx()) stats.failed++;
        stats.others++;
      } catch (e) {
        if (!(e instanceof SolanaChainTxError)) throw e;
      }
    }
    for (; v < p.validators; v++) if (sendVote(chain, validators[v]!).landed) stats.votes++;
    return stats;
  }

  return { payer, tokens, custody: custody.map((c) => c.key), validators, fillSlot };
}
