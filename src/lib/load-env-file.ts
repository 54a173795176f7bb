import { readFileSync, statSync } from "node:fs";
import { BackstopError } from "./errors.js";

// An env file holds secrets (RPC URLs with keys, signing keys) for `--env-file`: its values are
// handed to loadConfig as the environment its `{ env: NAME }` references resolve from, and never
// copied into process.env, so child processes (Ponder, bcoin) do not inherit them.

/** Largest env file read, bytes: secrets files are small; anything bigger is not one. */
export const MAX_ENV_FILE_BYTES = 1 << 20;
// `s`: a value may hold U+2028/U+2029 (which `.` would not match without it); lines split on \n only.
const LINE = /^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$/s;
/** Values written unquoted by formatEnvFile: no quotes, spaces, `#`, `\` or control characters. */
const BARE = /^[A-Za-z0-9_@%+=:,./~^!?*&()[\]{}<>|-]*$/;

/**
 * Reads an env file strictly: `NAME=value` lines (optionally `export NAME=value`), blank lines and
 * `#` comment lines. A value is taken verbatim to the end of the line (trailing blanks dropped), or
 * quoted: `'…'` literally, `"…"` with the escapes `\\`, `\"`, `\n` and `\r`. A name given twice, or any
 * other line, is an error naming the line (never its value). Refuses a file other users can read
 * or its group can write (POSIX modes; a `0600` file passes).
 * @throws EnvFileUnreadableError, EnvFilePermissionsError, EnvFileMalformedError
 */
export function loadEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error("not a regular file");
    if (st.size > MAX_ENV_FILE_BYTES) throw new Error(`larger than ${MAX_ENV_FILE_BYTES} bytes`);
    // Secrets readable by other users, or replaceable by the group, are not secrets (what ssh refuses for keys).
    if (process.platform !== "win32" && (st.mode & 0o027) !== 0) throw new EnvFilePermissionsError({ path, mode: st.mode & 0o777 });
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if (cause instanceof EnvFilePermissionsError) throw cause;
    throw new EnvFileUnreadableError({ path, cause });
  }
  return parseEnvFile(text, path);
}

/** Parses env-file text (the grammar of loadEnvFile). `path` names the file in errors. @throws EnvFileMalformedError */
export function parseEnvFile(text: string, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lineOf = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (/^[ \t]*(#.*)?$/s.test(line)) return;
    const m = LINE.exec(line);
    if (!m) throw new EnvFileMalformedError({ path, line: n, problem: "expected NAME=value" });
    const [, name, rest] = m as unknown as [string, string, string];
    const value = parseValue(rest.replace(/[ \t]+$/, ""));
    if (value === undefined) throw new EnvFileMalformedError({ path, line: n, problem: `the value of ${name} has an unterminated or misplaced quote` });
    const prev = lineOf.get(name);
    if (prev !== undefined) throw new EnvFileMalformedError({ path, line: n, problem: `${name} is already set on line ${prev}` });
    lineOf.set(name, n);
    out[name] = value;
  });
  return out;
}

function parseValue(v: string): string | undefined {
  if (v.startsWith("'")) return v.length >= 2 && v.endsWith("'") && !v.slice(1, -1).includes("'") ? v.slice(1, -1) : undefined;
  if (v.startsWith('"')) {
    if (v.length < 2 || !v.endsWith('"')) return undefined;
    let out = "";
    const body = v.slice(1, -1);
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c === '"') return undefined;
      if (c !== "\\") { out += c; continue; }
      const e = body[++i];
      if (e === "\\" || e === '"') out += e;
      else if (e === "n") out += "\n";
      else if (e === "r") out += "\r";
      else return undefined;
    }
    return out;
  }
  return /["']/.test(v) ? undefined : v;
}

/**
 * Formats values as an env file that loadEnvFile reads back exactly: a `#` comment header, then one
 * `NAME=value` line per entry (double-quoted and escaped unless the value is plain).
 * @throws RangeError on a name that is not `[A-Za-z_][A-Za-z0-9_]*`
 */
export function formatEnvFile(p: { header: string[]; values: Readonly<Record<string, string>> }): string {
  const lines = p.header.map((h) => (h ? `# ${h}` : "#"));
  for (const [name, value] of Object.entries(p.values)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RangeError(`not an environment variable name: ${JSON.stringify(name)}`);
    lines.push(`${name}=${BARE.test(value) ? value : `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The env file cannot be read (missing, a directory, too large, no permission). */
export class EnvFileUnreadableError extends BackstopError {
  override name = "EnvFileUnreadableError";
  constructor(p: { path: string; cause: unknown }) {
    const code = (p.cause as NodeJS.ErrnoException)?.code;
    const why = code === "ENOENT" ? "file not found" : code === "EACCES" ? "permission denied" : String((p.cause as Error)?.message ?? p.cause);
    super("CONFIG__ENV_FILE_UNREADABLE", `Cannot read the env file ${p.path}: ${why}.`, { cause: p.cause });
  }
}

/** A line of the env file is not NAME=value, or sets a name twice. */
export class EnvFileMalformedError extends BackstopError {
  override name = "EnvFileMalformedError";
  constructor(p: { path: string; line: number; problem: string }) {
    // The line's text is not shown: it may hold a secret.
    super("CONFIG__ENV_FILE_MALFORMED", `${p.path}:${p.line}: ${p.problem}.`);
  }
}

/** The env file is readable by other users or writable by its group. */
export class EnvFilePermissionsError extends BackstopError {
  override name = "EnvFilePermissionsError";
  constructor(p: { path: string; mode: number }) {
    super("CONFIG__ENV_FILE_PERMISSIONS", `The env file ${p.path} holds secrets but has mode ${p.mode.toString(8).padStart(4, "0")}.`, {
      meta: [`  other users must have no access and its group no write access: chmod 600 ${p.path}`],
    });
  }
}
