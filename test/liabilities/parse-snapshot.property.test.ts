import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSnapshot, type SnapshotRow } from "../../src/liabilities/parse-snapshot.js";
import { formatUnits } from "../../src/lib/amounts.js";
import { isBackstopError } from "../../src/lib/errors.js";
import { ASSETS, chunked } from "./corpus.js";

// TESTING.md 2E E13: random bytes, valid files with one mutated field, and round trips.

const assetIds = Object.keys(ASSETS) as Array<keyof typeof ASSETS>;

async function parseAll(input: string | Uint8Array, chunk: number, format: "csv" | "ndjson" = "csv"): Promise<SnapshotRow[]> {
  const out: SnapshotRow[] = [];
  for await (const b of parseSnapshot(chunked(input, chunk), { format, assets: ASSETS })) out.push(...b);
  return out;
}

/** Canonical CSV of rows: quote only when needed; amounts in display units. */
function serialize(rows: Array<{ accountId: string; asset: string; amount: bigint }>): string {
  const q = (s: string) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `account_id,asset,amount\n${rows.map((r) => `${q(r.accountId)},${r.asset},${formatUnits(r.amount, ASSETS[r.asset as keyof typeof ASSETS].decimals)}`).join("\n")}\n`;
}

const idArb = fc.string({ unit: fc.constantFrom(..."abcXYZ019_-.@ ,\"'=+é漢\t".split("")), minLength: 1, maxLength: 12 })
  .filter((s) => s.trim().length > 0 && !/^\s*(grand[\s_-]*)?(sub[\s_-]*)?totals?\s*:?\s*$|^\s*(sum|summe|gesamt)\s*:?\s*$/i.test(s));
const rowArb = fc.record({
  accountId: idArb,
  asset: fc.constantFrom(...assetIds),
  amount: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
});

describe("parser properties (E13)", () => {
  it("never throws anything but a BackstopError on random bytes, and never hangs", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 64 }), fc.constantFrom("csv", "ndjson"), async (bytes, chunk, format) => {
        try {
          await parseAll(bytes, chunk, format as "csv" | "ndjson");
        } catch (e) {
          expect(isBackstopError(e), String(e)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("never throws anything but a BackstopError on random text built from CSV-significant characters", async () => {
    const textArb = fc.string({ unit: fc.constantFrom(..."a1.,\"\n\r\t-+eE0x;$ \u00a0\ufeff".split("")), maxLength: 200 });
    await fc.assert(
      fc.asyncProperty(textArb, fc.integer({ min: 1, max: 32 }), async (text, chunk) => {
        try {
          await parseAll(`account_id,asset,amount\n${text}`, chunk);
        } catch (e) {
          expect(isBackstopError(e), String(e)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("round-trips valid files exactly: serialize(parse(x)) == x, whatever the chunking", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 50 }), async (rows, chunk) => {
        const csv = serialize(rows);
        const parsed = await parseAll(csv, chunk);
        expect(parsed.map(({ accountId, asset, amount }) => ({ accountId, asset, amount }))).toEqual(rows);
        expect(serialize(parsed)).toBe(csv);
      }),
      { numRuns: 400 },
    );
  });

  it("accepts a mutated amount only when it is in the grammar and within the asset's decimals", async () => {
    const mutant = fc.string({ unit: fc.constantFrom(..."0123456789.-+eE, $x".split("")), minLength: 0, maxLength: 24 });
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 5 }), mutant, fc.constantFrom(...assetIds), async (rows, amount, asset) => {
        const csv = `${serialize(rows)}mutant,${asset},${amount.includes(",") ? `"${amount}"` : amount}\n`;
        const decimals = ASSETS[asset].decimals;
        const m = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(amount);
        const negZero = /^-0(?:\.0+)?$/.test(amount);
        const valid = negZero || (m !== null && (m[2] ?? "").length <= decimals && BigInt((m[1] ?? "") + (m[2] ?? "").padEnd(decimals, "0")) < 1n << 128n);
        try {
          const parsed = await parseAll(csv, 13);
          expect(valid, `accepted ${JSON.stringify(amount)}`).toBe(true);
          const last = parsed[parsed.length - 1]!;
          expect(last.amount).toBe(negZero ? 0n : BigInt(m![1]! + (m![2] ?? "").padEnd(decimals, "0")));
        } catch (e) {
          expect(isBackstopError(e), String(e)).toBe(true);
          expect(valid, `rejected ${JSON.stringify(amount)}: ${(e as Error).message}`).toBe(false);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
