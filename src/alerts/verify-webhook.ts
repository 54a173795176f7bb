import { createHmac, createPublicKey, timingSafeEqual, verify } from "node:crypto";

/** SPKI DER prefix of an Ed25519 public key (RFC 8410): the 32 raw bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * Verifies a Standard Webhooks message as a receiver does: the timestamp within `toleranceSeconds` of now,
 * and at least one `v1,` (HMAC with `whsec_` secret) or `v1a,` (Ed25519 with `whpk_` public key) signature
 * over `${id}.${timestamp}.${body}`. Returns which scheme matched, or why it failed.
 */
export function verifyWebhook(p: { headers: Record<string, string | string[] | undefined>; body: string; secret?: string; publicKey?: string; nowSeconds?: number; toleranceSeconds?: number }): { ok: true; scheme: "v1" | "v1a" } | { ok: false; reason: string } {
  const h = (k: string) => {
    const v = p.headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = h("webhook-id");
  const ts = h("webhook-timestamp");
  const sig = h("webhook-signature");
  if (!id || !ts || !sig) return { ok: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature" };
  const now = p.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > (p.toleranceSeconds ?? 300)) return { ok: false, reason: "timestamp outside the tolerance" };
  const content = Buffer.from(`${id}.${ts}.${p.body}`);
  for (const part of sig.split(" ")) {
    const [scheme, value] = part.split(",", 2);
    if (!value) continue;
    const given = Buffer.from(value, "base64");
    if (scheme === "v1" && p.secret) {
      const want = createHmac("sha256", Buffer.from(p.secret.replace(/^whsec_/, ""), "base64")).update(content).digest();
      if (want.length === given.length && timingSafeEqual(want, given)) return { ok: true, scheme: "v1" };
    }
    if (scheme === "v1a" && p.publicKey) {
      const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(p.publicKey.replace(/^whpk_/, ""), "base64")]), format: "der", type: "spki" });
      if (verify(null, content, key, given)) return { ok: true, scheme: "v1a" };
    }
  }
  return { ok: false, reason: "no signature matches" };
}
