import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { redact } from "../../src/lib/logger.js";
import { isSensitiveKey, redactJsonLine, redactValue } from "../../src/lib/redact.js";
import { KEPT, SECRETS } from "../helpers/log-secrets.js";

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

  it("removes key=value secrets, bearer tokens and secrets known by their form", () => {
    expect(redact('api_key=abcd1234 token: "zzz" password=hunter2')).toBe('api_key=*** token: "***" password=***');
    expect(redact("Authorization: Bearer eyJabc.def-ghi")).toBe("Authorization: ***");
    expect(redact("authorization=Basic dXNlcjpwYXNz; next")).toBe("authorization=***; next");
    expect(redact("retry with Bearer abcdef123456")).toBe("retry with Bearer ***");
    expect(redact("routing_key=R0123456789abcdef0123456789abcdef")).toBe("routing_key=***");
    expect(redact(`sign with ${SECRETS.hmac} or xoxb-1234567890-abcdefghij`)).toBe("sign with [redacted] or [redacted]");
    expect(redact("wif 5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ ok")).toBe("wif [redacted] ok");
  });

  it("keeps what a log needs: hashes, signatures, addresses, amounts, hosts", () => {
    const text = `Token account discovered; Basic checks passed; slot 312000001 ${KEPT.blockhash} ${KEPT.signature} ${KEPT.txHash} bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq 18446744073709551615 events.pagerduty.com wsh(sortedmulti(2,tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp/0/*))#abcdefgh`;
    expect(redact(text)).toBe(text);
  });
});

describe("redactValue", () => {
  it("redacts at any depth: sensitive names whatever the shape, strings, errors with causes, arrays, bytes", () => {
    const cause = Object.assign(new Error("Bearer abcdefgh123"), { code: "E_AUTH" });
    const out = redactValue({
      a: [{ b: { webhookUrl: { url: "x" }, apiKey: 42, tokens: ["USDC"] } }],
      e: new Error("see https://h.example/secret-path", { cause }),
      bytes: Buffer.from("seed"),
      big: 2n ** 64n,
      m: new Map([["password", "p"]]),
    }) as Record<string, any>;
    expect(out.a[0].b).toEqual({ webhookUrl: "[redacted]", apiKey: "[redacted]", tokens: ["USDC"] });
    expect(out.e).toMatchObject({ type: "Error", message: "see https://h.example/***", cause: { type: "Error", message: "Bearer ***", code: "E_AUTH" } });
    expect(out.bytes).toBe("[4 bytes]");
    expect(out.big).toBe("18446744073709551616");
    expect(out.m).toEqual({ password: "[redacted]" });
    const cyclic: Record<string, unknown> = { x: 1 };
    cyclic.self = cyclic;
    expect(redactValue(cyclic)).toEqual({ x: 1, self: "[circular]" });
  });

  it("knows sensitive field names in any spelling, and leaves data fields alone", () => {
    for (const k of ["password", "API_KEY", "x-api-key", "authorization", "privateKey", "signing_key", "routingKey", "slackWebhookUrl", "clientSecret", "mnemonic"]) expect(isSensitiveKey(k), k).toBe(true);
    for (const k of ["tokens", "tokenAccount", "token_program", "apiKeyPrefix", "hash", "txid", "signature", "owner", "mint", "wallet"]) expect(isSensitiveKey(k), k).toBe(false);
  });

  it("redactJsonLine keeps the line valid JSON", () => {
    const line = JSON.stringify({ msg: 'a "quoted" https://x.example/k?y=1\n', password: "p", nested: '{"token":"t"}' });
    const out = redactJsonLine(line);
    expect(JSON.parse(out)).toEqual({ msg: 'a "quoted" https://x.example/***\n', password: "[redacted]", nested: '{"token":"***"}' });
  });
});

describe("the logger's real output", () => {
  const script = resolve("test/helpers/log-secrets.ts");
  it.each(["json", "pretty"])("holds no secret of a nested object, an error chain or printf arguments (%s)", (format) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", script, format], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stderr;
    expect(out).toContain("alert delivery configured");
    expect(out).toContain("delivery failed");
    for (const [name, value] of Object.entries(SECRETS)) expect(out.includes(String(value)), `${name} leaked`).toBe(false);
    expect(out).not.toMatch(/S3CR3T/);
    for (const v of [KEPT.blockhash, KEPT.signature, KEPT.txHash, ...KEPT.hosts, "RPC__TRANSPORT", "312000001"]) expect(out, v).toContain(v);
    if (format === "json") for (const line of out.trim().split("\n")) JSON.parse(line);
  });
});
