import { createHash } from "node:crypto";
import type { ResolvedMovements } from "../../lib/config.js";
import type { Logger } from "../../lib/logger.js";
import { loadMovementRecordsByIdIn, saveMovementRecordsIn, type MovementRecordRow, type Store } from "../../store/index.js";
import { MovementRecordsInvalidError, type MovementRecordProblem } from "./errors.js";
import { matchMovementsIn } from "./match-movements.js";
import { contentKey, parseMovementRecords, type MovementRecordFormat } from "./parse-movement-records.js";
import type { MovementValidationContext } from "./validate-movement-record.js";

export type ImportMovementRecordsParameters = {
  bytes: Uint8Array;
  format: MovementRecordFormat;
  /** For messages: the file name, or "HTTP batch". */
  sourceName: string;
  source: "file" | "http";
  validation: MovementValidationContext;
  settings: ResolvedMovements;
  chains: readonly string[];
};

export type ImportMovementRecordsReturnType = { received: number; inserted: number; unchanged: number; transitions: number };

/**
 * Imports movement records all or nothing (issue 14, item 1): parses and validates every record; then,
 * in ONE transaction, refuses the whole batch if any id is stored with other content (MOVEMENTS__ID_CONFLICT,
 * naming each), skips records stored with the same content (a re-send is a no-op), inserts the rest and runs
 * a matching pass, so a late record resolves the interim unexplained movement at once.
 * @throws MovementRecordsInvalidError (nothing written), the store's typed errors
 */
export async function importMovementRecords(ctx: { store: Store; logger?: Logger; nowMs: () => number }, p: ImportMovementRecordsParameters): Promise<ImportMovementRecordsReturnType> {
  const parsed = parseMovementRecords(p.validation, p.bytes, { format: p.format });
  if (parsed.problems) throw new MovementRecordsInvalidError({ source: p.sourceName, problems: parsed.problems, truncated: parsed.truncated });
  const { records, rows } = parsed;
  const nowMs = ctx.nowMs();
  const hashed = records.map((r) => ({ r, hash: createHash("sha256").update(contentKey(r)).digest("hex") }));
  return ctx.store.tx(async (db) => {
    const existing = await loadMovementRecordsByIdIn(ctx.store, db, records.map((r) => r.id));
    const problems: MovementRecordProblem[] = [];
    const fresh: MovementRecordRow[] = [];
    hashed.forEach(({ r, hash }, i) => {
      const stored = existing.get(r.id);
      if (!stored) fresh.push({ ...r, contentHash: hash, source: p.source, receivedAtMs: nowMs, open: true });
      else if (stored.contentHash !== hash) {
        const at = p.format === "json" ? { index: rows[i]! } : { row: rows[i]! };
        problems.push({ ...at, field: "id", id: r.id, code: "MOVEMENTS__ID_CONFLICT", message: "Record id already stored with different content (records are immutable)" });
      }
    });
    if (problems.length) throw new MovementRecordsInvalidError({ source: p.sourceName, problems });
    await saveMovementRecordsIn(ctx.store, db, fresh);
    const m = fresh.length ? await matchMovementsIn(ctx.store, db, { settings: p.settings, chains: p.chains, nowMs, logger: ctx.logger }) : { transitions: [] };
    ctx.logger?.info({ msg: "movement records imported", source: p.source, received: records.length, inserted: fresh.length, unchanged: records.length - fresh.length });
    return { received: records.length, inserted: fresh.length, unchanged: records.length - fresh.length, transitions: m.transitions.length };
  });
}
