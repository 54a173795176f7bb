// Verifies published checkpoints in the reader's browser: the very RFC 8785 canonicaliser the
// signer uses (src/reconcile/canonicalize-json.ts, served as is), the import-free SHA-256 of the
// proof verifier, and Ed25519 through WebCrypto. No store, no server trust: only the bytes fetched.
import { canonicalizeJson } from "../../../reconcile/canonicalize-json.js";
import type { SignedCheckpoint } from "../../../reconcile/checkpoint-document.js";
import { bytesToHex, sha256 } from "../../../liabilities/verify-proof.js";
import { checkWindowFigures } from "../../../reconcile/check-window-figures.js";

/** The checks, by the name a failure reports. */
export const CHECKS = {
  parse: "JSON",
  canonical: "canonical form",
  digest: "digest",
  kid: "key id (RFC 7638 thumbprint)",
  jwks: "key in the published JWKS",
  window: "key validity window",
  signature: "Ed25519 signature",
  figures: "coverage figures",
  sequence: "sequence",
  chain: "previous-digest chain",
} as const;

/** A published key as the JWKS lists it (RFC 8037 OKP with `nbf`/`exp` in unix seconds). */
export type PublishedKey = { kty: string; crv: string; x: string; kid: string; nbf?: number; exp?: number };

export type VerifyCheckpointChainReturnType =
  | { ok: true; checked: Array<{ seq: number; digest: string; kid: string }> }
  | { ok: false; seq: number | null; check: string; problem: string; checked: Array<{ seq: number; digest: string; kid: string }> };

const UTF8 = new TextEncoder();

function base64urlToBytes(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4);
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function bytesToBase64url(b: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]!);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** RFC 7638 thumbprint of an Ed25519 public key `x` (base64url). */
export function computeThumbprint(x: string): string {
  return bytesToBase64url(sha256(UTF8.encode(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)));
}

/**
 * Verifies signed checkpoint files given in ascending `seq` order (each its exact bytes as served):
 * canonical form, digest, key id, key listed in the JWKS and valid at the snapshot's time, Ed25519
 * signature (WebCrypto), coverage figures following from the amounts, consecutive `seq` and each
 * `previousDigest` equal to the digest before it. Stops at the first failure, naming the check.
 * Never throws.
 */
export async function verifyCheckpointChain(p: { files: ReadonlyArray<{ text: string }>; jwks: { keys: readonly PublishedKey[] }; subtle: SubtleCrypto }): Promise<VerifyCheckpointChainReturnType> {
  const checked: Array<{ seq: number; digest: string; kid: string }> = [];
  let prev: { seq: number; digest: string } | null = null;
  for (const f of p.files) {
    let seq: number | null = null;
    const fail = (check: string, problem: string): VerifyCheckpointChainReturnType => ({ ok: false, seq, check, problem, checked });
    let c: SignedCheckpoint;
    try {
      c = JSON.parse(f.text) as SignedCheckpoint;
    } catch {
      return fail(CHECKS.parse, "the file is not JSON");
    }
    if (typeof c !== "object" || c === null || typeof c.document !== "object" || c.document === null || typeof c.signature !== "object" || c.signature === null) {
      return fail(CHECKS.parse, "not a signed checkpoint (document, digest, signature)");
    }
    const d = c.document;
    seq = Number.isSafeInteger(d.seq) ? d.seq : null;
    let canonical: string;
    let docBytes: string;
    try {
      canonical = canonicalizeJson(c);
      docBytes = canonicalizeJson(d);
    } catch (e) {
      return fail(CHECKS.canonical, `holds a value with no canonical JSON form (${e instanceof Error ? e.message : String(e)})`);
    }
    const body = f.text.endsWith("\n") ? f.text.slice(0, -1) : f.text;
    if (body !== canonical) return fail(CHECKS.canonical, "the bytes are not in RFC 8785 canonical form (a member reordered, whitespace added or a value re-encoded)");
    const digest = `sha256:${bytesToHex(sha256(UTF8.encode(docBytes)))}`;
    if (c.digest !== digest) return fail(CHECKS.digest, `the document's SHA-256 is ${digest}, the file says ${String(c.digest)}`);
    const s = c.signature;
    if (s.alg !== "EdDSA" || typeof s.x !== "string" || typeof s.kid !== "string" || typeof s.value !== "string") return fail(CHECKS.signature, "needs alg EdDSA and x, kid, value strings");
    if (computeThumbprint(s.x) !== s.kid) return fail(CHECKS.kid, "signature.kid is not the thumbprint of signature.x");
    const key = p.jwks.keys.find((k) => k.kid === s.kid);
    if (!key) return fail(CHECKS.jwks, `key ${s.kid} is not in the published JWKS`);
    if (key.kty !== "OKP" || key.crv !== "Ed25519" || key.x !== s.x || computeThumbprint(key.x) !== key.kid) return fail(CHECKS.jwks, `the JWKS's key ${s.kid} is not the key that signed`);
    const t = d.snapshot?.asOfTime;
    if (typeof t !== "number") return fail(CHECKS.window, "the document has no snapshot time");
    if (typeof key.nbf === "number" && t < key.nbf) return fail(CHECKS.window, `key ${s.kid} is valid only from ${new Date(key.nbf * 1000).toISOString()}`);
    if (typeof key.exp === "number" && t >= key.exp) return fail(CHECKS.window, `key ${s.kid} expired at ${new Date(key.exp * 1000).toISOString()}`);
    const raw = base64urlToBytes(s.x);
    const sig = base64urlToBytes(s.value);
    if (!raw || raw.length !== 32 || !sig || sig.length !== 64) return fail(CHECKS.signature, "malformed key or signature bytes");
    let valid = false;
    try {
      const pub = await p.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      valid = await p.subtle.verify({ name: "Ed25519" }, pub, sig, UTF8.encode(docBytes) as Uint8Array<ArrayBuffer>);
    } catch (e) {
      return fail(CHECKS.signature, `this browser cannot check Ed25519 (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!valid) return fail(CHECKS.signature, `the Ed25519 signature by ${s.kid} does not verify`);
    for (const a of Array.isArray(d.assets) ? d.assets : []) {
      if (a.reserves === null) continue;
      let reserves = 0n;
      for (const b of a.backing) reserves += BigInt(b.scaled);
      if (a.reserves !== reserves.toString()) return fail(CHECKS.figures, `${a.asset}: reserves are not the sum of the backing lines`);
      const liabilities = BigInt(a.liabilities);
      const bps = liabilities === 0n ? null : ((reserves * 10_000n) / liabilities).toString();
      if (a.coverageBps !== bps) return fail(CHECKS.figures, `${a.asset}: coverage does not follow from reserves and liabilities`);
      if (a.surplus !== null && a.surplus !== (reserves - liabilities).toString()) return fail(CHECKS.figures, `${a.asset}: surplus is not reserves minus liabilities`);
      // Version 2 carries the reserve window; version 1 documents have none and are checked as before.
      if (d.version === 2) {
        const problem = checkWindowFigures(a, reserves, (Array.isArray(d.flags) ? d.flags : []).some((f) => f.type === "window_dressing" && f.asset === a.asset));
        if (problem) return fail(CHECKS.figures, `${a.asset}: window ${problem}`);
      }
    }
    if (seq === null || seq < 1) return fail(CHECKS.sequence, "seq is not a positive integer");
    if (prev) {
      if (seq !== prev.seq + 1) return fail(CHECKS.sequence, `checkpoint ${seq} follows ${prev.seq}: one is missing`);
      if (d.previousDigest !== prev.digest) return fail(CHECKS.chain, `checkpoint ${seq}'s previous digest is not the digest of checkpoint ${prev.seq}`);
    } else if (seq === 1 && d.previousDigest !== null) return fail(CHECKS.chain, "checkpoint 1 must have no previous digest");
    checked.push({ seq, digest, kid: s.kid });
    prev = { seq, digest };
  }
  return { ok: true, checked };
}
