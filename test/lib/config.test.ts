import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateChainConfig } from "../../src/chains/validate-chain-config.js";
import { ConfigError } from "../../src/lib/errors.js";
import { loadConfig, resolveConfig, resolveReconciledChains } from "../../src/lib/config.js";

const valid = {
  chains: { btc: { chain: "bitcoin-regtest", rpc: [{ env: "BTC_RPC" }] } },
  assets: { BTC: { chain: "btc", decimals: 8, native: true } },
  wallets: [
    { label: "hot", chain: "btc", address: "bcrt1q50rtrmj2f8vl9tem8qpfw36ylw5jg9j2dkku3w" },
    {
      label: "cold",
      chain: "btc",
      descriptor:
        "wsh(sortedmulti(2,tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B/<0;1>/*,tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B/1/<0;1>/*))",
    },
  ],
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).metaMessages.map((m) => m.trim());
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("resolves env references once and applies defaults", () => {
    const c = resolveConfig({ input: valid, path: "x.json", env: { BTC_RPC: "http://u:p@127.0.0.1:1/" } });
    expect(c.chains.btc!.rpc).toEqual(["http://u:p@127.0.0.1:1/"]);
    expect(c.chains.btc!.finalityDepth).toBe(6);
    expect(c.wallets[0]!.gapLimit).toBe(20);
    expect(c.store.sqlitePath).toBe(".backstop/backstop.db");
    expect(validateChainConfig(c)).toEqual([]);
  });

  it("reports every problem with its path", () => {
    const bad = {
      chains: { btc: { chain: "bitcoin-regtest", rpc: [{ env: "MISSING_URL" }] }, eth: { chain: "nope", rpc: ["http://x"] } },
      assets: { BTC: { chain: "btc", decimals: 9, native: true }, USDC: { chain: "btc", decimals: 6 } },
      wallets: [
        { label: "a", chain: "btc", address: "x", descriptor: "y" },
        { label: "a", chain: "sol" },
      ],
    };
    const problems = problemsOf(() => resolveConfig({ input: bad, path: "bad.json", env: {} }));
    expect(problems).toContain("chains.btc.rpc[0]: environment variable MISSING_URL is not set");
    expect(problems.some((p) => p.startsWith('chains.eth.chain: unknown chain "nope"'))).toBe(true);
    expect(problems).toContain("assets.BTC.decimals: Bitcoin regtest's native asset has 8 decimals, not 9");
    expect(problems).toContain("assets.USDC: a non-native asset needs an address (token contract or mint)");
    expect(problems).toContain("wallets[0]: give exactly one of address or descriptor");
    expect(problems).toContain('wallets[1].chain: unknown chain key "sol"');
    expect(problems).toContain('wallets[1].label: "a" is already used by wallets[0]');
  });

  it("reads movements.feeCeilings and dustFloors exactly in base units, naming an unknown asset or a bad amount by path", () => {
    const env = { BTC_RPC: "http://127.0.0.1:1" };
    const c = resolveConfig({ input: { ...valid, movements: { feeCeilings: { BTC: "0.00012345" }, dustFloors: { BTC: "0.00000546" } } }, path: "m.json", env });
    expect(c.movements?.feeCeilings).toEqual({ BTC: 12_345n });
    expect(c.movements?.dustFloors).toEqual({ BTC: 546n });
    const problems = problemsOf(() =>
      resolveConfig({ input: { ...valid, movements: { feeCeilings: { DOGE: "1" }, dustFloors: { BTC: "0.000000001" } } }, path: "m.json", env }),
    );
    expect(problems).toContain('movements.feeCeilings.DOGE: unknown asset "DOGE"');
    expect(problems.some((p) => p.startsWith("movements.dustFloors.BTC: "))).toBe(true);
  });

  it("movements.chains: the reconciled chains (default every chain), an unknown key named by its path", () => {
    const env = { BTC_RPC: "http://127.0.0.1:1" };
    expect(resolveReconciledChains(resolveConfig({ input: valid, path: "m.json", env }))).toEqual(Object.keys(valid.chains));
    expect(resolveReconciledChains(resolveConfig({ input: { ...valid, movements: { chains: ["btc", "btc"] } }, path: "m.json", env }))).toEqual(["btc"]);
    const problems = problemsOf(() => resolveConfig({ input: { ...valid, movements: { chains: ["btc", "doge"] } }, path: "m.json", env }));
    expect(problems).toEqual([expect.stringMatching(/^movements\.chains\[1\]: unknown chain "doge"/)]);
  });

  it("refuses a misspelled key instead of ignoring it", () => {
    const input = { ...valid, chains: { btc: { ...valid.chains.btc, finaltyDepth: 3 } }, wallets: [{ ...valid.wallets[0]!, gaplimit: 5 }] };
    const problems = problemsOf(() => resolveConfig({ input, path: "t.json", env: { BTC_RPC: "http://127.0.0.1:1" } }));
    expect(problems.some((p) => p.startsWith("chains.btc:") && p.includes("finaltyDepth"))).toBe(true);
    expect(problems.some((p) => p.startsWith("wallets[0]:") && p.includes("gaplimit"))).toBe(true);
  });

  it("reports structural problems with zod paths", () => {
    const problems = problemsOf(() => resolveConfig({ input: { chains: {}, assets: {}, wallets: [{ label: 5 }] }, path: "p.json", env: {} }));
    expect(problems.some((p) => p.startsWith("wallets[0].label:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("wallets[0].chain:"))).toBe(true);
  });

  it("validates Bitcoin addresses and descriptors per network, with paths", () => {
    const c = resolveConfig({
      input: {
        ...valid,
        wallets: [
          { label: "main", chain: "btc", address: "bc1q50rtrmj2f8vl9tem8qpfw36ylw5jg9j2xxxxxx" },
          { label: "d", chain: "btc", descriptor: `${valid.wallets[1]!.descriptor}#aaaaaaaa` },
          { label: "dup", chain: "btc", address: valid.wallets[0]!.address },
          { label: "dup2", chain: "btc", address: valid.wallets[0]!.address },
        ],
      },
      path: "c.json",
      env: { BTC_RPC: "http://127.0.0.1:1" },
    });
    const problems = validateChainConfig(c);
    expect(problems[0]).toMatch(/^wallets\[0\]\.address: /);
    expect(problems[1]).toMatch(/^wallets\[1\]\.descriptor: .*checksum/i);
    expect(problems[2]).toBe("wallets[3]: same address as wallets[2] on chain btc");
  });

  it("names a missing or broken config file", async () => {
    for (const path of ["/nonexistent/backstop.config.json", "/nonexistent/backstop.config.ts"]) {
      await expect(loadConfig({ path, env: {} })).rejects.toMatchObject({ code: "CONFIG__NOT_FOUND", shortMessage: `No config file at ${path}.` });
    }
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    writeFileSync(join(dir, "c.json"), "{ not json");
    await expect(loadConfig({ path: join(dir, "c.json"), env: {} })).rejects.toMatchObject({ code: "CONFIG__INVALID" });
  });
});
