import { describe, expect, it } from "vitest";
import { computeCounterparties, computeSlotChanges } from "../../../src/chains/solana/compute-slot-changes.js";
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

describe("computeSlotChanges: transfer legs", () => {
  const C1 = OWNER;
  const C2 = "7UX2i7SucgLMQcfZ75s3VXmZZY4YRUyJN9X1RgfMoDUi";
  const X = OTHER;
  const Y = "3Kzh9qAqVWQhEsfQz7Rn2bQ6F5Xv9uTqWvA3VJm7q1rJ";
  const owners = new Map([[C1, 1], [C2, 2]]);
  const tb = (accountIndex: number, owner: string, amount: string) => ({ accountIndex, mint: USDC, owner, uiTokenAmount: { amount, decimals: 6 } });
  const accounts = (keys: string[]) => keys.map((pubkey, i) => ({ pubkey, signer: i === 0, writable: true, source: "transaction" as const }));
  const compute = (transactions: RpcBlock["transactions"]) =>
    computeSlotChanges({ chain: "sol", block: { blockhash: "h", previousBlockhash: "p", parentSlot: 1, blockTime: 0, blockHeight: 1, transactions }, owners, nativeAsset: "SOL", mints: new Map([[USDC, "USDC"]]) });
  const legsOf = (r: ReturnType<typeof compute>) => r.transfers.map(({ txid, position, ...l }) => ({ ...l, at: `${txid}:${position}` }));

  it("splits SOL into value and fee: a custody fee payer sending to custody and an outsider", () => {
    // C1 pays the 7,000 fee and sends 100 to C2 and 50 to X in one transaction (index 3 of the block).
    const r = compute([{ index: 3, transaction: { signatures: ["t"], accountKeys: accounts([C1, C2, X]) }, meta: { err: null, fee: 7000, preBalances: [10_000, 0, 0], postBalances: [10_000 - 7000 - 150, 100, 50] } }]);
    expect(r.changes).toEqual([{ walletId: 1, asset: "SOL", txid: "t", delta: -7150n }, { walletId: 2, asset: "SOL", txid: "t", delta: 100n }]);
    const base = 3 * 2 ** 20;
    expect(legsOf(r)).toEqual([
      { walletId: 1, asset: "SOL", direction: "fee", amount: 7000n, counterparty: null, counterpartyWalletId: null, at: `t:${base}` },
      { walletId: 1, asset: "SOL", direction: "out", amount: 100n, counterparty: C2, counterpartyWalletId: 2, at: `t:${base + 1}` },
      { walletId: 1, asset: "SOL", direction: "out", amount: 50n, counterparty: X, counterpartyWalletId: null, at: `t:${base + 2}` },
      { walletId: 2, asset: "SOL", direction: "in", amount: 100n, counterparty: C1, counterpartyWalletId: 1, at: `t:${base + 3}` },
    ]);
  });

  it("gives a failed transaction's custody payer a fee leg only, and a token deposit its sender", () => {
    const r = compute([
      { transaction: { signatures: ["failed"], message: { accountKeys: [C1, Y] } }, meta: { err: { InstructionError: [0, { Custom: 1 }] }, fee: 5000, preBalances: [9000, 1], postBalances: [4000, 1], preTokenBalances: [tb(1, C1, "5")], postTokenBalances: [tb(1, C1, "5")] } },
      // X (outsider) pays the fee and moves 30 USDC from its account (index 2) to C2's (index 1).
      { transaction: { signatures: ["dep"], message: { accountKeys: [X, Y, C2] } }, meta: { err: null, fee: 5000, preBalances: [9000, 1, 1], postBalances: [4000, 1, 1], preTokenBalances: [tb(1, C2, "0"), tb(2, X, "30")], postTokenBalances: [tb(1, C2, "30"), tb(2, X, "0")] } },
    ]);
    expect(legsOf(r)).toEqual([
      { walletId: 1, asset: "SOL", direction: "fee", amount: 5000n, counterparty: null, counterpartyWalletId: null, at: "failed:0" },
      { walletId: 2, asset: "USDC", direction: "in", amount: 30n, counterparty: X, counterpartyWalletId: null, at: `dep:${2 ** 20}` },
    ]);
  });

  it("names no counterparty when a mint or burn unbalances the movement, or the pairing is ambiguous", () => {
    const mint = compute([{ transaction: { signatures: ["mint"], message: { accountKeys: [X, Y] } }, meta: { err: null, fee: 5000, preBalances: [9000, 1], postBalances: [4000, 1], preTokenBalances: [tb(1, C1, "0")], postTokenBalances: [tb(1, C1, "8")] } }]);
    expect(legsOf(mint)).toEqual([{ walletId: 1, asset: "USDC", direction: "in", amount: 8n, counterparty: null, counterpartyWalletId: null, at: "mint:0" }]);
    // X and Y each send 10; C1 and C2 each receive 10: who paid whom is not shown.
    const ambiguous = compute([{ transaction: { signatures: ["amb"], message: { accountKeys: [X, Y, C1, C2] } }, meta: { err: null, fee: 0, preBalances: [10, 10, 0, 0], postBalances: [0, 0, 10, 10] } }]);
    expect(legsOf(ambiguous).map((l) => [l.walletId, l.direction, l.amount, l.counterparty])).toEqual([[1, "in", 10n, null], [2, "in", 10n, null]]);
  });

  it("computeCounterparties: one side single, exact one-to-one pairs, or nothing", () => {
    expect(computeCounterparties(new Map([["a", -30n], ["b", 10n], ["c", 20n]]))).toEqual(new Map([["b", [{ counterparty: "a", amount: 10n }]], ["a", [{ counterparty: "b", amount: 10n }, { counterparty: "c", amount: 20n }]], ["c", [{ counterparty: "a", amount: 20n }]]]));
    expect(computeCounterparties(new Map([["a", -10n], ["b", -25n], ["c", 25n], ["d", 10n]]))).toEqual(new Map([["a", [{ counterparty: "d", amount: 10n }]], ["d", [{ counterparty: "a", amount: 10n }]], ["b", [{ counterparty: "c", amount: 25n }]], ["c", [{ counterparty: "b", amount: 25n }]]]));
    expect(computeCounterparties(new Map([["a", -10n], ["b", -20n], ["c", 15n], ["d", 15n]])).size).toBe(0); // no exact pairs
    expect(computeCounterparties(new Map([["a", -10n], ["b", 9n]])).size).toBe(0); // does not balance
    expect(computeCounterparties(new Map([["a", 10n]])).size).toBe(0);
  });

  it("derives the same changes and legs from the full and the accounts form of a transaction", () => {
    const meta = { err: null, fee: 5000, preBalances: [100_000, 5, 0], postBalances: [100_000 - 5000 - 777, 5, 777], preTokenBalances: [tb(1, C1, "40")], postTokenBalances: [tb(1, C1, "40")] };
    const full = compute([{ transaction: { signatures: ["x"], message: { accountKeys: [C1, Y, X] } }, meta }]);
    const acc = compute([{ transaction: { signatures: ["x"], accountKeys: accounts([C1, Y, X]) }, meta }]);
    expect(acc).toEqual(full);
    expect(full.transfers.map((l) => l.direction)).toEqual(["fee", "out"]);
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
