import type { AlertRule } from "../lib/alerts-config.js";
import { loadChainHealth, type ChainHealth, type Store } from "../store/index.js";
import { raiseAlertIn, type AlertsContext } from "./raise-alert.js";
import type { AlertDraft } from "./types.js";

/** Live coverage of an asset, as the reconciliation module computes it (unsigned, labelled live). Amounts are base units. */
export type LiveCoverageRow = { asset: string; coverageBps: number | null; reserves: bigint; liabilities: bigint; asOf: string };
/** A checkpoint as the checkpoint module stores it: its sequence number, id or digest, status and per-asset detail. */
export type CheckpointRow = { seq: number; digest: string; status: string; asOf: string; assets?: { asset: string; status: string; coverageBps: number | null }[] };
/** A balance that changed with no transaction (EVM) or a Solana balance mismatch: expected vs actual at one block. */
export type SilentChangeRow = { id: string; chain: string; wallet: string; asset: string; height: number; blockHash: string; expected: bigint; actual: bigint; kind: string };

/** A movement reconciliation outcome (issue 14): one row per state change of a subject (a record or a chain leg). */
export type MovementOutcomeAlertRow = {
  id: number; subject: string; outcome: string; chain: string; asset: string; wallet: string | null; amount: bigint | null; chainAmount: bigint | null;
  recordId: string | null; txid: string | null; height: number | null; blockHash: string | null; counterparty: string | null; summary: string;
  /** The incident this row belongs to when not its subject's own (dust: one per chain, asset and window). */
  incident?: string;
  /** Overrides the rule's severity (dust inflows are info). */
  severity?: AlertRule["severity"];
  /** The known counterparty an address-poisoning outflow imitates. */
  looksLike?: string | null;
};

/**
 * What the alert engine reads from modules built in parallel (reconciliation, checkpoints, EVM discrepancies).
 * Each is optional: a rule whose reader is absent is skipped (and `backstop start` logs that once).
 */
export type AlertReaders = {
  /** Current live coverage per asset. */
  loadLiveCoverage?(store: Store): Promise<LiveCoverageRow[]>;
  /** Checkpoints with seq > afterSeq, oldest first. */
  loadNewCheckpoints?(store: Store, p: { afterSeq: number }): Promise<CheckpointRow[]>;
  /** Silent changes recorded after the one with id `afterId` (all when absent), oldest first; ids sort in recording order. */
  loadSilentChanges?(store: Store, p: { afterId?: string }): Promise<SilentChangeRow[]>;
  /** Movement outcomes with id > afterId, oldest first. */
  loadMovementOutcomes?(store: Store, p: { afterId: number }): Promise<MovementOutcomeAlertRow[]>;
};

/** Per-process memory of the health evaluator: when each chain's node tip last changed (chain_halted). */
export type HealthMemory = { tips: Map<string, { tip: number; changedAtMs: number }>; checkpointSeq: number; silentAfter?: string; movementAfter: number };

/** A fresh memory for evaluateHealthRules. */
export function createHealthMemory(): HealthMemory {
  return { tips: new Map(), checkpointSeq: -1, movementAfter: 0 };
}

const inChains = (r: AlertRule, chain: string) => !r.chains || r.chains.includes(chain);

/**
 * Builds the drafts of the chain-health rules from the stored chain health (pure): indexer_stalled (node head
 * ahead, no block stored for forSeconds), chain_halted (node tip unchanged for forSeconds), lag (tip − indexed
 * > blocks), deep_reorg (the follower halted on CHAIN__DEEP_REORG), provider_lagging, provider_disagreement.
 * Each rule yields firing or resolved per scope; raiseAlertIn keeps one alert per transition.
 */
export function buildHealthDrafts(p: { rules: readonly AlertRule[]; health: readonly ChainHealth[]; memory: HealthMemory; nowMs: number }): AlertDraft[] {
  const out: AlertDraft[] = [];
  for (const h of p.health) {
    const mem = p.memory.tips.get(h.chain);
    if (h.nodeTip !== null && (!mem || mem.tip !== h.nodeTip)) p.memory.tips.set(h.chain, { tip: h.nodeTip, changedAtMs: p.nowMs });
    const tipSince = p.memory.tips.get(h.chain);
    const lag = h.nodeTip !== null && h.indexedHeight !== null ? Math.max(0, h.nodeTip - h.indexedHeight) : null;
    const base = { chain: h.chain, height: h.indexedHeight, finality: "none" as const };
    for (const rule of p.rules) {
      if (!inChains(rule, h.chain)) continue;
      const d = (firing: boolean, summary: string, values: AlertDraft["values"], extra?: string): AlertDraft => ({ ...base, rule, status: firing ? "firing" : "resolved", scope: { chain: h.chain, extra }, summary, values });
      switch (rule.type) {
        case "indexer_stalled": {
          const stalledMs = h.lastBlockAgeMs ?? Number.POSITIVE_INFINITY;
          const firing = lag !== null && lag > 0 && stalledMs >= rule.forSeconds * 1000 && h.state !== "halted";
          out.push(d(firing, firing ? `${h.chain}: indexer stalled at ${h.indexedHeight} for ${Math.round(stalledMs / 1000)} s while the node is at ${h.nodeTip}` : `${h.chain}: indexer moving again (at ${h.indexedHeight})`,
            { indexed_height: h.indexedHeight, node_tip: h.nodeTip, stalled_seconds: Number.isFinite(stalledMs) ? Math.round(stalledMs / 1000) : null, state: h.state, provider: h.provider }));
          break;
        }
        case "chain_halted": {
          const sinceMs = tipSince ? p.nowMs - tipSince.changedAtMs : 0;
          const firing = tipSince !== undefined && sinceMs >= rule.forSeconds * 1000;
          out.push(d(firing, firing ? `${h.chain}: the node's head has stayed at ${h.nodeTip} for ${Math.round(sinceMs / 1000)} s` : `${h.chain}: the node's head advances again (${h.nodeTip})`,
            { node_tip: h.nodeTip, unchanged_seconds: Math.round(sinceMs / 1000), provider: h.provider }));
          break;
        }
        case "lag": {
          const firing = lag !== null && lag > rule.blocks;
          out.push(d(firing, firing ? `${h.chain}: ${lag} blocks behind the node (limit ${rule.blocks})` : `${h.chain}: lag back to ${lag ?? "?"} blocks`, { lag_blocks: lag, limit_blocks: rule.blocks, node_tip: h.nodeTip, indexed_height: h.indexedHeight }));
          break;
        }
        case "deep_reorg": {
          const firing = h.state === "halted" && h.lastError?.code === "CHAIN__DEEP_REORG";
          out.push(d(firing, firing ? `${h.chain}: HALTED on a reorg beyond finality: ${h.lastError?.message ?? ""}` : `${h.chain}: follower no longer halted on a deep reorg`,
            { state: h.state, error_code: h.lastError?.code ?? null, error: h.lastError?.message ?? null, indexed_height: h.indexedHeight, finalized_height: h.finalizedHeight, provider: h.provider }));
          break;
        }
        case "provider_lagging":
          for (const pr of h.providers) {
            const firing = pr.laggingForMs !== null && pr.laggingForMs >= rule.forSeconds * 1000;
            out.push(d(firing, firing ? `${h.chain}: provider ${pr.host} lagging (tip ${pr.lastTip ?? "?"}, indexed ${h.indexedHeight}) for ${Math.round((pr.laggingForMs ?? 0) / 1000)} s` : `${h.chain}: provider ${pr.host} caught up`,
              { provider: pr.host, provider_tip: pr.lastTip, indexed_height: h.indexedHeight, lagging_seconds: pr.laggingForMs === null ? null : Math.round(pr.laggingForMs / 1000) }, pr.host));
          }
          break;
        case "provider_disagreement":
          for (const pr of h.providers) {
            if (!pr.disagreement) continue;
            // One incident per provider; a disagreement at a new height is a new alert in it.
            const x = pr.disagreement;
            out.push({ ...d(true, `${h.chain}: provider ${pr.host} has block ${x.hash} at finalized height ${x.height}; ours is ${x.expected}`,
              { provider: pr.host, height: x.height, provider_hash: x.hash, our_hash: x.expected }, pr.host), dedupeKey: `${rule.name}|${h.chain}|${pr.host}|${x.height}|${x.hash}`, height: x.height, blockHash: x.expected });
          }
          break;
        default:
      }
    }
  }
  return out;
}

/**
 * One health tick: reads chain health (and the optional readers), raises and resolves alerts in one
 * transaction. Returns how many alerts were raised.
 */
export async function evaluateHealthRules(store: Store, ctx: AlertsContext & { readers?: AlertReaders; memory: HealthMemory }): Promise<number> {
  const rules = ctx.alerts.rules;
  const drafts = buildHealthDrafts({ rules, health: await loadChainHealth(store), memory: ctx.memory, nowMs: ctx.now() });
  const r = ctx.readers ?? {};
  const coverageRules = rules.filter((x) => x.type === "coverage_below");
  if (coverageRules.length && r.loadLiveCoverage) {
    for (const c of await r.loadLiveCoverage(store)) {
      for (const rule of coverageRules) {
        if (rule.type !== "coverage_below" || rule.asset !== c.asset) continue;
        const firing = c.coverageBps === null ? c.liabilities > 0n : c.coverageBps < rule.bps;
        drafts.push({
          rule, status: firing ? "firing" : "resolved", finality: "none", scope: { asset: c.asset }, asset: c.asset,
          summary: firing ? `${c.asset}: live coverage ${c.coverageBps ?? "n/a"} bps, below ${rule.bps} bps` : `${c.asset}: live coverage back to ${c.coverageBps} bps`,
          values: { coverage_bps: c.coverageBps, threshold_bps: rule.bps, reserves: c.reserves.toString(), liabilities: c.liabilities.toString(), as_of: c.asOf, live: true },
        });
      }
    }
  }
  const checkpointRules = rules.filter((x) => x.type === "checkpoint");
  if (checkpointRules.length && r.loadNewCheckpoints) {
    for (const cp of await r.loadNewCheckpoints(store, { afterSeq: ctx.memory.checkpointSeq })) {
      ctx.memory.checkpointSeq = Math.max(ctx.memory.checkpointSeq, cp.seq);
      const statuses = [cp.status, ...(cp.assets ?? []).map((a) => a.status)];
      for (const rule of checkpointRules) {
        if (rule.type !== "checkpoint") continue;
        const hit = statuses.filter((s) => rule.statuses.includes(s));
        if (!hit.length) continue;
        drafts.push({
          rule, status: "firing", finality: "final", scope: { extra: "checkpoint" }, dedupeKey: `${rule.name}|checkpoint|${cp.digest}`,
          summary: `checkpoint ${cp.seq} (${cp.asOf}) is ${[...new Set(hit)].join(", ")}`,
          values: { seq: cp.seq, digest: cp.digest, status: cp.status, as_of: cp.asOf, assets: (cp.assets ?? []).filter((a) => rule.statuses.includes(a.status)).map((a) => `${a.asset}:${a.status}:${a.coverageBps ?? "n/a"}`) },
        });
      }
    }
  }
  const silentRules = rules.filter((x) => x.type === "silent_change");
  if (silentRules.length && r.loadSilentChanges) {
    for (const s of await r.loadSilentChanges(store, { afterId: ctx.memory.silentAfter })) {
      ctx.memory.silentAfter = s.id;
      for (const rule of silentRules) {
        if (!inChains(rule, s.chain) || (rule.wallets && !rule.wallets.includes(s.wallet)) || (rule.assets && !rule.assets.includes(s.asset))) continue;
        drafts.push({
          rule, status: "firing", finality: "final", scope: { chain: s.chain, wallet: s.wallet, asset: s.asset }, dedupeKey: `${rule.name}|silent|${s.id}`,
          chain: s.chain, wallet: s.wallet, asset: s.asset, height: s.height, blockHash: s.blockHash,
          summary: `${s.wallet} ${s.asset} on ${s.chain} at ${s.height}: balance ${s.actual} where the transactions give ${s.expected} (${s.kind})`,
          values: { expected: s.expected.toString(), actual: s.actual.toString(), difference: (s.actual - s.expected).toString(), kind: s.kind },
        });
      }
    }
  }
  const movementRules = rules.filter((x) => x.type === "movement");
  if (movementRules.length && r.loadMovementOutcomes) {
    for (const m of await r.loadMovementOutcomes(store, { afterId: ctx.memory.movementAfter })) {
      ctx.memory.movementAfter = m.id;
      for (const rule of movementRules) {
        if (rule.type !== "movement" || !inChains(rule, m.chain) || (rule.assets && !rule.assets.includes(m.asset)) || (rule.wallets && (!m.wallet || !rule.wallets.includes(m.wallet)))) continue;
        // One incident per subject (a record or a chain leg), a state rule: an alerting outcome fires it once (a
        // repeat of the same state raises nothing), a later match resolves it.
        const firing = rule.outcomes.includes(m.outcome);
        if (!firing && m.outcome !== "matched" && m.outcome !== "internal") continue;
        drafts.push({
          rule, status: firing ? "firing" : "resolved", finality: "final", scope: { chain: m.chain, asset: m.asset, extra: m.incident ?? m.subject },
          ...(m.severity ? { severity: m.severity } : {}),
          chain: m.chain, wallet: m.wallet, asset: m.asset, txids: m.txid ? [m.txid] : [], height: m.height, blockHash: m.blockHash,
          summary: m.summary,
          values: {
            outcome: m.outcome, record: m.recordId, amount: m.amount?.toString() ?? null, chain_amount: m.chainAmount?.toString() ?? null, counterparty: m.counterparty, subject: m.subject,
            ...(m.looksLike ? { looks_like: m.looksLike } : {}),
          },
        });
      }
    }
  }
  if (!drafts.length) return 0;
  return store.tx(async (db) => {
    let n = 0;
    for (const d of drafts) if (await raiseAlertIn(db, store, ctx, d)) n++;
    return n;
  });
}
