import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { saveDemoConfig } from "../../src/demo/save-demo-config.js";

const BIN = resolve("bin/backstop.js");
const execFileP = promisify(execFile);

/** Runs the real CLI in `cwd`; resolves with its exit code and output (never rejects on exit 1). */
async function cli(cwd: string, args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const r = await execFileP("node", [BIN, ...args], { cwd, timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout: string; stderr: string };
    return { code: err.code ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("the CLI without a config, and with the demo's written config (spawned processes)", () => {
  const cwd = mkdtempSync(join(tmpdir(), "backstop-cfg-cli-"));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it("no default config: a plain CONFIG__NOT_FOUND pointing at npm start and examples/, no module-resolution error", async () => {
    const r = await cli(cwd, ["balances"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error CONFIG__NOT_FOUND: No config file at \.\/backstop\.config\.ts\.\n/);
    expect(r.stderr).toContain("`npm start` (no config needed) runs the local demo and writes its config to .backstop/demo/backstop.config.json");
    expect(r.stderr).toContain("examples/backstop.config.ts");
    expect(r.stderr).not.toMatch(/Cannot find module|at .*\.ts:\d+/);
  }, 90_000);

  it("with the demo's files present: prints the command, and that command reads the demo's store through --env-file", async () => {
    const dir = join(cwd, ".backstop/demo");
    mkdirSync(dir, { recursive: true });
    // The demo's own writer: a config whose RPC URL (with its key) is an env reference, the value in demo.env.
    const secret = "http://x:0123456789abcdef@127.0.0.1:9/";
    saveDemoConfig({
      dir,
      input: {
        store: { sqlitePath: join(dir, "backstop.db") },
        chains: { btc: { chain: "bitcoin-regtest", rpc: [{ env: "BACKSTOP_DEMO_BTC_RPC_URL" }] } },
        assets: { BTC: { chain: "btc", decimals: 8, native: true } },
        wallets: [],
      },
      secrets: { BACKSTOP_DEMO_BTC_RPC_URL: secret },
    });
    const hint = await cli(cwd, ["status"]);
    expect(hint.code).toBe(1);
    const command = /\n {4}(npx backstop --config \S+ --env-file \S+ balances)\n/.exec(hint.stderr)?.[1];
    expect(command, hint.stderr).toBe("npx backstop --config .backstop/demo/backstop.config.json --env-file .backstop/demo/demo.env balances");
    // Run exactly that (node bin/... for npx), with a DATABASE_URL in the shell that the demo's env file must override.
    const args = command!.split(" ").slice(2);
    const r = await cli(cwd, [...args, "--json"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]); // the demo's (here empty) SQLite store, not the Postgres
    // Without the env file the reference is unresolved, and said so by name.
    const bare = await cli(cwd, ["--config", ".backstop/demo/backstop.config.json", "balances"], { BACKSTOP_DEMO_BTC_RPC_URL: "" });
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("chains.btc.rpc[0]: environment variable BACKSTOP_DEMO_BTC_RPC_URL is not set");
    // An env file others can read is refused, before anything is opened.
    chmodSync(join(dir, "demo.env"), 0o644);
    const open = await cli(cwd, [...args]);
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/^error CONFIG__ENV_FILE_PERMISSIONS: The env file \.backstop\/demo\/demo\.env holds secrets but has mode 0644\./);
    for (const out of [hint, r, bare, open]) expect(out.stdout + out.stderr).not.toContain("0123456789abcdef");
  }, 180_000);
});
