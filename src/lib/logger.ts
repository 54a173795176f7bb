import pino from "pino";
import pinoPretty from "pino-pretty";
import { redact, redactJsonLine, redactValue } from "./redact.js";

type Logger = pino.Logger;

export type { Logger };
/** Re-exported: every module that prints or logs text redacts it with this one function. */
export { redact };

export type CreateLoggerParameters = {
  /** pino level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent". Default "info". */
  level?: string;
  /** "json" (default when stderr is not a TTY) or "pretty". */
  format?: "json" | "pretty";
  /** Destination file descriptor; default 2 (stderr: data goes to stdout, logs never do). */
  fd?: number;
};

/**
 * Creates the process logger: pino to stderr, entries `{ msg, chain, block, ... }`. Secrets are removed
 * at every depth, in both formats: each logged object and child binding goes through redactValue
 * (sensitive field names, strings, errors with their cause chain, arrays, binary data), message
 * strings and interpolated arguments through redact, and the serialized line through redactJsonLine
 * before it is written (or handed to pino-pretty), so nothing that reaches the output skips the pass.
 */
export function createLogger(p: CreateLoggerParameters = {}): Logger {
  const format = p.format ?? (process.stderr.isTTY ? "pretty" : "json");
  const fd = p.fd ?? 2;
  const hooks = {
    logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
      // Strings anywhere; objects after the first (printf arguments) too; the first object goes to formatters.log.
      method.apply(this, args.map((a, i) => (typeof a === "string" ? redact(a) : i > 0 && typeof a === "object" && a !== null ? redactValue(a) : a)));
    },
    streamWrite: redactJsonLine,
  };
  const formatters = {
    log: (obj: Record<string, unknown>) => redactValue(obj) as Record<string, unknown>,
    bindings: (bindings: pino.Bindings) => redactValue(bindings) as pino.Bindings,
  };
  // Errors are already plain, redacted objects (redactValue); pino's own err serializer would rebuild them.
  const serializers = { err: (e: unknown) => e };
  if (format === "pretty") {
    // For a person at a terminal: one line per entry, written synchronously in this thread (a
    // transport's worker thread printed lines late, after the output they belonged to).
    const stream = pinoPretty({ destination: fd, sync: true, colorize: process.stderr.isTTY, ignore: "pid,hostname", singleLine: true, translateTime: "SYS:HH:MM:ss" });
    return pino({ level: p.level ?? "info", hooks, formatters, serializers }, stream);
  }
  return pino({ level: p.level ?? "info", hooks, formatters, serializers, base: undefined }, pino.destination({ fd, sync: true }));
}
