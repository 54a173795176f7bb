import { createHash } from "node:crypto";
import {
  Keypair,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
  VoteInit,
  VoteProgram,
} from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import { createRandom as createSeededRandom } from "../../lib/create-random.js";
import type { SolanaChain } from "./create-solana-chain.js";
import { signTransaction } from "./sign-transaction.js";

// Workload helpers: real SPL Token / Token-2022 transactions executed on the chain in process.
// Used by the demo, the tests and the benchmark.

/** Signs and executes instructions in the chain's open slot. @throws SolanaChainTxError when refused. */
export function send(chain: SolanaChain, payer: Keypair, ixs: TransactionInstruction[], signers: Keypair[] = [], opts: { skipPreflight?: boolean } = {}) {
  const msg = new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: chain.latestBlockhash(), instructions: ixs }).compileToLegacyMessage();
  const tx = new VersionedTransaction(msg);
  signTransaction(tx, [payer, ...signers.filter((s) => !s.publicKey.equals(payer.publicKey))]);
  return chain.sendTransaction(tx, opts);
}

/** Creates a mint (SPL Token or Token-2022) with `authority` as mint authority. */
export function createMint(chain: SolanaChain, p: { payer: Keypair; authority: PublicKey; decimals: number; programId: PublicKey; mint?: Keypair }): PublicKey {
  const mint = p.mint ?? Keypair.generate();
  const rent = chain.svm.minimumBalanceForRentExemption(BigInt(spl.MINT_SIZE));
  send(chain, p.payer, [
    SystemProgram.createAccount({ fromPubkey: p.payer.publicKey, newAccountPubkey: mint.publicKey, lamports: Number(rent), space: spl.MINT_SIZE, programId: p.programId }),
    spl.createInitializeMint2Instruction(mint.publicKey, p.decimals, p.authority, null, p.programId),
  ], [mint]);
  return mint.publicKey;
}

/**
 * Creates the owner's associated token account (idempotent) by writing the state the ATA program
 * would create (Token-2022: with ImmutableOwner). Executing the ATA program in litesvm 0.8.0
 * corrupts its native heap (std::bad_alloc on a later GC), so it is never run. An empty account
 * changes no custody balance, so the indexer's view is unaffected.
 */
export function createAta(chain: SolanaChain, p: { payer: Keypair; owner: PublicKey; mint: PublicKey; programId: PublicKey }): PublicKey {
  const ata = spl.getAssociatedTokenAddressSync(p.mint, p.owner, true, p.programId);
  if (chain.svm.getAccount(ata)) return ata;
  const is2022 = p.programId.equals(spl.TOKEN_2022_PROGRAM_ID);
  const data = new Uint8Array(is2022 ? 170 : 165);
  data.set(p.mint.toBytes(), 0);
  data.set(p.owner.toBytes(), 32);
  data[108] = 1; // AccountState::Initialized
  if (is2022) data.set([2, 7, 0, 0, 0], 165); // AccountType::Account, then the ImmutableOwner TLV (type 7, length 0)
  chain.setAccount(ata.toBase58(), { lamports: chain.svm.minimumBalanceForRentExemption(BigInt(data.length)), data, owner: p.programId.toBase58(), executable: false });
  return ata;
}

/** Creates a non-associated token account (a fresh keypair address) owned by `owner`. */
export function createTokenAccount(chain: SolanaChain, p: { payer: Keypair; owner: PublicKey; mint: PublicKey; programId: PublicKey }): PublicKey {
  const account = Keypair.generate();
  const size = p.programId.equals(spl.TOKEN_2022_PROGRAM_ID) ? spl.getAccountLen([spl.ExtensionType.ImmutableOwner]) : spl.ACCOUNT_SIZE;
  const rent = chain.svm.minimumBalanceForRentExemption(BigInt(size));
  const ixs = [SystemProgram.createAccount({ fromPubkey: p.payer.publicKey, newAccountPubkey: account.publicKey, lamports: Number(rent), space: size, programId: p.programId })];
  if (size !== spl.ACCOUNT_SIZE) ixs.push(spl.createInitializeImmutableOwnerInstruction(account.publicKey, p.programId));
  ixs.push(spl.createInitializeAccount3Instruction(account.publicKey, p.mint, p.owner, p.programId));
  send(chain, p.payer, ixs, [account]);
  return account.publicKey;
}

/** Mints `amount` base units to a token account. */
export function mintTo(chain: SolanaChain, p: { payer: Keypair; authority: Keypair; mint: PublicKey; to: PublicKey; amount: bigint; programId: PublicKey }) {
  return send(chain, p.payer, [spl.createMintToInstruction(p.mint, p.to, p.authority.publicKey, p.amount, [], p.programId)], [p.authority]);
}

/** transferChecked between token accounts, signed by the source's owner. */
export function transferToken(chain: SolanaChain, p: { payer: Keypair; owner: Keypair; mint: PublicKey; from: PublicKey; to: PublicKey; amount: bigint; decimals: number; programId: PublicKey }, opts: { skipPreflight?: boolean } = {}) {
  return send(chain, p.payer, [spl.createTransferCheckedInstruction(p.from, p.mint, p.to, p.owner.publicKey, p.amount, p.decimals, [], p.programId)], [p.owner], opts);
}

/** Closes an empty token account, sending its rent to `destination`. */
export function closeTokenAccount(chain: SolanaChain, p: { payer: Keypair; owner: Keypair; account: PublicKey; destination: PublicKey; programId: PublicKey }) {
  return send(chain, p.payer, [spl.createCloseAccountInstruction(p.account, p.destination, p.owner.publicKey, [], p.programId)], [p.owner]);
}

/** SOL transfer. */
export function transferSol(chain: SolanaChain, p: { from: Keypair; to: PublicKey; lamports: bigint; payer?: Keypair }, opts: { skipPreflight?: boolean } = {}) {
  return send(chain, p.payer ?? p.from, [SystemProgram.transfer({ fromPubkey: p.from.publicKey, toPubkey: p.to, lamports: p.lamports })], [p.from], opts);
}

/** A deterministic PRNG for seeded workloads: a float in [0, 1) per call. */
export function createRandom(seed: number): () => number {
  return createSeededRandom(seed).next;
}

/** A validator as the vote program knows it: the identity (fee payer and authorized voter) and its vote account. */
export type Validator = { identity: Keypair; voteAccount: PublicKey };

/** Lockouts in a full tower (MAX_LOCKOUT_HISTORY). */
const TOWER_DEPTH = 31;

/**
 * Creates a validator: a funded identity and a vote account initialised by the real vote program
 * (identity = node, authorized voter and withdrawer, commission 0). Lamports: the identity gets 1 SOL.
 * @throws SolanaChainTxError when the chain refuses the transactions.
 */
export function createValidator(chain: SolanaChain, p: { payer: Keypair }): Validator {
  const identity = Keypair.generate();
  const vote = Keypair.generate();
  chain.airdrop(identity.publicKey, 1_000_000_000n); // 1 SOL: fees for ~200,000 votes
  const lamports = chain.svm.minimumBalanceForRentExemption(BigInt(VoteProgram.space));
  const ixs = VoteProgram.createAccount({
    fromPubkey: p.payer.publicKey,
    votePubkey: vote.publicKey,
    voteInit: new VoteInit(identity.publicKey, identity.publicKey, identity.publicKey, 0),
    lamports: Number(lamports),
  }).instructions;
  send(chain, p.payer, ixs, [vote, identity]);
  return { identity, voteAccount: vote.publicKey };
}

/**
 * The validator's vote as mainnet validators cast it: one TowerSync instruction (vote program
 * instruction 14) over the newest produced slots (a full tower of 31 lockouts, confirmation counts
 * 31..1, the root below them), the newest slot's hash, a timestamp and a block id, to be signed by
 * the identity (the authorized voter). Needs at least one produced slot after genesis.
 */
export function buildVoteInstruction(chain: SolanaChain, v: Validator): TransactionInstruction {
  const produced = chain.canonical.filter((s) => s > 0);
  const lockouts = produced.slice(-TOWER_DEPTH);
  const rootIndex = produced.length - lockouts.length - 1;
  const root = rootIndex >= 0 ? BigInt(produced[rootIndex]!) : null;
  const newest = lockouts[lockouts.length - 1]!;
  const hash = chain.blocks.get(newest)!.blockhash;
  const data = encodeTowerSync({ root, slots: lockouts.map(BigInt), hash, timestamp: BigInt(chain.blockTimeOf(newest)), blockId: createHash("sha256").update(`block-id:${hash}`).digest() });
  return new TransactionInstruction({
    programId: VoteProgram.programId,
    keys: [
      { pubkey: v.voteAccount, isSigner: false, isWritable: true },
      { pubkey: v.identity.publicKey, isSigner: true, isWritable: false },
    ],
    data,
  });
}

/**
 * Sends the validator's vote in the open slot, paid and signed by the identity, without preflight (as
 * validators send votes). Keys: identity, vote account, Vote111…: the mainnet shape.
 * @throws SolanaChainTxError when refused.
 */
export function sendVote(chain: SolanaChain, v: Validator) {
  return send(chain, v.identity, [buildVoteInstruction(chain, v)], [], { skipPreflight: true });
}

/**
 * Bincode of VoteInstruction::TowerSync in the vote program's compact form: u32 tag 14, root u64
 * (u64::MAX for none), short-vec of (varint slot offset from the previous slot or the root, u8
 * confirmation count), hash, Option<i64> timestamp, block id.
 */
function encodeTowerSync(p: { root: bigint | null; slots: bigint[]; hash: string; timestamp: bigint; blockId: Uint8Array }): Buffer {
  const out: number[] = [];
  const u = (n: bigint, bytes: number) => {
    for (let i = 0; i < bytes; i++) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
  };
  const varint = (n: bigint) => {
    do {
      const b = Number(n & 0x7fn);
      n >>= 7n;
      out.push(n ? b | 0x80 : b);
    } while (n);
  };
  u(14n, 4);
  u(p.root ?? 0xffff_ffff_ffff_ffffn, 8);
  varint(BigInt(p.slots.length)); // short-vec length: the same LEB128 form for < 2^14
  let prev = p.root ?? 0n;
  p.slots.forEach((s, i) => {
    varint(s - prev);
    out.push(p.slots.length - i);
    prev = s;
  });
  out.push(...new PublicKey(p.hash).toBytes());
  out.push(1);
  u(BigInt.asUintN(64, p.timestamp), 8);
  out.push(...p.blockId);
  return Buffer.from(out);
}
