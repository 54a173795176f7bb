import { describe, expect, it } from "vitest";
import { isBackstopError } from "../../src/lib/errors.js";
import { buildAlertsConfig } from "./alert-fixtures.js";

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isBackstopError(err)) return err.metaMessages.map((m) => m.trim());
    throw err;
  }
  throw new Error("no error");
}

describe("alerts config", () => {
  it("parses thresholds exactly into base units, with defaults", () => {
    const c = buildAlertsConfig({
      rules: [
        { name: "big-out", type: "outflow", severity: "critical", asset: "BTC", above: "12.3456789", window: { blocks: 6 } },
        { name: "hot-low", type: "balance_below", severity: "warning", asset: "BTC", below: "0.00000001", wallets: ["hot"] },
        { name: "reorgs", type: "reorg", severity: "warning" },
      ],
      sinks: { hook: { type: "webhook", url: { env: "HOOK_URL" }, secret: { env: "HOOK_SECRET" } } },
    }, { HOOK_URL: "https://hooks.example.com/backstop", HOOK_SECRET: `whsec_${Buffer.alloc(24, 7).toString("base64")}` });
    expect(c.alerts.rules[0]).toMatchObject({ type: "outflow", above: 1_234_567_890n, window: { blocks: 6 }, group: false, sinks: ["hook"] });
    expect(c.alerts.rules[1]).toMatchObject({ below: 1n });
    expect(c.alerts.rules[2]).toMatchObject({ minDepth: 1 });
    expect(c.alerts.delivery.retryScheduleMs).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000]);
  });

  it("an unknown rule type, excess precision and a missing env secret: every problem with its path, nothing else", () => {
    expect(problems(() => buildAlertsConfig({ rules: [{ name: "x", type: "whale_watch", severity: "critical" } as never] }))).toMatchInlineSnapshot(`
      [
        "alerts.rules[0].type: unknown rule type "whale_watch" (known: outflow, balance_below, balance_above, unknown_counterparty, coverage_below, checkpoint, silent_change, movement, indexer_stalled, chain_halted, lag, reorg, deep_reorg, provider_disagreement, provider_lagging)",
      ]
    `);
    const p = problems(() =>
      buildAlertsConfig({
        rules: [
          { name: "big-out", type: "outflow", severity: "critical", asset: "BTC", above: "1.123456789" },
          { name: "big-out", type: "balance_above", severity: "info", asset: "BTC", above: "1", wallets: ["nope"], sinks: ["pager"] },
          { name: "cp", type: "unknown_counterparty", severity: "critical", minAmount: { BTC: "0.000000001" } },
        ],
        sinks: {
          hook: { type: "webhook", url: "https://hooks.example.com/x", secret: { env: "MISSING_SECRET" } },
          pd: { type: "pagerduty", routingKey: { env: "MISSING_ROUTING_KEY" } },
        },
      }),
    );
    expect(p).toEqual([
      "alerts.sinks.hook.secret: environment variable MISSING_SECRET is not set",
      "alerts.sinks.pd.routingKey: environment variable MISSING_ROUTING_KEY is not set",
      "alerts.rules[0].above: \"1.123456789\" has 9 decimals; BTC has 8 (never rounded)",
      "alerts.rules[1].name: \"big-out\" is already used by alerts.rules[0]",
      "alerts.rules[1].wallets[0]: unknown wallet label \"nope\"",
      "alerts.rules[1].sinks[0]: unknown sink \"pager\" (alerts.sinks has: hook, pd)",
      "alerts.rules[2].minAmount.BTC: \"0.000000001\" has more decimals than BTC's 8 (never rounded)",
    ]);
  });

  it("rejects amounts that are not plain decimals (sign, exponent, separators) at their path", () => {
    for (const above of ["-1", "1e3", "1,000", " 1", "0x10", ".5"]) {
      const p = problems(() => buildAlertsConfig({ rules: [{ name: "o", type: "outflow", severity: "error", asset: "BTC", above }] }));
      expect(p[0]).toMatch(/^alerts\.rules\[0\]\.above: a decimal amount in display units/);
    }
  });

  it("refuses every non-public sink URL form at config time, and http outside development mode", () => {
    const forms = [
      "https://127.0.0.1/x", "https://127.1/x", "https://2130706433/x", "https://0x7f000001/x", "https://[::ffff:127.0.0.1]/x", "https://[::1]/x",
      "https://169.254.169.254/latest/meta-data", "https://10.0.0.5/x", "https://192.168.1.1/x", "https://172.16.0.1/x", "https://[fd00::1]/x",
      "https://[fe80::1]/x", "https://0.0.0.0/x", "https://100.64.0.1/x", "https://localhost/x", "https://a.localhost/x", "https://017700000001/x",
      "http://hooks.example.com/x", "ftp://hooks.example.com/x", "https://user:pw@hooks.example.com/x",
    ];
    for (const url of forms) {
      const p = problems(() => buildAlertsConfig({ sinks: { hook: { type: "webhook", url, secret: "whsec_AAAA" } } }));
      expect(p.length, url).toBe(1);
      expect(p[0], url).toMatch(/^alerts\.sinks\.hook\.url: /);
      // The URL is never echoed (a Slack or tokened URL is a secret); the host may be.
      expect(p[0]).not.toContain("/x");
    }
    // Development mode: loopback over http is allowed; private and link-local addresses still are not.
    const dev = { allowInsecureLoopback: true };
    expect(buildAlertsConfig({ delivery: dev, sinks: { hook: { type: "webhook", url: "http://127.0.0.1:9/x", secret: "whsec_AAAA" } } }).alerts.sinks).toHaveLength(1);
    expect(problems(() => buildAlertsConfig({ delivery: dev, sinks: { hook: { type: "webhook", url: "http://169.254.169.254/", secret: "whsec_AAAA" } } }))[0]).toMatch(/not public \(linkLocal\)/);
    expect(problems(() => buildAlertsConfig({ delivery: dev, sinks: { hook: { type: "webhook", url: "http://10.1.2.3/", secret: "whsec_AAAA" } } }))[0]).toMatch(/not public \(private\)/);
    expect(buildAlertsConfig({ sinks: { hook: { type: "webhook", url: "https://hooks.example.com/x", secret: "whsec_AAAA" } } }).alerts.sinks[0]).toMatchObject({ url: "https://hooks.example.com/x" });
  });

  it("refuses an unsigned webhook and malformed secrets without showing them", () => {
    const p = problems(() => buildAlertsConfig({ sinks: { a: { type: "webhook", url: "https://h.example.com/" }, b: { type: "webhook", url: "https://h.example.com/", secret: "hunter2-secret", signingKey: "whsk_c2hvcnQ=" } } }));
    expect(p).toEqual([
      "alerts.sinks.a: a webhook sink needs a secret (v1 HMAC) or a signingKey (v1a Ed25519): unsigned alerts cannot be trusted",
      "alerts.sinks.b.secret: expected whsec_<base64> (the value is not shown)",
      "alerts.sinks.b.signingKey: expected whsk_<base64 of a 32-byte Ed25519 seed> (the value is not shown)",
    ]);
    expect(p.join("\n")).not.toContain("hunter2");
  });
});
