import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { BadSigningKeyError } from "./errors.js";

/** An Ed25519 public key as a JWK (RFC 8037), with its RFC 7638 thumbprint as `kid`. */
export type PublicJwk = { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" };

/** A loaded signing key: the private key object (never serialised by Backstop) and its public JWK. */
export type SigningKey = { privateKey: KeyObject; jwk: PublicJwk };

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410): SEQUENCE { 0, AlgId 1.3.101.112, OCTET STRING { OCTET STRING seed } }.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
// SubjectPublicKeyInfo wrapping of a raw 32-byte Ed25519 public key.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The text form of a signing key for the environment: `ed25519:<base64url of the 32-byte seed>`. */
export const SIGNING_KEY_PREFIX = "ed25519:";

/** RFC 7638 thumbprint of an Ed25519 public key (base64url SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":…}`). */
export function computeJwkThumbprint(x: string): string {
  return createHash("sha256").update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest("base64url");
}

/** The public JWK of a raw public key `x` (base64url, 32 bytes). */
export function buildPublicJwk(x: string): PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x, kid: computeJwkThumbprint(x), alg: "EdDSA", use: "sig" };
}

/**
 * Parses the signing key's text (`ed25519:<base64url seed>`). The value is never put into an error.
 * @throws BadSigningKeyError
 */
export function parseSigningKey(text: string, p: { env?: string } = {}): SigningKey {
  const m = /^ed25519:([A-Za-z0-9_-]{43})$/.exec(text.trim());
  const seed = m ? Buffer.from(m[1]!, "base64url") : undefined;
  if (!seed || seed.length !== 32) throw new BadSigningKeyError(p);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const x = String((createPublicKey(privateKey).export({ format: "jwk" }) as { x: string }).x);
  return { privateKey, jwk: buildPublicJwk(x) };
}

/** A new random signing key: its text for the environment and its public JWK. */
export function createSigningKey(): { text: string; jwk: PublicJwk } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const d = String((privateKey.export({ format: "jwk" }) as { d: string }).d);
  const text = `${SIGNING_KEY_PREFIX}${d}`;
  return { text, jwk: parseSigningKey(text).jwk };
}

/** Ed25519 signature (64 bytes, base64url) of the UTF-8 bytes of `message`. Deterministic (RFC 8032). */
export function signBytes(key: SigningKey, message: string): string {
  return sign(null, Buffer.from(message, "utf8"), key.privateKey).toString("base64url");
}

/** Checks an Ed25519 signature (base64url) of `message` against a raw public key `x` (base64url). */
export function verifyBytes(x: string, message: string, signature: string): boolean {
  const raw = Buffer.from(x, "base64url");
  const sig = Buffer.from(signature, "base64url");
  if (raw.length !== 32 || sig.length !== 64 || sig.toString("base64url") !== signature) return false;
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
  return verify(null, Buffer.from(message, "utf8"), publicKey, sig);
}
