import { isBackstopError } from "./errors.js";

/** What a redacted value is replaced with. */
export const REDACTED = "[redacted]";

/** Nesting below which logged values are not walked (and not printed). */
const MAX_DEPTH = 12;
/** The longest key name checked for sensitivity (longer keys are data, not field names). */
const MAX_KEY = 64;

/**
 * Field names whose values are secrets whatever their shape (string, number, object, array, bytes),
 * compared lower-cased without separators (`api_key`, `apiKey`, `API-KEY` are one name).
 */
const SENSITIVE_NAMES = new Set([
  "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "apitoken", "accesstoken", "refreshtoken", "idtoken",
  "authtoken", "bearertoken", "sessiontoken", "authorization", "proxyauthorization", "auth", "cookie", "setcookie", "credentials",
  "credential", "privatekey", "secretkey", "signingkey", "seed", "seedphrase", "mnemonic", "xprv", "routingkey", "integrationkey",
  "webhook", "webhookurl", "webhooksecret", "hmacsecret", "hmackey", "clientsecret", "jwt", "dsn", "xapikey",
]);
/** Name endings that mark a secret (`slackWebhookUrl`, `pagerdutyRoutingKey`, `dbPassword`…). */
const SENSITIVE_SUFFIXES = ["password", "passphrase", "secret", "token", "apikey", "privatekey", "secretkey", "signingkey", "routingkey", "integrationkey", "webhookurl", "authorization", "credentials", "mnemonic"];

/** True when a field of this name holds a secret (see SENSITIVE_NAMES and SENSITIVE_SUFFIXES). */
export function isSensitiveKey(key: string): boolean {
  if (key.length > MAX_KEY) return false;
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  return SENSITIVE_NAMES.has(k) || SENSITIVE_SUFFIXES.some((s) => k.endsWith(s));
}

// key=value / key: value / "key":"value" in free text; the value stops at a quote, space or separator.
const KEY_VALUE_NAMES = "api[_-]?key|apikey|x-api-key|api[_-]?token|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|client[_-]?secret|secret|password|passwd|pwd|routing[_-]?key|integration[_-]?key|private[_-]?key|secret[_-]?key|signing[_-]?key";
const KEY_VALUE_RE = new RegExp(`\\b(${KEY_VALUE_NAMES})(["']?\\s*[:=]\\s*["']?)(?!\\*\\*\\*|\\[redacted\\])([^\\s"'&,;{}\\[\\]]+)`, "gi");

/**
 * Removes secrets from text:
 * - URLs: credentials, and every path segment and query (RPC providers, Slack/Discord webhooks and
 *   alert sinks put keys there); scheme and host stay, for diagnosis;
 * - Authorization header values (any scheme) and bare `Bearer …` tokens;
 * - `key=value` and `key: value` pairs whose key names a secret (api_key, token, password, routing_key…);
 * - tokens recognisable by their form: webhook signing secrets (`whsec_…`), Stripe/Slack/GitHub/GitLab
 *   tokens, AWS access key ids, JWTs, PEM private keys, BIP-32 extended private keys (xprv/tprv…) and
 *   WIF private keys.
 * Raw 32-byte private keys in hex or base58 cannot be told from transaction hashes and signatures in
 * free text; they are caught by their field name (redactValue).
 */
export function redact(text: string): string {
  return text
    .replace(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, "-----PRIVATE KEY [redacted]-----")
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@"']+@)?([^\s/?#"'@]+)([^\s"']*)/gi, (_m, scheme: string, cred: string | undefined, host: string, rest: string) =>
      `${scheme}${cred ? "***@" : ""}${host}${rest === "/" ? "/" : rest ? "/***" : ""}`)
    // An Authorization header's value, scheme and all (Basic, Bearer, Digest…), then bare bearer tokens.
    .replace(/\b((?:proxy-)?authorization)(["']?\s*[:=]\s*["']?)(?:[A-Za-z]+\s+)?[^\s"'&,;{}\[\]]+/gi, "$1$2***")
    .replace(/\bBearer(\s+)[A-Za-z0-9._~+/=-]{8,}/g, "Bearer$1***")
    .replace(/\b(?:whsec|sk_live|sk_test|rk_live|rk_test|pk_live|sk|ghp|gho|ghs|ghu|github_pat|glpat|xox[abposr]|xapp)[_-][A-Za-z0-9_+/=-]{8,}/g, REDACTED)
    .replace(/\bAKIA[0-9A-Z]{16}\b/g, REDACTED)
    .replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED)
    .replace(/\b[xtyzuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{100,}/g, REDACTED)
    .replace(/\b[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51}\b/g, REDACTED)
    .replace(KEY_VALUE_RE, "$1$2***");
}

/**
 * A copy of `value` safe to log: every string redacted (redact), every field whose name is sensitive
 * replaced by "[redacted]" whatever its shape, errors turned into `{ type, message, code, …, cause }`
 * (plus `stack` for errors that are not BackstopErrors: bugs) with their whole cause chain (and
 * AggregateError's errors) redacted the same way,
 * binary data (Buffers, typed arrays: possibly key material) shown as its length only, bigints as
 * decimal strings, Maps and Sets as objects and arrays, cycles and depth beyond 12 cut off.
 */
export function redactValue(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(v: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof v === "string") return redact(v);
  if (typeof v === "bigint") return v.toString();
  if (v === null || typeof v !== "object") return typeof v === "function" || typeof v === "symbol" ? String(v) : v;
  if (seen.has(v)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[${v.byteLength} bytes]`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (v instanceof URL) return redact(v.href);
  seen.add(v);
  try {
    if (v instanceof Error) return walkError(v, depth, seen);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1, seen));
    if (v instanceof Set) return [...v].map((x) => walk(x, depth + 1, seen));
    if (v instanceof Map) return walkEntries([...v].map(([k, x]) => [String(k), x]), depth, seen);
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return walk(toJSON.call(v), depth + 1, seen);
    return walkEntries(Object.entries(v), depth, seen);
  } finally {
    seen.delete(v);
  }
}

function walkEntries(entries: [string, unknown][], depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) out[k] = isSensitiveKey(k) ? REDACTED : walk(x, depth + 1, seen);
  return out;
}

function walkError(e: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.name, message: redact(e.message) };
  // Own fields (code, shortMessage, metaMessages, retryable, status…), sensitive names redacted.
  Object.assign(out, walkEntries(Object.entries(e).filter(([k]) => k !== "cause" && k !== "name"), depth, seen));
  // A BackstopError is an expected condition (its code says what); any other error is a bug: keep its stack.
  if (e.stack && !isBackstopError(e)) out.stack = redact(e.stack);
  if (e.cause !== undefined) out.cause = walk(e.cause, depth + 1, seen);
  if (e instanceof AggregateError) out.errors = (e.errors as unknown[]).map((x) => walk(x, depth + 1, seen));
  return out;
}

// A JSON string literal, and a `"key": "value"` pair, in an already serialized log line.
const LITERAL_RE = /"(?:[^"\\]|\\.)*"/g;
const PAIR_RE = /"((?:[^"\\]|\\.){1,64})"(\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/**
 * The last pass over a serialized JSON log line: every string literal is redacted (decoded, redacted,
 * re-encoded, so the line stays valid JSON) and string values of sensitive field names are replaced.
 * Catches what reaches the line without passing through redactValue (serializers, bindings, messages).
 */
export function redactJsonLine(line: string): string {
  return line
    .replace(PAIR_RE, (m, key: string, sep: string) => (isSensitiveKey(key) && !m.endsWith(`"${REDACTED}"`) ? `"${key}"${sep}"${REDACTED}"` : m))
    .replace(LITERAL_RE, (lit) => {
      if (lit.length < 8) return lit;
      const text = JSON.parse(lit) as string;
      const clean = redact(text);
      return clean === text ? lit : JSON.stringify(clean);
    });
}
