import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBlockJson } from "../../../src/chains/solana/parse-block-json.js";
import { parseRpcJson } from "../../../src/chains/solana/parse-rpc-json.js";

const CUSTODY = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
const OTHER = "DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy";
const VOTE = "Vote111111111111111111111111111111111111111";
const MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const watched = new Set([CUSTODY]);

const key = (pubkey: string, signer = false) => ({ pubkey, signer, source: "transaction", writable: !signer });
const vote = (sig: string) => ({ meta: { err: null, fee: 5000, postBalances: [1, 2, 1], postTokenBalances: [], preBalances: [1, 2, 1], preTokenBalances: [], status: { Ok: null } }, transaction: { accountKeys: [key(OTHER, true), key("HfpLJRxb3irwCZaJXtWf2Cu7kXv7HjecBUEFXaGoaxAn"), key(VOTE)], signatures: [sig] }, version: "legacy" });
const deposit = (sig: string, lamports: string) => ({ meta: { err: null, fee: 5000, postBalances: [lamports, 1], postTokenBalances: [], preBalances: ["18446744073709551615", 1], preTokenBalances: [], status: { Ok: null } }, transaction: { accountKeys: [key(OTHER, true), key(CUSTODY)], signatures: [sig] }, version: "legacy" });
const envelope = (transactions: unknown[]) => ({ jsonrpc: "2.0", result: { blockHeight: 7, blockTime: 1, blockhash: "h", parentSlot: 6, previousBlockhash: "p", transactions }, id: 1 });

describe("parseBlockJson", () => {
  it("parses only the transactions that name a watched address, keeping their block index and exact u64s", () => {
    const text = JSON.stringify(envelope([vote("v1"), deposit("d1", "9007199254740993"), vote("v2"), vote("v3"), deposit("d2", "5")]));
    const body = parseBlockJson(text, { watched }) as { result: { transactions: { index: number; transaction: { signatures: string[] }; meta: { preBalances: unknown[]; postBalances: unknown[] } }[]; skippedTransactions: number; blockHeight: number } };
    expect(body.result.skippedTransactions).toBe(3);
    expect(body.result.blockHeight).toBe(7);
    expect(body.result.transactions.map((t) => [t.index, t.transaction.signatures[0]])).toEqual([[1, "d1"], [4, "d2"]]);
    expect(BigInt(body.result.transactions[0]!.meta.postBalances[0] as string)).toBe(2n ** 53n + 1n);
    expect(BigInt(body.result.transactions[0]!.meta.preBalances[0] as string)).toBe(2n ** 64n - 1n);
    // Without a filter it is the plain exact parse.
    expect(parseBlockJson(text, { watched: new Set([OTHER]) })).toEqual({ ...(parseRpcJson(text) as object), result: { ...(parseRpcJson(text) as { result: object }).result, transactions: (parseRpcJson(text) as { result: { transactions: object[] } }).result.transactions.map((t, index) => ({ ...t, index })), skippedTransactions: 0 } });
  });

  it("sees a watched address however the JSON spells it (escapes), in any layout, and ignores look-alikes inside longer strings", () => {
    const escaped = CUSTODY.replace("9", "\\u0039").replace("W", "\\u0057");
    const full = {
      meta: { err: null, fee: 5000, logMessages: [`Program log: ${CUSTODY} {"[\\"`, "\"]}"], preBalances: [1], postBalances: [1], preTokenBalances: [], postTokenBalances: [] },
      transaction: { message: { accountKeys: [OTHER], instructions: [] }, signatures: ["s0"] },
    };
    const text = JSON.stringify(envelope([full, "@@", vote("v")]), null, 2).replace('"@@"', `{ "meta": {}, "transaction": { "signatures": ["s1"], "accountKeys": [ { "pubkey": "${escaped}" } ] } }`);
    const body = parseBlockJson(text, { watched }) as { result: { transactions: { index: number; transaction: { accountKeys: { pubkey: string }[] } }[]; skippedTransactions: number } };
    expect(body.result.transactions.map((t) => t.index)).toEqual([1]);
    expect(body.result.transactions[0]!.transaction.accountKeys[0]!.pubkey).toBe(CUSTODY);
    expect(body.result.skippedTransactions).toBe(2);
  });

  it("keeps a transaction whose token balances lack owners, so the indexer can refuse the node", () => {
    const tx = { meta: { err: null, preBalances: [1], postBalances: [1], preTokenBalances: [{ accountIndex: 0, mint: MINT, uiTokenAmount: { amount: "1", decimals: 6 } }], postTokenBalances: [] }, transaction: { accountKeys: [key(OTHER)], signatures: ["t"] } };
    const body = parseBlockJson(JSON.stringify(envelope([tx, vote("v")])), { watched }) as { result: { transactions: unknown[] } };
    expect(body.result.transactions).toHaveLength(1);
  });

  it("passes error responses, empty blocks and headers through, and refuses broken JSON", () => {
    const error = { jsonrpc: "2.0", error: { code: -32007, message: "Slot 5 was skipped" }, id: 3 };
    expect(parseBlockJson(JSON.stringify(error), { watched })).toEqual(error);
    expect((parseBlockJson(JSON.stringify(envelope([])), { watched }) as { result: { transactions: unknown[]; skippedTransactions: number } }).result).toMatchObject({ transactions: [], skippedTransactions: 0 });
    const header = { jsonrpc: "2.0", result: { blockhash: "h", parentSlot: 1 }, id: 1 };
    expect(parseBlockJson(JSON.stringify(header), { watched })).toEqual(header);
    const text = JSON.stringify(envelope([vote("v"), deposit("d", "1")]));
    for (const cut of [text.length - 3, text.indexOf("d\"") + 1, 60]) expect(() => parseBlockJson(text.slice(0, cut), { watched })).toThrow(SyntaxError);
    expect(() => parseBlockJson(text.replace('},{"meta"', '}{"meta"'), { watched })).toThrow(SyntaxError);
  });

  it("keeps exactly the transactions whose parsed form names a watched address (property)", () => {
    const address = fc.constantFrom(CUSTODY, OTHER, VOTE, MINT);
    const tricky = fc.string({ unit: fc.constantFrom("a", "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "é", "\u0000") });
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, address, tricky, fc.integer(), fc.constant(null), fc.boolean(), fc.array(tie("v"), { maxLength: 4 }), fc.dictionary(fc.constantFrom("pubkey", "owner", "x", "logMessages"), tie("v"), { maxKeys: 3 })),
    })).v;
    const tx = fc.record({ transaction: fc.record({ signatures: fc.array(fc.string(), { maxLength: 2 }), accountKeys: fc.array(address, { maxLength: 4 }) }), meta: fc.dictionary(fc.constantFrom("err", "logMessages", "x"), value, { maxKeys: 3 }) });
    const names = (v: unknown): boolean => (typeof v === "string" ? watched.has(v) : Array.isArray(v) ? v.some(names) : v !== null && typeof v === "object" && Object.values(v).some(names));
    fc.assert(
      fc.property(fc.array(tx, { maxLength: 6 }), fc.boolean(), (txs, pretty) => {
        const text = pretty ? JSON.stringify(envelope(txs), null, 1) : JSON.stringify(envelope(txs));
        const body = parseBlockJson(text, { watched }) as { result: { transactions: Record<string, unknown>[]; skippedTransactions: number } };
        const expected = txs.map((t, index) => ({ ...t, index })).filter((t) => names(t));
        expect(body.result.transactions).toEqual(expected);
        expect(body.result.skippedTransactions).toBe(txs.length - expected.length);
      }),
      { numRuns: 300 },
    );
  });
});
