import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const BIN = resolve("bin/backstop.js");

describe("npm start without a config (the local demo)", () => {
  const cwd = mkdtempSync(join(tmpdir(), "backstop-demo-"));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it("indexes the demo chains, shows the reorg dropping a deposit, and keeps following", async () => {
    const { stdout, stderr } = await run("node", [BIN, "start", "--demo-rounds", "3"], { cwd, timeout: 380_000, env: { ...process.env, NODE_ENV: "test" } });
    // Balances follow from the scripted activity: 5 - 1.5 + 4 + 2 BTC into btc-hot minus one
    // 2,700-sat fee; 20 + 7 + 3 - 4 BTC in btc-cold minus one fee (the multisig spend).
    expect(stdout).toMatch(/btc\s+btc-hot\s+BTC\s+9\.499973\s+446\s+unfinalized/);
    expect(stdout).toMatch(/btc\s+btc-cold\s+BTC\s+25\.999973\s+446\s+unfinalized/);
    // Round 1: the reorg removes the 2 BTC deposit; the indexer rolled back and re-applied.
    expect(stdout).toMatch(/round 1:[\s\S]*btc-hot\s+BTC\s+7\.499973\s+447/);
    expect(stderr).toMatch(/"msg":"reorg"/);
    // Round 2: new activity was followed.
    expect(stdout).toMatch(/round 2:[\s\S]*btc-cold\s+BTC\s+26\.299973\s+448/);
    // The API server: URL, a demo key made at this start, and an example query that answered.
    expect(stdout).toMatch(/GraphQL API: http:\/\/127\.0\.0\.1:\d+\/graphql/);
    const demoKey = /demo API key [^:]*: (bsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(stdout)?.[1];
    expect(demoKey).toBeDefined();
    expect(stdout).toMatch(/→ HTTP 200, 6 balances of sol/);
    expect(stderr).not.toContain(demoKey);
    // The demo's node API key is a secret even locally: never in the logs.
    expect(stderr).not.toMatch(/http:\/\/x:[0-9a-f]{8,}@/);
  }, 400_000); // ~55 s alone on a 2-core machine; the rest is headroom for a loaded one
});
