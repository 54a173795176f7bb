import { randomBytes } from "node:crypto";
import { resolveConfig, type ConfigInput, type ResolvedConfig } from "../../src/lib/config.js";

/** A fresh Standard Webhooks HMAC secret and Ed25519 signing key. */
export function createSinkSecrets() {
  return { secret: `whsec_${randomBytes(24).toString("base64")}`, signingKey: `whsk_${randomBytes(32).toString("base64")}` };
}

/** A resolved config with one regtest chain, BTC, two wallets, and the given alerts section (env for its secrets). */
export function buildAlertsConfig(alerts: ConfigInput["alerts"], env: Record<string, string> = {}, extra: Partial<ConfigInput> = {}): ResolvedConfig {
  return resolveConfig({
    path: "test.config.ts",
    env,
    input: {
      chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"], finalityDepth: 6 } },
      assets: { BTC: { chain: "btc", decimals: 8, native: true } },
      wallets: [
        { label: "hot", chain: "btc", address: "bcrt1qhot" },
        { label: "cold", chain: "btc", address: "bcrt1qcold" },
      ],
      ...extra,
      alerts,
    },
  });
}
