// The pure transfer-legs computation: the shapes custody movements take (deposits, withdrawals with
// change, batched withdrawals, custody-to-custody moves, consolidations, outside inputs, OP_RETURN),
// and, on random transactions, the invariant the alerts and the reconciliation rely on: a wallet's
// legs in a transaction sum to its balance change in it.
import { address as bitcoinAddress, Block, networks, Transaction } from "bitcoinjs-lib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildBitcoinTransferTxs, computeBitcoinTransfers, computeCounterparty, OutputsExceedInputsError, type BitcoinTransferTx } from "../../../src/chains/bitcoin/compute-bitcoin-transfers.js";
import { ensureEccLib } from "../../../src/chains/bitcoin/ensure-ecc-lib.js";
import type { TransferInput } from "../../../src/store/index.js";
import { BIG_TXS, loadFixture, REAL_BLOCKS } from "./block-fixtures.js";

const P2WPKH = (n: number) => `0014${n.toString(16).padStart(40, "0")}`;
const legsOf = (txs: BitcoinTransferTx[]) => computeBitcoinTransfers({ asset: "BTC", network: "regtest", txs });
const brief = (l: TransferInput) => [l.walletId, l.direction, l.amount, l.counterpartyWalletId ?? null];

/** Per wallet: in legs minus out and fee legs. */
function legSums(legs: TransferInput[]): Map<number, bigint> {
  const m = new Map<number, bigint>();
  for (const l of legs) m.set(l.walletId, (m.get(l.walletId) ?? 0n) + (l.direction === "in" ? l.amount : -l.amount));
  return m;
}

describe("computeBitcoinTransfers", () => {
  it("a deposit: one in leg per custody output, sender unknown", () => {
    const legs = legsOf([{ txIndex: 3, txid: "aa", spent: [], outputs: [{ vout: 1, value: 5000n, script: P2WPKH(1), walletId: 7 }, { vout: 4, value: 6000n, script: P2WPKH(2), walletId: 8 }] }]);
    expect(legs.map(brief)).toEqual([[7, "in", 5000n, null], [8, "in", 6000n, null]]);
    expect(legs.map((l) => l.counterparty)).toEqual([null, null]);
    expect(legs.map((l) => l.position)).toEqual([3 * 2 ** 20, 3 * 2 ** 20 + 1]);
  });

  it("a withdrawal with change: one out leg to the payee's address, the fee once, change is no leg", () => {
    const legs = legsOf([{ txIndex: 1, txid: "bb", inputCount: 1, spent: [{ walletId: 1, value: 100_000n, script: P2WPKH(1) }], outputs: [
      { vout: 0, value: 30_000n, script: P2WPKH(99), walletId: null },
      { vout: 1, value: 69_000n, script: P2WPKH(1), walletId: 1 },
    ] }]);
    expect(legs.map(brief)).toEqual([[1, "out", 30_000n, null], [1, "fee", 1_000n, null]]);
    expect(legs[0]!.counterparty).toBe(computeCounterparty(P2WPKH(99), "regtest"));
    expect(legs[0]!.counterparty).toMatch(/^bcrt1q/);
  });

  it("a batched withdrawal to 50 users plus change: 50 out legs and one fee leg", () => {
    const outputs = Array.from({ length: 50 }, (_, i) => ({ vout: i, value: 1_000n + BigInt(i), script: P2WPKH(1000 + i), walletId: null as number | null }));
    outputs.push({ vout: 50, value: 500_000n, script: P2WPKH(1), walletId: 1 });
    const paid = outputs.slice(0, 50).reduce((s, o) => s + o.value, 0n);
    const legs = legsOf([{ txIndex: 2, txid: "cc", inputCount: 2, spent: [{ walletId: 1, value: 400_000n, script: P2WPKH(1) }, { walletId: 1, value: 200_000n + paid, script: P2WPKH(1) }], outputs }]);
    expect(legs.filter((l) => l.direction === "out").length).toBe(50);
    expect(legs.filter((l) => l.direction === "fee").map(brief)).toEqual([[1, "fee", 100_000n, null]]);
    expect(new Set(legs.map((l) => l.counterparty)).size).toBe(51);
  });

  it("custody to custody: the payer's out leg names the receiving wallet, which gets the matching in leg", () => {
    const legs = legsOf([{ txIndex: 1, txid: "dd", inputCount: 1, spent: [{ walletId: 1, value: 50_000n, script: P2WPKH(1) }], outputs: [{ vout: 0, value: 49_000n, script: P2WPKH(2), walletId: 2 }] }]);
    expect(legs.map(brief)).toEqual([[1, "out", 49_000n, 2], [2, "in", 49_000n, 1], [1, "fee", 1_000n, null]]);
    expect(legs[1]!.counterparty).toBe(computeCounterparty(P2WPKH(1), "regtest"));
  });

  it("a consolidation of three wallets into a fourth: each pays its share, the largest pays the fee", () => {
    const legs = legsOf([{ txIndex: 1, txid: "ee", inputCount: 3, spent: [
      { walletId: 1, value: 10_000n, script: P2WPKH(1) },
      { walletId: 2, value: 30_000n, script: P2WPKH(2) },
      { walletId: 3, value: 20_000n, script: P2WPKH(3) },
    ], outputs: [{ vout: 0, value: 58_000n, script: P2WPKH(4), walletId: 4 }] }]);
    expect(legs.filter((l) => l.direction === "fee").map(brief)).toEqual([[2, "fee", 2_000n, null]]);
    expect([...legSums(legs)]).toEqual([[1, -10_000n], [4, 58_000n], [3, -20_000n], [2, -30_000n]]);
  });

  it("inputs from outside custody: no fee leg, custody pays the outputs first, the rest of a custody output is from unknown senders", () => {
    const legs = legsOf([{ txIndex: 1, txid: "ff", inputCount: 2, spent: [{ walletId: 1, value: 10_000n, script: P2WPKH(1) }], outputs: [
      { vout: 0, value: 4_000n, script: P2WPKH(50), walletId: null },
      { vout: 1, value: 20_000n, script: P2WPKH(2), walletId: 2 },
    ] }]);
    expect(legs.map(brief)).toEqual([[1, "out", 4_000n, null], [1, "out", 6_000n, 2], [2, "in", 6_000n, 1], [2, "in", 14_000n, null]]);
  });

  it("OP_RETURN: a zero-value data output is no leg; a valued one is an out leg to script:<hex>", () => {
    const opReturn = "6a0568656c6c6f";
    const legs = legsOf([{ txIndex: 1, txid: "ab", inputCount: 1, spent: [{ walletId: 1, value: 10_000n, script: P2WPKH(1) }], outputs: [
      { vout: 0, value: 0n, script: opReturn, walletId: null },
      { vout: 1, value: 500n, script: opReturn, walletId: null },
      { vout: 2, value: 9_000n, script: P2WPKH(1), walletId: 1 },
    ] }]);
    expect(legs.map((l) => [l.direction, l.amount, l.counterparty])).toEqual([["out", 500n, `script:${opReturn}`], ["fee", 500n, null]]);
  });

  it("refuses a transaction whose custody inputs hold less than its outputs", () => {
    expect(() => legsOf([{ txIndex: 1, txid: "ba", inputCount: 1, spent: [{ walletId: 1, value: 1_000n, script: P2WPKH(1) }], outputs: [{ vout: 0, value: 1_001n, script: P2WPKH(9), walletId: null }] }])).toThrow(OutputsExceedInputsError);
  });

  it("on random transactions: every wallet's legs sum to its balance change, amounts are positive, positions unique", () => {
    const wallet = fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 4 }));
    const tx = fc.record({
      spent: fc.array(fc.record({ walletId: fc.integer({ min: 1, max: 4 }), value: fc.bigInt({ min: 1n, max: 10n ** 9n }) }), { maxLength: 5 }),
      outside: fc.nat(2),
      outputs: fc.array(fc.record({ walletId: wallet, value: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 10n ** 9n })) }), { minLength: 1, maxLength: 6 }),
    });
    fc.assert(
      fc.property(fc.array(tx, { minLength: 1, maxLength: 5 }), (specs) => {
        const txs: BitcoinTransferTx[] = specs.map((s, i) => {
          const inValue = s.spent.reduce((a, x) => a + x.value, 0n);
          // With only custody inputs, scale outputs under the inputs so that the transaction is valid.
          const outs = s.outputs.map((o, vout) => ({ vout, value: o.value, walletId: o.walletId, script: o.walletId === null ? P2WPKH(100 + vout) : P2WPKH(o.walletId) }));
          const outValue = outs.reduce((a, o) => a + o.value, 0n);
          if (s.spent.length > 0 && s.outside === 0 && outValue > inValue) for (const o of outs) o.value = (o.value * inValue) / outValue;
          return {
            txIndex: i + 1,
            txid: `t${i}`,
            inputCount: s.spent.length === 0 ? undefined : s.spent.length + s.outside,
            spent: s.spent.map((x) => ({ ...x, script: P2WPKH(x.walletId) })),
            outputs: s.spent.length === 0 ? outs.filter((o) => o.walletId !== null) : outs,
          };
        });
        const legs = legsOf(txs);
        expect(legs.every((l) => l.amount > 0n)).toBe(true);
        expect(new Set(legs.map((l) => l.position)).size).toBe(legs.length);
        for (const t of txs) {
          const mine = legs.filter((l) => l.txid === t.txid);
          const delta = new Map<number, bigint>();
          for (const x of t.spent) delta.set(x.walletId, (delta.get(x.walletId) ?? 0n) - x.value);
          for (const o of t.outputs) if (o.walletId !== null) delta.set(o.walletId, (delta.get(o.walletId) ?? 0n) + o.value);
          const sums = legSums(mine);
          for (const [w, d] of delta) expect(sums.get(w) ?? 0n, `${t.txid} wallet ${w}`).toBe(d);
          expect(mine.filter((l) => l.direction === "fee").length).toBeLessThanOrEqual(Math.max(1, new Set(t.spent.map((x) => x.walletId)).size));
          if (t.inputCount !== undefined && t.inputCount === t.spent.length) {
            const fee = t.spent.reduce((a, x) => a + x.value, 0n) - t.outputs.reduce((a, o) => a + o.value, 0n);
            expect(mine.filter((l) => l.direction === "fee").reduce((a, l) => a + l.amount, 0n)).toBe(fee);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("buildBitcoinTransferTxs", () => {
  it("groups a matched block's outputs and spends by transaction, spenders with every output", () => {
    const txs = buildBitcoinTransferTxs({
      block: {
        outputs: [{ txIndex: 1, txid: "a", vout: 0, script: P2WPKH(1), value: 10n }, { txIndex: 2, txid: "b", vout: 1, script: P2WPKH(2), value: 7n }],
        spends: [{ txIndex: 2, txid: "b", prevTxid: "a", prevVout: 0 }],
        spenders: [{ txIndex: 2, txid: "b", inputCount: 1, outputs: [{ vout: 0, script: P2WPKH(9), value: 2n }, { vout: 1, script: P2WPKH(2), value: 7n }] }],
      },
      walletOfScript: (s) => (s === P2WPKH(1) ? 1 : s === P2WPKH(2) ? 2 : undefined),
      spentOutput: (txid, vout) => (txid === "a" && vout === 0 ? { walletId: 1, value: 10n, script: P2WPKH(1) } : undefined),
    });
    expect(txs).toEqual([
      { txIndex: 1, txid: "a", spent: [], outputs: [{ vout: 0, value: 10n, script: P2WPKH(1), walletId: 1 }] },
      { txIndex: 2, txid: "b", inputCount: 1, spent: [{ walletId: 1, value: 10n, script: P2WPKH(1) }], outputs: [{ vout: 0, value: 2n, script: P2WPKH(9), walletId: null }, { vout: 1, value: 7n, script: P2WPKH(2), walletId: 2 }] },
    ]);
  });
});

describe("computeCounterparty", () => {
  it("names every output of real mainnet blocks (and a 69,420-output testnet transaction) as bitcoinjs-lib's fromOutputScript does", () => {
    ensureEccLib();
    const cases: Array<[Buffer[], "mainnet" | "testnet"]> = [
      [REAL_BLOCKS.flatMap((h) => Block.fromBuffer(loadFixture(`block-${h}`)).transactions!.flatMap((t) => t.outs.map((o) => o.script))), "mainnet"],
      [Transaction.fromBuffer(loadFixture(`tx-${BIG_TXS.outputs69k}`)).outs.slice(0, 5000).map((o) => o.script), "testnet"],
    ];
    let named = 0;
    for (const [scripts, network] of cases) {
      for (const script of scripts) {
        let expected: string;
        try {
          expected = bitcoinAddress.fromOutputScript(script, network === "mainnet" ? networks.bitcoin : networks.testnet);
        } catch {
          expected = `script:${script.toString("hex")}`;
        }
        expect(computeCounterparty(script.toString("hex"), network)).toBe(expected);
        if (!expected.startsWith("script:")) named++;
      }
    }
    expect(named).toBeGreaterThan(9000);
  });

  it("encodes every witness version (BIP-350), and names anything else by its script", () => {
    const v = (version: number, len: number) => Buffer.concat([Buffer.from([version === 0 ? 0 : 0x50 + version, len]), Buffer.alloc(len, 7)]).toString("hex");
    expect(computeCounterparty(v(0, 20), "regtest")).toMatch(/^bcrt1q/);
    expect(computeCounterparty(v(0, 32), "mainnet")).toMatch(/^bc1q.{58}$/);
    expect(computeCounterparty(v(1, 32), "mainnet")).toBe(bitcoinAddress.toBech32(Buffer.alloc(32, 7), 1, "bc"));
    expect(computeCounterparty(v(2, 16), "testnet")).toBe(bitcoinAddress.toBech32(Buffer.alloc(16, 7), 2, "tb"));
    expect(computeCounterparty(v(0, 25), "mainnet")).toBe(`script:${v(0, 25)}`);
    expect(computeCounterparty("6a", "mainnet")).toBe("script:6a");
    expect(computeCounterparty("", "mainnet")).toBe("script:");
  });
});
