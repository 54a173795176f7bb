import pino from "pino";
import pinoPretty from "pino-pretty";

type Logger = pino.Logger;

export type { Logger };

export type CreateLoggerParameters = {
  /** pino level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent". Default "info". */
  level?: string;
  /** "json" (default when stderr is not a TTY) or "pretty". */
  format?: "json" | "pretty";
  /** Destination file descriptor; default 2 (stderr: data goes to stdout, logs never do). */
  fd?: number;
};

/**
 * Removes secrets from text: credentials and query strings and path segments
 * of URLs (RPC providers put API keys there), and long hex/base58 tokens after
 * `key=`/`apikey`. Used on every log line and every error printed.
 */
export function redact(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@"']+@)?([^\s/?#"']+)([^\s"']*)/gi, (_m, scheme: string, _cred, host: string, rest: string) =>
      `${scheme}${_cred ? "***@" : ""}${host}${rest === "/" ? "/" : rest ? "/***" : ""}`)
    .replace(/\b(api[_-]?key|apikey|token|secret|password|authorization)(["']?\s*[:=]\s*["']?)([^\s"'&,}]+)/gi, "$1$2***");
}

/** Creates the process logger: pino to stderr, entries `{ msg, chain, block, ... }`, every string redacted. */
export function createLogger(p: CreateLoggerParameters = {}): Logger {
  const format = p.format ?? (process.stderr.isTTY ? "pretty" : "json");
  const fd = p.fd ?? 2;
  const hooks = {
    logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
      method.apply(this, args.map((a) => (typeof a === "string" ? redact(a) : a)));
    },
  };
  const formatters = {
    log(obj: Record<string, unknown>) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        if (typeof v === "string") out[k] = redact(v);
        else if (typeof v === "bigint") out[k] = v.toString();
        else if (v instanceof Error) out[k] = { message: redact(v.message), code: (v as { code?: unknown }).code };
        else out[k] = v;
      }
      return out;
    },
  };
  if (format === "pretty") {
    // For a person at a terminal: one line per entry, written synchronously in this thread (a
    // transport's worker thread printed lines late, after the output they belonged to).
    const stream = pinoPretty({ destination: fd, sync: true, colorize: process.stderr.isTTY, ignore: "pid,hostname", singleLine: true, translateTime: "SYS:HH:MM:ss" });
    return pino({ level: p.level ?? "info", hooks, formatters }, stream);
  }
  return pino({ level: p.level ?? "info", hooks, formatters, base: undefined }, pino.destination({ fd, sync: true }));
}
