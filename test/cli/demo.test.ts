import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { formatUnits } from "../../src/lib/amounts.js";
import { parseEnvFile } from "../../src/lib/load-env-file.js";

const execFileP = promisify(execFile);
const BIN = resolve("bin/backstop.js");
const ENV = { ...process.env, NODE_ENV: "test" };

type BalanceJson = { chain: string; wallet: string; asset: string; decimals: number; amount: string; height: number; blockHash: string; finalized: boolean };

/** The real CLI in `cwd`, as the demo tells a person to run it (node bin/backstop.js for npx backstop). */
async function cli(cwd: string, args: string[]) {
  try {
    const r = await execFileP("node", [BIN, ...args], { cwd, timeout: 120_000, env: ENV });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout: string; stderr: string };
    return { code: err.code ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The rows of the last balance table the demo printed, keyed like `balances --json` lines. */
function lastPrintedTable(stdout: string): Map<string, { amount: string; height: string; status: string; block: string }> {
  const tables = stdout.split(/\nchain +wallet +asset +amount +height +status +block\n/).slice(1);
  const rows = new Map<string, { amount: string; height: string; status: string; block: string }>();
  for (const line of tables.at(-1)!.split("\n")) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(final|unfinalized)\s+(\S+)…$/.exec(line);
    if (!m) break;
    rows.set(`${m[1]}/${m[2]}/${m[3]}`, { amount: m[4]!, height: m[5]!, status: m[6]!, block: m[7]! });
  }
  return rows;
}

describe("npm start without a config (the local demo)", () => {
  const cwd = mkdtempSync(join(tmpdir(), "backstop-demo-"));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it("indexes the demo chains, shows the reorg dropping a deposit, keeps following, and the CLI reads its store during and after", async () => {
    const demo = spawn("node", [BIN, "start", "--demo-rounds", "4"], { cwd, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    demo.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((done) => demo.on("close", done));
    // As soon as the demo says how to point the CLI at it: three readers while it keeps writing.
    const during = new Promise<{ aliveAtEnd: boolean; runs: Array<Awaited<ReturnType<typeof cli>>> }>((done, fail) => {
      demo.stdout.on("data", (d) => {
        const before = stdout;
        stdout += d;
        const m = /\n {2}(npx backstop --config \S+ --env-file \S+) balances\n/.exec(stdout);
        if (!m || /\n {2}npx backstop --config \S+ --env-file \S+ balances\n/.test(before)) return;
        const base = m[1]!.split(" ").slice(2);
        Promise.all([["balances", "--json"], ["status", "--json"], ["liabilities", "list", "--json"]].map((c) => cli(cwd, [...base, ...c])))
          .then((runs) => done({ aliveAtEnd: demo.exitCode === null, runs }), fail);
      });
    });
    const code = await exited;
    expect(code, stderr.slice(-2000)).toBe(0);

    // Balances follow from the scripted activity: 5 - 1.5 + 4 + 2 BTC into btc-hot minus one
    // 2,700-sat fee; 20 + 7 + 3 - 4 BTC in btc-cold minus one fee (the multisig spend).
    expect(stdout).toMatch(/btc\s+btc-hot\s+BTC\s+9\.499973\s+446\s+unfinalized/);
    expect(stdout).toMatch(/btc\s+btc-cold\s+BTC\s+25\.999973\s+446\s+unfinalized/);
    // Round 1: the reorg removes the 2 BTC deposit; the indexer rolled back and re-applied.
    // (Round 1 also mines 4 blocks so the blocks after the snapshot's time are final: tip 451.)
    expect(stdout).toMatch(/round 1:[\s\S]*btc-hot\s+BTC\s+7\.499973\s+451/);
    expect(stderr).toMatch(/"msg":"reorg"/);
    // Round 2: new activity was followed.
    expect(stdout).toMatch(/round 2:[\s\S]*btc-cold\s+BTC\s+26\.299973\s+452/);
    // The checkpoint: every chain mined past the snapshot's time until final (the local chains' blocks
    // follow the wall clock), the loop created and signed it, and the demo verified it with the verifier
    // of `checkpoint verify`. Bitcoin anchors before the reorged block: the 2 BTC the liabilities were
    // computed with is not in the reserves (coverage 104.85%, still covered); the rest 111.11%.
    expect(stdout).not.toMatch(/NOT VERIFIED/);
    const created = /\ncheckpoint 1 CREATED \(status (\w+)\) and SIGNED[^\n]*\n((?: {2}[^\n]*\n)+)checkpoint 1 VERIFIED: (sha256:[0-9a-f]{64}), signed by \S+/.exec(stdout);
    expect(created, [stdout.slice(stdout.indexOf("reorg: block") - 200).slice(0, 3000), ...stderr.split("\n").filter((l) => /checkpoint|anchor/i.test(l))].join("\n")).not.toBeNull();
    const [, cpStatus, cpLines, cpDigest] = created!;
    expect(cpStatus).toBe("covered");
    for (const chain of ["btc", "ethereum", "base", "sol"]) expect(cpLines).toMatch(new RegExp(`\\n? {2}anchor ${chain} \\S+ block \\d+ \\S+, block-time \\S+ \\(\\d+s before; max \\d+s\\); window \\d+\\.\\.\\d+ \\(±\\d+\\)\\n`));
    expect(cpLines).not.toMatch(/NOT ANCHORED|discrepancy|WINDOW DRESSING|FLAG/);
    // Every asset line states the window's minimum next to the anchored value, and no window dressing.
    for (const asset of ["BTC", "ETH", "USDD", "SOL", "USDC", "PYUSD"]) expect(cpLines).toMatch(new RegExp(` {2}${asset} +reserves .* covered {2}window min \\S+, no window dressing\\n`));
    expect(cpLines).toMatch(/ {2}BTC +reserves 33\.499946 +liabilities 31\.9499514 +coverage 104\.85% +covered/);
    for (const asset of ["ETH", "USDD", "SOL", "USDC", "PYUSD"]) expect(cpLines).toMatch(new RegExp(` {2}${asset} +reserves \\S+ +liabilities \\S+ +coverage 111\\.1\\d% +covered`));
    expect(stdout).toMatch(/npx backstop --config \S+ --env-file \S+ checkpoint verify cp\.json --jwks keys\.json\n/);
    // Alerts: the local receiver got each signed alert and verified both signatures (v1 HMAC, v1a Ed25519):
    // the large outflow and the unknown counterparty of the 1.5 BTC withdrawal, btc-hot over its limit
    // (raised by the block the reorg removes, then withdrawn), and the reorg.
    const sig = "alert received \\(signature v1 verified, v1a verified\\): ";
    expect(stdout).toMatch(new RegExp(`${sig}\\[info\\] FIRING \\(unfinalized\\) btc-hot-large-outflow: btc-hot: net outflow 1\\.500027 BTC within 1 block\\(s\\), above 1 BTC @444`));
    expect(stdout).toMatch(new RegExp(`${sig}\\[info\\] FIRING \\(unfinalized\\) btc-unknown-counterparty: btc-hot sent 1\\.5 BTC to bcrt1\\w+, which is neither a custody wallet nor on the allow-list @444`));
    expect(stdout).toMatch(new RegExp(`round 1:[\\s\\S]*${sig}\\[info\\] WITHDRAWN \\(unfinalized\\) btc-hot-over-limit: btc-hot holds 9\\.499973 BTC, above 9 BTC @446`));
    expect(stdout).toMatch(new RegExp(`${sig}\\[warning\\] FIRING reorgs: btc: reorg of depth 1, rolled back from 446 to 445; 1 alert\\(s\\) of removed blocks withdrawn`));
    expect(stdout).not.toMatch(/signature v1a? FAILED|v1a? FAILED/);
    // Movement reconciliation: the ledger's records fed, the unrecorded 1.5 BTC outflow (final from round 3) and
    // the recorded withdrawal that never happened both flagged.
    expect(stdout).toMatch(/movement records fed from the platform's ledger: 6 new/);
    expect(stdout).toMatch(/FLAGGED unexplained_outflow \(critical\): 1\.5 BTC left custody to bcrt1\S+ in btc block 444, tx [0-9a-f]{64}; no record explains it/);
    expect(stdout).toMatch(/FLAGGED missing_on_chain \(error\): record wd-never-sent \(withdrawal of 0\.8 BTC\)/);
    // …and both reach the security team through the alert pipeline, signed, once each.
    const outflowAlerts = stdout.match(/verified\): \[critical\] FIRING unexplained-outflow: unexplained_outflow: outflow of 1\.5 BTC from btc-hot, counterparty bcrt1\w+ tx [0-9a-f]{64} at btc 444/g) ?? [];
    expect(outflowAlerts).toHaveLength(1);
    expect(stdout.match(/verified\): \[error\] FIRING missing-withdrawal: missing_on_chain: record wd-never-sent \(withdrawal of 0\.8 BTC\)/g) ?? []).toHaveLength(1);
    // The API server: URL, a demo key made at this start, and an example query that answered.
    expect(stdout).toMatch(/GraphQL API: http:\/\/127\.0\.0\.1:\d+\/graphql/);
    expect(stdout).toMatch(/transparency page: http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(stdout).toMatch(/→ HTTP 200, public status [A-Z ]+: /);
    const demoKey = /demo API key [^:]*: (bsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(stdout)?.[1];
    expect(demoKey).toBeDefined();
    expect(stdout).toMatch(/→ HTTP 200, 6 balances of sol/);
    expect(stderr).not.toContain(demoKey);
    // The demo's node API key is a secret even locally: never in the logs.
    expect(stderr).not.toMatch(/http:\/\/x:[0-9a-f]{8,}@/);

    // The config it ran with, and its secrets beside it (0600); no secret value in the config.
    const dir = join(cwd, ".backstop/demo");
    const configText = readFileSync(join(dir, "backstop.config.json"), "utf8");
    const secrets = parseEnvFile(readFileSync(join(dir, "demo.env"), "utf8"), "demo.env");
    expect(statSync(join(dir, "demo.env")).mode & 0o777).toBe(0o600);
    expect(secrets.BACKSTOP_DEMO_BTC_RPC_URL).toMatch(/^http:\/\/x:[0-9a-f]{8,}@127\.0\.0\.1:\d+\/$/);
    expect(secrets.DATABASE_URL).toBe("");
    for (const [name, value] of Object.entries(secrets)) if (value) expect(configText, name).not.toContain(value);
    expect(configText).not.toMatch(/:\/\/[^/"]*:[^/"]*@/); // no URL with credentials at all
    expect(JSON.parse(configText).chains.btc.rpc).toEqual([{ env: "BACKSTOP_DEMO_BTC_RPC_URL" }]);

    // During: the readers worked against the store the demo was writing.
    const { aliveAtEnd, runs } = await during;
    expect(aliveAtEnd, "the readers finished while the demo was still running").toBe(true);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const [duringBalances, duringStatus, duringList] = runs.map((r) => JSON.parse(r.stdout)) as [BalanceJson[], Array<{ chain: string; indexed: number }>, Array<{ proofVersion: number; accountCount: number }>];
    expect(duringBalances.length).toBe(14);
    // At least the opening round's tip (446), or 445 when the read lands inside round 1, right after the
    // scripted reorg rolled 446 back and before the new branch is indexed.
    expect(duringBalances.find((b) => b.wallet === "btc-cold")!.height).toBeGreaterThanOrEqual(445);
    expect(duringStatus.map((s) => s.chain)).toEqual(["btc", "ethereum", "base", "sol"]);
    for (const s of duringStatus) expect(s.indexed).toBeGreaterThan(0);
    expect(duringList).toMatchObject([{ proofVersion: 2, accountCount: 300 }]);

    // After: the nodes are gone, the store stays readable. Balances equal the demo's last table;
    // status reports each chain's node as unreachable without crashing; the printed proof verifies.
    const base = ["--config", ".backstop/demo/backstop.config.json", "--env-file", ".backstop/demo/demo.env"];
    const verify = /check it yourself: npx backstop (verify-proof \S+ --root [0-9a-f]{64})\n/.exec(stdout)![1]!.split(" ");
    const [after, status, proof, shown, jwks] = await Promise.all([
      cli(cwd, [...base, "balances", "--json"]), cli(cwd, [...base, "status", "--json"]), cli(cwd, verify),
      cli(cwd, [...base, "checkpoint", "show", "1", "--json"]), cli(cwd, [...base, "checkpoint", "jwks"]),
    ]);
    // The printed CLI commands: the stored checkpoint verifies with the published keys.
    expect(shown.code, shown.stderr).toBe(0);
    expect(jwks.code, jwks.stderr).toBe(0);
    writeFileSync(join(cwd, "cp.json"), shown.stdout);
    writeFileSync(join(cwd, "keys.json"), jwks.stdout);
    const checked = await cli(cwd, [...base, "checkpoint", "verify", "cp.json", "--jwks", "keys.json"]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toBe(`ok cp.json: checkpoint 1 covered, ${cpDigest}, signed by ${/signed by (\S+)/.exec(checked.stdout)?.[1]}\n`);
    expect(after.code, after.stderr).toBe(0);
    const printed = lastPrintedTable(stdout);
    const lines = JSON.parse(after.stdout) as BalanceJson[];
    expect(lines.length).toBe(14);
    expect(printed.size).toBe(14);
    for (const l of lines) {
      const row = printed.get(`${l.chain}/${l.wallet}/${l.asset}`);
      expect(row, `${l.chain}/${l.wallet}/${l.asset}`).toEqual({
        amount: formatUnits(BigInt(l.amount), l.decimals), height: String(l.height), status: l.finalized ? "final" : "unfinalized", block: l.blockHash.slice(0, 16),
      });
    }
    expect(status.code, status.stderr).toBe(0);
    for (const s of JSON.parse(status.stdout) as Array<{ chain: string; tip: number | null; indexed: number; error?: string }>) {
      expect(s, s.chain).toMatchObject({ tip: null, error: expect.stringMatching(/No \S+ provider answered/) });
      expect(s.indexed).toBeGreaterThan(0);
    }
    expect(proof.code, proof.stderr).toBe(0);
    expect(proof.stdout).toMatch(/^proof OK: included in snapshot liab-\S+ \(as of \S+\), root [0-9a-f]{64}\n {2}format 2: /);
  }, 600_000); // ~135 s at load average 12 on a 2-core machine, 400 s at 28; the rest is headroom
});
