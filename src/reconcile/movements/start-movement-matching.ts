import { resolveMovementsConfig, resolveReconciledChains, type ResolvedConfig } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import { addBlockEventSink, type Store } from "../../store/index.js";
import { createMovementSink } from "./create-movement-sink.js";
import { matchMovementsIn } from "./match-movements.js";

/** Default period of the time-driven pass (grace periods and SLAs run out without a new block). */
export const MOVEMENT_TICK_MS = 5_000;

/**
 * Runs movement matching while the followers index: the block-event sink (a pass in every block's
 * transaction, `reorged` in every rollback's) and, unless `tickMs` is 0, a pass every `tickMs` so a
 * grace period or SLA that runs out between blocks is noticed. Returns its stop function.
 */
export function startMovementMatching(ctx: { store: Store; config: ResolvedConfig; logger: Logger }, p: { tickMs?: number } = {}): () => void {
  const settings = resolveMovementsConfig(ctx.config);
  const chains = resolveReconciledChains(ctx.config);
  const remove = addBlockEventSink(ctx.store, createMovementSink({ settings, chains, logger: ctx.logger }));
  const tickMs = p.tickMs ?? MOVEMENT_TICK_MS;
  let running = false;
  const timer = tickMs > 0
    ? setInterval(() => {
        if (running) return;
        running = true;
        ctx.store
          .tx((db) => matchMovementsIn(ctx.store, db, { settings, chains, nowMs: Date.now(), logger: ctx.logger }))
          .catch((err: unknown) => ctx.logger.warn({ msg: "movement matching pass failed (retried next tick)", code: (err as { code?: string })?.code, error: (err as Error)?.message }))
          .finally(() => (running = false));
      }, tickMs)
    : undefined;
  timer?.unref();
  return () => {
    if (timer) clearInterval(timer);
    remove();
  };
}
