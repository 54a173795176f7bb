import { createHash } from "node:crypto";
import { Clock, FailedTransactionMetadata, LiteSVM } from "litesvm";
import {
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
  type MessageV0,
  type Message,
} from "@solana/web3.js";
import { encodeBase58 } from "./base58.js";
import { buildTransactionError, type TransactionErrorJson } from "./build-transaction-error.js";
import { computeTransactionFee } from "./compute-transaction-fee.js";
import { signTransaction } from "./sign-transaction.js";

/** SPL Token program id. */
export const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
/** SPL Token-2022 program id. */
export const TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
/** The simulator's default genesis seed; `chains/solana-local.ts` pins the hash it yields. */
export const DEFAULT_GENESIS_SEED = "backstop-solana-local";
/** A blockhash stays usable for this many blocks, as on a real cluster. */
const MAX_BLOCKHASH_AGE = 150;
/** Entries of the SlotHashes sysvar, as on a cluster: votes may only name slots it holds. */
const MAX_SLOT_HASHES = 512;

export type Commitment = "processed" | "confirmed" | "finalized";

/** One account's state as the runtime holds it; lamports exact. */
export type AccountSnapshot = { lamports: bigint; data: Uint8Array; owner: string; executable: boolean };

/** A token balance entry as the RPC's `meta.preTokenBalances` carries it. */
export type TokenBalanceJson = {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string };
};

/** A transaction as executed in a slot, already in the RPC's `json` encoding. */
export type ChainTransaction = {
  signature: string;
  slot: number;
  version: "legacy" | 0;
  keys: string[];
  transaction: Record<string, unknown>;
  meta: {
    err: TransactionErrorJson | null;
    status: { Ok: null } | { Err: TransactionErrorJson };
    fee: bigint;
    preBalances: bigint[];
    postBalances: bigint[];
    preTokenBalances: TokenBalanceJson[];
    postTokenBalances: TokenBalanceJson[];
    innerInstructions: unknown[];
    logMessages: string[];
    rewards: unknown[];
    loadedAddresses: { writable: string[]; readonly: string[] };
    computeUnitsConsumed: bigint;
  };
};

/** A produced (non-skipped) slot. */
export type ChainBlock = {
  slot: number;
  parentSlot: number;
  blockhash: string;
  previousBlockhash: string;
  blockHeight: number;
  blockTime: number;
  transactions: ChainTransaction[];
  /** Each account this block changed, with its state before the block (null: absent). For rollback. */
  before: Map<string, AccountSnapshot | null>;
};

export type SolanaChainOptions = {
  /** Seed of the genesis hash (default DEFAULT_GENESIS_SEED); another seed is another chain. */
  seed?: string;
  /** Blocks `confirmed` trails `processed` (default 1). */
  confirmedLag?: number;
  /** Blocks `finalized` trails `processed` (default 2; a real cluster is ~32 slots). */
  finalizedLag?: number;
  /** Nominal slot duration in ms, used for block times (default 400). */
  slotMs?: number;
  /** Unix seconds of slot 0 (default 1_700_000_000). */
  genesisTime?: number;
  /**
   * Block times after genesis follow the wall clock (Unix seconds when the slot opens and when it is
   * sealed), never going backwards, instead of genesisTime + slot × slotMs. Default false: block times
   * are a function of the slot (deterministic tests). The demo sets it, so its blocks come after a
   * liabilities snapshot stamped with the wall clock. The genesis block (and hash) is unchanged.
   */
  wallClock?: boolean;
};

/** Thrown for a transaction the node refuses (preflight failure, unknown blockhash, duplicate). */
export class SolanaChainTxError extends Error {
  constructor(
    readonly reason: string,
    readonly err: TransactionErrorJson,
    readonly logs: string[] = [],
  ) {
    super(reason);
    this.name = "SolanaChainTxError";
  }
}

type History = { slots: number[]; states: (AccountSnapshot | null)[] };

/**
 * A Solana chain over the real runtime (LiteSVM): transactions execute in the open (working) slot;
 * `tick()` seals it as a block; skipped slots, `processed`/`confirmed`/`finalized` lags, and
 * abandoned forks at `processed` (rolled back in the runtime from per-block account snapshots).
 * Keeps every canonical account change by slot, so the state at any slot can be read back.
 */
export type SolanaChain = ReturnType<typeof createSolanaChain>;

/** Creates the chain at slot 0 (genesis block sealed, finalized) with a funded faucet. Does no I/O. */
export function createSolanaChain(options: SolanaChainOptions = {}) {
  const seed = options.seed ?? DEFAULT_GENESIS_SEED;
  const confirmedLag = options.confirmedLag ?? 1;
  const finalizedLag = Math.max(options.finalizedLag ?? 2, confirmedLag);
  const slotMs = options.slotMs ?? 400;
  const genesisTime = options.genesisTime ?? 1_700_000_000;
  const genesisHash = encodeBase58(createHash("sha256").update(`genesis:${seed}`).digest());

  // Blockhash checks are ours (any of the last 150 canonical blockhashes, like a cluster);
  // LiteSVM's own only accepts its latest. Signature dedupe is ours too, so it follows forks.
  const svm = new LiteSVM().withBlockhashCheck(false).withTransactionHistory(0n);
  const faucet = Keypair.fromSeed(createHash("sha256").update(`faucet:${seed}`).digest());
  svm.setAccount(faucet.publicKey, {
    lamports: 1_000_000_000_000_000_000n as unknown as number, // 1e9 SOL; LiteSVM takes bigint through BigInt()
    data: new Uint8Array(0),
    owner: SystemProgram.programId,
    executable: false,
  });

  const blocks = new Map<number, ChainBlock>();
  const canonical: number[] = []; // produced slots, ascending
  const history = new Map<string, History>();
  const signatures = new Map<string, ChainTransaction>();
  const byAddress = new Map<string, { signature: string; slot: number }[]>();
  const recentBlockhashes = new Map<string, number>(); // blockhash -> block height
  const executables = new Set<string>();
  const mintDecimals = new Map<string, number>();
  // Every account that was ever a token account of an owner (filtered by state at read time).
  const tokenAccountsOf = new Map<string, Set<string>>();

  const genesis: ChainBlock = {
    slot: 0,
    parentSlot: 0,
    blockhash: genesisHash,
    previousBlockhash: encodeBase58(new Uint8Array(32)),
    blockHeight: 0,
    blockTime: genesisTime,
    transactions: [],
    before: new Map(),
  };
  blocks.set(0, genesis);
  canonical.push(0);
  recentBlockhashes.set(genesisHash, 0);
  let confirmedSlot = 0;
  let finalizedSlot = 0;
  let working = { slot: 1, transactions: [] as ChainTransaction[], before: new Map<string, AccountSnapshot | null>() };
  setSlotClock(1);
  // SlotHash objects cannot be constructed from JS (napi class without constructor): a pool grown from
  // what getSlotHashes returns, rewritten after every change of the canonical chain.
  const slotHashPool = svm.getSlotHashes();
  syncSlotHashes();

  /** Sets the SlotHashes sysvar to the newest canonical blocks (newest first), so real votes can name them. */
  function syncSlotHashes(): void {
    const recent = canonical.slice(-MAX_SLOT_HASHES).reverse();
    while (slotHashPool.length < recent.length) {
      svm.setSlotHashes(slotHashPool);
      slotHashPool.push(...svm.getSlotHashes());
    }
    const entries = recent.map((slot, i) => {
      const e = slotHashPool[i]!;
      e.slot = BigInt(slot);
      e.hash = blocks.get(slot)!.blockhash;
      return e;
    });
    svm.setSlotHashes(entries);
  }

  function indexTokenOwner(key: string, state: AccountSnapshot | null): void {
    const t = parseTokenAccount(state);
    if (!t) return;
    let set = tokenAccountsOf.get(t.owner);
    if (!set) tokenAccountsOf.set(t.owner, (set = new Set()));
    set.add(key);
  }

  function blockTimeOf(slot: number): number {
    if (!options.wallClock) return genesisTime + Math.floor((slot * slotMs) / 1000);
    // Wall clock: a sealed block keeps its time; an open slot gets now, never before the canonical tip's time.
    const sealed = blocks.get(slot);
    if (sealed) return sealed.blockTime;
    const tip = blocks.get(canonical[canonical.length - 1]!)!;
    return Math.max(tip.blockTime, Math.floor(Date.now() / 1000));
  }

  function setSlotClock(slot: number): void {
    svm.warpToSlot(BigInt(slot));
    const c = svm.getClock();
    svm.setClock(new Clock(BigInt(slot), c.epochStartTimestamp, c.epoch, c.leaderScheduleEpoch, BigInt(blockTimeOf(slot))));
  }

  // Decoding base58 for every account read was a third of a mainnet-sized slot's time.
  const publicKeys = new Map<string, PublicKey>();
  function publicKeyOf(key: string): PublicKey {
    let pk = publicKeys.get(key);
    if (!pk) publicKeys.set(key, (pk = new PublicKey(key)));
    return pk;
  }

  function readLive(key: string): AccountSnapshot | null {
    const pk = publicKeyOf(key);
    const acc = svm.getAccount(pk);
    if (!acc) return null;
    // getAccount returns lamports as a JS number (lossy above 2^53); getBalance is exact.
    const lamports = svm.getBalance(pk) ?? 0n;
    return { lamports, data: Uint8Array.from(acc.data), owner: acc.owner.toBase58(), executable: acc.executable };
  }

  function writeLive(key: string, s: AccountSnapshot | null): void {
    svm.setAccount(publicKeyOf(key), {
      lamports: (s?.lamports ?? 0n) as unknown as number,
      data: s?.data ?? new Uint8Array(0),
      owner: new PublicKey(s?.owner ?? SystemProgram.programId.toBase58()),
      executable: s?.executable ?? false,
    });
  }

  function sameState(a: AccountSnapshot | null, b: AccountSnapshot | null): boolean {
    if (a === null || b === null) return a === b;
    return (
      a.lamports === b.lamports &&
      a.owner === b.owner &&
      a.executable === b.executable &&
      Buffer.from(a.data).equals(Buffer.from(b.data))
    );
  }

  function decimalsOf(mint: string): number | undefined {
    const cached = mintDecimals.get(mint);
    if (cached !== undefined) return cached;
    const m = readLive(mint);
    if (!m || (m.owner !== TOKEN_PROGRAM && m.owner !== TOKEN_2022_PROGRAM) || m.data.length < 82) return undefined;
    const d = m.data[44]!;
    mintDecimals.set(mint, d);
    return d;
  }

  function tokenBalance(index: number, s: AccountSnapshot | null): TokenBalanceJson | null {
    const parsed = parseTokenAccount(s);
    if (!parsed) return null;
    const decimals = decimalsOf(parsed.mint);
    if (decimals === undefined) return null;
    return { accountIndex: index, mint: parsed.mint, owner: parsed.owner, programId: parsed.programId, uiTokenAmount: uiTokenAmount(parsed.amount, decimals) };
  }

  function blockAtOrBelow(slot: number): number {
    // Highest canonical produced slot <= slot.
    let lo = 0;
    let hi = canonical.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (canonical[mid]! <= slot) lo = mid;
      else hi = mid - 1;
    }
    return canonical[lo]!;
  }

  /** The account's state at the end of `slot` on the canonical chain (null: absent). */
  function accountAt(key: string, slot: number): AccountSnapshot | null {
    const h = history.get(key);
    if (!h) return readLive(key); // never changed since genesis
    let found = -1;
    for (let i = h.slots.length - 1; i >= 0; i--) {
      if (h.slots[i]! <= slot) {
        found = i;
        break;
      }
    }
    if (found < 0) throw new Error(`no state for ${key} at slot ${slot}`);
    return h.states[found]!;
  }

  function slotOf(commitment: Commitment = "finalized"): number {
    if (commitment === "processed") return canonical[canonical.length - 1]!;
    return commitment === "confirmed" ? confirmedSlot : finalizedSlot;
  }

  function toVersioned(tx: Transaction | VersionedTransaction): VersionedTransaction {
    return tx instanceof VersionedTransaction ? tx : VersionedTransaction.deserialize(tx.serialize());
  }

  function messageJson(msg: Message | MessageV0, version: "legacy" | 0): { json: Record<string, unknown>; keys: string[] } {
    const keys = msg.staticAccountKeys.map((k) => k.toBase58());
    const instructions = msg.compiledInstructions.map((ix) => ({
      programIdIndex: ix.programIdIndex,
      accounts: [...ix.accountKeyIndexes],
      data: encodeBase58(ix.data),
      stackHeight: null,
    }));
    const json: Record<string, unknown> = { accountKeys: keys, header: msg.header, recentBlockhash: msg.recentBlockhash, instructions };
    if (version === 0) json.addressTableLookups = [];
    return { json, keys };
  }

  /**
   * Executes a signed transaction in the open slot. With preflight (default) a failing transaction is
   * refused unexecuted; without it, it lands failed and pays its fee, as on a cluster.
   * @throws SolanaChainTxError when refused.
   */
  function sendTransaction(
    input: Transaction | VersionedTransaction,
    p: { skipPreflight?: boolean } = {},
  ): { signature: string; err: TransactionErrorJson | null; landed: boolean } {
    const tx = toVersioned(input);
    const version = tx.version === "legacy" ? "legacy" : 0;
    if (version === 0 && (tx.message as MessageV0).addressTableLookups.length > 0)
      throw new SolanaChainTxError("address lookup tables are not supported by this test chain", "UnsupportedVersion");
    const sig0 = tx.signatures[0];
    if (!sig0 || sig0.every((b) => b === 0)) throw new SolanaChainTxError("transaction is not signed", "SignatureFailure");
    const signature = encodeBase58(sig0);
    const { json, keys } = messageJson(tx.message, version);
    if (signatures.has(signature)) throw new SolanaChainTxError("Transaction already processed", "AlreadyProcessed");
    if (!recentBlockhashes.has(tx.message.recentBlockhash))
      throw new SolanaChainTxError("Blockhash not found", "BlockhashNotFound");
    if (!p.skipPreflight) {
      const sim = svm.simulateTransaction(tx);
      if (sim instanceof FailedTransactionMetadata)
        throw new SolanaChainTxError("Transaction simulation failed", buildTransactionError(sim), sim.meta().logs());
    }
    for (const k of keys) if (!executables.has(k) && readLive(k)?.executable) executables.add(k);
    const tracked = keys.filter((k) => !executables.has(k));
    const pre = new Map(tracked.map((k) => [k, readLive(k)]));
    const result = svm.sendTransaction(tx);
    const post = new Map(tracked.map((k) => [k, readLive(k)]));
    const changed = tracked.filter((k) => !sameState(pre.get(k)!, post.get(k)!));
    const failed = result instanceof FailedTransactionMetadata;
    const err = failed ? buildTransactionError(result) : null;
    // A transaction that changed nothing (not even its fee) never reached a block.
    if (changed.length === 0) return { signature, err, landed: false };

    for (const k of changed) {
      indexTokenOwner(k, post.get(k)!);
      if (!working.before.has(k)) working.before.set(k, pre.get(k)!);
      let h = history.get(k);
      if (!h) {
        h = { slots: [0], states: [pre.get(k)!] };
        history.set(k, h);
      }
      if (h.slots[h.slots.length - 1] === working.slot) h.states[h.states.length - 1] = post.get(k)!;
      else {
        h.slots.push(working.slot);
        h.states.push(post.get(k)!);
      }
    }
    const meta = failed ? result.meta() : result;
    const balance = (s: AccountSnapshot | null | undefined) => s?.lamports ?? 0n;
    const record: ChainTransaction = {
      signature,
      slot: working.slot,
      version,
      keys,
      transaction: { signatures: tx.signatures.map((s) => encodeBase58(s)), message: json },
      meta: {
        err,
        status: err === null ? { Ok: null } : { Err: err },
        fee: computeTransactionFee({ keys, instructions: tx.message.compiledInstructions, signatures: tx.message.header.numRequiredSignatures }),
        preBalances: keys.map((k) => (executables.has(k) ? balance(readLive(k)) : balance(pre.get(k)))),
        postBalances: keys.map((k) => (executables.has(k) ? balance(readLive(k)) : balance(post.get(k)))),
        preTokenBalances: tracked.flatMap((k) => tokenBalance(keys.indexOf(k), pre.get(k)!) ?? []),
        postTokenBalances: tracked.flatMap((k) => tokenBalance(keys.indexOf(k), post.get(k)!) ?? []),
        innerInstructions: [],
        logMessages: meta.logs(),
        rewards: [],
        loadedAddresses: { writable: [], readonly: [] },
        computeUnitsConsumed: meta.computeUnitsConsumed(),
      },
    };
    working.transactions.push(record);
    signatures.set(signature, record);
    for (const k of keys) {
      let list = byAddress.get(k);
      if (!list) byAddress.set(k, (list = []));
      list.push({ signature, slot: working.slot });
    }
    return { signature, err, landed: true };
  }

  /**
   * Writes an account's state directly in the open slot (no transaction), recorded like any change.
   * Used for associated token accounts: executing the ATA program in litesvm 0.8.0 corrupts the
   * native heap (a later GC aborts with std::bad_alloc), so the rig writes the state it would create.
   */
  function setAccount(key: string, state: AccountSnapshot | null): void {
    const before = readLive(key);
    writeLive(key, state);
    const after = readLive(key);
    indexTokenOwner(key, after);
    if (!working.before.has(key)) working.before.set(key, before);
    let h = history.get(key);
    if (!h) {
      h = { slots: [0], states: [before] };
      history.set(key, h);
    }
    if (h.slots[h.slots.length - 1] === working.slot) h.states[h.states.length - 1] = after;
    else {
      h.slots.push(working.slot);
      h.states.push(after);
    }
  }

  /** Sends lamports from the faucet (a real transfer transaction, so it shows in blocks). */
  function airdrop(to: PublicKey | string, lamports: bigint): string {
    const msg = new TransactionMessage({
      payerKey: faucet.publicKey,
      recentBlockhash: latestBlockhash(),
      instructions: [SystemProgram.transfer({ fromPubkey: faucet.publicKey, toPubkey: new PublicKey(to), lamports })],
    }).compileToLegacyMessage();
    const tx = new VersionedTransaction(msg);
    signTransaction(tx, [faucet]);
    return sendTransaction(tx).signature;
  }

  /** The processed block's blockhash: what a client signs with. */
  function latestBlockhash(): string {
    return blocks.get(canonical[canonical.length - 1]!)!.blockhash;
  }

  /**
   * Seals the open slot as a block (possibly empty), advances commitments, and opens the next slot
   * after `skip` skipped slots (slots with no block, ever).
   */
  function tick(p: { skip?: number } = {}): ChainBlock {
    const parent = blocks.get(canonical[canonical.length - 1]!)!;
    const h = createHash("sha256").update(parent.blockhash).update(String(working.slot));
    for (const t of working.transactions) h.update(t.signature);
    const block: ChainBlock = {
      slot: working.slot,
      parentSlot: parent.slot,
      blockhash: encodeBase58(h.digest()),
      previousBlockhash: parent.blockhash,
      blockHeight: parent.blockHeight + 1,
      blockTime: blockTimeOf(working.slot),
      transactions: working.transactions,
      before: working.before,
    };
    blocks.set(block.slot, block);
    canonical.push(block.slot);
    recentBlockhashes.set(block.blockhash, block.blockHeight);
    const expired = canonical[canonical.length - 1 - MAX_BLOCKHASH_AGE];
    if (expired !== undefined) recentBlockhashes.delete(blocks.get(expired)!.blockhash);
    const tip = canonical.length - 1;
    confirmedSlot = Math.max(confirmedSlot, canonical[Math.max(0, tip - confirmedLag)]!);
    finalizedSlot = Math.max(finalizedSlot, canonical[Math.max(0, tip - finalizedLag)]!);
    const next = block.slot + 1 + (p.skip ?? 0);
    working = { slot: next, transactions: [], before: new Map() };
    setSlotClock(next);
    syncSlotHashes();
    return block;
  }

  /**
   * Abandons the newest `depth` blocks (a fork seen at `processed` that the cluster drops) and the
   * open slot's transactions: their account changes are undone in the runtime and their slots
   * become skipped. Only blocks above `confirmed` may go, unless `force` (a finality violation,
   * for testing the indexer's rollback).
   * @throws Error if the fork would reach `confirmed` without force.
   */
  function abandon(p: { depth: number; force?: boolean }): number[] {
    const dropped = canonical.slice(canonical.length - p.depth).filter((s) => s !== 0);
    if (!p.force && dropped.some((s) => s <= confirmedSlot))
      throw new Error(`cannot abandon slot ${dropped[0]}: it is confirmed (confirmed slot ${confirmedSlot})`);
    const openSlot = working.slot;
    const undo = [
      { slot: openSlot, transactions: working.transactions, before: working.before },
      ...dropped.reverse().map((s) => blocks.get(s)!),
    ];
    for (const b of undo) {
      for (const [key] of b.before) {
        const h = history.get(key)!;
        while (h.slots.length > 1 && h.slots[h.slots.length - 1]! >= b.slot) {
          h.slots.pop();
          h.states.pop();
        }
        writeLive(key, h.states[h.states.length - 1]!);
      }
      for (const t of [...b.transactions].reverse()) {
        signatures.delete(t.signature);
        for (const k of t.keys) {
          const list = byAddress.get(k)!;
          if (list[list.length - 1]?.signature === t.signature) list.pop();
        }
      }
      if (b.slot !== openSlot) {
        blocks.delete(b.slot);
        recentBlockhashes.delete((b as ChainBlock).blockhash);
        canonical.pop();
      }
    }
    if (p.force) {
      confirmedSlot = Math.min(confirmedSlot, canonical[canonical.length - 1]!);
      finalizedSlot = Math.min(finalizedSlot, canonical[canonical.length - 1]!);
    }
    working = { slot: openSlot + 1, transactions: [], before: new Map() };
    setSlotClock(openSlot + 1);
    syncSlotHashes();
    return dropped.reverse();
  }

  /** Token accounts (both programs) owned by `owner` at `slot`, optionally one mint only. */
  function tokenAccountsByOwner(
    owner: string,
    slot: number,
    filter: { mint?: string; programId?: string },
  ): { pubkey: string; state: AccountSnapshot }[] {
    const out: { pubkey: string; state: AccountSnapshot }[] = [];
    for (const key of tokenAccountsOf.get(owner) ?? []) {
      const s = accountAt(key, slot);
      const t = parseTokenAccount(s);
      if (!t || t.owner !== owner) continue;
      if (filter.mint && t.mint !== filter.mint) continue;
      if (filter.programId && t.programId !== filter.programId) continue;
      out.push({ pubkey: key, state: s! });
    }
    return out;
  }

  return {
    genesisHash,
    svm,
    faucet,
    blocks,
    canonical,
    signatures,
    byAddress,
    recentBlockhashes,
    sendTransaction,
    setAccount,
    airdrop,
    tick,
    abandon,
    accountAt,
    tokenAccountsByOwner,
    latestBlockhash,
    slotOf,
    blockAtOrBelow,
    decimalsOf,
    /** The open (not yet sealed) slot. */
    get workingSlot() {
      return working.slot;
    },
    blockTimeOf,
  };
}

/** Parses an initialized SPL Token / Token-2022 token account (mint, owner, amount); null for anything else. */
export function parseTokenAccount(
  s: AccountSnapshot | null,
): { mint: string; owner: string; amount: bigint; programId: string } | null {
  if (!s || (s.owner !== TOKEN_PROGRAM && s.owner !== TOKEN_2022_PROGRAM)) return null;
  const d = s.data;
  if (d.length < 165) return null;
  // Token-2022 accounts with extensions carry AccountType (2 = Account) right after the base layout.
  if (d.length > 165 && d[165] !== 2) return null;
  if (s.owner === TOKEN_PROGRAM && d.length !== 165) return null;
  if (d[108] === 0) return null; // AccountState::Uninitialized
  const amount = Buffer.from(d.buffer, d.byteOffset, d.length).readBigUInt64LE(64);
  return {
    mint: new PublicKey(d.subarray(0, 32)).toBase58(),
    owner: new PublicKey(d.subarray(32, 64)).toBase58(),
    amount,
    programId: s.owner,
  };
}

/** The RPC's `uiTokenAmount` for a raw amount. */
export function uiTokenAmount(amount: bigint, decimals: number) {
  const text = amount.toString().padStart(decimals + 1, "0");
  const int = text.slice(0, text.length - decimals);
  const frac = text.slice(text.length - decimals).replace(/0+$/, "");
  const uiAmountString = frac ? `${int}.${frac}` : int;
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}
