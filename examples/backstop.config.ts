// An operator's config: copy to ./backstop.config.ts and fill in your wallets.
// RPC URLs carry credentials, so they come from the environment.
import { defineConfig, env } from "../src/lib/config.js";

export default defineConfig({
  chains: {
    btc: {
      chain: "bitcoin",
      rpc: [env("BITCOIN_RPC_URL")],
      finalityDepth: 6,
      startHeight: 880_000,
    },
  },
  assets: {
    BTC: { chain: "btc", decimals: 8, native: true },
  },
  wallets: [
    { label: "hot-1", chain: "btc", address: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" },
    { label: "legacy-deposit", chain: "btc", address: "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2" },
    {
      label: "cold-2of3",
      chain: "btc",
      descriptor:
        "wsh(sortedmulti(2,[4ba43603/48'/0'/0'/2']xpub6DknhdAsmeDQc7uaCcTBvPM5HJ2sN2gaBmNiJJtpczK3hMQWdKeodaBUSgi9qJrMKqPLqPuNFa7egPzCn8oJ7uU1zzhgAeHvzgYpxqchsQS/<0;1>/*,[8dfc9b34/48'/0'/0'/2']xpub6FAQRNJPfe8DZextv3BwkyE9GovxWr6NPx5DFosrY4WDdAeu96gcry37PJrV9agkn2pRsLieS487vaom77nSinfuerwfz926ZaNwkjUbhdt/<0;1>/*,[56c4fac3/48'/0'/0'/2']xpub6Ewx2N9hNSArJyF35CUGhaZLuZxQPNmJzWVwmpoV9U7Xu5wqka93nd3zEzokew9MzkNV4u6TCVDkHHR6QHQuYEFaasKzWkrkncXHMXGNdZP/<0;1>/*))",
      gapLimit: 20,
    },
  ],
});
