import { canonicalizeJson } from "./canonicalize-json.js";
import { computeCoverageBps } from "./compute-coverage.js";
import { computeDigest } from "./compute-digest.js";
import { CHECKPOINT_TYPE, CHECKPOINT_VERSIONS, WINDOW_DRESSING, type SignedCheckpoint } from "./checkpoint-document.js";
import { CheckpointVerifyError } from "./errors.js";
import { checkWindowFigures } from "./check-window-figures.js";
import { computeJwkThumbprint, verifyBytes } from "./signing-key.js";

/** A published key (JWKS entry): RFC 8037 OKP key plus its validity window (`nbf`, `exp`: unix seconds; exp optional). */
export type JwksKey = { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg?: string; use?: string; nbf: number; exp?: number };
export type Jwks = { keys: JwksKey[] };

/** One file to verify: its name (for messages) and its bytes as text. */
export type CheckpointFile = { name: string; text: string };

export type VerifyCheckpointsReturnType = {
  /** Per file, in the order given: seq, digest, status, kid, and (version 2) its flags as "<type> <asset>". */
  checked: Array<{ name: string; seq: number; digest: string; status: string; kid: string; flags: string[] }>;
  /** Whether the signatures were checked against a JWKS (else only against the key named in each file). */
  keysPinned: boolean;
};

/**
 * Verifies signed checkpoints with no store and no network, in the order given: each file is the
 * byte-exact RFC 8785 form of its envelope (so an edited byte, reordered member or added whitespace is
 * refused), its digest is SHA-256 of its document's canonical bytes, its Ed25519 signature verifies with
 * the key `signature.x` whose RFC 7638 thumbprint is `signature.kid` (with a JWKS: a key listed there,
 * valid at the snapshot's time), its coverage figures follow from its amounts, and each file after the
 * first has the next sequence number and the previous file's digest as `previousDigest`.
 * @throws CheckpointVerifyError naming the first file and field at fault
 */
export function verifyCheckpoints(files: readonly CheckpointFile[], p: { jwks?: Jwks } = {}): VerifyCheckpointsReturnType {
  const checked: VerifyCheckpointsReturnType["checked"] = [];
  let prev: { seq: number; digest: string } | undefined;
  for (const f of files) {
    const fail = (field: string, problem: string): never => {
      throw new CheckpointVerifyError({ file: f.name, field, problem });
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(f.text);
    } catch {
      fail("(file)", "not JSON");
    }
    const c = parsed as SignedCheckpoint & { signature: { x?: unknown } };
    if (!isObject(c) || !isObject(c.document) || !isObject(c.signature)) fail("(file)", "not a signed checkpoint (document, digest, signature)");
    let canonical: string;
    try {
      canonical = canonicalizeJson(c);
    } catch {
      return fail("(file)", "holds a value with no canonical JSON form");
    }
    const body = f.text.endsWith("\n") ? f.text.slice(0, -1) : f.text;
    if (body !== canonical) fail("(file)", "not in RFC 8785 canonical form: a member reordered, whitespace added or a value re-encoded");
    const d = c.document;
    if (d.type !== CHECKPOINT_TYPE) fail("document.type", `expected "${CHECKPOINT_TYPE}"`);
    if (!CHECKPOINT_VERSIONS.includes(d.version)) fail("document.version", `unsupported version ${JSON.stringify(d.version)} (this verifier reads ${CHECKPOINT_VERSIONS.join(", ")})`);
    if (!Number.isSafeInteger(d.seq) || d.seq < 1) fail("document.seq", "not a positive integer");
    const digest = computeDigest(canonicalizeJson(d));
    if (c.digest !== digest) fail("digest", `does not match the document (SHA-256 of its canonical bytes is ${digest})`);
    const s = c.signature;
    if (s.alg !== "EdDSA") fail("signature.alg", `expected "EdDSA"`);
    if (typeof s.x !== "string" || typeof s.kid !== "string" || typeof s.value !== "string") fail("signature", "needs x, kid and value strings");
    if (computeJwkThumbprint(s.x as string) !== s.kid) fail("signature.kid", "is not the RFC 7638 thumbprint of signature.x");
    if (p.jwks) {
      const key = p.jwks.keys.find((k) => k.kid === s.kid);
      if (!key) fail("signature.kid", `key ${s.kid} is not in the JWKS`);
      if (key!.x !== s.x) fail("signature.x", `differs from the JWKS's key ${s.kid}`);
      const t = d.snapshot?.asOfTime;
      if (typeof t !== "number") fail("document.snapshot.asOfTime", "missing");
      if (typeof key!.nbf === "number" && t < key!.nbf) fail("signature.kid", `key ${s.kid} is valid from ${iso(key!.nbf)}, after the snapshot's time ${iso(t)}`);
      if (typeof key!.exp === "number" && t >= key!.exp) fail("signature.kid", `key ${s.kid} expired at ${iso(key!.exp)}, before the snapshot's time ${iso(t)}`);
    }
    if (!verifyBytes(s.x as string, canonicalizeJson(d), s.value)) fail("signature.value", "the Ed25519 signature does not verify");
    (Array.isArray(d.assets) ? d.assets : []).forEach((a, i) => {
      if (a.reserves === null) return;
      const reserves = a.backing.reduce((sum, b) => sum + BigInt(b.scaled), 0n);
      if (a.reserves !== reserves.toString()) fail(`document.assets[${i}].reserves`, "is not the sum of its backing lines");
      const cov = computeCoverageBps(reserves, BigInt(a.liabilities));
      if (a.coverageBps !== (cov === null ? null : cov.toString())) fail(`document.assets[${i}].coverageBps`, "does not follow from reserves and liabilities");
      if (d.version === 2) {
        const problem = checkWindowFigures(a, reserves, (d.flags ?? []).some((f) => f.type === WINDOW_DRESSING && f.asset === a.asset));
        if (problem) fail(`document.assets[${i}].window`, problem);
      }
    });
    if (prev) {
      if (d.seq !== prev.seq + 1) fail("document.seq", `is ${d.seq}, expected ${prev.seq + 1}: a checkpoint is missing or the files are out of order`);
      if (d.previousDigest !== prev.digest) fail("document.previousDigest", `does not match the digest of checkpoint ${prev.seq}`);
    } else if (d.seq === 1 && d.previousDigest !== null) fail("document.previousDigest", "checkpoint 1 has no predecessor: must be null");
    checked.push({ name: f.name, seq: d.seq, digest, status: String(d.status), kid: s.kid, flags: (Array.isArray(d.flags) ? d.flags : []).map((x) => `${x.type} ${x.asset}`) });
    prev = { seq: d.seq, digest };
  }
  return { checked, keysPinned: p.jwks !== undefined };
}

/**
 * Parses a JWKS file's text.
 * @throws CheckpointVerifyError naming the field at fault
 */
export function parseJwks(name: string, text: string): Jwks {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new CheckpointVerifyError({ file: name, field: "(file)", problem: "not JSON" });
  }
  if (!isObject(j) || !Array.isArray((j as Jwks).keys)) throw new CheckpointVerifyError({ file: name, field: "keys", problem: "expected an array" });
  (j as Jwks).keys.forEach((k, i) => {
    if (!isObject(k) || k.kty !== "OKP" || k.crv !== "Ed25519" || typeof k.x !== "string") throw new CheckpointVerifyError({ file: name, field: `keys[${i}]`, problem: "not an Ed25519 OKP key" });
    if (k.kid !== computeJwkThumbprint(k.x)) throw new CheckpointVerifyError({ file: name, field: `keys[${i}].kid`, problem: "is not the RFC 7638 thumbprint of x" });
    if (typeof k.nbf !== "number") throw new CheckpointVerifyError({ file: name, field: `keys[${i}].nbf`, problem: "missing (unix seconds the key is valid from)" });
  });
  return j as Jwks;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function iso(s: number): string {
  return new Date(s * 1000).toISOString();
}
