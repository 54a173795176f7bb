import { describe, expect, it } from "vitest";
import { computeSlotChanges } from "../../../src/chains/solana/compute-slot-changes.js";
import type { RpcBlock } from "../../../src/chains/solana/create-solana-rpc.js";
import { parseRpcJson } from "../../../src/chains/solana/parse-rpc-json.js";
import { validateSolanaAddress } from "../../../src/chains/solana/validate-solana-address.js";

const OWNER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
const OTHER = "DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const TA1 = "3Kzh9qAqVWQhEsfQz7Rn2bQ6F5Xv9uTqWvA3VJm7q1rJ";
const TA2 = "7UX2i7SucgLMQcfZ75s3VXmZZY4YRUyJN9X1RgfMoDUi";

describe("parseRpcJson", () => {
  it("keeps u64 integers exact (2^53 + 1, 2^64 - 1) and leaves digits inside strings alone", () => {
    const text = `{"a":9007199254740993,"b":[18446744073709551615,5],"c":"x 12345678901234567890 \\" 99999999999999999","d":1.5e300,"e":-9223372036854775808}`;
    const v = parseRpcJson(text) as { a: string; b: [string, number]; c: string; d: number; e: string };
    expect(BigInt(v.a)).toBe(2n ** 53n + 1n);
    expect(BigInt(v.b[0])).toBe(2n ** 64n - 1n);
    expect(v.b[1]).toBe(5);
    expect(v.c).toBe('x 12345678901234567890 " 99999999999999999');
    expect(v.d).toBe(1.5e300);
    expect(BigInt(v.e)).toBe(-(2n ** 63n));
  });
});

describe("computeSlotChanges", () => {
  const tb = (accountIndex: number, owner: string, amount: string, mint = USDC) => ({ accountIndex, mint, owner, programId: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", uiTokenAmount: { amount, decimals: 6 } });
  const block = (transactions: RpcBlock["transactions"]): RpcBlock => ({ blockhash: "h", previousBlockhash: "p", parentSlot: 1, blockTime: 0, blockHeight: 1, transactions });

  it("sums SOL and token deltas over all of an owner's accounts, counting closed and created ones and failed fees", () => {
    const b = block([
      {
        // Owner pays a fee and closes TA2 (its tokens moved to TA1 first), receiving its rent.
        transaction: { signatures: ["s1"], message: { accountKeys: [OWNER, TA1, TA2, OTHER] } },
        meta: { err: null, preBalances: [1_000_000, 2039280, 2039280, 5], postBalances: [1_000_000 - 5000 + 2039280, 2039280, 0, 5], preTokenBalances: [tb(1, OWNER, "10"), tb(2, OWNER, "7")], postTokenBalances: [tb(1, OWNER, "17")] },
      },
      {
        // Failed: only the fee moves.
        transaction: { signatures: ["s2"], message: { accountKeys: [OWNER, TA1] } },
        meta: { err: { InstructionError: [0, { Custom: 1 }] }, preBalances: ["18446744073709551615", 2039280], postBalances: ["18446744073709546615", 2039280], preTokenBalances: [tb(1, OWNER, "17")], postTokenBalances: [tb(1, OWNER, "17")] },
      },
      {
        // Tokens arrive in a new account owned by the custody wallet; an unconfigured mint and another owner are ignored.
        transaction: { signatures: ["s3"], message: { accountKeys: [OTHER, TA2, TA1] } },
        meta: { err: null, preBalances: [5, 0, 1], postBalances: [5, 0, 1], preTokenBalances: [tb(2, OTHER, "1", "So11111111111111111111111111111111111111112")], postTokenBalances: [tb(1, OWNER, "3"), tb(2, OTHER, "0", "So11111111111111111111111111111111111111112")] },
      },
    ]);
    const r = computeSlotChanges({ chain: "sol", block: b, owners: new Map([[OWNER, 1]]), nativeAsset: "SOL", mints: new Map([[USDC, "USDC"]]) });
    expect(r.changes).toEqual([
      { walletId: 1, asset: "SOL", txid: "s1", delta: 2039280n - 5000n },
      { walletId: 1, asset: "SOL", txid: "s2", delta: -5000n },
      { walletId: 1, asset: "USDC", txid: "s3", delta: 3n },
    ]);
    expect([...r.tokenAccounts.keys()].sort()).toEqual([TA1, TA2].sort());
  });

  it("indexes balances of v0 transactions through loaded addresses", () => {
    const b = block([
      {
        transaction: { signatures: ["v0"], message: { accountKeys: [OTHER] } },
        meta: { err: null, preBalances: [10, 100], postBalances: [5, 105], loadedAddresses: { writable: [OWNER], readonly: [] }, preTokenBalances: [], postTokenBalances: [] },
      },
    ]);
    const r = computeSlotChanges({ chain: "sol", block: b, owners: new Map([[OWNER, 4]]), nativeAsset: "SOL", mints: new Map() });
    expect(r.changes).toEqual([{ walletId: 4, asset: "SOL", txid: "v0", delta: 5n }]);
  });

  it("refuses token balances without owner (the delta could not be attributed)", () => {
    const b = block([{ transaction: { signatures: ["x"], message: { accountKeys: [TA1] } }, meta: { err: null, preBalances: [1], postBalances: [1], preTokenBalances: [{ accountIndex: 0, mint: USDC, uiTokenAmount: { amount: "1", decimals: 6 } }], postTokenBalances: [] } }]);
    expect(() => computeSlotChanges({ chain: "sol", block: b, owners: new Map([[OWNER, 1]]), nativeAsset: "SOL", mints: new Map([[USDC, "USDC"]]) })).toThrow(/token balance without owner/);
  });
});

describe("validateSolanaAddress", () => {
  it("accepts 32-byte base58 keys, on or off the curve, and rejects the rest", () => {
    expect(validateSolanaAddress(OWNER)).toBeNull();
    expect(validateSolanaAddress("11111111111111111111111111111111")).toBeNull();
    expect(validateSolanaAddress("0x" + "ab".repeat(20))).toMatch(/not a base58 Solana address/);
    expect(validateSolanaAddress(OWNER.slice(0, 40) + "0OIl")).toMatch(/not a base58 Solana address/);
    expect(validateSolanaAddress("z".repeat(44))).toMatch(/not a 32-byte base58 address/);
    expect(validateSolanaAddress("")).toBe("missing address");
  });
});
