import { describe, expect, it } from "vitest";
import { buildPonderConfig } from "../../../src/chains/evm/build-ponder-config.js";
import { buildPonderPlan, rpcEnvName } from "../../../src/chains/evm/build-ponder-plan.js";
import { resolveConfig } from "../../../src/lib/config.js";

const config = resolveConfig({
  path: "test",
  env: { ETH_RPC: "https://rpc.example/key-123" },
  input: {
    chains: { ethereum: { chain: "ethereum", rpc: [{ env: "ETH_RPC" }], startHeight: 19_000_000, snapshotInterval: 50 } },
    assets: {
      ETH: { chain: "ethereum", decimals: 18, native: true },
      USDC: { chain: "ethereum", decimals: 6, address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" },
    },
    wallets: [
      { label: "hot", chain: "ethereum", address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
      { label: "cold", chain: "ethereum", address: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" },
    ],
  },
});

describe("buildPonderPlan / buildPonderConfig", () => {
  it("builds a plan without secrets: lowercase addresses, RPC URLs only by variable name", () => {
    const plan = buildPonderPlan(config, "ethereum", { pgliteDir: "/x/pglite" });
    expect(plan).toEqual({
      version: 1,
      pgliteDir: "/x/pglite",
      chains: [
        {
          key: "ethereum",
          chainId: 1,
          rpcEnv: "BACKSTOP_RPC_ETHEREUM",
          startBlock: 19_000_000,
          snapshotInterval: 50,
          pollingInterval: 1000,
          multicall3: "0xca11bde05977b3631167028862be2a173976ca11",
          nativeAsset: "ETH",
          wallets: ["0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"],
          tokens: [{ asset: "USDC", address: "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48" }],
        },
      ],
    });
    expect(JSON.stringify(plan)).not.toContain("key-123");
    expect(rpcEnvName("base-sepolia")).toBe("BACKSTOP_RPC_BASE_SEPOLIA");
  });

  it("gives Ponder one ERC-20 source filtered by token address only, every block and the pad source: no account source (it needs receipts or traces)", () => {
    const plan = buildPonderPlan(config, "ethereum", {});
    const c = buildPonderConfig(plan, { BACKSTOP_RPC_ETHEREUM: "https://a.example https://b.example" });
    expect(c.chains).toEqual({ ethereum: { id: 1, rpc: ["https://a.example", "https://b.example"], disableCache: false, pollingInterval: 1000 } });
    expect(Object.keys(c.contracts)).toEqual(["Erc20"]);
    // No per-wallet topics: one filter fragment per token, not 2 × tokens × wallets.
    expect((c.contracts as Record<string, { chain: Record<string, unknown> }>).Erc20!.chain.ethereum).toEqual({ address: ["0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"], startBlock: plan.chains[0]!.startBlock });
    expect("accounts" in c).toBe(false);
    // The pad block source keeps Ponder's fragment count (tokens + 2) off 1 (mod 200) (see PONDER_SOURCES.pad).
    expect(Object.keys(c.blocks)).toEqual(["BackstopBlock", "BackstopPad"]);
    expect(() => buildPonderConfig(plan, {})).toThrow("BACKSTOP_RPC_ETHEREUM");
  });
});
