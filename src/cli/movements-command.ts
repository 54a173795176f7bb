import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { type Command, Option } from "commander";
import { formatUnits } from "../lib/amounts.js";
import { resolveMovementsConfig, resolveReconciledChains, type ResolvedConfig } from "../lib/config.js";
import { BackstopError } from "../lib/errors.js";
import { formatCsvRow } from "../lib/format-csv-row.js";
import { computeMovementReport } from "../reconcile/movements/compute-movement-report.js";
import { MovementFileReadError } from "../reconcile/movements/errors.js";
import { importMovementRecords } from "../reconcile/movements/import-movement-records.js";
import { MOVEMENT_OUTCOMES } from "../reconcile/movements/movement-types.js";
import type { MovementRecordFormat } from "../reconcile/movements/parse-movement-records.js";
import { createMovementValidationContext, parseTime } from "../reconcile/movements/validate-movement-record.js";
import { loadRunningDifference, type LoadRunningDifferenceReturnType } from "../reconcile/movements/load-running-difference.js";
import { loadMovementOutcomes, type MovementOutcomeRow } from "../store/index.js";
import { createCliLogger, type GlobalOptions, loadAppConfig, openConfigStore } from "./context.js";

/** A --from/--to/--outcome argument that cannot be used. */
export class MovementArgumentError extends BackstopError {
  override name = "MovementArgumentError";
  constructor(p: { option: string; problem: string }) {
    super("CLI__INVALID_MOVEMENT_OPTION", `${p.option}: ${p.problem}.`);
  }
}

/** JSON with bigints as decimal strings. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x), 2);
}

function parseOutcomes(list: string[] | undefined): string[] | undefined {
  if (!list?.length) return undefined;
  const names = list.flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
  for (const n of names) if (!(MOVEMENT_OUTCOMES as readonly string[]).includes(n)) throw new MovementArgumentError({ option: "--outcome", problem: `unknown outcome "${n.slice(0, 40)}" (one of ${MOVEMENT_OUTCOMES.join(", ")})` });
  return names;
}

function parseTimeOption(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseTime(text);
  if (ms === null) throw new MovementArgumentError({ option, problem: "expected ISO-8601 with an explicit offset, e.g. 2026-01-31T00:00:00Z" });
  return ms;
}

/** Display of an amount of an asset (base units when the asset is not configured). */
function display(config: ResolvedConfig, asset: string | null, v: bigint | null): string {
  if (v === null || asset === null) return "";
  const a = config.assets[asset];
  return a ? formatUnits(v, a.decimals) : v.toString();
}

/**
 * Registers `movements import <file>`, `movements list` and `movements report` (issue 14). Errors are
 * BackstopErrors, printed by main (shortMessage + meta: every bad record with row and column; exit 1).
 */
export function registerMovementsCommands(program: Command): void {
  const movements = program.command("movements").description("the platform's deposit and withdrawal records, matched against the chains");

  movements
    .command("import <file>")
    .description("import movement records (CSV or NDJSON: id, kind, chain, asset, amount in display units, counterparty, txid, time) all or nothing; idempotent by id")
    .addOption(new Option("--format <format>", "file format (default: from the extension, else csv)").choices(["csv", "ndjson"]))
    .option("--json", "print the result as JSON")
    .action(async (file: string, o: { format?: MovementRecordFormat; json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadAppConfig(g);
      const format = o.format ?? ([".ndjson", ".jsonl"].includes(extname(file).toLowerCase()) ? "ndjson" : "csv");
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (cause) {
        throw new MovementFileReadError({ path: file, cause });
      }
      const store = await openConfigStore(config);
      try {
        const r = await importMovementRecords({ store, logger: createCliLogger(g), nowMs: Date.now }, {
          bytes, format, sourceName: file, source: "file", validation: createMovementValidationContext(config, Date.now()),
          settings: resolveMovementsConfig(config), chains: resolveReconciledChains(config),
        });
        process.stdout.write(o.json ? `${toJson(r)}\n` : `${r.received} record(s): ${r.inserted} new, ${r.unchanged} already stored (unchanged); ${r.transitions} outcome change(s)\n`);
      } finally {
        await store.close();
      }
    });

  movements
    .command("list")
    .description("current outcomes of movement matching (each naming its record, chain movement, height and txid)")
    .option("--outcome <names...>", `only these outcomes (${MOVEMENT_OUTCOMES.join(", ")})`)
    .option("--history", "every transition, not only the current outcome of each subject")
    .option("--limit <n>", "at most n rows (default 1000)", (v) => Number(v))
    .option("--json", "print JSON (amounts as base-unit strings)")
    .action(async (o: { outcome?: string[]; history?: boolean; limit?: number; json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const outcome = parseOutcomes(o.outcome);
      if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new MovementArgumentError({ option: "--limit", problem: "expected a positive integer" });
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      try {
        const rows = await loadMovementOutcomes(store, { outcome, currentOnly: !o.history, limit: o.limit ?? 1000 });
        if (o.json) process.stdout.write(`${toJson(rows.map((r) => ({ ...r, decimals: config.assets[r.asset]?.decimals ?? null })))}\n`);
        else process.stdout.write(rows.length ? rows.map((r) => formatOutcomeLine(config, r)).join("\n") + "\n" : "(no movement outcomes)\n");
      } finally {
        await store.close();
      }
    });

  movements
    .command("difference")
    .description("the running difference per asset: liabilities at the last snapshot + credited deposits - completed withdrawals, against reserves at the latest final blocks")
    .option("--json", "print JSON (amounts as base-unit strings)")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      try {
        const d = await loadRunningDifference(store, config);
        process.stdout.write(o.json ? `${toJson(d && { ...d, base: { ...d.base, liabilities: Object.fromEntries(d.base.liabilities) } })}\n` : formatRunningDifference(config, d));
      } finally {
        await store.close();
      }
    });

  movements
    .command("report")
    .description("counts and sums per outcome per asset for movements with time in [--from, --to): the daily reconciliation report")
    .requiredOption("--from <time>", "ISO-8601 with an explicit offset (inclusive)")
    .requiredOption("--to <time>", "ISO-8601 with an explicit offset (exclusive)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "csv", "json"]).default("text"))
    .action(async (o: { from: string; to: string; format: "text" | "csv" | "json" }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const fromMs = parseTimeOption("--from", o.from)!;
      const toMs = parseTimeOption("--to", o.to)!;
      if (toMs <= fromMs) throw new MovementArgumentError({ option: "--to", problem: "must be after --from" });
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      try {
        const rows = await loadMovementOutcomes(store, { currentOnly: true, fromMs, toMs, limit: Number.MAX_SAFE_INTEGER });
        const lines = computeMovementReport(rows);
        const shown = lines.map((l) => ({
          outcome: l.outcome, asset: l.asset, count: l.count, amount: display(config, l.asset, l.amount), chain_amount: display(config, l.asset, l.chainAmount),
          fee: l.feeAsset ? display(config, l.feeAsset, l.fee) : "", fee_asset: l.feeAsset ?? "",
        }));
        if (o.format === "json") process.stdout.write(`${toJson({ from: o.from, to: o.to, lines: lines.map((l) => ({ ...l, decimals: config.assets[l.asset]?.decimals ?? null })) })}\n`);
        else if (o.format === "csv") {
          const header = ["outcome", "asset", "count", "amount", "chain_amount", "fee", "fee_asset"];
          process.stdout.write(formatCsvRow(header) + shown.map((l) => formatCsvRow(header.map((h) => String(l[h as keyof typeof l])))).join(""));
        } else {
          process.stdout.write(`movements ${o.from} .. ${o.to}\n`);
          process.stdout.write(shown.length ? shown.map((l) => `  ${l.outcome.padEnd(20)} ${l.asset.padEnd(10)} ${String(l.count).padStart(7)}  ${l.amount}${l.fee ? `  (fees ${l.fee} ${l.fee_asset})` : ""}`).join("\n") + "\n" : "  (no movements)\n");
        }
      } finally {
        await store.close();
      }
    });
}

/** The running difference as text: per asset, liabilities by the records against final reserves. */
export function formatRunningDifference(config: ResolvedConfig, d: LoadRunningDifferenceReturnType): string {
  if (!d) return "running difference: no liabilities snapshot yet (import one: `backstop liabilities import`)\n";
  const out = [`running difference since ${d.base.source.replace("_", " ")} ${d.base.id} (${new Date(d.base.atMs).toISOString()}), reserves at the latest final blocks:`];
  for (const l of d.lines) {
    const f = (v: bigint) => display(config, l.asset, v);
    out.push(`  ${l.asset.padEnd(10)} liabilities ${f(l.baseLiabilities)} + deposits ${f(l.deposits)} - withdrawals ${f(l.withdrawals)} = ${f(l.liabilities)}  reserves ${f(l.reserves)}  difference ${f(l.difference)}${l.inFlight ? `  (in flight ${f(l.inFlight)})` : ""}`);
  }
  return `${out.join("\n")}\n`;
}

/** One human line per outcome: what, which record, which movement (chain, height, txid). */
export function formatOutcomeLine(config: ResolvedConfig, r: MovementOutcomeRow): string {
  const amount = display(config, r.asset, r.amount ?? r.chainAmount);
  const chainAmount = r.amount !== null && r.chainAmount !== null && r.chainAmount !== r.amount ? ` (chain ${display(config, r.asset, r.chainAmount)})` : "";
  const fee = r.fee !== null ? ` fee ${display(config, r.feeAsset, r.fee)} ${r.feeAsset}` : "";
  const where = r.height !== null ? ` ${r.chain}@${r.height} tx ${r.txid ?? "?"}` : ` ${r.chain}${r.txid ? ` tx ${r.txid}` : ""}`;
  const flags = r.flags.length ? ` [${r.flags.join(", ")}]` : "";
  return `${r.outcome.padEnd(19)} ${r.severity.padEnd(8)} ${r.recordId ? `record ${r.recordId}` : r.subject} ${amount} ${r.asset}${chainAmount}${fee}${where}${r.counterparty ? ` ↔ ${r.counterparty}` : ""}${flags}`;
}
