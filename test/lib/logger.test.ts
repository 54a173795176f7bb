import { describe, expect, it } from "vitest";
import { redact } from "../../src/lib/logger.js";

describe("redact", () => {
  it("removes credentials, paths and query strings of URLs (where providers put API keys)", () => {
    const text = "fetch https://user:s3cretpass@eth-mainnet.example.com/v2/KEY123abc?apikey=KEY456 failed; also http://127.0.0.1:8545/";
    const out = redact(text);
    expect(out).not.toContain("s3cretpass");
    expect(out).not.toContain("KEY123abc");
    expect(out).not.toContain("KEY456");
    expect(out).toContain("eth-mainnet.example.com");
    expect(out).toContain("http://127.0.0.1:8545/");
  });

  it("removes key=value secrets", () => {
    expect(redact('api_key=abcd1234 token: "zzz" password=hunter2')).toBe('api_key=*** token: "***" password=***');
  });
});
