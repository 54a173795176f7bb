import type { AlertEvent, AlertRecord } from "./types.js";

/** A stored outbox body: Standard Webhooks' `{type, timestamp, data}`. */
export type AlertBody = { type: AlertEvent; timestamp: string; data: AlertRecord };

const SEVERITY_EMOJI: Record<string, string> = { critical: ":rotating_light:", error: ":red_circle:", warning: ":warning:", info: ":information_source:" };

/**
 * One Slack message for an incident (Slack's incoming webhooks take about 1 message/s per channel): the
 * incident's newest event, with how many updates it coalesces. `{text, blocks}`.
 */
export function buildSlackMessage(p: { body: AlertBody; coalesced: number }): { text: string; blocks: unknown[] } {
  const a = p.body.data;
  const state = p.body.type === "alert.withdrawn" ? "WITHDRAWN (block reorged away)" : p.body.type === "alert.resolved" ? "RESOLVED" : p.body.type === "alert.finalized" ? "FINAL" : "FIRING";
  const head = `${SEVERITY_EMOJI[a.severity] ?? ""} [${a.severity.toUpperCase()}] ${state}${a.finality === "unfinalized" ? " (unfinalized)" : ""} ${a.rule}: ${a.summary}`;
  const facts = [
    a.chain ? `chain ${a.chain}` : "", a.height !== null ? `height ${a.height}` : "", a.block_hash ? `block ${a.block_hash}` : "",
    a.txids.length ? `tx ${a.txids.slice(0, 3).join(", ")}${a.txids.length > 3 ? " …" : ""}` : "", `incident ${a.incident_key}`,
    p.coalesced > 1 ? `${p.coalesced} updates coalesced` : "",
  ].filter(Boolean).join(" · ");
  const text = `${head}\n${facts}${a.runbook ? `\nrunbook: ${a.runbook}` : ""}`;
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}

/**
 * The PagerDuty Events v2 event of an alert event: `trigger` for firing/finalized, `resolve` for resolved and
 * withdrawn, `dedup_key` = the incident key (so repeats update one incident, and a resolve closes it).
 */
export function buildPagerDutyEvent(p: { body: AlertBody; routingKey: string }): Record<string, unknown> {
  const a = p.body.data;
  const resolve = p.body.type === "alert.resolved" || p.body.type === "alert.withdrawn";
  return {
    routing_key: p.routingKey,
    event_action: resolve ? "resolve" : "trigger",
    dedup_key: a.incident_key,
    ...(resolve
      ? {}
      : {
          payload: {
            summary: `${a.rule}: ${a.summary}`.slice(0, 1024),
            source: a.chain ? `backstop:${a.chain}` : "backstop",
            severity: a.severity,
            timestamp: a.created_at,
            component: a.wallet ?? a.chain ?? undefined,
            group: a.asset ?? undefined,
            class: a.type,
            custom_details: { alert_id: a.id, finality: a.finality, height: a.height, block_hash: a.block_hash, txids: a.txids, values: a.values },
          },
          links: a.runbook ? [{ href: a.runbook, text: "runbook" }] : [],
        }),
  };
}
