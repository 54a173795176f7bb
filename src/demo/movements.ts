import { formatUnits } from "../lib/amounts.js";
import { resolveMovementsConfig, resolveReconciledChains, type ResolvedConfig } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { importMovementRecords } from "../reconcile/movements/import-movement-records.js";
import { matchMovementsIn } from "../reconcile/movements/match-movements.js";
import { createMovementValidationContext } from "../reconcile/movements/validate-movement-record.js";
import { loadMovementOutcomes, type Store } from "../store/index.js";
import type { DemoPart } from "./types.js";

/**
 * One demo round of movement reconciliation: feeds the parts' new ledger records (as POST
 * /internal/v1/movements would), runs a matching pass, and returns the lines to print: a count per
 * outcome and every newly flagged movement (unexplained outflow, missing withdrawal...), once each.
 */
export async function feedDemoMovements(p: { store: Store; config: ResolvedConfig; logger: Logger; parts: readonly DemoPart[]; flagged: Set<string> }): Promise<string[]> {
  const settings = resolveMovementsConfig(p.config);
  const chains = resolveReconciledChains(p.config);
  const records = p.parts.flatMap((x) => x.movementRecords?.splice(0) ?? []);
  const lines: string[] = [];
  if (records.length) {
    const r = await importMovementRecords({ store: p.store, logger: p.logger, nowMs: Date.now }, {
      bytes: Buffer.from(JSON.stringify(records)), format: "json", sourceName: "demo ledger", source: "http",
      validation: createMovementValidationContext(p.config, Date.now()), settings, chains,
    });
    lines.push(`\nmovement records fed from the platform's ledger: ${r.inserted} new`);
  }
  await p.store.tx((db) => matchMovementsIn(p.store, db, { settings, chains, nowMs: Date.now(), logger: p.logger }));
  // `movements.chains`: the parts that keep a ledger (Bitcoin).
  const reconciled = new Set(chains);
  const rows = (await loadMovementOutcomes(p.store, { currentOnly: true })).filter((r) => reconciled.has(r.chain));
  const counts = new Map<string, number>();
  for (const r of rows) if (!(r.subject.startsWith("leg:") && r.outcome === "matched")) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  lines.push(`movements on ${[...reconciled].join(", ")}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ") || "none yet"}`);
  const fmt = (asset: string, v: bigint | null) => (v === null ? "?" : `${formatUnits(v, p.config.assets[asset]?.decimals ?? 0)} ${asset}`);
  for (const r of rows) {
    if (!["unexplained_outflow", "missing_on_chain", "amount_mismatch", "unexplained_inflow", "reorged"].includes(r.outcome)) continue;
    // A matched leg reorged away has its record's row reorged too: one line, the record's.
    if (r.outcome === "reorged" && r.recordId !== null && r.subject !== `record:${r.recordId}`) continue;
    const key = `${r.subject}:${r.outcome}`;
    if (p.flagged.has(key)) continue;
    p.flagged.add(key);
    if (r.outcome === "unexplained_outflow") lines.push(`  FLAGGED unexplained_outflow (${r.severity}): ${fmt(r.asset, r.chainAmount)} left custody to ${r.counterparty} in ${r.chain} block ${r.height}, tx ${r.txid}; no record explains it`);
    else if (r.outcome === "missing_on_chain") lines.push(`  FLAGGED missing_on_chain (${r.severity}): record ${r.recordId} (${r.kind} of ${fmt(r.asset, r.amount)}) has no movement on ${r.chain} within its SLA`);
    else if (r.outcome === "reorged") lines.push(`  FLAGGED reorged (${r.severity}): record ${r.recordId ?? r.subject} ${fmt(r.asset, r.amount ?? r.chainAmount)}${r.txid ? ` tx ${r.txid}` : ""}: its block was reorged away; unmatched until the transaction is mined again`);
    else lines.push(`  FLAGGED ${r.outcome} (${r.severity}): ${r.recordId ? `record ${r.recordId}` : r.subject} ${fmt(r.asset, r.amount ?? r.chainAmount)}${r.txid ? ` tx ${r.txid}` : ""}`);
  }
  return lines;
}
