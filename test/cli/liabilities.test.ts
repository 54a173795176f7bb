import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { parseControlTotals, registerLiabilitiesCommands } from "../../src/cli/liabilities.js";
import { openStore } from "../../src/store/index.js";

const ASSETS = { BTC: { decimals: 8 }, ETH: { decimals: 18 } };

describe("backstop liabilities (commands registered on a program)", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-cli-liab-"));
  const db = join(dir, "backstop.db");
  const out: string[] = [];
  const program = () => {
    const p = new Command("backstop").option("--config <path>", "", "unused").exitOverride();
    registerLiabilitiesCommands(p, {
      loadConfig: async () => ({ assets: ASSETS }),
      openStore: () => openStore({ sqlitePath: db }),
      logger: () => pino({ level: "silent" }),
      stdout: (t) => void out.push(t),
      now: () => new Date("2026-02-01T00:00:00Z"),
    });
    return p;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("imports with declared checks, prints JSON, lists, and proves", async () => {
    const file = join(dir, "s.ndjson");
    writeFileSync(file, '{"account_id":"a","asset":"BTC","amount":"0.1"}\n{"account_id":"b","asset":"BTC","amount":"0.2"}\n{"account_id":"b","asset":"ETH","amount":"1"}\n');
    await program().parseAsync(["node", "backstop", "liabilities", "import", file, "--as-of", "2026-01-31T00:00:00Z", "--row-count", "3", "--control-total", "BTC=0.3", "--control-total", "ETH=1", "--json"]);
    const r = JSON.parse(out.pop()!) as { snapshotId: string; format: string; created: boolean; assets: Array<{ id: string; total: string; totalDisplay: string }> };
    expect(r).toMatchObject({ format: "ndjson", created: true });
    expect(r.assets).toEqual([
      { id: "BTC", decimals: 8, total: "30000000", totalDisplay: "0.3" },
      { id: "ETH", decimals: 18, total: "1000000000000000000", totalDisplay: "1" },
    ]);
    await program().parseAsync(["node", "backstop", "liabilities", "list", "--json"]);
    expect((JSON.parse(out.pop()!) as unknown[]).length).toBe(1);
    await program().parseAsync(["node", "backstop", "liabilities", "proof", "--snapshot", r.snapshotId, "--account", "B"]);
    expect(JSON.parse(out.pop()!)).toMatchObject({ accountId: "b", balances: ["20000000", "1000000000000000000"] });
  });

  it("refuses malformed declared checks before reading the file", async () => {
    await expect(program().parseAsync(["node", "backstop", "liabilities", "import", "/nonexistent", "--as-of", "2026-01-31T00:00:00Z", "--row-count", "3.5"]))
      .rejects.toMatchObject({ code: "CLI__INVALID_ROW_COUNT" });
    for (const bad of ["BTC", "DOGE=1", "BTC=1e3", "BTC=0.000000001"]) {
      expect(() => parseControlTotals([bad], ASSETS)).toThrow(expect.objectContaining({ code: "LIABILITIES__INVALID_CONTROL_TOTAL" }));
    }
    expect(() => parseControlTotals(["BTC=1", "BTC=2"], ASSETS)).toThrow(/given twice/);
    expect(parseControlTotals(["BTC=12.5", "ETH=0.000000000000000001"], ASSETS)).toEqual({ BTC: 1_250_000_000n, ETH: 1n });
  });

  it("reports an unreadable file as a typed error", async () => {
    await expect(program().parseAsync(["node", "backstop", "liabilities", "import", join(dir, "missing.csv"), "--as-of", "2026-01-31T00:00:00Z"]))
      .rejects.toMatchObject({ code: "LIABILITIES__READ_FAILED" });
  });
});
