import type { ResolvedConfig } from "../../lib/config.js";
import { loadUnspent, type BalanceChangeInput, type BlockRef, type OutpointSpend, type Store, type TransferInput, type UtxoInput, type WalletAddressRow } from "../../store/index.js";
import { buildBitcoinTransferTxs, computeBitcoinTransfers } from "./compute-bitcoin-transfers.js";
import { createWatchSet, type WatchSet } from "./create-watch-set.js";
import { matchBlock, type MatchedBlock } from "./match-block.js";
import { syncWalletAddresses } from "./sync-wallet-addresses.js";
import type { BitcoinNetworkName } from "./wallet-errors.js";

/** What the decode step needs besides the block. */
export type BitcoinDecodeContext = { store: Store; config: ResolvedConfig; chainKey: string; nativeAsset: string; network: BitcoinNetworkName; verifyMerkleRoot: boolean };

/** A header as the proof-of-work check sees it (create-header-work-checker.ts). */
export type BitcoinHeaderFacts = { height: number; hash: string; prevHash: string; bits: number; time: number };

/**
 * The in-memory view one scan runs against: the wallets it watches, their scripts (with the height each
 * address was first used) and their custody UTXO set. The follower's live view watches every active
 * wallet; a backfill watches only the wallet it rebuilds.
 */
export type BitcoinScanState = {
  walletIds: ReadonlySet<number>;
  scripts: Map<string, WalletAddressRow>;
  unspent: Map<string, { walletId: number; value: bigint; script: string }>;
  watch: WatchSet;
  /**
   * Scripts of the other custody wallets, not watched (a backfill's view): an output the scanned wallets
   * pay to one of them is a transfer to custody (an internal leg naming that wallet), as on the live path.
   */
  otherCustody?: ReadonlyMap<string, number>;
};

/** A decoded block: header, balance changes per (wallet, tx), custody outputs created and spent, addresses first used. */
export type DecodedBitcoinBlock = {
  block: BlockRef;
  changes: BalanceChangeInput[];
  utxoCreated: UtxoInput[];
  spent: OutpointSpend[];
  usedAddressIds: number[];
  /** Transfer legs (who paid whom, the fee), stored with the block: compute-bitcoin-transfers.ts. */
  transfers: TransferInput[];
};

/**
 * Builds a scan state for `walletIds` from the store: derives their addresses (gap limit) and, with
 * `withUnspent`, loads their unspent custody outputs. `otherCustody`: wallets whose scripts are known as
 * custody counterparties without being watched (a backfill's view of the wallets already counted).
 */
export async function loadBitcoinScanState(
  ctx: BitcoinDecodeContext,
  p: { walletIds: ReadonlySet<number>; withUnspent: boolean; otherCustody?: ReadonlySet<number> },
): Promise<BitcoinScanState> {
  const addresses = await syncWalletAddresses({ store: ctx.store, config: ctx.config, chainKey: ctx.chainKey });
  const scripts = new Map(addresses.filter((a) => a.script && p.walletIds.has(a.walletId)).map((a) => [a.script!, a]));
  const others = p.otherCustody;
  const otherCustody = others ? new Map(addresses.filter((a) => a.script && others.has(a.walletId) && !p.walletIds.has(a.walletId)).map((a) => [a.script!, a.walletId])) : undefined;
  const unspent = new Map<string, { walletId: number; value: bigint; script: string }>();
  if (p.withUnspent) {
    for (const u of await loadUnspent(ctx.store, { chain: ctx.chainKey })) {
      if (p.walletIds.has(u.walletId)) unspent.set(`${u.txid}:${u.vout}`, { walletId: u.walletId, value: u.value, script: u.script });
    }
  }
  return { walletIds: p.walletIds, scripts, unspent, watch: createWatchSet({ scripts: scripts.keys(), outpoints: unspent.keys() }), ...(otherCustody ? { otherCustody } : {}) };
}

/**
 * The balance changes of one matched block, per (wallet, transaction), with the custody outputs it
 * creates and spends, in block order (outputs of a transaction before inputs of later ones spending them).
 * Pure over `state` (read only); also the block's transfer legs (with `state.otherCustody`, also the
 * `in` legs of those wallets for what the scanned wallets pay them: the caller keeps the legs it stores).
 */
export function computeBitcoinChanges(state: BitcoinScanState, m: MatchedBlock, p: { nativeAsset: string; network: BitcoinNetworkName }): Omit<DecodedBitcoinBlock, "block"> {
  const nativeAsset = p.nativeAsset;
  const changes = new Map<string, BalanceChangeInput>();
  const add = (walletId: number, txid: string, delta: bigint) => {
    const key = `${walletId}:${txid}`;
    const c = changes.get(key);
    if (c) c.delta! += delta;
    else changes.set(key, { walletId, asset: nativeAsset, txid, delta });
  };
  const created = new Map<string, { walletId: number; value: bigint; script: string }>();
  const utxoCreated = m.outputs.map((o) => {
    const addr = state.scripts.get(o.script)!;
    created.set(`${o.txid}:${o.vout}`, { walletId: addr.walletId, value: o.value, script: o.script });
    return { txid: o.txid, vout: o.vout, walletId: addr.walletId, addressId: addr.id, script: o.script, value: o.value };
  });
  for (const o of utxoCreated) add(o.walletId, o.txid, o.value);
  const spent = m.spends.map((s) => {
    const key = `${s.prevTxid}:${s.prevVout}`;
    const u = state.unspent.get(key) ?? created.get(key)!;
    add(u.walletId, s.txid, -u.value);
    return { txid: s.prevTxid, vout: s.prevVout, spentTxid: s.txid };
  });
  const usedAddressIds = [...new Set(m.outputs.map((o) => state.scripts.get(o.script)!.id))];
  const transfers = computeBitcoinTransfers({
    asset: nativeAsset,
    network: p.network,
    txs: buildBitcoinTransferTxs({ block: m, walletOfScript: (s) => state.scripts.get(s)?.walletId ?? state.otherCustody?.get(s), spentOutput: (txid, vout) => state.unspent.get(`${txid}:${vout}`) ?? created.get(`${txid}:${vout}`) }),
  });
  return { changes: [...changes.values()].filter((c) => c.delta !== 0n), utxoCreated, spent, usedAddressIds, transfers };
}

/**
 * Decodes one raw block against a scan state and advances the state (UTXOs, watch set, used addresses)
 * as if the block were stored: the caller stores the result, or rebuilds the state from the store when
 * that fails. Checks the block's hash and merkle root (matchBlock). Gap limit: when the block uses a
 * derived address, derivation extends and the block is matched again, until no new scripts appear.
 * Returns "reorg" when the block does not extend `prevHash` (the state is then unchanged). `checkWork`
 * (the live path) checks the header's proof of work before anything is derived from the block.
 * @throws InconsistentBlockError, the proof-of-work errors of checkWork
 */
export async function decodeBitcoinBlock(
  ctx: BitcoinDecodeContext,
  state: BitcoinScanState,
  p: { height: number; hash: string; raw: Buffer; prevHash: string | undefined; checkWork?: (h: BitcoinHeaderFacts) => Promise<void> },
): Promise<DecodedBitcoinBlock | "reorg"> {
  const match = () => matchBlock({ chain: ctx.chainKey, height: p.height, raw: p.raw, expectedHash: p.hash, watch: state.watch, verifyMerkleRoot: ctx.verifyMerkleRoot });
  let m = match();
  if (p.prevHash !== undefined && m.prevHash !== p.prevHash) return "reorg";
  // Proof of work: a header without the network's work is refused before anything is derived from it.
  await p.checkWork?.({ height: p.height, hash: m.hash, prevHash: m.prevHash, bits: m.bits, time: m.time });
  const usedSoFar = new Set<number>();
  for (;;) {
    const fresh = m.outputs.map((o) => state.scripts.get(o.script)!).filter((a) => a.branch !== null && a.firstSeenHeight === null && !usedSoFar.has(a.id));
    if (!fresh.length) break;
    for (const a of fresh) usedSoFar.add(a.id);
    const before = state.scripts.size;
    // Derived addresses are saved in their own transaction: deriving ahead is harmless if the block is never stored.
    const addresses = await syncWalletAddresses({ store: ctx.store, config: ctx.config, chainKey: ctx.chainKey, alsoUsed: [...usedSoFar] });
    const used = new Map([...state.scripts.values()].filter((a) => a.firstSeenHeight !== null).map((a) => [a.id, a.firstSeenHeight]));
    // First-use heights come from this scan's state (a backfill rebuilds them), never from older rows.
    state.scripts = new Map(addresses.filter((a) => a.script && state.walletIds.has(a.walletId)).map((a) => [a.script!, { ...a, firstSeenHeight: used.get(a.id) ?? null }]));
    for (const script of state.scripts.keys()) state.watch.addScript(script);
    if (state.scripts.size === before) break;
    m = match();
  }
  const c = computeBitcoinChanges(state, m, { nativeAsset: ctx.nativeAsset, network: ctx.network });
  // Advance the state: created outputs first, then spends (some spend outputs of this block).
  for (const u of c.utxoCreated) {
    state.unspent.set(`${u.txid}:${u.vout}`, { walletId: u.walletId, value: u.value, script: u.script });
    state.watch.addOutpoint(u.txid, u.vout);
  }
  for (const sp of c.spent) {
    state.unspent.delete(`${sp.txid}:${sp.vout}`);
    state.watch.deleteOutpoint(sp.txid, sp.vout);
  }
  for (const o of m.outputs) {
    const a = state.scripts.get(o.script)!;
    if (a.firstSeenHeight === null) a.firstSeenHeight = p.height;
  }
  return { block: { chain: ctx.chainKey, height: p.height, hash: p.hash, parentHash: m.prevHash, time: m.time }, ...c };
}
