import { createHmac, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** An Ed25519 private key from `whsk_<base64 seed>`. */
export function createEd25519SigningKey(signingKey: string): KeyObject {
  const seed = Buffer.from(signingKey.replace(/^whsk_/, ""), "base64");
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
}

/** The public key a receiver verifies `v1a` signatures with, as `whpk_<base64 raw 32 bytes>`. */
export function computeWebhookPublicKey(signingKey: string): string {
  const der = createPublicKey(createEd25519SigningKey(signingKey)).export({ format: "der", type: "spki" });
  return `whpk_${der.subarray(-32).toString("base64")}`;
}

/**
 * The Standard Webhooks headers of one attempt: `webhook-id` (stable across retries), `webhook-timestamp`
 * (unix seconds of this attempt) and `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>`
 * (secret `whsec_<base64>`) and/or `v1a,<base64 Ed25519>` over `${id}.${timestamp}.${body}`.
 */
export function buildWebhookHeaders(p: { id: string; timestampSeconds: number; body: string; secret?: string; signingKey?: KeyObject }): Record<string, string> {
  const content = `${p.id}.${p.timestampSeconds}.${p.body}`;
  const sigs: string[] = [];
  if (p.secret) sigs.push(`v1,${createHmac("sha256", Buffer.from(p.secret.replace(/^whsec_/, ""), "base64")).update(content).digest("base64")}`);
  if (p.signingKey) sigs.push(`v1a,${sign(null, Buffer.from(content), p.signingKey).toString("base64")}`);
  return { "webhook-id": p.id, "webhook-timestamp": String(p.timestampSeconds), "webhook-signature": sigs.join(" ") };
}
