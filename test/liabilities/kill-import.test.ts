import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyProof } from "../../src/liabilities/verify-proof.js";
import { openStore } from "../../src/store/index.js";
import { dropSchema, STORE_KINDS, TEST_DATABASE_URL } from "../helpers/stores.js";

// TESTING.md 2C C5 / 2E E12: kill -9 at row k of n leaves nothing from the file; re-import succeeds.

const BIN = resolve(__dirname, "../../bin/backstop.js");
const ACCOUNTS = 60_000;
const AS_OF = "2026-01-31T23:59:59Z";

type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAt?: { phase: string; rows: number } };

/** Runs the real CLI; with killAt, SIGKILLs it as soon as it logs that phase at or past that many rows. */
function cli(args: string[], env: Record<string, string>, killAt?: { phase: string; rows: number }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const run: Run = { code: null, signal: null, stdout: "", stderr: "" };
    let buf = "";
    child.stdout.on("data", (d) => (run.stdout += d));
    child.stderr.on("data", (d) => {
      run.stderr += d;
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!killAt || run.killedAt) continue;
        try {
          const j = JSON.parse(line) as { phase?: string; rows?: number };
          if (j.phase === killAt.phase && (j.rows ?? 0) >= killAt.rows) {
            run.killedAt = { phase: j.phase, rows: j.rows! };
            child.kill("SIGKILL");
          }
        } catch {
          // not a log line
        }
      }
    });
    child.on("error", fail);
    child.on("close", (code, signal) => done({ ...run, code, signal }));
  });
}

async function writeBigFile(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write("account_id,asset,amount\n");
  for (let i = 0; i < ACCOUNTS; i++) {
    out.write(`user-${i.toString(36)}-${(i * 7919) % 100003},BTC,${i % 50}.${String(i).padStart(8, "0").slice(-8)}\nuser-${i.toString(36)}-${(i * 7919) % 100003},ETH,${i}.000000000000000001\nuser-${i.toString(36)}-${(i * 7919) % 100003},SOL,0.${String(i).padStart(9, "0")}\n`);
  }
  await new Promise<void>((r) => out.end(r));
}

describe.each(STORE_KINDS)("kill -9 during a snapshot import (%s)", (kind) => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-liab-kill-"));
  const file = join(dir, "big.csv");
  const config = join(dir, "config.json");
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const env: Record<string, string> = kind === "postgres" ? { DATABASE_URL: TEST_DATABASE_URL, BACKSTOP_PG_SCHEMA: schema } : {};
  const storeParams = kind === "postgres" ? { databaseUrl: TEST_DATABASE_URL, pgSchema: schema } : { sqlitePath: join(dir, "backstop.db") };
  const args = (...rest: string[]) => ["--config", config, "-v", "--log-format", "json", ...rest];

  beforeAll(async () => {
    writeFileSync(config, JSON.stringify({
      store: { sqlitePath: join(dir, "backstop.db") },
      chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:9"] } },
      assets: { BTC: { chain: "btc", decimals: 8, native: true }, ETH: { chain: "btc", decimals: 18, address: "eth" }, SOL: { chain: "btc", decimals: 9, address: "sol" } },
      wallets: [],
    }));
    await writeBigFile(file);
  });
  afterAll(async () => {
    if (kind === "postgres") await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  async function assertNothingImported(): Promise<void> {
    const store = await openStore(storeParams);
    try {
      for (const t of ["liability_snapshots", "liability_totals", "liability_accounts", "liability_tree_nodes"]) {
        const [r] = await store.raw(`SELECT count(*) AS n FROM ${t}`);
        expect(Number(r!.n), t).toBe(0);
      }
    } finally {
      await store.close();
    }
  }

  it("killed while parsing: nothing is stored", async () => {
    const run = await cli(args("liabilities", "import", file, "--as-of", AS_OF), env, { phase: "parse", rows: randomInt(1, 150_000) });
    expect(run.signal, run.stderr.slice(-2000)).toBe("SIGKILL");
    await assertNothingImported();
  });

  it("killed inside the write transaction at a random row: nothing is stored; a re-import succeeds and its proofs verify", async () => {
    const step = kind === "sqlite" ? 10_000 : 5_000;
    const k = step * randomInt(1, ACCOUNTS / step - 1);
    const run = await cli(args("liabilities", "import", file, "--as-of", AS_OF), env, { phase: "write", rows: k });
    expect(run.signal, `k=${k}\n${run.stderr.slice(-2000)}`).toBe("SIGKILL");
    expect(run.killedAt!.rows).toBeLessThan(ACCOUNTS);
    await assertNothingImported();

    const ok = await cli(args("liabilities", "import", file, "--as-of", AS_OF, "--row-count", String(3 * ACCOUNTS), "--control-total", "SOL=1.79997", "--json"), env);
    expect(ok.code, ok.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(ok.stdout) as { snapshotId: string; created: boolean; accountCount: number; root: string };
    expect(summary).toMatchObject({ created: true, accountCount: ACCOUNTS });

    const proofRun = await cli(args("liabilities", "proof", "--snapshot", summary.snapshotId, "--account", "user-2s-91879"), env);
    expect(proofRun.code, proofRun.stderr).toBe(0);
    const proof = JSON.parse(proofRun.stdout);
    expect(verifyProof(proof, { expectedRoot: summary.root })).toMatchObject({ ok: true, balances: [100n, 100n * 10n ** 18n + 1n, 100n] });
  });
});
