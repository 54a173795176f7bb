import { describe, expect, it } from "vitest";
import { resolveConfig, resolveSnapshotAssets, type ConfigInput } from "../../src/lib/config.js";
import { resolveWindowBlocks } from "../../src/reconcile/create-checkpoint.js";

const base = (extra: Partial<ConfigInput>, env: Record<string, string> = {}) =>
  resolveConfig({
    path: "backstop.config.json",
    env,
    input: {
      chains: { eth: { chain: "anvil", rpc: ["http://127.0.0.1:8545"] } },
      assets: { ETH_eth: { chain: "eth", native: true, decimals: 18, backs: "ETH" } },
      wallets: [],
      ...extra,
    },
  });

const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (err) {
    return (err as { metaMessages: string[] }).metaMessages.map((m) => m.trim());
  }
  return [];
};

describe("config: liability assets, backs, checkpoint keys", () => {
  it("resolves backs and the assets snapshots are stated in", () => {
    const c = base({ liabilityAssets: { ETH: { decimals: 18 } } });
    expect(c.assets.ETH_eth!.backs).toBe("ETH");
    expect(resolveSnapshotAssets(c)).toEqual({ ETH: { decimals: 18 } });
    // Without liabilityAssets (and no backs), snapshots keep the chain asset ids.
    const legacy = base({ assets: { ETH_eth: { chain: "eth", native: true, decimals: 18 } } });
    expect(resolveSnapshotAssets(legacy)).toEqual({ ETH_eth: { decimals: 18 } });
  });
  it("names the config path of every problem", () => {
    expect(problems(() => base({}))).toEqual(['assets.ETH_eth.backs: "ETH" needs a liabilityAssets section that defines it']);
    expect(problems(() => base({ liabilityAssets: { BTC: { decimals: 8 } } }))).toEqual(['assets.ETH_eth.backs: unknown liability asset "ETH" (known: BTC)']);
    expect(problems(() => base({ liabilityAssets: { ETH: { decimals: 18.5 } } }))[0]).toMatch(/^liabilityAssets\.ETH\.decimals: /);
    expect(
      problems(() =>
        base({
          liabilityAssets: { ETH: { decimals: 18 } },
          checkpoints: { signingKey: { env: "NOPE_KEY" }, keys: [{ x: "A".repeat(43), notBefore: "yesterday" }, { x: "A".repeat(43), notBefore: "2026-01-01T00:00:00Z", notAfter: "2025-01-01T00:00:00Z" }] },
        }),
      ),
    ).toEqual([
      "checkpoints.keys[0].notBefore: expected ISO-8601 with an explicit offset",
      "checkpoints.keys[1].notAfter: must be after notBefore",
      "checkpoints.keys[1].x: the same key is listed twice",
      "checkpoints.signingKey: environment variable NOPE_KEY is not set",
    ]);
    expect(problems(() => base({ liabilityAssets: { ETH: { decimals: 18 } }, checkpoints: { signingKey: "ed25519:inline" as never } }))[0]).toMatch(/^checkpoints\.signingKey: /);
  });
  it("resolves the signing key from the environment, never from the file", () => {
    const c = base({ liabilityAssets: { ETH: { decimals: 18 } }, checkpoints: { signingKey: { env: "CP" } } }, { CP: "ed25519:x" });
    expect(c.checkpoints).toMatchObject({ signingKey: "ed25519:x", signingKeyEnv: "CP", keys: [], auto: true });
  });
  it("window dressing settings: windowBlocks per chain (defaults by kind), windowDressingBps, problems with their paths", () => {
    const c = base({
      liabilityAssets: { ETH: { decimals: 18 } },
      chains: { eth: { chain: "anvil", rpc: ["http://127.0.0.1:8545"] }, mainnet: { chain: "ethereum", rpc: ["http://127.0.0.1:8546"] }, btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"] }, sol: { chain: "solana-local", rpc: ["http://127.0.0.1:2"], windowBlocks: 0 } },
    });
    expect(Object.fromEntries(Object.values(c.chains).map((ch) => [ch.key, resolveWindowBlocks(ch)]))).toEqual({ eth: 10, mainnet: 65, btc: 6, sol: 0 });
    expect(c.checkpoints.windowDressingBps).toBe(1000);
    expect(base({ liabilityAssets: { ETH: { decimals: 18 } }, checkpoints: { windowDressingBps: 250 } }).checkpoints.windowDressingBps).toBe(250);
    expect(problems(() => base({ liabilityAssets: { ETH: { decimals: 18 } }, chains: { eth: { chain: "anvil", rpc: ["http://127.0.0.1:8545"], windowBlocks: -1 } }, checkpoints: { windowDressingBps: 0 } }))).toEqual([
      expect.stringMatching(/^chains\.eth\.windowBlocks: /),
      expect.stringMatching(/^checkpoints\.windowDressingBps: /),
    ]);
  });
});
