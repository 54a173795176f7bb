// Regtest rig for Bitcoin (the demo and the tests): a bcoin regtest node, a JSON-RPC helper, custody keys held by the test,
// transaction building/signing with bitcoinjs-lib, mining, reorgs, and the truth oracle.
//
// bcoin 1.0.2 facts this rig relies on (checked in node_modules/bcoin/lib):
// - invalidateblock is a *reset*: the blocks above the parent are deleted, the hash is marked
//   invalid, and the mempool is wiped (mempool._reset on the chain's 'reset' event). Transactions
//   of the dropped blocks do NOT come back to the mempool; re-broadcast them to re-include them.
// - reconsiderblock exists but only removes the hash from the invalid set: the deleted blocks are
//   gone, so it cannot bring the old branch back. A reorg here = invalidateblock + mine a longer fork.
// - The mempool verifies with STANDARD_VERIFY_FLAGS, which include
//   DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM, and bcoin predates taproot: spending a P2TR output is
//   refused by sendrawtransaction. Such spends go into a block the rig builds itself and submits
//   with submitblock (consensus treats witness v1 as anyone-can-spend; bcoin validates the rest).
// - Its regtest addresses use its own prefixes (R…, rb1…): generatetoaddress takes addresses made
//   with bcoin's Address.fromScript(script).toString("regtest").
import * as ecc from "@bitcoinerlab/secp256k1";
import { BIP32Factory, type BIP32Interface } from "bip32";
import {
  Block,
  crypto as bcrypto,
  networks,
  payments,
  Psbt,
  script as bscript,
  Transaction,
  type Payment,
} from "bitcoinjs-lib";
import { ECPairFactory, type ECPairInterface } from "ecpair";
import { createRequire } from "node:module";
import { ensureEccLib } from "../../chains/bitcoin/ensure-ecc-lib.js";
import type { Random } from "../../lib/create-random.js";

export { startBcoin, type BcoinNode } from "./start-bcoin.js";

const NETWORK = networks.regtest;
/** bcoin regtest: BIP-9 window 144, so segwit is DEFINED, STARTED, LOCKED_IN, then ACTIVE at 3 × 144. */
export const SEGWIT_ACTIVE_HEIGHT = 432;
// The factories self-test the curve library when created: done on first use, not at import.
let factories: { bip32: ReturnType<typeof BIP32Factory>; ECPair: ReturnType<typeof ECPairFactory> } | undefined;
const keyFactories = () => (factories ??= { bip32: BIP32Factory(ecc), ECPair: ECPairFactory(ecc) });
// bcoin is CommonJS; only its address encoder is needed (for generatetoaddress). Loaded on
// first use: importing this module must do nothing (Ponder loads every file under src/).
type BcoinLib = {
  Address: { fromScript(script: unknown): { toString(network: string): string } };
  Script: { fromRaw(raw: Buffer): unknown };
};
let bcoinLibCache: BcoinLib | undefined;
function bcoinLib(): BcoinLib {
  return (bcoinLibCache ??= createRequire(import.meta.url)("bcoin") as BcoinLib);
}

export { createRandom, type Random } from "../../lib/create-random.js";

// ---------------------------------------------------------------- JSON-RPC

export class RigRpcError extends Error {
  constructor(
    readonly method: string,
    readonly rpcError: unknown,
  ) {
    super(`${method}: ${JSON.stringify(rpcError)}`);
  }
}

export type RigRpc = {
  url: string;
  /** One JSON-RPC call; throws RigRpcError on an RPC error. */
  call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** Several calls in one HTTP request (bcoin answers JSON-RPC batches). */
  batch<T = unknown>(calls: Array<[string, unknown[]]>): Promise<T[]>;
  /** A block by hash, parsed; cached (a hash names immutable content). */
  fetchBlock(hash: string): Promise<Block>;
};

/** Minimal JSON-RPC client for the rig (not the production client). */
export function createRigRpc(p: { url: string; user: string; pass: string }): RigRpc {
  const auth = `Basic ${Buffer.from(`${p.user}:${p.pass}`).toString("base64")}`;
  const blocks = new Map<string, Block>();
  let id = 0;
  const post = async (body: unknown) => {
    const res = await fetch(p.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: auth },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`rig rpc: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
  };
  const rpc: RigRpc = {
    url: p.url,
    async call<T>(method: string, params: unknown[] = []) {
      const body = (await post({ jsonrpc: "1.0", id: ++id, method, params })) as { result: T; error: unknown };
      if (body.error) throw new RigRpcError(method, body.error);
      return body.result;
    },
    async batch<T>(calls: Array<[string, unknown[]]>) {
      if (calls.length === 0) return [];
      const first = id + 1;
      const answers = (await post(calls.map(([method, params]) => ({ jsonrpc: "1.0", id: ++id, method, params })))) as Array<{
        id: number;
        result: T;
        error: unknown;
      }>;
      const byId = new Map(answers.map((a) => [a.id, a]));
      return calls.map(([method], i) => {
        const a = byId.get(first + i);
        if (!a || a.error) throw new RigRpcError(method, a?.error ?? "missing answer");
        return a.result;
      });
    },
    async fetchBlock(hash: string) {
      let block = blocks.get(hash);
      if (!block) {
        block = Block.fromHex(await rpc.call<string>("getblock", [hash, false]));
        blocks.set(hash, block);
      }
      return block;
    },
  };
  return rpc;
}

// ---------------------------------------------------------------- owners (custody keys held by the test)

export type OwnerKind = "p2wpkh" | "p2pkh" | "p2sh-p2wpkh" | "p2tr" | "p2wsh-multi";

/** Anything that can sign a PSBT input: an ECPair or a bip32 node. */
type Signer = ECPairInterface | BIP32Interface;

/** A script the test can spend from: its scriptPubKey, standard regtest address, and how to sign. */
export type RigOwner = {
  kind: OwnerKind;
  script: Buffer;
  scriptHex: string;
  /** Standard regtest encoding (bcrt1…, m…/n…, 2…): what Backstop's config uses. */
  address: string;
  /** bcoin's own regtest encoding of the same script (for generatetoaddress). */
  bcoinAddress: string;
  /** PSBT fields this owner's inputs need, besides hash/index. */
  inputFields(utxo: RigUtxo): Record<string, unknown>;
  /** Signs input `index` of the PSBT. */
  sign(psbt: Psbt, index: number): void;
};

/** Creates an owner of the given kind from signers (random keys from `random` when omitted). */
export function createOwner(kind: OwnerKind, p: { random: Random; signers?: Signer[]; m?: number }): RigOwner {
  const signers =
    p.signers ?? Array.from({ length: kind === "p2wsh-multi" ? 3 : 1 }, () => keyFactories().ECPair.fromPrivateKey(randomKey(p.random)));
  const pubkey = Buffer.from(signers[0]!.publicKey);
  let payment: Payment;
  let fields: (u: RigUtxo) => Record<string, unknown>;
  let sign: (psbt: Psbt, i: number) => void = (psbt, i) => psbt.signInput(i, signers[0]!);
  switch (kind) {
    case "p2wpkh":
      payment = payments.p2wpkh({ pubkey, network: NETWORK });
      fields = (u) => ({ witnessUtxo: { script: payment.output!, value: Number(u.value) } });
      break;
    case "p2pkh":
      payment = payments.p2pkh({ pubkey, network: NETWORK });
      fields = (u) => ({ nonWitnessUtxo: Buffer.from(u.txHex, "hex") });
      break;
    case "p2sh-p2wpkh": {
      const redeem = payments.p2wpkh({ pubkey, network: NETWORK });
      payment = payments.p2sh({ redeem, network: NETWORK });
      fields = (u) => ({ witnessUtxo: { script: payment.output!, value: Number(u.value) }, redeemScript: redeem.output! });
      break;
    }
    case "p2tr": {
      ensureEccLib();
      const internal = pubkey.subarray(1, 33);
      payment = payments.p2tr({ internalPubkey: internal, network: NETWORK });
      // Key-path spend: sign with the private key tweaked by the BIP-341 TapTweak of the internal key.
      const tweaked = signers[0]!.tweak(bcrypto.taggedHash("TapTweak", internal));
      fields = (u) => ({ witnessUtxo: { script: payment.output!, value: Number(u.value) }, tapInternalKey: internal });
      sign = (psbt, i) => psbt.signInput(i, tweaked);
      break;
    }
    case "p2wsh-multi": {
      const m = p.m ?? 2;
      // sortedmulti: keys in BIP-67 order, as the descriptor wsh(sortedmulti(...)) builds them.
      const pubkeys = signers.map((s) => Buffer.from(s.publicKey)).sort(Buffer.compare);
      const redeem = payments.p2ms({ m, pubkeys, network: NETWORK });
      payment = payments.p2wsh({ redeem, network: NETWORK });
      fields = (u) => ({ witnessUtxo: { script: payment.output!, value: Number(u.value) }, witnessScript: redeem.output! });
      // Any m of the n keys; take the last m to show order does not matter.
      sign = (psbt, i) => {
        for (const s of signers.slice(-m)) psbt.signInput(i, s);
      };
      break;
    }
  }
  const script = payment.output!;
  return {
    kind,
    script,
    scriptHex: script.toString("hex"),
    address: payment.address!,
    bcoinAddress: toBcoinAddress(script),
    inputFields: fields,
    sign,
  };
}

/** Descriptor type for an HD account of the rig. */
export type HdKind = "wpkh" | "pkh" | "sh-wpkh" | "tr" | "wsh-sortedmulti";

/** An HD custody account: the watch-only descriptor (tpubs, /<0;1>/*) and the owner of each derived address. */
export type RigHdAccount = {
  kind: HdKind;
  /** Output descriptor with tpubs and origins, no checksum, both branches (`/<0;1>/*`). */
  descriptor: string;
  /** The owner (with private keys) of address `index` on `branch` (0 receive, 1 change). */
  owner(branch: number, index: number): RigOwner;
};

/** Creates an HD account with fresh random master keys (three for wsh-sortedmulti, 2-of-3). */
export function createHdAccount(kind: HdKind, p: { random: Random }): RigHdAccount {
  const roots = Array.from({ length: kind === "wsh-sortedmulti" ? 3 : 1 }, () => keyFactories().bip32.fromSeed(p.random.bytes(32), NETWORK));
  const purpose = { wpkh: "84", pkh: "44", "sh-wpkh": "49", tr: "86", "wsh-sortedmulti": "48" }[kind];
  const path = kind === "wsh-sortedmulti" ? `m/${purpose}'/1'/0'/2'` : `m/${purpose}'/1'/0'`;
  const accounts = roots.map((r) => r.derivePath(path));
  const keyText = (i: number) =>
    `[${Buffer.from(roots[i]!.fingerprint).toString("hex")}${path.slice(1).replace(/'/g, "h")}]${accounts[i]!.neutered().toBase58()}/<0;1>/*`;
  const descriptor =
    kind === "wsh-sortedmulti"
      ? `wsh(sortedmulti(2,${accounts.map((_, i) => keyText(i)).join(",")}))`
      : kind === "sh-wpkh"
        ? `sh(wpkh(${keyText(0)}))`
        : `${kind}(${keyText(0)})`;
  const ownerKind: Record<HdKind, OwnerKind> = {
    wpkh: "p2wpkh",
    pkh: "p2pkh",
    "sh-wpkh": "p2sh-p2wpkh",
    tr: "p2tr",
    "wsh-sortedmulti": "p2wsh-multi",
  };
  const cache = new Map<string, RigOwner>();
  return {
    kind,
    descriptor,
    owner(branch, index) {
      const key = `${branch}/${index}`;
      let owner = cache.get(key);
      if (!owner) {
        owner = createOwner(ownerKind[kind], {
          random: p.random,
          signers: accounts.map((a) => a.derive(branch).derive(index)),
          m: 2,
        });
        cache.set(key, owner);
      }
      return owner;
    },
  };
}

/** bcoin's own regtest address for a script (what its generatetoaddress accepts). */
export function toBcoinAddress(script: Buffer): string {
  return bcoinLib().Address.fromScript(bcoinLib().Script.fromRaw(script)).toString("regtest");
}

function randomKey(random: Random): Buffer {
  for (;;) {
    const k = random.bytes(32);
    if (ecc.isPrivate(k)) return k;
  }
}

// ---------------------------------------------------------------- chain scan and truth oracle

/** An unspent output found on the node's chain. */
export type RigUtxo = { txid: string; vout: number; value: bigint; scriptHex: string; height: number; txHex: string };

export type ComputeTruthReturnType = {
  /** Block hash per height 0..toHeight, as the node had them during the walk. */
  hashes: string[];
  /** Per wallet label: balance in sat at every height 0..toHeight (index = height). */
  balances: Record<string, bigint[]>;
  /** Per wallet label: its unspent outputs at toHeight. */
  utxos: Record<string, RigUtxo[]>;
  /** Every watched script that received an output on this chain (0..toHeight): the "used" addresses. */
  received: Set<string>;
};

/**
 * The independent truth: walks the node's blocks 0..toHeight (`getblock <hash> false`), parses
 * them with bitcoinjs-lib and returns each wallet's exact balance (sum of its unspent outputs,
 * coinbase included) at every height. `wallets` maps a label to its scriptPubKeys (hex).
 */
export async function computeTruth(
  rpc: RigRpc,
  wallets: Record<string, Iterable<string>>,
  toHeight?: number,
): Promise<ComputeTruthReturnType> {
  const tip = toHeight ?? (await rpc.call<number>("getblockcount"));
  const owner = new Map<string, string>();
  for (const [label, scripts] of Object.entries(wallets)) {
    for (const s of scripts) {
      const prev = owner.get(s);
      if (prev !== undefined && prev !== label) throw new Error(`script ${s} is in wallets ${prev} and ${label}`);
      owner.set(s, label);
    }
  }
  const hashes = await rpc.batch<string>(Array.from({ length: tip + 1 }, (_, h) => ["getblockhash", [h]]));
  const balances: Record<string, bigint[]> = {};
  const running: Record<string, bigint> = {};
  for (const label of Object.keys(wallets)) {
    balances[label] = [];
    running[label] = 0n;
  }
  const unspent = new Map<string, { label: string; utxo: RigUtxo }>();
  const received = new Set<string>();
  // Fetch missing blocks in parallel batches of 50 (the cache makes re-walks cheap).
  for (let i = 0; i < hashes.length; i += 50) await Promise.all(hashes.slice(i, i + 50).map((h) => rpc.fetchBlock(h)));
  for (let height = 0; height <= tip; height++) {
    const block = await rpc.fetchBlock(hashes[height]!);
    for (const tx of block.transactions ?? []) {
      const txid = tx.getId();
      if (!tx.isCoinbase()) {
        for (const input of tx.ins) {
          const key = `${Buffer.from(input.hash).reverse().toString("hex")}:${input.index}`;
          const spent = unspent.get(key);
          if (spent) {
            running[spent.label]! -= spent.utxo.value;
            unspent.delete(key);
          }
        }
      }
      let txHex: string | undefined;
      tx.outs.forEach((out, vout) => {
        const scriptHex = out.script.toString("hex");
        const label = owner.get(scriptHex);
        if (label === undefined) return;
        const value = BigInt(out.value);
        txHex ??= tx.toHex();
        received.add(scriptHex);
        running[label]! += value;
        unspent.set(`${txid}:${vout}`, { label, utxo: { txid, vout, value, scriptHex, height, txHex } });
      });
    }
    for (const label of Object.keys(wallets)) balances[label]!.push(running[label]!);
  }
  const utxos: Record<string, RigUtxo[]> = {};
  for (const label of Object.keys(wallets)) utxos[label] = [];
  for (const { label, utxo } of unspent.values()) utxos[label]!.push(utxo);
  return { hashes, balances, utxos, received };
}

// ---------------------------------------------------------------- the test wallet

export type SendParameters = {
  /** Owners whose coins may be spent (all their UTXOs are candidates). */
  from: RigOwner[];
  /** Payments; value in sat. */
  to: Array<{ script: Buffer; value: bigint }>;
  /** Where the change goes (default: the first `from` owner). */
  change?: RigOwner;
  /** Spend every UTXO of `from` (a consolidation) instead of just enough. */
  all?: boolean;
  /** Fee in sat (default 2 000 + 700 per input). */
  fee?: bigint;
  /** Spend exactly these coins (e.g. unconfirmed outputs of a transaction just sent) instead of choosing. */
  coins?: RigUtxo[];
};

export type RigWallet = ReturnType<typeof createRigWallet>;

/**
 * The test's wallet: holds the owners' keys, finds their coins on the node's chain, builds and
 * signs transactions, broadcasts them (or mines them directly when the mempool refuses, P2TR),
 * mines, and makes reorgs.
 */
export function createRigWallet(rpc: RigRpc, p: { random: Random }) {
  const random = p.random;
  const funder = createOwner("p2wpkh", { random });
  // Coinbase rewards of filler blocks go here: never a custody script.
  const miner = createOwner("p2wpkh", { random });
  const owners = new Map<string, RigOwner>([
    [funder.scriptHex, funder],
    [miner.scriptHex, miner],
  ]);
  // Outpoints spent by transactions sent but not yet seen in a block.
  const pendingSpent = new Set<string>();
  // Transactions the mempool refused for policy reasons (P2TR spends): mined by mineBlock.
  const pendingDirect: Transaction[] = [];

  const track = (o: RigOwner) => owners.set(o.scriptHex, o);

  async function utxosOf(from: RigOwner[]): Promise<RigUtxo[]> {
    for (const o of from) track(o);
    const wallets: Record<string, string[]> = {};
    for (const o of from) wallets[o.scriptHex] = [o.scriptHex];
    const truth = await computeTruth(rpc, wallets);
    // Mature coins only: a coinbase output needs 100 confirmations.
    const tip = truth.hashes.length - 1;
    const result: RigUtxo[] = [];
    for (const list of Object.values(truth.utxos)) {
      for (const u of list) {
        if (pendingSpent.has(`${u.txid}:${u.vout}`)) continue;
        const block = await rpc.fetchBlock(truth.hashes[u.height]!);
        const isCoinbase = block.transactions![0]!.getId() === u.txid;
        if (isCoinbase && tip - u.height + 1 < 101) continue;
        result.push(u);
      }
    }
    return result.sort((a, b) => (a.value === b.value ? a.txid.localeCompare(b.txid) : a.value > b.value ? -1 : 1));
  }

  /** Builds and signs a transaction; does not send it. */
  async function build(s: SendParameters): Promise<{ tx: Transaction; spent: RigUtxo[] }> {
    for (const o of s.from) track(o);
    const candidates = s.coins ?? (await utxosOf(s.from));
    const want = s.to.reduce((sum, o) => sum + o.value, 0n);
    const chosen: RigUtxo[] = [];
    let total = 0n;
    const feeFor = (n: number) => s.fee ?? 2_000n + 700n * BigInt(n);
    for (const u of candidates) {
      if (!s.all && !s.coins && total >= want + feeFor(chosen.length) + 1_000n) break;
      chosen.push(u);
      total += u.value;
    }
    const fee = feeFor(chosen.length);
    if (chosen.length === 0 || total < want + fee) {
      throw new Error(`rig wallet: ${total} sat available in ${chosen.length} coins, need ${want + fee}`);
    }
    const psbt = new Psbt({ network: NETWORK });
    psbt.setMaximumFeeRate(100_000);
    for (const u of chosen) psbt.addInput({ hash: u.txid, index: u.vout, ...owners.get(u.scriptHex)!.inputFields(u) });
    for (const o of s.to) psbt.addOutput({ script: o.script, value: Number(o.value) });
    const changeValue = total - want - fee;
    const change = s.change ?? s.from[0]!;
    track(change);
    // Below the dust threshold the change is left to the miner.
    if (changeValue >= 1_000n) psbt.addOutput({ script: change.script, value: Number(changeValue) });
    chosen.forEach((u, i) => owners.get(u.scriptHex)!.sign(psbt, i));
    psbt.finalizeAllInputs();
    return { tx: psbt.extractTransaction(), spent: chosen };
  }

  /** Builds, signs and broadcasts; P2TR spends (refused by bcoin's mempool) wait for the next mine(). */
  async function send(s: SendParameters): Promise<{ txid: string; tx: Transaction; spent: RigUtxo[] }> {
    const { tx, spent } = await build(s);
    await broadcast(tx);
    for (const u of spent) pendingSpent.add(`${u.txid}:${u.vout}`);
    return { txid: tx.getId(), tx, spent };
  }

  /** sendrawtransaction, or queue for a rig-built block when the tx spends P2TR (see header). */
  async function broadcast(tx: Transaction): Promise<void> {
    const spendsTaproot = tx.ins.some((input) => input.witness.length === 1 && input.witness[0]!.length === 64);
    if (spendsTaproot) {
      pendingDirect.push(tx);
      return;
    }
    const txid = await rpc.call<string>("sendrawtransaction", [tx.toHex()]);
    // bcoin's sendrawtransaction relays without awaiting and swallows refusals (it only logs
    // them): confirm the mempool took the transaction.
    for (let i = 0; i < 100; i++) {
      if ((await rpc.call<string[]>("getrawmempool")).includes(txid)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`rig: bcoin's mempool did not accept ${txid} (see the node's output)`);
  }

  /**
   * Mines `n` blocks with the mempool's transactions (generatetoaddress) to `to` (default: the
   * miner). Queued P2TR spends go into a rig-built first block, with the mempool's transactions.
   */
  async function mine(n = 1, to: RigOwner = miner): Promise<string[]> {
    track(to);
    const hashes: string[] = [];
    if (pendingDirect.length > 0 && n > 0) {
      const mempool = await rpc.call<string[]>("getrawmempool");
      const fromMempool = await Promise.all(
        mempool.map(async (txid) => Transaction.fromHex(await rpc.call<string>("getrawtransaction", [txid, false]))),
      );
      hashes.push(await mineBlock([...orderByDependency(fromMempool), ...pendingDirect.splice(0)], to.script));
      n--;
    }
    if (n > 0) hashes.push(...(await rpc.call<string[]>("generatetoaddress", [n, to.bcoinAddress])));
    pendingSpent.clear();
    return hashes;
  }

  /** Builds a block on the tip with exactly these transactions, grinds the regtest PoW, submits it. */
  async function mineBlock(txs: Transaction[], coinbaseScript: Buffer): Promise<string> {
    const tipHash = await rpc.call<string>("getbestblockhash");
    const tip = await rpc.call<{ height: number; time: number; mediantime: number; bits: string | number }>("getblockheader", [
      tipHash,
      true,
    ]);
    const height = tip.height + 1;
    const coinbase = new Transaction();
    coinbase.version = 2;
    // BIP-34 height push, plus random bytes so two rig blocks on the same parent never collide.
    coinbase.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, bscript.compile([bscript.number.encode(height), random.bytes(8)]));
    const subsidy = Math.floor(5_000_000_000 / 2 ** Math.floor(height / 150));
    coinbase.addOutput(coinbaseScript, subsidy);
    coinbase.setWitness(0, [Buffer.alloc(32)]);
    const all = [coinbase, ...txs];
    // With forWitness, bitcoinjs returns the BIP-141 commitment hash256(witness root || reserved value).
    const commitment = Block.calculateMerkleRoot(all, true);
    coinbase.addOutput(bscript.compile([bscript.OPS.OP_RETURN!, Buffer.concat([Buffer.from("aa21a9ed", "hex"), commitment])]), 0);
    const block = new Block();
    block.version = 0x20000000;
    block.prevHash = Buffer.from(tipHash, "hex").reverse();
    block.transactions = all;
    block.merkleRoot = Block.calculateMerkleRoot(all);
    block.timestamp = Math.max(tip.mediantime + 1, tip.time + 1, Math.floor(Date.now() / 1000));
    // bcoin reports bits as a number, Bitcoin Core as a hex string.
    block.bits = typeof tip.bits === "number" ? tip.bits : Number.parseInt(tip.bits, 16);
    // Regtest's target accepts about every second hash.
    for (block.nonce = 0; !block.checkProofOfWork(); block.nonce++) {
      if (block.nonce > 1_000_000) throw new Error("rig: no proof of work found (not a regtest target?)");
    }
    const result = await rpc.call<string | null>("submitblock", [block.toHex()]);
    if (result !== null) throw new Error(`rig: submitblock refused the block: ${result}`);
    return block.getId();
  }

  /**
   * Reorg of `depth` blocks: invalidateblock at tip-depth+1, then a longer fork of depth+extra
   * blocks. `between` runs after the invalidation, before the fork is mined (re-broadcast or
   * send transactions there). Returns the dropped hashes and the fork's hashes.
   */
  async function reorg(p: { depth: number; extra?: number; between?: () => Promise<void> }) {
    const tip = await rpc.call<number>("getblockcount");
    const fromHeight = tip - p.depth + 1;
    const dropped = await rpc.batch<string>(Array.from({ length: p.depth }, (_, i) => ["getblockhash", [fromHeight + i]]));
    await rpc.call("invalidateblock", [dropped[0]]);
    pendingSpent.clear();
    pendingDirect.length = 0;
    if (p.between) await p.between();
    // A fresh miner script per fork: the new blocks can never hash like the dropped ones.
    const forkMiner = createOwner("p2wpkh", { random });
    const mined = await mine(p.depth + (p.extra ?? 1), forkMiner);
    return { dropped, mined, fromHeight };
  }

  /**
   * Mines SEGWIT_ACTIVE_HEIGHT + n blocks to the funder: segwit active, and many mature coinbase
   * coins. bcoin's regtest activates segwit through BIP-9 signalling (144-block windows), so it
   * is ACTIVE only from height 432 and witness transactions are refused before.
   */
  async function fund(n = 10): Promise<void> {
    const height = await rpc.call<number>("getblockcount");
    await mine(Math.max(0, SEGWIT_ACTIVE_HEIGHT - height) + n, funder);
    const info = await rpc.call<{ bip9_softforks?: Record<string, { status: string }> }>("getblockchaininfo");
    const status = info.bip9_softforks?.segwit?.status;
    if (status !== "active") throw new Error(`rig: segwit is ${status} at height ${await rpc.call("getblockcount")}`);
  }

  return { funder, miner, track, utxosOf, build, send, broadcast, mine, mineBlock, reorg, fund };
}

/** The outputs of a transaction paying `owner`, as coins (spendable before they confirm). */
export function outputsTo(tx: Transaction, owner: RigOwner): RigUtxo[] {
  const txid = tx.getId();
  const txHex = tx.toHex();
  return tx.outs.flatMap((o, vout) =>
    o.script.equals(owner.script) ? [{ txid, vout, value: BigInt(o.value), scriptHex: owner.scriptHex, height: -1, txHex }] : [],
  );
}

/** Parents before children, so a block of mempool transactions is valid. */
function orderByDependency(txs: Transaction[]): Transaction[] {
  const byId = new Map(txs.map((t) => [t.getId(), t]));
  const done = new Set<string>();
  const out: Transaction[] = [];
  const visit = (t: Transaction) => {
    const id = t.getId();
    if (done.has(id)) return;
    done.add(id);
    for (const input of t.ins) {
      const parent = byId.get(Buffer.from(input.hash).reverse().toString("hex"));
      if (parent) visit(parent);
    }
    out.push(t);
  };
  txs.forEach(visit);
  return out;
}
