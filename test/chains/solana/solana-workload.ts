// A seeded random custody workload on the LiteSVM chain, plus the oracle every scenario ends with:
// for every (wallet, asset) and every finalized slot, the stored balance equals the runtime's state.
import { Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import { expect } from "vitest";
import { loadBalances, loadCursor, loadHeaders, type Store } from "../../../src/store/index.js";
import {
  closeTokenAccount,
  createAta,
  createMint,
  createRandom,
  createTokenAccount,
  mintTo,
  parseTokenAccount,
  SolanaChainTxError,
  transferSol,
  transferToken,
  type SolanaChain,
} from "../../rig/solana.js";

export type Mint = { id: string; mint: PublicKey; programId: PublicKey; decimals: number };

/** The world of a workload: custody owners, outsiders, mints and the custody's token accounts. */
export function setupWorld(chain: SolanaChain, p: { custodians: number; seed: number }) {
  const random = createRandom(p.seed);
  const payer = Keypair.generate();
  const authority = Keypair.generate();
  const custody = Array.from({ length: p.custodians }, () => Keypair.generate());
  const outsiders = [Keypair.generate(), Keypair.generate()];
  chain.airdrop(payer.publicKey, 1_000n * BigInt(LAMPORTS_PER_SOL));
  for (const k of [...custody, ...outsiders]) chain.airdrop(k.publicKey, 10n * BigInt(LAMPORTS_PER_SOL));
  chain.tick();
  const mints: Mint[] = [
    { id: "USDC", mint: createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: spl.TOKEN_PROGRAM_ID }), programId: spl.TOKEN_PROGRAM_ID, decimals: 6 },
    { id: "PYUSD", mint: createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: spl.TOKEN_2022_PROGRAM_ID }), programId: spl.TOKEN_2022_PROGRAM_ID, decimals: 6 },
  ];
  // A mint nobody configured: custody activity in it must not count.
  const other: Mint = { id: "OTHER", mint: createMint(chain, { payer, authority: authority.publicKey, decimals: 2, programId: spl.TOKEN_PROGRAM_ID }), programId: spl.TOKEN_PROGRAM_ID, decimals: 2 };
  chain.tick();
  const accounts = new Map<string, { owner: Keypair; mint: Mint; address: PublicKey; associated: boolean }>();
  for (const owner of [...custody, ...outsiders]) {
    for (const m of [...mints, other]) {
      const address = createAta(chain, { payer, owner: owner.publicKey, mint: m.mint, programId: m.programId });
      accounts.set(address.toBase58(), { owner, mint: m, address, associated: true });
      mintTo(chain, { payer, authority, mint: m.mint, to: address, amount: 1_000_000_000n, programId: m.programId });
    }
  }
  chain.tick();
  return { random, payer, authority, custody, outsiders, mints, other, accounts };
}

export type World = ReturnType<typeof setupWorld>;

function tokenAmount(chain: SolanaChain, account: PublicKey): bigint {
  return parseTokenAccount(chain.accountAt(account.toBase58(), chain.workingSlot))?.amount ?? 0n;
}

/**
 * One round of random activity (the open slot), then 1-3 slots sealed, some followed by skipped
 * slots, sometimes a fork at processed that is abandoned.
 */
export function runStep(chain: SolanaChain, w: World, ops = 8): string[] {
  const { random } = w;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const amount = (max: bigint) => (max <= 1n ? 0n : 1n + BigInt(Math.floor(random() * Number(max > 1_000_000_000n ? 1_000_000_000n : max - 1n))));
  const accountsOf = (owner: Keypair, m?: Mint) => [...w.accounts.values()].filter((a) => a.owner === owner && (!m || a.mint === m));
  const done: string[] = [];
  const attempt = (name: string, f: () => unknown) => {
    try {
      f();
      done.push(name);
    } catch (e) {
      if (!(e instanceof SolanaChainTxError)) throw e;
    }
  };
  for (let i = 0; i < ops; i++) {
    const c = pick(w.custody);
    const c2 = pick(w.custody);
    const o = pick(w.outsiders);
    const m = pick([...w.mints, w.mints[0]!, w.other]);
    const op = Math.floor(random() * 10);
    if (op === 0) attempt("sol in", () => transferSol(chain, { from: o, to: c.publicKey, lamports: amount(100_000_000n) }));
    else if (op === 1) attempt("sol out", () => transferSol(chain, { from: c, to: o.publicKey, lamports: amount((chain.svm.getBalance(c.publicKey) ?? 0n) / 4n) }));
    else if (op === 2) attempt("sol custody-to-custody", () => transferSol(chain, { from: c, to: c2.publicKey, lamports: amount(50_000_000n), payer: w.payer }));
    else if (op === 3) {
      // Touches only the custody's token account (the authority and payer sign).
      const to = pick(accountsOf(c, m));
      attempt("token mint-to", () => mintTo(chain, { payer: w.payer, authority: w.authority, mint: m.mint, to: to.address, amount: amount(5_000_000n), programId: m.programId }));
    } else if (op === 4 || op === 5) {
      const from = pick(accountsOf(op === 4 ? c : o, m));
      const to = pick(accountsOf(op === 4 ? (random() < 0.5 ? o : c2) : c, m));
      if (from.address.equals(to.address)) continue;
      attempt("token transfer", () => transferToken(chain, { payer: random() < 0.5 ? w.payer : from.owner, owner: from.owner, mint: m.mint, from: from.address, to: to.address, amount: amount(tokenAmount(chain, from.address) / 3n), decimals: m.decimals, programId: m.programId }));
    } else if (op === 6) {
      // A non-associated custody token account, funded right away from an outsider.
      attempt("token account created", () => {
        const address = createTokenAccount(chain, { payer: random() < 0.5 ? w.payer : c, owner: c.publicKey, mint: m.mint, programId: m.programId });
        w.accounts.set(address.toBase58(), { owner: c, mint: m, address, associated: false });
        const from = accountsOf(o, m)[0]!;
        transferToken(chain, { payer: w.payer, owner: o, mint: m.mint, from: from.address, to: address, amount: amount(tokenAmount(chain, from.address) / 5n), decimals: m.decimals, programId: m.programId });
      });
    } else if (op === 7) {
      // Empty a non-associated account into the ATA and close it; its rent goes to a custody wallet.
      const extra = accountsOf(c).find((a) => !a.associated);
      if (!extra) continue;
      const ata = accountsOf(c, extra.mint).find((a) => a.associated)!;
      attempt("token account closed", () => {
        const left = tokenAmount(chain, extra.address);
        if (left > 0n) transferToken(chain, { payer: w.payer, owner: c, mint: extra.mint.mint, from: extra.address, to: ata.address, amount: left, decimals: extra.mint.decimals, programId: extra.mint.programId });
        closeTokenAccount(chain, { payer: w.payer, owner: c, account: extra.address, destination: c2.publicKey, programId: extra.mint.programId });
        w.accounts.delete(extra.address.toBase58());
      });
    } else if (op === 8) {
      // Lands failed (no preflight): the custody wallet pays the fee, no tokens move.
      const from = pick(accountsOf(c, m));
      attempt("failed transfer", () => transferToken(chain, { payer: c, owner: c, mint: m.mint, from: from.address, to: accountsOf(o, m)[0]!.address, amount: tokenAmount(chain, from.address) + 1n, decimals: m.decimals, programId: m.programId }, { skipPreflight: true }));
    } else {
      attempt("sol out to new account", () => transferSol(chain, { from: c, to: Keypair.generate().publicKey, lamports: 1_000_000n + amount(1_000_000n) }));
    }
  }
  const ticks = 1 + Math.floor(random() * 3);
  for (let t = 0; t < ticks; t++) chain.tick({ skip: random() < 0.3 ? 1 + Math.floor(random() * 2) : 0 });
  if (random() < 0.3) {
    // A fork seen at processed, then dropped: its custody activity must never be stored.
    const c = pick(w.custody);
    attempt("abandoned fork", () => {
      transferSol(chain, { from: pick(w.outsiders), to: c.publicKey, lamports: 77_000_000n });
      chain.tick();
      chain.abandon({ depth: 1 });
    });
  }
  if (random() < 0.2) {
    // A confirmed (not yet finalized) fork replaced (simulator only, TESTING.md A7).
    const c = pick(w.custody);
    attempt("confirmed fork replaced", () => {
      transferSol(chain, { from: pick(w.outsiders), to: c.publicKey, lamports: 55_000_000n });
      chain.tick();
      chain.tick();
      if (chain.canonical.at(-2)! > chain.slotOf("finalized") && chain.canonical.at(-2)! <= chain.slotOf("confirmed")) chain.abandon({ depth: 2, force: true });
      else throw new SolanaChainTxError("no confirmed block above finalized", "skipped");
    });
  }
  return done;
}

/** The runtime's balance of one (owner, asset) at the end of `slot` (SOL: lamports; tokens: summed over the owner's accounts). */
export function runtimeBalance(chain: SolanaChain, owner: string, asset: { mint?: string }, slot: number): bigint {
  if (!asset.mint) return chain.accountAt(owner, slot)?.lamports ?? 0n;
  return chain.tokenAccountsByOwner(owner, slot, { mint: asset.mint }).reduce((s, a) => s + parseTokenAccount(a.state)!.amount, 0n);
}

/**
 * The oracle: every stored header is canonical and finalized, and for every (wallet, asset) and
 * every slot from the first stored slot to the cursor (skipped slots included), the stored balance
 * equals the runtime's state at that slot. Returns the number of slots checked.
 */
export async function expectStoreMatchesChain(p: { chain: SolanaChain; store: Store; chainKey: string; wallets: { label: string; address: string }[]; assets: { id: string; mint?: string }[] }) {
  const cursor = await loadCursor(p.store, p.chainKey);
  expect(cursor).toBeDefined();
  expect(cursor!.height).toBeLessThanOrEqual(p.chain.slotOf("finalized"));
  const headers = await loadHeaders(p.store, { chain: p.chainKey, limit: 1_000_000 });
  for (const h of headers) expect(h.hash, `stored slot ${h.height}`).toBe(p.chain.blocks.get(h.height)?.blockhash);
  const first = headers[headers.length - 1]!.height;
  for (let slot = first; slot <= cursor!.height; slot++) {
    const stored = await loadBalances(p.store, { chain: p.chainKey, atHeight: slot });
    for (const w of p.wallets) {
      for (const a of p.assets) {
        const got = stored.find((b) => b.label === w.label && b.asset === a.id)?.amount ?? 0n;
        expect(got, `${w.label} ${a.id} at slot ${slot}`).toBe(runtimeBalance(p.chain, w.address, a, slot));
      }
    }
  }
  return cursor!.height - first + 1;
}
