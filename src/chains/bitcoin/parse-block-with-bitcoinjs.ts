import { Block } from "bitcoinjs-lib";
import { ByteKeyTable } from "./byte-key-table.js";
import type { WatchSet } from "./create-watch-set.js";
import { MalformedBlockError } from "./malformed-block-error.js";
import {
  MAX_MONEY,
  type OutputMatch,
  type ScanBlockOptions,
  type ScanBlockReturnType,
  type ScanWatch,
  type SpenderTransaction,
  type SpendMatch,
} from "./scan-block.js";

/**
 * The reference path: parses the block with bitcoinjs-lib's `Block.fromBuffer` and
 * matches with plain string sets, producing exactly what `scanBlock` returns (same
 * intra-block rule: an output that matches is a custody outpoint for the rest of the
 * block) and the same transaction rules (outputs present, values and their sum at most
 * MAX_MONEY, no custody outpoint spent twice; bitcoinjs-lib itself refuses a superfluous
 * witness). Several times slower; used to cross-check the fast path and as the
 * benchmark's baseline. `verifyMerkleRoot` is not supported here (bitcoinjs-lib's
 * `checkTxRoots` does it, without the mutation check).
 * @throws MalformedBlockError (`BITCOIN__MALFORMED_BLOCK`, offset unknown) when
 *   bitcoinjs-lib cannot parse the bytes or leaves trailing bytes.
 */
export function parseBlockWithBitcoinjs(
  raw: Uint8Array,
  watch: ScanWatch,
  opts: Pick<ScanBlockOptions, "txids"> = {},
): ScanBlockReturnType {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let block: Block;
  try {
    block = Block.fromBuffer(buf);
  } catch (cause) {
    throw new MalformedBlockError({ reason: `bitcoinjs-lib: ${(cause as Error).message}`, cause });
  }
  const txs = block.transactions ?? [];
  if (buf.length < 80 || txs.length === 0) {
    throw new MalformedBlockError({ reason: "block has no transactions" });
  }
  const parsed = block.byteLength(false, true);
  if (parsed !== buf.length) {
    throw new MalformedBlockError({ reason: `${buf.length - parsed} trailing bytes after the last transaction` });
  }

  const hasScript =
    watch.scripts instanceof ByteKeyTable
      ? (hex: string) => (watch as WatchSet).hasScript(hex)
      : (hex: string) => (watch.scripts as ReadonlySet<string>).has(hex);
  const hasOutpoint =
    watch.scripts instanceof ByteKeyTable
      ? (txid: string, vout: number) => (watch as WatchSet).hasOutpoint(txid, vout)
      : (txid: string, vout: number) => (watch.outpoints as ReadonlySet<string>).has(`${txid}:${vout}`);

  const created = new Set<string>();
  const outputs: OutputMatch[] = [];
  const spends: SpendMatch[] = [];
  const spenders: SpenderTransaction[] = [];
  const spentHere = new Set<string>();
  const txids: string[] = [];
  txs.forEach((tx, t) => {
    const txid = tx.getId();
    if (opts.txids) txids.push(txid);
    let spendsCustody = false;
    tx.ins.forEach((input, vin) => {
      const prevTxid = Buffer.from(input.hash).reverse().toString("hex");
      const key = `${prevTxid}:${input.index}`;
      if (hasOutpoint(prevTxid, input.index) || created.has(key)) {
        if (spentHere.has(key)) throw new MalformedBlockError({ reason: `transaction ${t} input ${vin} spends custody outpoint ${key} a second time in this block` });
        spentHere.add(key);
        spends.push({ txIndex: t, txid, vin, prevTxid, prevVout: input.index });
        spendsCustody = true;
      }
    });
    if (tx.outs.length === 0) throw new MalformedBlockError({ reason: `transaction ${t} has no outputs` });
    let sum = 0n;
    tx.outs.forEach((output, o) => {
      const value = BigInt(output.value);
      if (value > MAX_MONEY) throw new MalformedBlockError({ reason: `transaction ${t} output ${o} value ${value} sat is above 21,000,000 BTC` });
      sum += value;
      if (sum > MAX_MONEY) throw new MalformedBlockError({ reason: `transaction ${t} outputs sum to more than 21,000,000 BTC (output ${o})` });
    });
    if (spendsCustody) {
      spenders.push({ txIndex: t, txid, inputCount: tx.ins.length, outputs: tx.outs.map((o, vout) => ({ vout, script: o.script.toString("hex"), value: BigInt(o.value) })) });
    }
    tx.outs.forEach((output, vout) => {
      const script = output.script.toString("hex");
      if (hasScript(script)) {
        outputs.push({ txIndex: t, txid, vout, script, value: BigInt(output.value) });
        created.add(`${txid}:${vout}`);
      }
    });
  });

  const header = {
    hash: block.getId(),
    prevHash: Buffer.from(block.prevHash!).reverse().toString("hex"),
    merkleRoot: Buffer.from(block.merkleRoot!).reverse().toString("hex"),
    version: block.version,
    time: block.timestamp,
    bits: block.bits,
    nonce: block.nonce,
  };
  const base = { header, size: buf.length, txCount: txs.length, outputs, spends, spenders };
  return opts.txids ? { ...base, txids } : base;
}
