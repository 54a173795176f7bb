import { and, eq, gt, gte, inArray, lte, min } from "drizzle-orm";
import type { AlertRule } from "../lib/alerts-config.js";
import type { ResolvedConfig } from "../lib/config.js";
import { formatUnits } from "../lib/amounts.js";
import type { BlockAppliedEvent, BlockEventSink, BlocksRolledBackEvent, Db, Store } from "../store/index.js";
import { computeIncidentKey } from "./compute-incident-key.js";
import { buildAlertRecord, enqueueAlertEventIn, loadIncidentAlertsIn, raiseAlertIn, type AlertsContext } from "./raise-alert.js";
import type { AlertDraft } from "./types.js";

/** Rule types evaluated on block writes (the rest run on health ticks or readers). */
const BLOCK_RULES = new Set<AlertRule["type"]>(["outflow", "balance_below", "balance_above", "unknown_counterparty"]);
/** Alerts about the chain itself: never withdrawn by a rollback (a reorg alert is about the rollback). */
const NOT_BLOCK_DERIVED = ["reorg", "deep_reorg", "indexer_stalled", "chain_halted", "lag", "provider_lagging", "provider_disagreement", "coverage_below", "checkpoint", "silent_change"];

const inScope = (r: AlertRule, chain: string, wallet?: string, asset?: string) =>
  (!r.chains || r.chains.includes(chain)) && (!wallet || !r.wallets || r.wallets.includes(wallet)) && (!asset || !r.assets || r.assets.includes(asset));

/**
 * The alert rules that run inside block transactions (a BlockEventSink): on every stored block, the movement
 * rules (outflow over a window, balance_below/above, unknown_counterparty), and the finality upgrade of
 * alerts raised unfinalized; on every rollback, the withdrawal of alerts the removed blocks raised and the
 * `reorg` rule. Everything it writes (alerts, incidents, outbox) commits or rolls back with the block.
 */
export function createAlertBlockSink(p: { config: ResolvedConfig; now?: () => number }): BlockEventSink {
  const ctx: AlertsContext = { alerts: p.config.alerts, now: p.now ?? Date.now };
  const rules = ctx.alerts.rules;
  const labels = new Map<number, string>();
  const label = async (db: Db, store: Store, id: number) => {
    let l = labels.get(id);
    if (l === undefined) {
      const [w] = await db.select({ label: store.t.wallets.label }).from(store.t.wallets).where(eq(store.t.wallets.id, id)).limit(1);
      l = w?.label ?? `#${id}`;
      labels.set(id, l);
    }
    return l;
  };
  const decimals = (asset: string) => p.config.assets[asset]?.decimals ?? 0;
  const display = (amount: bigint, asset: string) => `${formatUnits(amount, decimals(asset))} ${p.config.assets[asset]?.symbol ?? asset}`;

  async function onBlockApplied(db: Db, store: Store, e: BlockAppliedEvent) {
    const { block } = e;
    const unfinalized = e.finalizedAfter === null || block.height > e.finalizedAfter;
    const finality = unfinalized ? "unfinalized" : "final";
    const base = { chain: e.chain, height: block.height, blockHash: block.hash, finality } as const;
    for (const rule of rules) {
      if (!BLOCK_RULES.has(rule.type) || !inScope(rule, e.chain)) continue;
      if (rule.type === "unknown_counterparty") {
        const allow = new Set(rule.allowList.map((a) => a.toLowerCase()));
        for (const x of e.transfers) {
          if (x.direction !== "out" || (x.counterpartyWalletId ?? null) !== null || x.counterparty === null) continue;
          const wallet = await label(db, store, x.walletId);
          if (!inScope(rule, e.chain, wallet, x.asset) || allow.has(x.counterparty.toLowerCase())) continue;
          if (x.amount < (rule.minAmount[x.asset] ?? 0n)) continue;
          await raiseAlertIn(db, store, ctx, {
            ...base, rule, status: "firing", scope: { chain: e.chain, wallet, asset: x.asset, extra: x.counterparty },
            dedupeKey: `${rule.name}|${e.chain}|${block.hash}|${x.position}|${x.walletId}|${x.asset}`,
            wallet, asset: x.asset, txids: x.txid ? [x.txid] : [],
            summary: `${wallet} sent ${display(x.amount, x.asset)} to ${x.counterparty}, which is neither a custody wallet nor on the allow-list`,
            values: { amount: x.amount.toString(), decimals: decimals(x.asset), counterparty: x.counterparty, position: x.position },
          });
        }
        continue;
      }
      if (rule.type === "balance_below" || rule.type === "balance_above") {
        if (p.config.assets[rule.asset]?.chain !== e.chain) continue;
        const latest = new Map<number, bigint>();
        for (const c of e.changes) if (c.asset === rule.asset) latest.set(c.walletId, c.balanceAfter);
        for (const [walletId, balance] of latest) {
          const wallet = await label(db, store, walletId);
          if (!inScope(rule, e.chain, wallet, rule.asset)) continue;
          const threshold = rule.type === "balance_below" ? rule.below : rule.above;
          const crossed = rule.type === "balance_below" ? balance < threshold : balance > threshold;
          const txids = [...new Set(e.changes.filter((c) => c.walletId === walletId && c.txid).map((c) => c.txid!))];
          await raiseAlertIn(db, store, ctx, {
            ...base, rule, status: crossed ? "firing" : "resolved", scope: { chain: e.chain, wallet, asset: rule.asset },
            wallet, asset: rule.asset, txids,
            summary: crossed
              ? `${wallet} holds ${display(balance, rule.asset)}, ${rule.type === "balance_below" ? "below" : "above"} ${display(threshold, rule.asset)}`
              : `${wallet} holds ${display(balance, rule.asset)}, back within ${display(threshold, rule.asset)}`,
            values: { balance: balance.toString(), threshold: threshold.toString(), decimals: decimals(rule.asset) },
          });
        }
        continue;
      }
      if (rule.type === "outflow") await evaluateOutflow(db, store, e, rule, base);
    }
    if (e.finalizedAfter !== null && e.finalizedAfter !== e.finalizedBefore) await finalizeAlerts(db, store, e.chain, e.finalizedAfter);
  }

  async function evaluateOutflow(db: Db, store: Store, e: BlockAppliedEvent, rule: Extract<AlertRule, { type: "outflow" }>, base: Pick<AlertDraft, "chain" | "height" | "blockHash" | "finality">) {
    const { t } = store;
    if (p.config.assets[rule.asset]?.chain !== e.chain) return;
    let from = e.block.height;
    if ("blocks" in rule.window) from = e.block.height - rule.window.blocks + 1;
    else {
      const [r] = await db.select({ h: min(t.blockHeaders.height) }).from(t.blockHeaders)
        .where(and(eq(t.blockHeaders.chain, e.chain), gte(t.blockHeaders.time, e.block.time - rule.window.minutes * 60)));
      from = r?.h === null || r?.h === undefined ? e.block.height : Number(r.h);
    }
    const legs = await db.select().from(t.transfers).where(and(eq(t.transfers.chain, e.chain), eq(t.transfers.asset, rule.asset), gte(t.transfers.height, from), lte(t.transfers.height, e.block.height)));
    const net = new Map<string, { amount: bigint; txids: Set<string>; walletIds: Set<number> }>();
    for (const x of legs) {
      const internal = x.counterpartyWalletId !== null;
      if (internal && !rule.includeInternal) continue;
      const wallet = await label(db, store, Number(x.walletId));
      if (!inScope(rule, e.chain, wallet, rule.asset)) continue;
      const key = rule.group ? "" : wallet;
      const n = net.get(key) ?? { amount: 0n, txids: new Set(), walletIds: new Set() };
      const amount = BigInt(x.amount);
      n.amount += x.direction === "in" ? -amount : amount;
      if (x.direction !== "in" && x.txid) n.txids.add(x.txid);
      n.walletIds.add(Number(x.walletId));
      net.set(key, n);
    }
    // Resolve firing incidents whose window no longer holds any outflow (their key is absent from `net`).
    const keys = new Set(net.keys());
    const firing = await db.select().from(t.alertIncidents).where(and(eq(t.alertIncidents.rule, rule.name), eq(t.alertIncidents.status, "firing"), eq(t.alertIncidents.chain, e.chain)));
    for (const f of firing) if (!keys.has(rule.group ? "" : (f.wallet ?? ""))) net.set(rule.group ? "" : (f.wallet ?? ""), { amount: 0n, txids: new Set(), walletIds: new Set() });
    const windowText = "blocks" in rule.window ? `${rule.window.blocks} block(s)` : `${rule.window.minutes} minute(s)`;
    for (const [key, n] of net) {
      const wallet = rule.group ? null : key;
      const crossed = n.amount > rule.above;
      const who = wallet ?? `wallet group (${rule.wallets?.join(", ") ?? "all wallets"})`;
      await raiseAlertIn(db, store, ctx, {
        ...base, rule, status: crossed ? "firing" : "resolved", scope: { chain: e.chain, wallet, asset: rule.asset, extra: rule.group ? "group" : null },
        // No dedupe key: a window above the threshold is one alert per incident until it falls back (not one per block).
        wallet, asset: rule.asset, txids: [...n.txids].slice(0, 50),
        summary: crossed
          ? `${who}: net outflow ${display(n.amount, rule.asset)} within ${windowText}, above ${display(rule.above, rule.asset)}`
          : `${who}: net outflow back to ${display(n.amount > 0n ? n.amount : 0n, rule.asset)} within ${windowText}`,
        values: { net_outflow: n.amount.toString(), threshold: rule.above.toString(), decimals: decimals(rule.asset), window_from_height: from, window_to_height: e.block.height },
      });
    }
  }

  /** Alerts raised unfinalized whose block is now final: upgraded to the rule's severity; firing ones delivered once as `alert.finalized`. */
  async function finalizeAlerts(db: Db, store: Store, chain: string, finalized: number) {
    const { t } = store;
    const rows = await db.select().from(t.alerts).where(and(eq(t.alerts.chain, chain), eq(t.alerts.finality, "unfinalized"), eq(t.alerts.state, "active"), lte(t.alerts.height, finalized)));
    for (const r of rows) {
      const rule = rules.find((x) => x.name === r.rule);
      const severity = rule?.severity ?? r.severity;
      const now = ctx.now();
      await db.update(t.alerts).set({ finality: "final", severity, finalizedAtMs: now }).where(eq(t.alerts.id, r.id));
      if (r.status === "firing") await db.update(t.alertIncidents).set({ severity, updatedAtMs: now }).where(and(eq(t.alertIncidents.incidentKey, r.incidentKey), eq(t.alertIncidents.lastAlertId, r.id)));
      const record = buildAlertRecord({ ...r, finality: "final", severity, finalizedAtMs: now });
      // A resolution becoming final is not news: only firing alerts are delivered again (upgraded).
      if (r.status === "firing") await enqueueAlertEventIn(db, store, ctx, { record, event: "alert.finalized", sinks: rule?.sinks ?? ctx.alerts.sinks.map((s) => s.name) });
    }
  }

  async function onBlocksRolledBack(db: Db, store: Store, e: BlocksRolledBackEvent) {
    const { t } = store;
    const now = ctx.now();
    // 1. Withdraw what the removed blocks raised: undelivered messages are cancelled (never sent); a receiver
    //    that may already have it gets `alert.withdrawn`.
    const raised = await db.select().from(t.alerts).where(and(eq(t.alerts.chain, e.chain), gt(t.alerts.height, e.toHeight), eq(t.alerts.state, "active")));
    const withdrawn = raised.filter((r) => !NOT_BLOCK_DERIVED.includes(r.type));
    if (withdrawn.length) {
      const ids = withdrawn.map((r) => r.id);
      await db.update(t.alerts).set({ state: "withdrawn", withdrawnAtMs: now }).where(inArray(t.alerts.id, ids));
      const sent = await db.select().from(t.alertOutbox).where(inArray(t.alertOutbox.alertId, ids));
      await db.update(t.alertOutbox).set({ status: "cancelled", lastError: `withdrawn: block rolled back (reorg to ${e.toHeight})` })
        .where(and(inArray(t.alertOutbox.alertId, ids), eq(t.alertOutbox.status, "pending")));
      for (const r of withdrawn) {
        // Sinks that delivered it, or attempted it (a receiver may have it): tell them it is withdrawn.
        const sinks = [...new Set(sent.filter((m) => m.alertId === r.id && (m.status === "delivered" || Number(m.attempts) > 0)).map((m) => m.sink))];
        const record = buildAlertRecord({ ...r, state: "withdrawn", withdrawnAtMs: now });
        record.values = { ...record.values, withdrawn_reason: `block ${r.height} (${r.blockHash}) was removed by a reorg to height ${e.toHeight}` };
        if (sinks.length) await enqueueAlertEventIn(db, store, ctx, { record, event: "alert.withdrawn", sinks });
      }
      // Each touched incident's status follows its newest remaining active alert.
      const keys = [...new Set(withdrawn.map((r) => r.incidentKey))];
      const remaining = await loadIncidentAlertsIn(db, store, keys);
      for (const key of keys) {
        const last = remaining.filter((r) => r.incidentKey === key).at(-1);
        await db.update(t.alertIncidents)
          .set(last ? { status: last.status, lastAlertId: last.id, updatedAtMs: now, resolvedAtMs: last.status === "resolved" ? now : null } : { status: "resolved", updatedAtMs: now, resolvedAtMs: now })
          .where(eq(t.alertIncidents.incidentKey, key));
      }
    }
    // 2. The reorg itself: one alert per rollback (its whole depth), grouped in one incident per chain.
    const depth = e.fromHeight - e.toHeight;
    for (const rule of rules) {
      if (rule.type !== "reorg" || !inScope(rule, e.chain) || depth < rule.minDepth) continue;
      const tip = e.removed[0];
      await raiseAlertIn(db, store, ctx, {
        rule, status: "firing", finality: "none", scope: { chain: e.chain },
        dedupeKey: `${rule.name}|${e.chain}|${e.fromHeight}|${tip?.hash ?? ""}|${e.toHeight}`,
        chain: e.chain, height: e.toHeight, blockHash: tip?.hash ?? null,
        summary: `${e.chain}: reorg of depth ${depth}, rolled back from ${e.fromHeight} to ${e.toHeight}${withdrawn.length ? `; ${withdrawn.length} alert(s) of removed blocks withdrawn` : ""}`,
        values: { depth, from_height: e.fromHeight, to_height: e.toHeight, removed_hashes: e.removed.slice(0, 64).map((b) => b.hash), withdrawn_alerts: withdrawn.map((r) => r.id) },
      });
    }
  }

  return { name: "alerts", onBlockApplied, onBlocksRolledBack };
}

export { computeIncidentKey };
