// `backstop movements import | list | report` through the real CLI (bin/backstop.js, a child process)
// against a SQLite store: all or nothing with every bad row named, idempotent re-import, a conflict
// refused, list filters, and the report's CSV with formula-safe cells.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { BTC_ADDR, BTC_ADDR2 } from "../reconcile/movements/movement-fixtures.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "backstop.js");

describe("backstop movements (CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-cli-mov-"));
  const db = join(dir, "backstop.db");
  const config = join(dir, "backstop.config.json");
  writeFileSync(config, JSON.stringify({
    store: { sqlitePath: db },
    chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:9"] } },
    assets: { BTC: { chain: "btc", decimals: 8, native: true } },
    wallets: [],
    movements: { slaSeconds: 60 },
  }));
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, "--config", config, "--log-format", "json", ...args], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir } });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const t = new Date(Date.now() - 3_600_000).toISOString();
  const H = "id,kind,chain,asset,amount,counterparty,txid,time\n";

  it("refuses a file with bad rows (each named), writes nothing; imports, re-imports as a no-op, refuses a conflict", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, `${H}w-1,withdrawal,btc,BTC,0.5,${BTC_ADDR},,${t}\nw-2,withdrawal,btc,DOGE,1,${BTC_ADDR},,${t}\nw-3,withdrawal,btc,BTC,-1,${BTC_ADDR},${"ab".repeat(31)},${t}\n`);
    const r1 = run("movements", "import", bad);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toContain("error MOVEMENTS__INVALID_RECORDS");
    expect(r1.stderr).toContain("row 3, column 4 (asset): Unknown asset");
    expect(r1.stderr).toContain("row 4, column 5 (amount): Negative amount [MOVEMENTS__NEGATIVE_AMOUNT]");
    expect(r1.stderr).toContain("row 4, column 7 (txid)");
    const good = join(dir, "good.csv");
    writeFileSync(good, `${H}w-1,withdrawal,btc,BTC,0.5,${BTC_ADDR},,${t}\nw-2,withdrawal,btc,BTC,1.25,${BTC_ADDR2},,${t}\nd-1,deposit,btc,BTC,2,,,${t}\n`);
    const store = await openStore({ sqlitePath: db });
    try {
      expect(await store.raw("SELECT count(*) AS n FROM movement_records")).toEqual([{ n: 0 }]);
    } finally {
      await store.close();
    }
    expect(JSON.parse(run("movements", "import", good, "--json").stdout)).toEqual({ received: 3, inserted: 3, unchanged: 0, transitions: 3 });
    expect(JSON.parse(run("movements", "import", good, "--json").stdout)).toMatchObject({ inserted: 0, unchanged: 3 });
    const conflict = join(dir, "conflict.ndjson");
    writeFileSync(conflict, `{"id":"w-9","kind":"withdrawal","chain":"btc","asset":"BTC","amount":"1","counterparty":"${BTC_ADDR}","time":"${t}"}\n{"id":"w-1","kind":"withdrawal","chain":"btc","asset":"BTC","amount":"0.6","counterparty":"${BTC_ADDR}","time":"${t}"}\n`);
    const r2 = run("movements", "import", conflict);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain("row 2, field id: Record id already stored with different content");
    expect(r2.stderr).toContain("MOVEMENTS__ID_CONFLICT");

    // No chain data: all three are past their SLA (time an hour ago, SLA 60 s) → missing_on_chain.
    const list = JSON.parse(run("movements", "list", "--outcome", "missing_on_chain", "--json").stdout) as Array<{ recordId: string; amount: string; decimals: number }>;
    expect(list.map((x) => [x.recordId, x.amount, x.decimals])).toEqual([["d-1", "200000000", 8], ["w-1", "50000000", 8], ["w-2", "125000000", 8]]);
    expect(run("movements", "list", "--outcome", "matched").stdout).toBe("(no movement outcomes)\n");
    expect(run("movements", "list", "--outcome", "bogus").stderr).toContain("CLI__INVALID_MOVEMENT_OPTION");

    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const csv = run("movements", "report", "--from", from, "--to", to, "--format", "csv").stdout;
    expect(csv).toBe("outcome,asset,count,amount,chain_amount,fee,fee_asset\nmissing_on_chain,BTC,3,3.75,0,,\n");
    expect(run("movements", "report", "--from", "2026-01-01", "--to", to).stderr).toContain("ISO-8601");
  }, 400_000); // ten CLI processes, each loading tsx: seconds each on a busy 2-core machine
});
