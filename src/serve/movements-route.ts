import type { ResolvedConfig } from "../lib/config.js";
import { resolveMovementsConfig, resolveReconciledChains } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import { MovementRecordsInvalidError } from "../reconcile/movements/errors.js";
import { importMovementRecords } from "../reconcile/movements/import-movement-records.js";
import { createMovementValidationContext } from "../reconcile/movements/validate-movement-record.js";
import type { Store } from "../store/index.js";
import type { ApiKeyIdentity } from "./api-keys.js";
import { UnsupportedMediaTypeError } from "./http-errors.js";
import { readBody } from "./read-body.js";
import type { RouteHandler, RouteRequest } from "./router.js";

/** Largest accepted batch body: 8 MiB (about 30 000 records); a feeder sends more in several batches. */
export const MOVEMENTS_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * `POST /internal/v1/movements` (issue 14): a JSON array of movement records, the same fields and
 * validation as `movements import`. Needs an API key with scope `movements:write` (403 without it).
 * All or nothing: 200 `{ received, inserted, unchanged }` (a re-sent record is unchanged, a no-op), or
 * 422 `{ errors, problems: [{ index, field, id, code, message }] }` naming every bad record, nothing written.
 */
export function createMovementsRoute(ctx: { store: Store; config: ResolvedConfig; logger: Logger }, p: { authenticate: (r: RouteRequest) => ApiKeyIdentity }): RouteHandler {
  const settings = resolveMovementsConfig(ctx.config);
  const chains = resolveReconciledChains(ctx.config);
  return async (r) => {
    const key = p.authenticate(r);
    const type = String(r.req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") throw new UnsupportedMediaTypeError({ contentType: type });
    const body = await readBody(r.req, MOVEMENTS_MAX_BODY_BYTES);
    try {
      const out = await importMovementRecords({ store: ctx.store, logger: ctx.logger, nowMs: Date.now }, {
        bytes: Buffer.from(body, "utf8"), format: "json", sourceName: "HTTP batch", source: "http",
        validation: createMovementValidationContext(ctx.config, Date.now()), settings, chains,
      });
      ctx.logger.info({ msg: "movement batch accepted", key: key.prefix, received: out.received, inserted: out.inserted });
      return json(200, out);
    } catch (err) {
      if (!(err instanceof MovementRecordsInvalidError)) throw err;
      ctx.logger.info({ msg: "movement batch refused", key: key.prefix, problems: err.problems.length });
      return json(422, {
        errors: [{ message: "Invalid movement records; nothing was written.", extensions: { code: err.code } }],
        problems: err.problems.map((x) => ({ index: x.index ?? null, field: x.field ?? null, id: x.id ?? null, code: x.code, message: x.message })),
      });
    }
  };
}

function json(status: number, value: unknown) {
  return { status, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(value) };
}
