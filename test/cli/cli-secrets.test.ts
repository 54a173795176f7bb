import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const BIN = resolve("bin/backstop.js");

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => r(port));
    });
  });
}

describe("the CLI's error output", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-cli-secrets-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names the failing provider by host, never with the key in its URL, in the error and in every log line", async () => {
    const port = await closedPort();
    const cfg = join(dir, "backstop.config.json");
    writeFileSync(cfg, JSON.stringify({
      store: { sqlitePath: join(dir, "b.db") },
      chains: { sol: { chain: "solana-local", rpc: [{ env: "SOL_RPC_URL" }], rpcTimeoutMs: 500 } },
      assets: { SOL: { chain: "sol", decimals: 9, native: true } },
      wallets: [{ label: "hot", chain: "sol", address: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM" }],
    }));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, SOL_RPC_URL: `http://127.0.0.1:${port}/v1/S3CR3T-path-key?api-key=S3CR3T-query-key` };
    const err = (await run("node", [BIN, "index", "--chain", "sol", "--once", "--config", cfg, "--log-format", "json"], { env, timeout: 90_000 }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/error RPC__UNAVAILABLE: .*sol/);
    expect(err.stderr).toContain(`127.0.0.1:${port}`);
    expect(err.stderr).not.toContain("S3CR3T");
  }, 120_000);
});
