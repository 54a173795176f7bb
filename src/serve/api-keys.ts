import { createHash, randomBytes } from "node:crypto";
import type { ApiKeyConfig, ApiKeyScope } from "../lib/config.js";
import { UnauthorizedError } from "./http-errors.js";

/** An API key's shape: `bsk_` + 12 hex (the public prefix, safe to log) + `_` + 43 base64url (256 random bits). */
const KEY_PATTERN = /^bsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;
/** A bearer token anywhere in a query string, by its shape. */
const KEY_ANYWHERE = /bsk_[0-9a-f]{12}_/;

/** A freshly made API key: shown once; only its hash goes into the config. */
export type NewApiKey = { key: string; prefix: string; hash: string };

/** Makes a new random API key (256 bits of secret) with its log-safe prefix and its config hash. */
export function createApiKey(): NewApiKey {
  const key = `bsk_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix: computeApiKeyPrefix(key), hash: computeApiKeyHash(key) };
}

/**
 * The config hash of a key: `sha256:<hex>`. A plain SHA-256 suffices (no password hash): a key is 256
 * random bits, so the hash cannot be brute-forced, and each request's check stays one hash.
 */
export function computeApiKeyHash(key: string): string {
  return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

/** The part of a key that logs may show: `bsk_<12 hex>`, or `(malformed)` for anything else. */
export function computeApiKeyPrefix(token: string): string {
  return KEY_PATTERN.test(token) ? token.slice(0, 16) : "(malformed)";
}

/** Who a request authenticated as. */
export type ApiKeyIdentity = { name: string; prefix: string; scopes: ReadonlySet<ApiKeyScope> };

/** Checks bearer keys against the configured hashes. */
export type ApiKeyVerifier = {
  /**
   * The identity of an `Authorization: Bearer <key>` header.
   * @throws UnauthorizedError for a missing, malformed, unknown, revoked or expired key (no detail to the client)
   */
  authenticate(p: { authorization: string | undefined; nowMs: number }): ApiKeyIdentity;
};

/** Builds the verifier from the configured keys (a hash lookup per request; keys are never stored). */
export function createApiKeyVerifier(p: { keys: readonly ApiKeyConfig[] }): ApiKeyVerifier {
  const byHash = new Map(p.keys.map((k) => [k.hash, { ...k, expiresMs: k.expiresAt === undefined ? null : Date.parse(k.expiresAt), scopes: new Set(k.scopes) }]));
  return {
    authenticate({ authorization, nowMs }) {
      if (authorization === undefined || authorization === "") throw new UnauthorizedError({ reason: "auth", detail: "no Authorization header" });
      const m = /^Bearer ([^\s]+)$/.exec(authorization);
      if (!m || !KEY_PATTERN.test(m[1]!)) throw new UnauthorizedError({ reason: "auth", detail: "malformed Authorization header" });
      const token = m[1]!;
      const prefix = computeApiKeyPrefix(token);
      const k = byHash.get(computeApiKeyHash(token));
      if (!k) throw new UnauthorizedError({ reason: "auth", detail: `unknown API key ${prefix}` });
      if (k.revoked) throw new UnauthorizedError({ reason: "auth", detail: `revoked API key ${prefix} (${k.name})` });
      // The expiry is on this server's own clock (the config states an absolute time): no leeway.
      if (k.expiresMs !== null && nowMs >= k.expiresMs) throw new UnauthorizedError({ reason: "auth", detail: `expired API key ${prefix} (${k.name})` });
      return { name: k.name, prefix, scopes: k.scopes };
    },
  };
}

/**
 * Refuses credentials in the query string (they end up in proxies' and browsers' logs): any
 * parameter named like a credential, or any value shaped like a Backstop key.
 * @throws UnauthorizedError
 */
export function refuseQueryStringKey(search: URLSearchParams): void {
  for (const [name, value] of search) {
    if (/^(api[_-]?key|apikey|key|access[_-]?token|token|auth|authorization|bearer)$/i.test(name) || KEY_ANYWHERE.test(value)) {
      throw new UnauthorizedError({ reason: "query_string_key", detail: `credential in the query string (parameter ${JSON.stringify(name.slice(0, 32))})` });
    }
  }
}
