import type { FollowerObserver } from "../chains/indexer.js";
import type { ResolvedConfig } from "../lib/config.js";
import { isBackstopError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import type { ResolveHost } from "../lib/post-guarded.js";
import { addBlockEventSink, type Store } from "../store/index.js";
import { createAlertBlockSink } from "./create-alert-block-sink.js";
import { createOutboxWorker, type OutboxWorker } from "./create-outbox-worker.js";
import { createAlertReaders } from "./create-alert-readers.js";
import { createHealthMemory, evaluateHealthRules, type AlertReaders } from "./evaluate-health-rules.js";

/** The running alert pipeline of a `backstop start` process. */
export type AlertService = {
  /** Hand to every chain indexer: a stored block or a reorg wakes the delivery worker at once (after the commit). */
  observer: FollowerObserver;
  worker: OutboxWorker;
  /** Runs the health and reader rules once now (as the timer does), resolving when their alerts are committed. */
  evaluateNow(): Promise<void>;
  /** Stops the worker and the health loop, and removes the block sink. */
  stop(): Promise<void>;
};

/**
 * Starts the alert pipeline on a store: the rules as a block-event sink (inside every block and rollback
 * transaction), the health rules every healthIntervalMs (and on a follower state change), and the outbox
 * delivery worker. With no rules and no sinks it does nothing but still drains an outbox left by an earlier run.
 */
export function startAlertService(p: { config: ResolvedConfig; store: Store; logger: Logger; readers?: AlertReaders; resolve?: ResolveHost }): AlertService {
  const { config, store, logger } = p;
  const alerts = config.alerts;
  // Coverage, checkpoints and silent changes come from the reconciliation module and the EVM follower.
  const readers: AlertReaders = p.readers ?? createAlertReaders({ assets: config.assets });
  const removeSink = addBlockEventSink(store, createAlertBlockSink({ config }));
  const worker = createOutboxWorker({ store, alerts, logger, resolve: p.resolve });
  const abort = new AbortController();
  const memory = createHealthMemory();
  const missing = alerts.rules.filter((r) => (r.type === "coverage_below" && !readers.loadLiveCoverage) || (r.type === "checkpoint" && !readers.loadNewCheckpoints) || (r.type === "silent_change" && !readers.loadSilentChanges) || (r.type === "movement" && !readers.loadMovementOutcomes));
  for (const r of missing) logger.warn({ msg: "alert rule has no data source in this build; it never fires", rule: r.name, type: r.type });
  let healthTimer: NodeJS.Timeout | undefined;
  let evaluating: Promise<void> | undefined;
  const tick = () => {
    if (evaluating || abort.signal.aborted) return;
    evaluating = evaluateHealthRules(store, { alerts, now: Date.now, readers, memory })
      .then((n) => {
        if (n) worker.wake();
      })
      .catch((err) => logger.warn({ msg: "health alert rules not evaluated", error: isBackstopError(err) ? err.shortMessage : String(err) }))
      .finally(() => (evaluating = undefined));
  };
  if (alerts.rules.length) healthTimer = setInterval(tick, alerts.delivery.healthIntervalMs);
  const running = worker.run({ signal: abort.signal });
  return {
    worker,
    observer: {
      onBlocksIndexed: () => worker.wake(),
      onReorg: () => worker.wake(),
      // Health is flushed by the follower; evaluate shortly after it changes state (a halt on a deep reorg).
      onStateChange: () => void setTimeout(tick, 250).unref(),
    },
    async evaluateNow() {
      await evaluating;
      tick();
      await evaluating;
    },
    async stop() {
      abort.abort();
      if (healthTimer) clearInterval(healthTimer);
      await evaluating;
      await running;
      removeSink();
    },
  };
}
