import { describe, expect, it } from "vitest";
import { validateChainConfig } from "../../src/chains/validate-chain-config.js";
import { resolveConfig } from "../../src/lib/config.js";

describe("validateChainConfig: wallet birthdays", () => {
  it("refuses a birthday below the chain's first indexed height, with its path; accepts one at or above it", () => {
    const config = resolveConfig({
      path: "test",
      env: {},
      input: {
        chains: {
          btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1/"], startHeight: 100 },
          sol: { chain: "solana-local", rpc: ["http://127.0.0.1:2/"], birthdaySlot: 50 },
        },
        assets: { BTC: { chain: "btc", decimals: 8, native: true }, SOL: { chain: "sol", decimals: 9, native: true } },
        wallets: [
          { label: "early", chain: "btc", address: "bcrt1qdka0zsu3rpec5qd2zul6ne3r5d7aqvan7lhnh0", birthday: 99 },
          { label: "ok", chain: "btc", address: "moCkRnwtJgTzeacRdZvoRJuxbVVY1dW7th", birthday: 100 },
          { label: "sol-early", chain: "sol", address: "BFXmx1DFUqYYxCFB8UqkugRMP66nxBqsm66iktbp7NSM", birthday: 10 },
        ],
      },
    });
    expect(validateChainConfig(config)).toEqual([
      "wallets[0].birthday: 99 is below chains.btc.startHeight 100; what the wallet received before 100 would never be indexed",
      "wallets[2].birthday: 10 is below chains.sol.birthdaySlot 50; what the wallet received before 50 would never be indexed",
    ]);
  });
});
