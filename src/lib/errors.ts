import type { ErrorCode } from "./error-codes.js";

export type { ErrorCode };

/**
 * The one error base of Backstop. Every failure is a subclass with a stable
 * `code` (`DOMAIN__DESCRIPTION`, never reused), a one-line `shortMessage`,
 * optional `metaMessages` (extra lines: paths, values), a `cause` chain and a
 * `retryable` flag. Retry decisions read `retryable`, never message text.
 */
export class BackstopError extends Error {
  override name = "BackstopError";
  readonly code: ErrorCode;
  readonly shortMessage: string;
  readonly metaMessages: string[];
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    shortMessage: string,
    opts: { cause?: unknown; meta?: string[]; retryable?: boolean } = {},
  ) {
    super([shortMessage, ...(opts.meta ?? [])].join("\n"), { cause: opts.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.metaMessages = opts.meta ?? [];
    this.retryable = opts.retryable ?? false;
  }
}

/** A decimal amount string that does not fit the strict grammar or the asset's decimals. */
export class InvalidAmountError extends BackstopError {
  override name = "InvalidAmountError";
  constructor(p: { text: string; decimals?: number; reason?: string }) {
    super(
      p.decimals === undefined ? "AMOUNT__INVALID" : "AMOUNT__PRECISION_EXCEEDED",
      p.decimals === undefined
        ? `Invalid amount ${JSON.stringify(p.text.slice(0, 64))}${p.reason ? `: ${p.reason}` : ""}.`
        : `Amount ${JSON.stringify(p.text.slice(0, 64))} has more than ${p.decimals} decimals.`,
    );
  }
}

/** The configuration file is missing, unreadable or invalid; meta lists every problem with its path. */
export class ConfigError extends BackstopError {
  override name = "ConfigError";
  constructor(p: { path: string; problems: string[]; cause?: unknown }) {
    super("CONFIG__INVALID", `Invalid configuration in ${p.path}.`, {
      meta: p.problems.map((x) => `  ${x}`),
      cause: p.cause,
    });
  }
}

/** No config file at the given (or default) path; `hints` say where one is (the demo's written config, examples/). */
export class ConfigNotFoundError extends BackstopError {
  override name = "ConfigNotFoundError";
  constructor(p: { path: string; hints?: string[] }) {
    super("CONFIG__NOT_FOUND", `No config file at ${p.path}.`, { meta: (p.hints ?? []).map((h) => `  ${h}`) });
  }
}

/** Returns true when `err` is a BackstopError (also across module copies). */
export function isBackstopError(err: unknown): err is BackstopError {
  return err instanceof BackstopError ||
    (typeof err === "object" && err !== null && typeof (err as BackstopError).code === "string" &&
      typeof (err as BackstopError).shortMessage === "string");
}
