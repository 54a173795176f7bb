import { describe, expect, it } from "vitest";
import { loadAppConfig } from "../../src/cli/context.js";
import { loadConfig } from "../../src/lib/config.js";

describe("examples/backstop.config.ts", () => {
  it("is a valid config once its environment is set", async () => {
    // loadConfig reads process.env only through its env parameter; loadAppConfig uses the real one.
    const config = await loadConfig({ path: "examples/backstop.config.ts", env: { BITCOIN_RPC_URL: "http://127.0.0.1:8332/" } });
    expect(Object.keys(config.chains)).toEqual(["btc"]);
    expect(config.wallets.map((w) => w.label)).toEqual(["hot-1", "legacy-deposit", "cold-2of3"]);
  });

  it("names the missing environment variable", async () => {
    await expect(loadAppConfig({ config: "examples/backstop.config.ts" })).rejects.toMatchObject({
      metaMessages: expect.arrayContaining([expect.stringContaining("BITCOIN_RPC_URL is not set")]),
    });
  });
});
