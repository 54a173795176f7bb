import type { AlertRule, AlertSeverity } from "../lib/alerts-config.js";

/** A value that crossed a threshold, as carried by an alert (amounts are base-unit decimal strings, never numbers). */
export type AlertValues = Record<string, string | number | boolean | null | string[]>;

/** What a rule wants raised (or resolved); raiseAlertIn turns it into an alert, an incident update and outbox rows. */
export type AlertDraft = {
  rule: AlertRule;
  /** firing opens (or repeats in) the incident; resolved closes it (ignored when the incident is not firing). */
  status: "firing" | "resolved";
  /** unfinalized: raised from a block above the finalized height (delivered at severity info); none: not about a block. */
  finality: "final" | "unfinalized" | "none";
  /** The incident's scope besides the rule (chain, wallet, asset, and e.g. a counterparty or provider). */
  scope: { chain?: string | null; wallet?: string | null; asset?: string | null; extra?: string | null };
  /**
   * Unique per occurrence (e.g. rule + block hash + leg): the same movement is never raised twice. Absent for
   * state rules (health, coverage): one alert per firing/resolved transition of the incident.
   */
  dedupeKey?: string;
  chain?: string | null;
  wallet?: string | null;
  asset?: string | null;
  txids?: string[];
  height?: number | null;
  blockHash?: string | null;
  summary: string;
  values: AlertValues;
  /** Overrides the rule's severity for this draft (e.g. dust inflows at info). */
  severity?: AlertRule["severity"];
};

/** Webhook event types Backstop sends. */
export type AlertEvent = "alert.firing" | "alert.resolved" | "alert.finalized" | "alert.withdrawn";

/** An alert as stored and as delivered (`data` of a webhook body). Times are RFC 3339 UTC. */
export type AlertRecord = {
  id: string;
  incident_key: string;
  rule: string;
  type: AlertRule["type"];
  severity: AlertSeverity;
  status: "firing" | "resolved";
  finality: "final" | "unfinalized" | "none";
  state: "active" | "withdrawn";
  chain: string | null;
  wallet: string | null;
  asset: string | null;
  txids: string[];
  height: number | null;
  block_hash: string | null;
  summary: string;
  values: AlertValues;
  runbook: string | null;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
};
