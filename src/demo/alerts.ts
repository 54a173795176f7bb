import { randomBytes } from "node:crypto";
import { computeWebhookPublicKey } from "../alerts/sign-webhook.js";
import type { AlertBody } from "../alerts/build-sink-messages.js";
import { verifyWebhook } from "../alerts/verify-webhook.js";
import { startAlertReceiver, type AlertReceiver } from "../devnet/alerts/start-alert-receiver.js";
import { env, type ConfigInput } from "../lib/config.js";

/** The demo's alerting: a local webhook receiver that verifies every signature, and the rules and sink pointing at it. */
export type DemoAlerts = {
  /** The config's `alerts` section (secrets as env references). */
  alerts: NonNullable<ConfigInput["alerts"]>;
  secrets: Record<string, string>;
  /** Lines for the alerts received since the last call, each with its signature checks. */
  takeLines(): string[];
  stop(): Promise<void>;
};

/**
 * Starts the demo's webhook receiver on loopback (development mode: the only place http and loopback sinks
 * are allowed) with a fresh HMAC secret and Ed25519 key per run, and rules that the scripted Bitcoin
 * activity trips: a large outflow from btc-hot, a payment to an address outside custody, btc-hot over
 * 9 BTC (raised by the block the reorg removes, so it is withdrawn), and the reorg itself.
 */
export async function startDemoAlerts(): Promise<DemoAlerts> {
  const rx: AlertReceiver = await startAlertReceiver();
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const signingKey = `whsk_${randomBytes(32).toString("base64")}`;
  const publicKey = computeWebhookPublicKey(signingKey);
  let next = 0;
  return {
    alerts: {
      rules: [
        { name: "btc-hot-large-outflow", type: "outflow", severity: "critical", asset: "BTC", above: "1", wallets: ["btc-hot"], runbook: "https://runbooks.example.com/backstop/large-outflow" },
        { name: "btc-unknown-counterparty", type: "unknown_counterparty", severity: "critical", chains: ["btc"], minAmount: { BTC: "0.1" }, runbook: "https://runbooks.example.com/backstop/unknown-counterparty" },
        { name: "btc-hot-over-limit", type: "balance_above", severity: "warning", asset: "BTC", above: "9", wallets: ["btc-hot"] },
        { name: "reorgs", type: "reorg", severity: "warning", chains: ["btc"] },
        // Movement reconciliation: an outflow no ledger record explains is the earliest sign of a compromised key.
        // Only the Bitcoin side's records are fed in the demo (src/demo/movements.ts), so only btc is reconciled here.
        { name: "unexplained-outflow", type: "movement", severity: "critical", chains: ["btc"], outcomes: ["unexplained_outflow", "amount_mismatch"], runbook: "https://runbooks.example.com/backstop/unexplained-outflow" },
        { name: "missing-withdrawal", type: "movement", severity: "error", chains: ["btc"], outcomes: ["missing_on_chain"] },
      ],
      sinks: { "demo-receiver": { type: "webhook", url: `${rx.url}/alerts`, secret: env("BACKSTOP_DEMO_ALERT_SECRET"), signingKey: env("BACKSTOP_DEMO_ALERT_SIGNING_KEY") } },
      delivery: { allowInsecureLoopback: true, pollIntervalMs: 100 },
    },
    secrets: { BACKSTOP_DEMO_ALERT_SECRET: secret, BACKSTOP_DEMO_ALERT_SIGNING_KEY: signingKey },
    takeLines() {
      const lines: string[] = [];
      for (const r of rx.received.slice(next)) {
        const v1 = verifyWebhook({ headers: r.headers, body: r.body, secret });
        const v1a = verifyWebhook({ headers: r.headers, body: r.body, publicKey });
        const b = JSON.parse(r.body) as AlertBody;
        const a = b.data;
        const what = b.type === "alert.withdrawn" ? "WITHDRAWN" : b.type === "alert.finalized" ? "FINAL" : b.type === "alert.resolved" ? "RESOLVED" : "FIRING";
        const sig = `signature v1 ${v1.ok ? "verified" : "FAILED"}, v1a ${v1a.ok ? "verified" : "FAILED"}`;
        lines.push(`alert received (${sig}): [${a.severity}] ${what}${a.finality === "unfinalized" ? " (unfinalized)" : ""} ${a.rule}: ${a.summary}${a.height !== null ? ` @${a.height}` : ""}`);
      }
      next = rx.received.length;
      return lines;
    },
    stop: () => rx.close(),
  };
}
