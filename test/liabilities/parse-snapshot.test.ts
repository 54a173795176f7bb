import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DuplicateUserIdError, SnapshotFormatError } from "../../src/liabilities/errors.js";
import { parseSnapshot, type SnapshotRow } from "../../src/liabilities/parse-snapshot.js";
import { isBackstopError } from "../../src/lib/errors.js";
import { ASSETS, buildFromBytes, chunked, MALFORMED } from "./corpus.js";

async function rowsOf(input: string | Uint8Array, format: "csv" | "ndjson" = "csv", chunk = 1 << 16): Promise<SnapshotRow[]> {
  const out: SnapshotRow[] = [];
  for await (const batch of parseSnapshot(chunked(input, chunk), { format, assets: ASSETS })) out.push(...batch);
  return out;
}

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("malformed snapshot corpus (TESTING.md 2E)", () => {
  for (const c of MALFORMED) {
    for (const chunkSize of [undefined, 7]) {
      it(`${c.e} ${c.name} -> ${c.code}${chunkSize ? " (7-byte chunks)" : ""}`, async () => {
        if (chunkSize && (typeof c.input === "string" ? c.input.length : c.input.length) > 1 << 20) return; // the 10 MB field: one run is enough
        const err = await rejection(() => buildFromBytes(c.input, { format: c.format, rowCount: c.rowCount, controlTotals: c.controlTotals, chunkSize }));
        expect(isBackstopError(err), String(err)).toBe(true);
        expect((err as { code: string }).code).toBe(c.code);
        if (c.row !== undefined) expect((err as SnapshotFormatError).row).toBe(c.row);
        if (c.column !== undefined) expect((err as SnapshotFormatError).column).toBe(c.column);
        if (c.duplicates) expect((err as DuplicateUserIdError).duplicates.map((d) => d.rows)).toEqual(c.duplicates);
      });
    }
  }

  it("every category has a distinct code, and every case in one category shares it only when it is the same failure", () => {
    const codes = new Set(MALFORMED.map((c) => c.code));
    expect(codes.size).toBeGreaterThanOrEqual(35);
    for (const e of ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E11"]) expect(MALFORMED.some((c) => c.e === e)).toBe(true);
  });

  it("messages name rows and columns but never an account id or an amount", async () => {
    const err = await rejection(() => buildFromBytes("account_id,asset,amount\nsecret-user-77,BTC,1.123456789\n"));
    expect((err as Error).message).toMatchInlineSnapshot(`"Amount has more than 8 decimals (BTC) at row 2, column 3 (amount)."`);
    const headerless = await rejection(() => buildFromBytes("secret-user-77,BTC,1\n"));
    expect((headerless as { code: string }).code).toBe("LIABILITIES__UNKNOWN_COLUMN");
    expect((headerless as Error).message).not.toContain("secret");
    const dup = await rejection(() => buildFromBytes("account_id,asset,amount\nsecret-user-77,BTC,1\nSECRET-user-77,BTC,2\n"));
    expect((dup as Error).message).toMatchInlineSnapshot(`
      "1 account id(s) appear more than once after normalisation.
        rows 2, 3"
    `);
  });
});

describe("accepted inputs, exactly", () => {
  it("strips a UTF-8 BOM from the header", async () => {
    const rows = await rowsOf("\ufeffaccount_id,asset,amount\na,BTC,1\n");
    expect(rows).toEqual([{ row: 2, accountId: "a", asset: "BTC", amount: 100_000_000n }]);
  });

  it("accepts CRLF, LF and a missing final newline alike", async () => {
    const a = await rowsOf("account_id,asset,amount\r\na,BTC,1\r\nb,ETH,2");
    const b = await rowsOf("account_id,asset,amount\na,BTC,1\nb,ETH,2\n");
    expect(a).toEqual(b);
    expect(a).toHaveLength(2);
  });

  it("matches columns by name, in any order", async () => {
    const rows = await rowsOf("amount,account_id,asset\n1.5,a,SOL\n");
    expect(rows).toEqual([{ row: 2, accountId: "a", asset: "SOL", amount: 1_500_000_000n }]);
  });

  it("keeps quoted commas and doubled quotes verbatim", async () => {
    const rows = await rowsOf('account_id,asset,amount\n"Doe, ""J""",BTC,"2"\n');
    expect(rows[0]!.accountId).toBe('Doe, "J"');
  });

  it("stores formula-injection strings verbatim (E10)", async () => {
    const ids = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "\t=1+1", "-2+3"];
    const csv = `account_id,asset,amount\n${ids.map((id) => `"${id.replace(/"/g, '""')}",BTC,1`).join("\n")}\n`;
    expect((await rowsOf(csv)).map((r) => r.accountId)).toEqual(ids);
  });

  it("reads -0 as 0 (E4) and is exact above 2^53 and 2^64 (E2)", async () => {
    const rows = await rowsOf("account_id,asset,amount\na,BTC,-0\nb,BTC,-0.00\nc,ETH,123456789012.123456789012345678\nd,BTC,9007199254740993\n");
    expect(rows.map((r) => r.amount)).toEqual([0n, 0n, 123456789012123456789012345678n, 900719925474099300000000n]);
  });

  it("sums 0.1 + 0.2 exactly (E2)", async () => {
    const s = await buildFromBytes("account_id,asset,amount\na,BTC,0.1\nb,BTC,0.2\n", { controlTotals: { BTC: 30_000_000n }, rowCount: 2 });
    expect(s.totals).toEqual([30_000_000n]);
  });

  it("parses NDJSON with the same rules", async () => {
    const rows = await rowsOf('{"account_id":"a","asset":"ETH","amount":"0.000000000000000001"}\n{"amount":"2","asset":"BTC","account_id":"b"}\n', "ndjson");
    expect(rows.map((r) => [r.accountId, r.asset, r.amount])).toEqual([["a", "ETH", 1n], ["b", "BTC", 200_000_000n]]);
  });

  it("gives the same rows whatever the chunk boundaries (multi-byte UTF-8 split across chunks)", async () => {
    const csv = "account_id,asset,amount\nJürgen-€-漢字,BTC,1\n\"q,\"\"x\",ETH,0.5\n";
    const whole = await rowsOf(csv);
    for (const size of [1, 2, 3, 5, 11]) expect(await rowsOf(csv, "csv", size)).toEqual(whole);
  });

  it("streams: 4 million rows (about 270 MB) parse in a process capped at a 48 MB heap", async () => {
    const fixture = resolve(__dirname, "fixtures/parse-big-stream.ts");
    const r = spawnSync(process.execPath, ["--max-old-space-size=48", "--import", "tsx", fixture, "4000000"], { encoding: "utf8", cwd: resolve(__dirname, "../..") });
    expect(r.stderr.slice(-500)).not.toMatch(/heap out of memory/);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout.trim()).toBe("4000000");
  });

  it("keeps memory bounded on a file without newlines (a line cap, not a buffer of the whole file)", async () => {
    async function* endless() {
      for (let i = 0; i < 10_000; i++) yield Buffer.alloc(1 << 16, 0x61); // 640 MB of 'a' if it were buffered
    }
    const err = await rejection(async () => {
      for await (const _ of parseSnapshot(endless(), { format: "csv", assets: ASSETS })) void _;
    });
    expect((err as { code: string }).code).toBe("LIABILITIES__FIELD_TOO_LARGE");
  });
});
