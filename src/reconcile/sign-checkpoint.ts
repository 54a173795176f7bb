import { canonicalizeJson } from "./canonicalize-json.js";
import { computeDigest } from "./compute-digest.js";
import type { CheckpointDocument, SignedCheckpoint } from "./checkpoint-document.js";
import { signBytes, type SigningKey } from "./signing-key.js";

/**
 * Signs a checkpoint document: digest = SHA-256 of its RFC 8785 bytes, signature = Ed25519 over the
 * same bytes, kid = the key's RFC 7638 thumbprint. Deterministic: same document and key, same bytes.
 * @throws NonCanonicalValueError
 */
export function signCheckpoint(document: CheckpointDocument, key: SigningKey): SignedCheckpoint {
  const bytes = canonicalizeJson(document);
  return { document, digest: computeDigest(bytes), signature: { alg: "EdDSA", kid: key.jwk.kid, x: key.jwk.x, value: signBytes(key, bytes) } };
}

/** The published file of a signed checkpoint: its RFC 8785 form and a newline. */
export function formatSignedCheckpoint(c: SignedCheckpoint): string {
  return `${canonicalizeJson(c)}\n`;
}
