import { z } from "zod";
import { toBaseUnits } from "./amounts.js";
import { classifyAddress, isLocalhostName } from "./classify-address.js";

/** Alert severities, most severe first (PagerDuty Events v2's four). */
export const ALERT_SEVERITIES = ["critical", "error", "warning", "info"] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Movement reconciliation outcomes that raise a `movement` alert by default. */
export const ALERTING_MOVEMENT_OUTCOMES = ["unexplained_outflow", "amount_mismatch", "missing_on_chain", "unexplained_inflow", "unknown_counterparty"] as const;

/** Checkpoint statuses that raise a `checkpoint` alert by default. */
export const ALERTING_CHECKPOINT_STATUSES = ["breach", "not_anchored", "discrepancy", "window_dressing"] as const;

const envOrString = z.union([z.string().min(1), z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/) }).strict()]);
const amountText = z.string().regex(/^(0|[1-9]\d*)(\.\d+)?$/, "a decimal amount in display units, e.g. \"12.5\" (no sign, exponent or separators)");
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a name is [A-Za-z0-9._-], at most 64 characters");

const common = {
  /** Unique rule name (part of every incident key: renaming a rule starts new incidents). */
  name,
  /** critical, error, warning or info. */
  severity: z.enum(ALERT_SEVERITIES),
  /** Only these chain keys (default: every chain). */
  chains: z.array(z.string()).min(1).optional(),
  /** Only these wallet labels (default: every wallet). */
  wallets: z.array(z.string()).min(1).optional(),
  /** Only these asset ids (default: every asset). */
  assets: z.array(z.string()).min(1).optional(),
  /** What the on-call engineer should read (https URL), carried by every alert. */
  runbook: z.string().url().optional(),
  /** Sink names (keys of alerts.sinks) this rule delivers to. Default: every sink. */
  sinks: z.array(z.string()).optional(),
};

const windowSchema = z.union([
  z.object({ /** Blocks (Solana: slots) ending at the new block. */ blocks: z.number().int().min(1).max(100_000) }).strict(),
  z.object({ /** Minutes of block time ending at the new block's time. */ minutes: z.number().int().min(1).max(100_000) }).strict(),
]);

const ruleSchema = z.discriminatedUnion("type", [
  z.object({
    ...common,
    type: z.literal("outflow"),
    /** The asset whose net outflow is measured. */
    asset: z.string(),
    /** Threshold in display units (e.g. "50" BTC), parsed exactly with the asset's decimals; fires when the net outflow is above it. */
    above: amountText,
    /** Window of the sum. Default { blocks: 1 } (one block). */
    window: windowSchema.optional(),
    /** Sum the scope's wallets together (a wallet group) instead of per wallet. Default false. */
    group: z.boolean().optional(),
    /** Count movements between custody wallets as outflow too. Default false (internal moves are not outflows). */
    includeInternal: z.boolean().optional(),
  }).strict(),
  z.object({ ...common, type: z.literal("balance_below"), asset: z.string(), /** Display units. */ below: amountText }).strict(),
  z.object({ ...common, type: z.literal("balance_above"), asset: z.string(), /** Display units. */ above: amountText }).strict(),
  z.object({
    ...common,
    type: z.literal("unknown_counterparty"),
    /** Counterparties that are known (exchange deposit addresses, a custodian's cold storage); EVM case-insensitive. */
    allowList: z.array(z.string().min(1)).optional(),
    /** Per asset id, the smallest outflow (display units) that alerts. Default: any amount. */
    minAmount: z.record(z.string(), amountText).optional(),
  }).strict(),
  z.object({ ...common, type: z.literal("coverage_below"), asset: z.string(), /** Coverage threshold in basis points (10000 = 100%). */ bps: z.number().int().min(0).max(1_000_000) }).strict(),
  z.object({ ...common, type: z.literal("checkpoint"), /** Statuses that alert. Default breach, not_anchored, discrepancy, window_dressing. */ statuses: z.array(z.string()).min(1).optional() }).strict(),
  z.object({ ...common, type: z.literal("silent_change") }).strict(),
  z.object({
    ...common,
    type: z.literal("movement"),
    /** Movement reconciliation outcomes that alert. Default unexplained_outflow, amount_mismatch, missing_on_chain, unexplained_inflow, unknown_counterparty. */
    outcomes: z.array(z.enum(["unexplained_outflow", "amount_mismatch", "missing_on_chain", "unexplained_inflow", "unknown_counterparty", "reorged", "replaced"])).min(1).optional(),
  }).strict(),
  z.object({ ...common, type: z.literal("indexer_stalled"), /** Seconds the node's head advances while our cursor does not. */ forSeconds: z.number().int().min(1).max(86_400) }).strict(),
  z.object({ ...common, type: z.literal("chain_halted"), /** Seconds without a new head from the node. */ forSeconds: z.number().int().min(1).max(86_400) }).strict(),
  z.object({ ...common, type: z.literal("lag"), /** Node tip minus indexed height, in blocks, above which it fires. */ blocks: z.number().int().min(1) }).strict(),
  z.object({ ...common, type: z.literal("reorg"), /** Smallest depth that alerts. Default 1. */ minDepth: z.number().int().min(1).optional() }).strict(),
  z.object({ ...common, type: z.literal("deep_reorg") }).strict(),
  z.object({ ...common, type: z.literal("provider_disagreement") }).strict(),
  z.object({ ...common, type: z.literal("provider_lagging"), /** Seconds a provider must lag before it alerts. Default 0. */ forSeconds: z.number().int().min(0).max(86_400).optional() }).strict(),
], { error: (iss) => (iss.code === "invalid_union" && (iss as { note?: string }).note === "No matching discriminator" ? `unknown rule type ${JSON.stringify((iss.input as { type?: unknown })?.type)} (known: ${RULE_TYPES.join(", ")})` : undefined) });

/** Every rule type. */
export const RULE_TYPES = ["outflow", "balance_below", "balance_above", "unknown_counterparty", "coverage_below", "checkpoint", "silent_change", "movement", "indexer_stalled", "chain_halted", "lag", "reorg", "deep_reorg", "provider_disagreement", "provider_lagging"] as const;

const sinkSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("webhook"),
    /** https URL of the receiver; env("NAME") when it carries a secret. */
    url: envOrString,
    /** Standard Webhooks HMAC secret `whsec_<base64>` (signs `v1,`); use env("NAME"). */
    secret: envOrString.optional(),
    /** Ed25519 signing key `whsk_<base64 of the 32-byte seed>` (signs `v1a,`); use env("NAME"). */
    signingKey: envOrString.optional(),
  }).strict(),
  z.object({ type: z.literal("slack"), /** Slack incoming-webhook URL (a secret): use env("NAME"). */ url: envOrString }).strict(),
  z.object({
    type: z.literal("pagerduty"),
    /** Events v2 integration (routing) key: use env("NAME"). */
    routingKey: envOrString,
    /** Events API URL. Default https://events.pagerduty.com/v2/enqueue. */
    url: z.string().optional(),
  }).strict(),
], { error: (iss) => (iss.code === "invalid_union" && (iss as { note?: string }).note === "No matching discriminator" ? `unknown sink type ${JSON.stringify((iss.input as { type?: unknown })?.type)} (known: webhook, slack, pagerduty)` : undefined) });

const deliverySchema = z
  .object({
    /**
     * Development only: allow http:// and loopback (127.0.0.0/8, ::1, localhost) sink URLs. Private,
     * link-local and other non-public addresses stay refused. Default false (https to public addresses only).
     */
    allowInsecureLoopback: z.boolean().optional(),
    /** Per-attempt time limit (connect to last byte), ms. Default 10000. */
    timeoutMs: z.number().int().min(100).max(120_000).optional(),
    /** Response bytes read at most (the rest is discarded). Default 65536. */
    maxResponseBytes: z.number().int().min(1024).max(10_000_000).optional(),
    /** Retry delays in ms after each failed attempt; default the Standard Webhooks schedule (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h). */
    retryScheduleMs: z.array(z.number().int().min(0).max(7 * 86_400_000)).min(1).max(50).optional(),
    /** Ms between outbox polls. Default 100. */
    pollIntervalMs: z.number().int().min(10).max(60_000).optional(),
    /**
     * Ms between recovery probes of a sink whose messages are all waiting for a retry: its oldest message is sent
     * early (a failed probe does not count against that message's schedule); a 2xx makes all its messages due at
     * once, so a receiver back from an outage is drained in seconds, not at the next 5 min / 30 min step. Default 10000.
     */
    probeIntervalMs: z.number().int().min(100).max(3_600_000).optional(),
    /** Ms between chain-health rule evaluations. Default 5000. */
    healthIntervalMs: z.number().int().min(100).max(600_000).optional(),
  })
  .strict();

/** The `alerts` section of the config. */
export const alertsConfigSchema = z
  .object({
    /** Alert rules, evaluated on every stored block (movement rules), rollback (reorgs) and health tick. */
    rules: z.array(ruleSchema).optional(),
    /** Named sinks; a rule delivers to its `sinks` or, by default, to all of them. */
    sinks: z.record(name, sinkSchema).optional(),
    delivery: deliverySchema.optional(),
  })
  .strict();

type RuleInput = z.output<typeof ruleSchema>;
type Common = { name: string; severity: AlertSeverity; chains?: string[]; wallets?: string[]; assets?: string[]; runbook?: string; sinks: string[] };

/** A validated rule: thresholds in base units (bigint), sinks resolved to names. */
export type AlertRule =
  | (Common & { type: "outflow"; asset: string; above: bigint; window: { blocks: number } | { minutes: number }; group: boolean; includeInternal: boolean })
  | (Common & { type: "balance_below"; asset: string; below: bigint })
  | (Common & { type: "balance_above"; asset: string; above: bigint })
  | (Common & { type: "unknown_counterparty"; allowList: string[]; minAmount: Record<string, bigint> })
  | (Common & { type: "coverage_below"; asset: string; bps: number })
  | (Common & { type: "checkpoint"; statuses: string[] })
  | (Common & { type: "silent_change" })
  | (Common & { type: "movement"; outcomes: string[] })
  | (Common & { type: "indexer_stalled"; forSeconds: number })
  | (Common & { type: "chain_halted"; forSeconds: number })
  | (Common & { type: "lag"; blocks: number })
  | (Common & { type: "reorg"; minDepth: number })
  | (Common & { type: "deep_reorg" })
  | (Common & { type: "provider_disagreement" })
  | (Common & { type: "provider_lagging"; forSeconds: number });
export type AlertRuleType = AlertRule["type"];

/** A validated sink with its secrets resolved from the environment (never log one: see redact.ts). */
export type AlertSinkConfig =
  | { name: string; type: "webhook"; url: string; secret?: string; signingKey?: string }
  | { name: string; type: "slack"; url: string }
  | { name: string; type: "pagerduty"; url: string; routingKey: string };

/** The alerts section with defaults applied. */
export type ResolvedAlerts = {
  rules: AlertRule[];
  sinks: AlertSinkConfig[];
  delivery: { allowInsecureLoopback: boolean; timeoutMs: number; maxResponseBytes: number; retryScheduleMs: number[]; pollIntervalMs: number; probeIntervalMs: number; healthIntervalMs: number };
};

/** Standard Webhooks' retry schedule after each failed attempt (ms): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const STANDARD_WEBHOOKS_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/**
 * Checks a sink URL before anything is sent (the connect-time guard checks again, after DNS): an http(s)
 * URL without credentials; https unless `allowInsecureLoopback` and the host is loopback; an IP literal
 * (in any form the URL parser normalises: `127.1`, `2130706433`, `0x7f000001`, `[::ffff:127.0.0.1]`) must
 * be public unicast, or loopback in that development mode. Returns the problem, or null.
 */
export function checkSinkUrl(url: string, p: { allowInsecureLoopback: boolean }): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "not a URL";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return `scheme ${u.protocol} is not http(s)`;
  if (u.username || u.password) return "credentials in the URL are not allowed";
  const cls = classifyAddress(u.hostname);
  const loopback = cls?.kind === "loopback" || (cls === null && isLocalhostName(u.hostname));
  if (cls?.kind === "blocked") return `address ${u.hostname} is not public (${cls.range})`;
  if (loopback && !p.allowInsecureLoopback) return `address ${u.hostname} is loopback (allowed only with alerts.delivery.allowInsecureLoopback, for development)`;
  if (u.protocol === "http:" && !(loopback && p.allowInsecureLoopback)) return "must be https (http only for loopback with alerts.delivery.allowInsecureLoopback)";
  return null;
}

const WHSEC = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const WHSK = /^whsk_([A-Za-z0-9+/]+={0,2})$/;

/**
 * Validates and resolves `alerts`: every problem (with its config path) is pushed to `problems`; nothing is
 * thrown, so the config reports all of them at once.
 */
export function resolveAlertsConfig(p: {
  input: z.output<typeof alertsConfigSchema> | undefined;
  chains: readonly string[];
  assets: Readonly<Record<string, { decimals: number; chain: string }>>;
  /** Liability asset ids (`liabilityAssets`): live coverage and checkpoints are per liability asset. */
  liabilityAssets?: readonly string[];
  walletLabels: readonly string[];
  resolveEnv: (v: string | { env: string }, at: string) => string;
  problems: string[];
}): ResolvedAlerts {
  const a = p.input ?? {};
  const d = a.delivery ?? {};
  const delivery = {
    allowInsecureLoopback: d.allowInsecureLoopback ?? false,
    timeoutMs: d.timeoutMs ?? 10_000,
    maxResponseBytes: d.maxResponseBytes ?? 65_536,
    retryScheduleMs: d.retryScheduleMs ?? STANDARD_WEBHOOKS_SCHEDULE_MS,
    pollIntervalMs: d.pollIntervalMs ?? 100,
    probeIntervalMs: d.probeIntervalMs ?? 10_000,
    healthIntervalMs: d.healthIntervalMs ?? 5000,
  };
  const problems = p.problems;
  const urlCheck = (url: string, at: string) => {
    if (!url) return;
    const problem = checkSinkUrl(url, delivery);
    // The URL itself is never echoed: a Slack URL is a secret.
    if (problem) problems.push(`${at}: ${problem}`);
  };
  const sinks: AlertSinkConfig[] = [];
  for (const [sinkName, s] of Object.entries(a.sinks ?? {})) {
    const at = `alerts.sinks.${sinkName}`;
    if (s.type === "webhook") {
      const url = p.resolveEnv(s.url, `${at}.url`);
      urlCheck(url, `${at}.url`);
      const secret = s.secret === undefined ? undefined : p.resolveEnv(s.secret, `${at}.secret`);
      const signingKey = s.signingKey === undefined ? undefined : p.resolveEnv(s.signingKey, `${at}.signingKey`);
      if (secret && !WHSEC.test(secret)) problems.push(`${at}.secret: expected whsec_<base64> (the value is not shown)`);
      if (signingKey) {
        const m = WHSK.exec(signingKey);
        if (!m || Buffer.from(m[1]!, "base64").length !== 32) problems.push(`${at}.signingKey: expected whsk_<base64 of a 32-byte Ed25519 seed> (the value is not shown)`);
      }
      if (s.secret === undefined && s.signingKey === undefined) problems.push(`${at}: a webhook sink needs a secret (v1 HMAC) or a signingKey (v1a Ed25519): unsigned alerts cannot be trusted`);
      sinks.push({ name: sinkName, type: "webhook", url, ...(secret ? { secret } : {}), ...(signingKey ? { signingKey } : {}) });
    } else if (s.type === "slack") {
      const url = p.resolveEnv(s.url, `${at}.url`);
      urlCheck(url, `${at}.url`);
      sinks.push({ name: sinkName, type: "slack", url });
    } else {
      const routingKey = p.resolveEnv(s.routingKey, `${at}.routingKey`);
      const url = s.url ?? PAGERDUTY_EVENTS_URL;
      urlCheck(url, `${at}.url`);
      sinks.push({ name: sinkName, type: "pagerduty", url, routingKey });
    }
  }
  const sinkNames = sinks.map((s) => s.name);
  const ruleNames = new Map<string, number>();
  const rules: AlertRule[] = [];
  (a.rules ?? []).forEach((r: RuleInput, i) => {
    const at = `alerts.rules[${i}]`;
    const prev = ruleNames.get(r.name);
    if (prev !== undefined) problems.push(`${at}.name: "${r.name}" is already used by alerts.rules[${prev}]`);
    else ruleNames.set(r.name, i);
    r.chains?.forEach((c, j) => { if (!p.chains.includes(c)) problems.push(`${at}.chains[${j}]: unknown chain key "${c}"`); });
    r.wallets?.forEach((w, j) => { if (!p.walletLabels.includes(w)) problems.push(`${at}.wallets[${j}]: unknown wallet label "${w}"`); });
    r.assets?.forEach((x, j) => { if (!p.assets[x]) problems.push(`${at}.assets[${j}]: unknown asset "${x}"`); });
    r.sinks?.forEach((s, j) => { if (!sinkNames.includes(s)) problems.push(`${at}.sinks[${j}]: unknown sink "${s}" (alerts.sinks has: ${sinkNames.join(", ") || "none"})`); });
    if (r.runbook && !/^https?:\/\//.test(r.runbook)) problems.push(`${at}.runbook: must be an http(s) URL`);
    const base: Common = { name: r.name, severity: r.severity, chains: r.chains, wallets: r.wallets, assets: r.assets, runbook: r.runbook, sinks: r.sinks ?? sinkNames };
    const amountOf = (asset: string, text: string, field: string): bigint => {
      const def = p.assets[asset];
      if (!def) {
        problems.push(`${at}.asset: unknown asset "${asset}"`);
        return 0n;
      }
      const frac = text.split(".")[1] ?? "";
      if (frac.length > def.decimals) {
        problems.push(`${at}.${field}: "${text}" has ${frac.length} decimals; ${asset} has ${def.decimals} (never rounded)`);
        return 0n;
      }
      return toBaseUnits(text, def.decimals);
    };
    switch (r.type) {
      case "outflow":
        rules.push({ ...base, type: r.type, asset: r.asset, above: amountOf(r.asset, r.above, "above"), window: r.window ?? { blocks: 1 }, group: r.group ?? false, includeInternal: r.includeInternal ?? false });
        break;
      case "balance_below":
        rules.push({ ...base, type: r.type, asset: r.asset, below: amountOf(r.asset, r.below, "below") });
        break;
      case "balance_above":
        rules.push({ ...base, type: r.type, asset: r.asset, above: amountOf(r.asset, r.above, "above") });
        break;
      case "unknown_counterparty": {
        const minAmount: Record<string, bigint> = {};
        for (const [asset, text] of Object.entries(r.minAmount ?? {})) {
          const def = p.assets[asset];
          if (!def) problems.push(`${at}.minAmount.${asset}: unknown asset "${asset}"`);
          else if ((text.split(".")[1] ?? "").length > def.decimals) problems.push(`${at}.minAmount.${asset}: "${text}" has more decimals than ${asset}'s ${def.decimals} (never rounded)`);
          else minAmount[asset] = toBaseUnits(text, def.decimals);
        }
        rules.push({ ...base, type: r.type, allowList: r.allowList ?? [], minAmount });
        break;
      }
      case "coverage_below":
        if (!p.assets[r.asset] && !p.liabilityAssets?.includes(r.asset)) problems.push(`${at}.asset: unknown asset "${r.asset}" (neither a liability asset nor a chain asset)`);
        rules.push({ ...base, type: r.type, asset: r.asset, bps: r.bps });
        break;
      case "checkpoint":
        rules.push({ ...base, type: r.type, statuses: r.statuses ?? [...ALERTING_CHECKPOINT_STATUSES] });
        break;
      case "movement":
        rules.push({ ...base, type: r.type, outcomes: r.outcomes ?? [...ALERTING_MOVEMENT_OUTCOMES] });
        break;
      case "reorg":
        rules.push({ ...base, type: r.type, minDepth: r.minDepth ?? 1 });
        break;
      case "provider_lagging":
        rules.push({ ...base, type: r.type, forSeconds: r.forSeconds ?? 0 });
        break;
      default:
        rules.push({ ...base, ...r, sinks: base.sinks } as AlertRule);
    }
  });
  return { rules, sinks, delivery };
}
