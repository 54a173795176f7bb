import { address as bitcoinAddress } from "bitcoinjs-lib";
import { BackstopError } from "../../lib/errors.js";
import type { TransferInput } from "../../store/index.js";
import { toBitcoinjsNetwork } from "./ensure-ecc-lib.js";
import type { MatchedBlock } from "./match-block.js";
import type { BitcoinNetworkName } from "./wallet-errors.js";

/** Legs of one transaction get positions txIndex × 2^20 + n: a 4 MB block cannot hold 2^20 legs in one transaction. */
const LEGS_PER_TX = 2 ** 20;

/** One transaction as the legs see it. Values in sat. */
export type BitcoinTransferTx = {
  txIndex: number;
  txid: string;
  /** How many inputs it has, custody or not; undefined when it spends no custody output. */
  inputCount?: number;
  /** The custody outputs it spends, in input order. `script` is the spent output's scriptPubKey (hex). */
  spent: { walletId: number; value: bigint; script: string }[];
  /** Every output when it spends custody; otherwise its custody outputs. `walletId` null when not custody. */
  outputs: { vout: number; value: bigint; script: string; walletId: number | null }[];
};

/**
 * A transaction whose inputs are all custody outputs of known value pays out more than they hold:
 * the block is invalid (a lying node), or the custody UTXO set is wrong. Either way the indexer
 * stops rather than record it.
 */
export class OutputsExceedInputsError extends BackstopError {
  override name = "OutputsExceedInputsError";
  constructor(p: { txid: string; inputs: bigint; outputs: bigint }) {
    super("BITCOIN__OUTPUTS_EXCEED_INPUTS", `Transaction ${p.txid} pays out ${p.outputs} sat from custody inputs worth ${p.inputs} sat: the block is invalid.`);
  }
}

/**
 * The counterparty name of an output: its address in the network's standard encoding, or
 * `script:<hex>` for a script without one (OP_RETURN, bare multisig, P2PK, non-standard). Pure.
 * The templates are matched here and only the encoding is bitcoinjs-lib's: its
 * `fromOutputScript` tries each payment type in turn and throws for every miss (and validates
 * P2TR keys on the curve), about 50 times slower on the indexer's path.
 */
export function computeCounterparty(script: string, network: BitcoinNetworkName): string {
  const b = Buffer.from(script, "hex");
  const net = toBitcoinjsNetwork(network);
  const n = b.length;
  if (n === 25 && b[0] === 0x76 && b[1] === 0xa9 && b[2] === 0x14 && b[23] === 0x88 && b[24] === 0xac) return bitcoinAddress.toBase58Check(b.subarray(3, 23), net.pubKeyHash);
  if (n === 23 && b[0] === 0xa9 && b[1] === 0x14 && b[22] === 0x87) return bitcoinAddress.toBase58Check(b.subarray(2, 22), net.scriptHash);
  // Witness programs: version OP_0 or OP_1..OP_16, one push of 2 to 40 bytes (BIP-141); v0 only 20 or 32.
  const version = b[0] === 0 ? 0 : b[0]! >= 0x51 && b[0]! <= 0x60 ? b[0]! - 0x50 : -1;
  if (version >= 0 && n >= 4 && n <= 42 && b[1] === n - 2 && (version !== 0 || n === 22 || n === 34)) return bitcoinAddress.toBech32(b.subarray(2), version, net.bech32);
  return `script:${script}`;
}

/**
 * The transfer legs of a block's custody transactions (who paid whom, and the fee), for the
 * `transfers` table. Pure. Every custody wallet's legs in a transaction sum to its balance change
 * in it: `in` legs minus `out` and `fee` legs.
 *
 * - A transaction spending no custody output: one `in` leg per custody output, counterparty null
 *   (the senders are not known without the prevouts).
 * - A transaction spending custody: the spending wallets' outputs back to themselves are change,
 *   not legs. Each wallet's net outflow (what it spent minus what came back to it) pays the other
 *   outputs in output order, the wallets taken in the order of their first input, the fee payer
 *   last: an `out` leg per output paid (counterparty: its address, or `script:<hex>`; with
 *   `counterpartyWalletId` when it pays another custody wallet, which then gets the matching `in`
 *   leg naming the payer's first spent address). A batched withdrawal to 50 users is 50 `out` legs.
 * - The fee: when every input is a custody output, one `fee` leg of inputs minus outputs, from the
 *   wallet with the largest net outflow (ties: the earliest input). Only when no single wallet's
 *   outflow covers it is it split, one `fee` leg per contributing wallet, so that the sums hold.
 * - With inputs from outside custody, custody's outflow pays the outputs first and the rest was
 *   paid by the outside inputs (not legs); custody outputs paid by them get `in` legs with a null
 *   counterparty. Custody outflow beyond every output went to the fee: a `fee` leg (the part of the
 *   fee custody paid), so the sums still hold.
 * - Outputs of value 0 (OP_RETURN data carriers) move nothing: not legs. An OP_RETURN with value
 *   burns it: an `out` leg to `script:<hex>`.
 * @throws OutputsExceedInputsError a transaction whose inputs are all custody pays out more than they hold
 */
export function computeBitcoinTransfers(p: { asset: string; network: BitcoinNetworkName; txs: readonly BitcoinTransferTx[] }): TransferInput[] {
  const legs: TransferInput[] = [];
  for (const tx of p.txs) {
    let seq = 0;
    const push = (leg: Omit<TransferInput, "asset" | "txid" | "position">) => {
      legs.push({ asset: p.asset, txid: tx.txid, position: tx.txIndex * LEGS_PER_TX + seq++, ...leg });
    };
    if (tx.spent.length === 0) {
      for (const o of tx.outputs) if (o.walletId !== null && o.value > 0n) push({ walletId: o.walletId, direction: "in", amount: o.value, counterparty: null, counterpartyWalletId: null });
      continue;
    }

    // Spending wallets in the order of their first input: what each spent, and from which address.
    const payers = new Map<number, { spent: bigint; back: bigint; script: string }>();
    for (const s of tx.spent) {
      const w = payers.get(s.walletId);
      if (w) w.spent += s.value;
      else payers.set(s.walletId, { spent: s.value, back: 0n, script: s.script });
    }
    for (const o of tx.outputs) {
      const w = o.walletId === null ? undefined : payers.get(o.walletId);
      if (w) w.back += o.value;
    }
    // Receivers in output order; a spending wallet that got back more than it spent receives the excess once, at its first output.
    type Receiver = { amount: bigint; walletId: number | null; counterparty: string };
    const receivers: Receiver[] = [];
    const placed = new Set<number>();
    for (const o of tx.outputs) {
      if (o.value === 0n) continue;
      const w = o.walletId === null ? undefined : payers.get(o.walletId);
      if (w) {
        if (w.back > w.spent && !placed.has(o.walletId!)) {
          placed.add(o.walletId!);
          receivers.push({ amount: w.back - w.spent, walletId: o.walletId, counterparty: computeCounterparty(o.script, p.network) });
        }
        continue;
      }
      receivers.push({ amount: o.value, walletId: o.walletId, counterparty: computeCounterparty(o.script, p.network) });
    }
    const debts = [...payers].filter(([, w]) => w.spent > w.back).map(([walletId, w]) => ({ walletId, debt: w.spent - w.back, script: w.script }));
    const totalIn = tx.spent.reduce((s, x) => s + x.value, 0n);
    const totalOut = tx.outputs.reduce((s, x) => s + x.value, 0n);
    const feeKnown = tx.inputCount !== undefined && tx.inputCount === tx.spent.length;
    if (feeKnown && totalOut > totalIn) throw new OutputsExceedInputsError({ txid: tx.txid, inputs: totalIn, outputs: totalOut });
    // The fee payer (largest net outflow, earliest on ties) goes last, so what it has left is the fee.
    if (debts.length > 1) {
      let f = 0;
      debts.forEach((d, i) => {
        if (d.debt > debts[f]!.debt) f = i;
      });
      debts.push(...debts.splice(f, 1));
    }

    let k = 0;
    for (const r of receivers) {
      let left = r.amount;
      while (left > 0n && k < debts.length) {
        const d = debts[k]!;
        const take = left < d.debt ? left : d.debt;
        push({ walletId: d.walletId, direction: "out", amount: take, counterparty: r.counterparty, counterpartyWalletId: r.walletId });
        if (r.walletId !== null) push({ walletId: r.walletId, direction: "in", amount: take, counterparty: computeCounterparty(d.script, p.network), counterpartyWalletId: d.walletId });
        d.debt -= take;
        left -= take;
        if (d.debt === 0n) k++;
      }
      // Paid by inputs from outside custody: only a custody receiver has a leg.
      if (left > 0n && r.walletId !== null) push({ walletId: r.walletId, direction: "in", amount: left, counterparty: null, counterpartyWalletId: null });
    }
    // What custody spent beyond every output went to the miner.
    for (; k < debts.length; k++) {
      const d = debts[k]!;
      if (d.debt > 0n) push({ walletId: d.walletId, direction: "fee", amount: d.debt, counterparty: null, counterpartyWalletId: null });
    }
  }
  return legs;
}

/**
 * The block's custody transactions in block order, as computeBitcoinTransfers reads them, from a
 * matched block and the custody state before it. Pure.
 * @throws RangeError a custody spend whose output `spentOutput` does not know (the state is out of step)
 */
export function buildBitcoinTransferTxs(p: {
  block: Pick<MatchedBlock, "outputs" | "spends" | "spenders">;
  /** The custody wallet a scriptPubKey (hex) belongs to. */
  walletOfScript(script: string): number | undefined;
  /** A custody output before this block or created earlier in it: its wallet, value (sat) and script. */
  spentOutput(txid: string, vout: number): { walletId: number; value: bigint; script: string } | undefined;
}): BitcoinTransferTx[] {
  const txs = new Map<number, BitcoinTransferTx>();
  for (const s of p.block.spenders) {
    const spent = p.block.spends
      .filter((x) => x.txIndex === s.txIndex)
      .map((x) => {
        const u = p.spentOutput(x.prevTxid, x.prevVout);
        if (!u) throw new RangeError(`custody output ${x.prevTxid}:${x.prevVout} spent by ${x.txid} is unknown`);
        return u;
      });
    const outputs = s.outputs.map((o) => ({ vout: o.vout, value: o.value, script: o.script, walletId: p.walletOfScript(o.script) ?? null }));
    txs.set(s.txIndex, { txIndex: s.txIndex, txid: s.txid, inputCount: s.inputCount, spent, outputs });
  }
  for (const o of p.block.outputs) {
    if (txs.get(o.txIndex)?.inputCount !== undefined) continue;
    let tx = txs.get(o.txIndex);
    if (!tx) txs.set(o.txIndex, (tx = { txIndex: o.txIndex, txid: o.txid, spent: [], outputs: [] }));
    tx.outputs.push({ vout: o.vout, value: o.value, script: o.script, walletId: p.walletOfScript(o.script) ?? null });
  }
  return [...txs.values()].sort((a, b) => a.txIndex - b.txIndex);
}
