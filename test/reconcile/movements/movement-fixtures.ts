import { PublicKey } from "@solana/web3.js";
import { address as bitcoinAddress } from "bitcoinjs-lib";
import { encodeBase58 } from "../../../src/devnet/solana/base58.js";
import type { MovementValidationContext } from "../../../src/reconcile/movements/validate-movement-record.js";

/** Chains and assets the movement unit tests validate against: Bitcoin regtest, an EVM chain, Solana. */
export const VALIDATION: MovementValidationContext = {
  chains: { btc: { kind: "bitcoin", network: "regtest" }, eth: { kind: "evm" }, sol: { kind: "solana" } },
  assets: {
    BTC: { chain: "btc", decimals: 8 },
    ETH: { chain: "eth", decimals: 18 },
    "USDC-eth": { chain: "eth", decimals: 6 },
    SOL: { chain: "sol", decimals: 9 },
    "USDC-sol": { chain: "sol", decimals: 6 },
  },
  nowMs: Date.parse("2026-06-01T00:00:00Z"),
};

export const BTC_ADDR = bitcoinAddress.toBech32(Buffer.alloc(20, 1), 0, "bcrt");
export const BTC_ADDR2 = bitcoinAddress.toBech32(Buffer.alloc(20, 2), 0, "bcrt");
export const BTC_TXID = "ab".repeat(32);
export const ETH_ADDR = `0x${"12".repeat(20)}`;
export const ETH_TXID = `0x${"cd".repeat(32)}`;
export const SOL_ADDR = new PublicKey(Buffer.alloc(32, 7)).toBase58();
export const SOL_SIG = encodeBase58(Buffer.alloc(64, 9));

export const HEADER = "id,kind,chain,asset,amount,counterparty,txid,time\n";
/** A valid CSV row with one field replaced. */
export function row(over: Partial<Record<"id" | "kind" | "chain" | "asset" | "amount" | "counterparty" | "txid" | "time", string>> = {}): string {
  const r = { id: "w-1", kind: "withdrawal", chain: "btc", asset: "BTC", amount: "0.5", counterparty: BTC_ADDR, txid: "", time: "2026-05-31T12:00:00Z", ...over };
  return `${r.id},${r.kind},${r.chain},${r.asset},${r.amount},${r.counterparty},${r.txid},${r.time}\n`;
}
