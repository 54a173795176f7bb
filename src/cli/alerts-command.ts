import { userInfo } from "node:os";
import type { Command } from "commander";
import { loadAlerts, saveAlertAck, type ListedAlert } from "../alerts/load-alerts.js";
import { loadAppConfig, openConfigStore, type GlobalOptions } from "./context.js";

/** Renders alerts as text: one line each, newest first, then its summary and deliveries. */
export function formatAlertLines(alerts: readonly ListedAlert[]): string {
  if (!alerts.length) return "(no alerts)\n";
  const out: string[] = [];
  for (const a of alerts) {
    const flags = [a.finality === "unfinalized" ? "UNFINALIZED" : "", a.state === "withdrawn" ? "WITHDRAWN (reorged)" : "", a.acknowledged_at ? `acked by ${a.acknowledged_by}` : ""].filter(Boolean).join(" ");
    const where = [a.chain, a.wallet, a.asset].filter(Boolean).join("/");
    const block = a.height !== null ? ` @${a.height}${a.block_hash ? ` ${a.block_hash.slice(0, 16)}…` : ""}` : "";
    out.push(`${a.created_at}  ${a.id}  ${a.severity.padEnd(8)} ${a.status.padEnd(8)} ${a.rule} (${a.type})  ${where}${block}${flags ? `  ${flags}` : ""}`);
    out.push(`    ${a.summary}`);
    if (a.txids.length) out.push(`    tx: ${a.txids.slice(0, 5).join(", ")}${a.txids.length > 5 ? ` (+${a.txids.length - 5})` : ""}`);
    if (a.runbook) out.push(`    runbook: ${a.runbook}`);
    const d = a.deliveries.map((x) => `${x.sink}:${x.event.replace("alert.", "")}=${x.status}${x.attempts > 1 ? `(${x.attempts} attempts)` : ""}${x.status === "failed" && x.last_error ? ` [${x.last_error}]` : ""}`);
    if (d.length) out.push(`    deliveries: ${d.join(" ")}`);
  }
  return `${out.join("\n")}\n`;
}

/** `backstop alerts list [--open] [--json] [--limit n]` and `backstop alerts ack <id>`. */
export function registerAlertsCommands(program: Command) {
  const alerts = program.command("alerts").description("alerts raised by the rules in the config (alerts.rules)");
  alerts
    .command("list")
    .description("alerts, newest first, with their deliveries")
    .option("--open", "only firing, unacknowledged, not withdrawn")
    .option("--json", "print JSON (amounts as base-unit strings)")
    .option("--limit <n>", "at most n alerts (default 100, at most 1000)", (v) => Number(v))
    .action(async (o: { open?: boolean; json?: boolean; limit?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      try {
        const rows = await store.read((s) => loadAlerts(s, { open: o.open, limit: Number.isSafeInteger(o.limit) ? o.limit : 100 }));
        process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : formatAlertLines(rows));
      } finally {
        await store.close();
      }
    });
  alerts
    .command("ack")
    .description("acknowledge an alert and its incident")
    .argument("<id>", "the alert's id (alrt_…)")
    .option("--by <name>", "who acknowledges (default: $USER)")
    .action(async (id: string, o: { by?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      try {
        // Who is at the terminal, for the record (the OS account, not the environment: only loadConfig reads that).
        const by = o.by ?? `cli:${userInfo().username}`;
        const a = await saveAlertAck(store, { id, by });
        process.stdout.write(`acknowledged ${a.id} (${a.rule}, incident ${a.incident_key}) by ${a.acknowledged_by} at ${a.acknowledged_at}\n`);
      } finally {
        await store.close();
      }
    });
}
