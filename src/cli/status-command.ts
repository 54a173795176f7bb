import type { Command } from "commander";
import { createIndexer } from "../chains/create-indexer.js";
import { isBackstopError } from "../lib/errors.js";
import { loadCheckpoints, loadChainHealth, loadCursor, loadInstanceLocks, loadWalletStates, type ChainHealth, type Store } from "../store/index.js";
import type { ResolvedConfig } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { formatPendingCheckpoint } from "./checkpoint-command.js";
import { formatRunningDifference } from "./movements-command.js";
import { loadPendingCheckpoints, type PendingCheckpoint } from "../reconcile/create-checkpoint.js";
import type { CheckpointSummary } from "../store/checkpoints.js";
import { loadRunningDifference } from "../reconcile/movements/load-running-difference.js";
import { createCliLogger, loadAppConfig, openConfigStore, type GlobalOptions } from "./context.js";

/** One chain of `backstop status --json`. Heights (Solana: slots); ages in ms on the database's clock. */
export type StatusLine = {
  chain: string;
  /** The follower's state as it last recorded it (null: never run on this store). */
  state: ChainHealth["state"] | null;
  /** The node's tip as read now (null when it does not answer, or with `--offline`). */
  tip: number | null;
  /** The node's head as the follower last read it (chain health; null when it never ran). */
  lastSeen: { tip: number; ageMs: number | null; finalized: number | null; safe: number | null; provider: string | null } | null;
  indexed: number | null;
  /** The highest height recorded as final in the store. */
  finalized: number | null;
  lag: number | null;
  lastError: { code: string; message: string; ageMs: number } | null;
  reorgs: { count: number; lastDepth: number | null; lastAgeMs: number | null };
  providers: ChainHealth["providers"];
  /** Wallets by state; `pending` ones are excluded from reserves (see `balances`). */
  wallets: { active: number; pending: number; removed: number };
  /** The process indexing the chain (its instance lock), null when none. */
  indexer: { pid: number; host: string; heartbeatAgeMs: number; stale: boolean } | null;
  /** Why the node could not be read now. */
  error?: string;
};

/**
 * Builds `status`: from the store, the follower's chain health (the head it last read and when, state, last
 * error, reorgs, providers), the cursor, wallet states and the instance lock; unless `offline`, each node's
 * tip read now as well (chains in parallel; a node that does not answer is reported in `error`).
 */
export async function loadStatusLines(ctx: { store: Store; config: ResolvedConfig; logger: Logger }, p: { offline?: boolean } = {}): Promise<StatusLine[]> {
  const { store, config } = ctx;
  const locks = new Map((await loadInstanceLocks(store)).map((l) => [l.name, l]));
  const health = new Map((await loadChainHealth(store)).map((h) => [h.chain, h]));
  const out: StatusLine[] = [];
  for (const chainKey of Object.keys(config.chains)) {
    const cursor = await loadCursor(store, chainKey);
    const h = health.get(chainKey);
    const l = locks.get(`chain:${chainKey}`);
    const states = await loadWalletStates(store, { chain: chainKey });
    const count = (s: string) => states.filter((w) => w.state === s).length;
    const line: StatusLine = {
      chain: chainKey,
      state: h?.state ?? null,
      tip: null,
      lastSeen: h && h.nodeTip !== null ? { tip: h.nodeTip, ageMs: h.nodeReadAgeMs, finalized: h.nodeFinalized, safe: h.nodeSafe, provider: h.provider } : null,
      indexed: cursor?.height ?? null,
      finalized: cursor?.finalizedHeight ?? null,
      lag: null,
      lastError: h?.lastError ?? null,
      reorgs: { count: h?.reorgCount ?? 0, lastDepth: h?.lastReorgDepth ?? null, lastAgeMs: h?.lastReorgAgeMs ?? null },
      providers: h?.providers ?? [],
      wallets: { active: count("active"), pending: count("pending"), removed: count("removed") },
      indexer: l ? { pid: l.pid, host: l.host, heartbeatAgeMs: l.heartbeatAgeMs, stale: l.stale } : null,
    };
    out.push(line);
  }
  if (!p.offline) {
    await Promise.all(
      out.map(async (line) => {
        try {
          line.tip = (await createIndexer({ config, chainKey: line.chain, store, logger: ctx.logger }).fetchStatus()).tip;
        } catch (err) {
          line.error = isBackstopError(err) ? err.shortMessage : String(err);
        }
      }),
    );
  }
  for (const line of out) {
    const tip = line.tip ?? line.lastSeen?.tip ?? null;
    line.lag = tip !== null && line.indexed !== null ? Math.max(0, tip - line.indexed) : null;
  }
  return out;
}

const secs = (ms: number | null) => (ms === null ? "?" : `${Math.round(ms / 1000)} s`);

/** Renders status lines as text, one line per chain (plus indented provider and error lines). */
export function formatStatusLines(lines: readonly StatusLine[]): string {
  const out: string[] = [];
  for (const r of lines) {
    const i = r.indexer;
    const by = i ? `indexer pid ${i.pid}@${i.host} (heartbeat ${secs(i.heartbeatAgeMs)} ago${i.stale ? ", STALE" : ""})` : "indexer none";
    const tip = r.tip !== null ? `tip ${r.tip}` : r.lastSeen ? `tip ${r.lastSeen.tip} (seen ${secs(r.lastSeen.ageMs)} ago)` : "tip ?";
    const wallets = r.wallets.pending || r.wallets.removed ? `  wallets ${r.wallets.active} active, ${r.wallets.pending} pending, ${r.wallets.removed} removed` : "";
    out.push(`${r.chain.padEnd(12)} ${(r.state ?? "never run").padEnd(11)} ${tip}  indexed ${r.indexed ?? "-"}  finalized ${r.finalized ?? "-"}  lag ${r.lag ?? "?"}  ${by}${wallets}${r.error ? `  ERROR ${r.error}` : ""}`);
    if (r.lastError) out.push(`${"".padEnd(12)} last error ${r.lastError.code} (${secs(r.lastError.ageMs)} ago): ${r.lastError.message}`);
    for (const pr of r.providers) {
      const notes = [pr.laggingForMs !== null ? `LAGGING for ${secs(pr.laggingForMs)}` : "", pr.disagreement ? `DISAGREES at ${pr.disagreement.height} (${pr.disagreement.hash.slice(0, 16)}… vs ours ${pr.disagreement.expected.slice(0, 16)}…)` : "", pr.lastErrorCode ? `last error ${pr.lastErrorCode}` : ""].filter(Boolean);
      if (notes.length) out.push(`${"".padEnd(12)} provider ${pr.host}: tip ${pr.lastTip ?? "?"}  ${notes.join("  ")}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * The checkpoint lines of `status`: the latest standing checkpoint (seq, status, snapshot, anchors, age), then
 * each snapshot not checkpointed yet (waiting, provisional with the heights it waits for, or ready).
 */
export function formatCheckpointStatus(latest: CheckpointSummary | undefined, pending: readonly PendingCheckpoint[], nowMs: number): string {
  const out = [latest
    ? `${"checkpoint".padEnd(12)} latest ${latest.seq} ${latest.status}, snapshot ${latest.snapshotId}, ${latest.anchors.map((a) => `${a.chain}@${a.height}`).join(" ")}, signed ${secs(nowMs - latest.createdAtMs)} ago`
    : `${"checkpoint".padEnd(12)} none yet`];
  for (const p of pending) out.push(`${"".padEnd(12)} ${formatPendingCheckpoint(p)}`);
  return `${out.join("\n")}\n`;
}

/**
 * `backstop status [--json] [--offline]`: per chain, the follower's state, the node's tip (now, and as the
 * follower last read it), indexed and finalized heights, lag, last error, providers, wallet states and which
 * process indexes it. Everything but the tip now comes from the store; `--offline` makes no node call.
 */
export function registerStatusCommand(program: Command) {
  program
    .command("status")
    .description("per chain: follower state, node tip, indexed and finalized heights, lag, last error, providers, wallets, and the process indexing it; then the latest checkpoint, snapshots waiting for one, and the running difference")
    .option("--json", "print JSON")
    .option("--offline", "no node call: the tip the follower last read, from the store")
    .action(async (o: { json?: boolean; offline?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const logger = createCliLogger(g);
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      let lines: StatusLine[];
      let difference = "";
      try {
        lines = await loadStatusLines({ store, config, logger }, { offline: o.offline });
        // The record-driven view of coverage between snapshots (JSON: `movements difference --json`, keeping this array stable).
        if (!o.json) {
          const standing = (await loadCheckpoints(store)).filter((c) => c.supersededBy === null);
          difference = formatCheckpointStatus(standing.at(-1), await loadPendingCheckpoints({ store, config }), Date.now())
            + formatRunningDifference(config, await loadRunningDifference(store, config));
        }
      } finally {
        await store.close();
      }
      process.stdout.write(o.json ? `${JSON.stringify(lines, null, 2)}\n` : formatStatusLines(lines) + difference);
    });
}
