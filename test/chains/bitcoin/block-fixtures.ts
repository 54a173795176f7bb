// Helpers shared by the Bitcoin scan tests: fixture loading, block assembly, script kinds.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Block, Transaction } from "bitcoinjs-lib";

const FIXTURES = new URL("../../fixtures/bitcoin/", import.meta.url);

/** Real mainnet blocks (raw bytes), named by their block hash. */
export const REAL_BLOCKS = [
  "000000000000000000050f70113ab1932c195442cb49bcc4ee4d7f426c8a3295",
  "00000000000000000008513c860373da0484f065983aeb063ebf81c172e81d48",
] as const;

/** Real transactions with extreme shapes, named by their txid. */
export const BIG_TXS = {
  witness99k: "7393096d97bfee8660f4100ffd61874d62f9a65de9fb6acf740c4c386990ef73",
  witness500k: "73be398c4bdc43709db7398106609eea2a7841aaf3a4fa2000dc18184faa2a7e",
  outputs69k: "a536e7f60a493a258d9adc77d913f7798baf60c808c16898b04579d8c0652681",
} as const;

/** Raw bytes of `test/fixtures/bitcoin/<name>.bin.gz`. */
export function loadFixture(name: string): Buffer {
  return gunzipSync(readFileSync(new URL(`${name}.bin.gz`, FIXTURES)));
}

/** Serialises `txs` as a block with a correct merkle root (so `verifyMerkleRoot` passes). */
export function buildBlock(txs: Transaction[], p: { prevHash?: Buffer; time?: number; nonce?: number } = {}): Buffer {
  const b = new Block();
  b.version = 0x20000000;
  b.prevHash = p.prevHash ?? Buffer.alloc(32, 0x11);
  b.merkleRoot = Block.calculateMerkleRoot(txs);
  b.timestamp = p.time ?? 1_700_000_000;
  b.bits = 0x1d00ffff;
  b.nonce = p.nonce ?? 42;
  b.transactions = txs;
  return b.toBuffer();
}

/** A coinbase-shaped transaction (null prevout) paying `script`. */
export function coinbase(script: Buffer, value = 312_500_000): Transaction {
  const tx = new Transaction();
  tx.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, Buffer.from("03a08601", "hex"));
  tx.addOutput(script, value);
  return tx;
}

export type ScriptKind = "p2pkh" | "p2sh" | "p2wpkh" | "p2wsh" | "p2tr" | "op_return" | "other";

/** Standard template of a scriptPubKey. */
export function scriptKind(s: Uint8Array): ScriptKind {
  const h = Buffer.from(s).toString("hex");
  if (h.length === 50 && h.startsWith("76a914") && h.endsWith("88ac")) return "p2pkh";
  if (h.length === 46 && h.startsWith("a914") && h.endsWith("87")) return "p2sh";
  if (h.length === 44 && h.startsWith("0014")) return "p2wpkh";
  if (h.length === 68 && h.startsWith("0020")) return "p2wsh";
  if (h.length === 68 && h.startsWith("5120")) return "p2tr";
  if (h.startsWith("6a")) return "op_return";
  return "other";
}

/** A random standard scriptPubKey of `kind` from `rand` (bytes source). */
export function randomScript(kind: Exclude<ScriptKind, "other" | "op_return">, bytes: (n: number) => Buffer): Buffer {
  switch (kind) {
    case "p2pkh":
      return Buffer.concat([Buffer.from("76a914", "hex"), bytes(20), Buffer.from("88ac", "hex")]);
    case "p2sh":
      return Buffer.concat([Buffer.from("a914", "hex"), bytes(20), Buffer.from("87", "hex")]);
    case "p2wpkh":
      return Buffer.concat([Buffer.from("0014", "hex"), bytes(20)]);
    case "p2wsh":
      return Buffer.concat([Buffer.from("0020", "hex"), bytes(32)]);
    case "p2tr":
      return Buffer.concat([Buffer.from("5120", "hex"), bytes(32)]);
  }
}

/** Display-hex txid of an input's prevout hash (internal order). */
export function prevTxid(hash: Uint8Array): string {
  return Buffer.from(hash).reverse().toString("hex");
}
