import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { type Command, Option } from "commander";
import { formatUnits, toBaseUnits } from "../lib/amounts.js";
import type { ResolvedConfig } from "../lib/config.js";
import { BackstopError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { InvalidControlTotalError } from "../liabilities/errors.js";
import { importSnapshot } from "../liabilities/import-snapshot.js";
import { loadProof } from "../liabilities/load-proof.js";
import { loadSnapshots, type SnapshotSummary } from "../liabilities/load-snapshot.js";
import type { SnapshotFormat } from "../liabilities/parse-snapshot.js";
import { verifyProof, type VerifyProofReturnType } from "../liabilities/verify-proof.js";
import type { Store } from "../store/index.js";
import { createCliLogger, type GlobalOptions, loadAppConfig, openConfigStore } from "./context.js";

/** The part of the config these commands read: the assets' decimals (and the store settings). */
export type LiabilitiesConfig = { assets: Readonly<Record<string, { decimals: number }>> } & Omit<Partial<ResolvedConfig>, "assets">;

/** What the liabilities commands need from the program; defaults are the CLI's own (tests inject theirs). */
export type LiabilitiesCliContext = {
  loadConfig(g: GlobalOptions): Promise<LiabilitiesConfig>;
  openStore(config: LiabilitiesConfig): Promise<Store>;
  logger(g: GlobalOptions): Logger;
  /** Data output (default process.stdout). */
  stdout(text: string): void;
  now(): Date;
};

const defaults: LiabilitiesCliContext = {
  loadConfig: (g) => loadAppConfig(g),
  openStore: (config) => openConfigStore(config as ResolvedConfig),
  logger: (g) => createCliLogger(g),
  stdout: (t) => process.stdout.write(t),
  now: () => new Date(),
};

/** JSON with bigints as decimal strings. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x), 2);
}

/**
 * Registers `liabilities import`, `liabilities proof`, `liabilities list` and `verify-proof`.
 * Errors are BackstopErrors, printed by the program's main (shortMessage + meta, exit 1).
 */
export function registerLiabilitiesCommands(program: Command, overrides: Partial<LiabilitiesCliContext> = {}): void {
  const ctx: LiabilitiesCliContext = { ...defaults, ...overrides };
  const liabilities = program.command("liabilities").description("user-balance snapshots, Merkle-sum roots and inclusion proofs");

  liabilities
    .command("import <file>")
    .description("import a snapshot (columns account_id, asset, amount in display units) all or nothing")
    .requiredOption("--as-of <timestamp>", "ISO-8601 with an explicit offset, e.g. 2026-01-31T23:59:59Z")
    .addOption(new Option("--format <format>", "file format (default: from the extension, else csv)").choices(["csv", "ndjson"]))
    .option("--snapshot-id <id>", "declared snapshot id (default: derived from content and as-of)")
    .option("--row-count <n>", "declared number of data rows; must match", parseRowCount)
    .option("--control-total <ASSET=AMOUNT...>", "declared total of an asset in display units; must match (repeatable)")
    .option("--json", "print the result as JSON")
    .action(async (file: string, o: {
      asOf: string; format?: SnapshotFormat; snapshotId?: string; rowCount?: number; controlTotal?: string[]; json?: boolean;
    }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await ctx.loadConfig(g);
      // Snapshots are stated in the liability assets when the config defines them, else in the chain assets.
      const source = config.liabilityAssets && Object.keys(config.liabilityAssets).length ? config.liabilityAssets : config.assets;
      const assets = Object.fromEntries(Object.entries(source).map(([id, a]) => [id, { decimals: a.decimals }]));
      const controlTotals = parseControlTotals(o.controlTotal ?? [], assets);
      const format = o.format ?? ([".ndjson", ".jsonl"].includes(extname(file).toLowerCase()) ? "ndjson" : "csv");
      const store = await ctx.openStore(config);
      const logger = ctx.logger(g);
      let phase = "";
      // Counts only: no account data in logs.
      const onProgress = (pr: { phase: string; rows: number }) => {
        if (pr.phase !== phase) logger.info({ msg: "liabilities import phase", phase: pr.phase, rows: pr.rows });
        else logger.debug({ msg: "liabilities import progress", phase: pr.phase, rows: pr.rows });
        phase = pr.phase;
      };
      try {
        const r = await importSnapshot({ store, logger, now: ctx.now }, {
          source: file, format, asOf: o.asOf, snapshotId: o.snapshotId, rowCount: o.rowCount, controlTotals, assets, onProgress,
        });
        if (o.json) ctx.stdout(`${toJson(r)}\n`);
        else ctx.stdout(formatSummary(r, r.created ? "imported" : "already imported (no change)"));
      } finally {
        await store.close();
      }
    });

  liabilities
    .command("proof")
    .description("print one account's inclusion proof as JSON (the only way per-account data leaves the store)")
    .requiredOption("--snapshot <id>", "snapshot id")
    .requiredOption("--account <account_id>", "account id (matched after normalisation)")
    .action(async (o: { snapshot: string; account: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await ctx.loadConfig(g);
      const store = await ctx.openStore(config);
      try {
        ctx.stdout(`${JSON.stringify(await loadProof(store, { snapshotId: o.snapshot, accountId: o.account }), null, 2)}\n`);
      } finally {
        await store.close();
      }
    });

  liabilities
    .command("list")
    .description("imported snapshots (public summary: totals and roots), newest as-of first")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await ctx.loadConfig(g);
      const store = await ctx.openStore(config);
      try {
        const all = await store.read((s) => loadSnapshots(s));
        if (o.json) ctx.stdout(`${toJson(all)}\n`);
        else ctx.stdout(all.length ? all.map((s) => formatSummary(s, "snapshot")).join("\n") : "(no snapshots)\n");
      } finally {
        await store.close();
      }
    });

  program
    .command("verify-proof <proof>")
    .description("verify an inclusion proof (JSON file); exit 0 if valid, 1 with the reason")
    .option("--root <hex>", "the published root to check against (recommended)")
    .action(async (file: string, o: { root?: string }) => {
      let proof: unknown;
      try {
        proof = JSON.parse(readFileSync(file, "utf8"));
      } catch (cause) {
        throw new ProofUnreadableError({ cause });
      }
      const r = verifyProof(proof, { expectedRoot: o.root });
      if (!r.ok) throw new ProofInvalidError({ reason: r.reason });
      const lines = formatVerifiedProof(r);
      if (!o.root) lines.push("note: checked against the root inside the proof; pass --root <published root> to check against the published one");
      ctx.stdout(`${lines.join("\n")}\n`);
    });
}

/**
 * What `verify-proof` prints for a proof that verified. Only what the root commits to is printed as
 * verified: a format-1 proof's snapshot id and as-of are not in its root, so they are shown quoted
 * (as data, never as terminal text) and marked as unverified labels.
 */
export function formatVerifiedProof(r: Extract<VerifyProofReturnType, { ok: true }>): string[] {
  const lines = r.labelsAuthenticated
    ? [
      `proof OK: included in snapshot ${r.snapshotId} (as of ${r.asOf}), root ${r.root}`,
      `  format ${r.version}: the root commits to the snapshot id, the as-of time, the assets and their decimals`,
    ]
    : [
      `proof OK: included in the tree with root ${r.root}`,
      `  format ${r.version}: the root does not commit to the snapshot id or the as-of time`,
      `  snapshot ${r.snapshotId === null ? "(none given)" : quoted(r.snapshotId)} (unverified label)`,
      `  as of ${r.asOf === null ? "(none given)" : quoted(r.asOf)} (unverified label)`,
    ];
  r.assets.forEach((a, i) => lines.push(`  ${printable(a.id)}: ${formatUnits(r.balances[i]!, a.decimals)} (total ${formatUnits(r.totals[i]!, a.decimals)})`));
  return lines;
}

/** Text as is when it is printable ASCII, else quoted: a proof's strings never reach the terminal as control sequences. */
function printable(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : quoted(text);
}

/** JSON-quoted, with every non-ASCII or non-printable UTF-16 unit escaped as \uXXXX (bidi overrides included). */
function quoted(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function formatSummary(s: SnapshotSummary, title: string): string {
  const lines = [
    `${title}: ${s.snapshotId}`,
    `  as of     ${s.asOf}`,
    `  rows      ${s.rowCount}`,
    `  accounts  ${s.accountCount}`,
    `  root      ${s.root} (proof format ${s.proofVersion})`,
    `  content   sha256:${s.contentHash}`,
    ...s.assets.map((a) => `  ${a.id.padEnd(9)} ${a.totalDisplay} (${a.total} base units)`),
  ];
  return `${lines.join("\n")}\n`;
}

function parseRowCount(v: string): number {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(v)) throw new InvalidRowCountError({ text: v });
  return Number(v);
}

/** `ASSET=AMOUNT` pairs (display units) → base units. @throws InvalidControlTotalError */
export function parseControlTotals(pairs: string[], assets: Record<string, { decimals: number }>): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidControlTotalError({ text: pair, reason: `expected ASSET=AMOUNT, got "${pair}"` });
    const asset = pair.slice(0, eq);
    const a = assets[asset];
    if (!a) throw new InvalidControlTotalError({ text: pair, reason: `asset "${asset}" is not configured` });
    if (asset in out) throw new InvalidControlTotalError({ text: pair, reason: `asset "${asset}" given twice` });
    try {
      out[asset] = toBaseUnits(pair.slice(eq + 1), a.decimals);
    } catch (cause) {
      throw new InvalidControlTotalError({ text: pair, reason: (cause as BackstopError).shortMessage ?? "invalid amount" });
    }
  }
  return out;
}

/** --row-count is not a non-negative integer. */
export class InvalidRowCountError extends BackstopError {
  override name = "InvalidRowCountError";
  constructor(p: { text: string }) {
    super("CLI__INVALID_ROW_COUNT", `--row-count must be a non-negative integer, got "${p.text.slice(0, 32)}".`);
  }
}
/** The proof file is missing or not JSON. */
export class ProofUnreadableError extends BackstopError {
  override name = "ProofUnreadableError";
  constructor(p: { cause: unknown }) {
    super("LIABILITIES__PROOF_UNREADABLE", "Cannot read the proof file as JSON.", { cause: p.cause });
  }
}
/** Verification failed; the reason says which check. */
export class ProofInvalidError extends BackstopError {
  override name = "ProofInvalidError";
  constructor(p: { reason: string }) {
    super("LIABILITIES__PROOF_INVALID", `Proof does NOT verify: ${p.reason}.`);
  }
}
