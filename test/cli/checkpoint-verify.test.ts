import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { buildCheckpointDocument } from "../../src/reconcile/build-checkpoint-document.js";
import { formatSignedCheckpoint, signCheckpoint } from "../../src/reconcile/sign-checkpoint.js";
import { buildPublicJwk, createSigningKey, parseSigningKey } from "../../src/reconcile/signing-key.js";
import type { SignedCheckpoint } from "../../src/reconcile/checkpoint-document.js";
import { computeReserveWindow } from "../../src/reconcile/compute-reserve-window.js";

const BIN = resolve("bin/backstop.js");
const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "backstop-verify-"));

async function cli(args: string[]) {
  try {
    const r = await execFileP("node", [BIN, ...args], { cwd: dir, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout: string; stderr: string };
    return { code: err.code ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

const T = 1_767_225_600; // 2026-01-01T00:00:00Z
const key = parseSigningKey(createSigningKey().text);
const other = parseSigningKey(createSigningKey().text);

/** Checkpoints 1..n; from seq `v2From` on, version 2 documents (seq 3 dressed: 1 BTC in just before its anchor, out just after). */
function chain(n: number, k = key, v2From = Infinity): SignedCheckpoint[] {
  const out: SignedCheckpoint[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const v2 = seq >= v2From;
    const total = 150_000_000n + BigInt(seq);
    const dressed = seq === 3 ? [{ walletId: 1, asset: "BTC_btc", height: 100 + seq, txid: "in", delta: 100_000_000n }, { walletId: 1, asset: "BTC_btc", height: 101 + seq, txid: "out", delta: -100_000_000n }] : [];
    const window = v2 ? {
      blocks: 6, walletLabels: new Map([[1, "cold"]]),
      assets: computeReserveWindow({ anchorHeight: 100 + seq, windowBlocks: 6, assets: ["BTC_btc"], anchorBalances: new Map([[1, new Map([["BTC_btc", total]])]]), changes: dressed }),
    } : undefined;
    const document = buildCheckpointDocument({
      seq, previousDigest: out[seq - 2]?.digest ?? null, invalidates: null,
      snapshot: { id: `s${seq}`, asOf: new Date((T + seq * 3600) * 1000).toISOString(), asOfTime: T + seq * 3600, fileDigest: `sha256:${"ab".repeat(32)}`, root: "cd".repeat(32), proofVersion: 2 },
      liabilities: [{ asset: "BTC", decimals: 8, total: 100_000_000n }],
      chainAssets: [{ id: "BTC_btc", chain: "btc", decimals: 8, backs: "BTC" }],
      chains: [{
        anchor: { chain: "btc", caip2: "bip122:0f9188f13cb7b2c71f2a335e3a4fc328", height: 100 + seq, hash: "ee".repeat(32), time: T + seq * 3600, ruleTime: T + seq * 3600 - 60, rule: "median-time-past", finality: "6 confirmations", skewSeconds: 60, maxSkewSeconds: 10800, anchored: true },
        totals: { BTC_btc: total }, countedWallets: 1, excluded: [], addressEntries: ["bcrt1qx"], discrepancies: [], window,
      }],
      windowDressingBps: v2 ? 1000 : undefined,
    });
    out.push(signCheckpoint(document, k));
  }
  return out;
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const jwks = (entries: Array<{ k: typeof key; nbf: number; exp?: number }>) =>
  write(`jwks-${Math.random().toString(36).slice(2)}.json`, JSON.stringify({ keys: entries.map((e) => ({ ...buildPublicJwk(e.k.jwk.x), nbf: e.nbf, ...(e.exp ? { exp: e.exp } : {}) })) }));

describe("backstop checkpoint verify (spawned, no store, no network)", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const good = chain(3);
  const files = good.map((c, i) => write(`cp-${i + 1}.json`, formatSignedCheckpoint(c)));
  const pinned = jwks([{ k: key, nbf: T }]);

  it("accepts an intact chain, with and without a JWKS", async () => {
    const r = await cli(["checkpoint", "verify", ...files, "--jwks", pinned]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
    expect(r.stdout).toContain(`checkpoint 3 covered, ${good[2]!.digest}, signed by ${key.jwk.kid}`);
    const loose = await cli(["checkpoint", "verify", ...files]);
    expect(loose.code).toBe(0);
    expect(loose.stderr).toContain("no --jwks given");
  });

  it("refuses a tampered byte (digest)", async () => {
    const text = formatSignedCheckpoint(good[1]!).replace('"amount":"150000002"', '"amount":"950000002"');
    expect(text).not.toBe(formatSignedCheckpoint(good[1]!));
    const bad = write("tampered.json", text);
    const r = await cli(["checkpoint", "verify", files[0]!, bad, files[2]!, "--jwks", pinned]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: digest: does not match the document`);
  });

  it("refuses a tampered digest and signature together (re-hashed: the signature fails)", async () => {
    const c = structuredClone(good[1]!);
    c.document.assets[0]!.liabilities = "1";
    c.document.assets[0]!.coverageBps = "1500000200";
    c.document.assets[0]!.surplus = "150000001";
    const { canonicalizeJson } = await import("../../src/reconcile/canonicalize-json.js");
    const { computeDigest } = await import("../../src/reconcile/compute-digest.js");
    c.digest = computeDigest(canonicalizeJson(c.document));
    const bad = write("rehashed.json", formatSignedCheckpoint(c));
    const r = await cli(["checkpoint", "verify", bad, "--jwks", pinned]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: signature.value: the Ed25519 signature does not verify`);
  });

  it("refuses a reordered field (the file must be byte-exact canonical JSON)", async () => {
    const c = good[0]!;
    const reordered = JSON.stringify({ signature: c.signature, digest: c.digest, document: JSON.parse(formatSignedCheckpoint(c)).document });
    const bad = write("reordered.json", `${reordered}\n`);
    const r = await cli(["checkpoint", "verify", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: (file): not in RFC 8785 canonical form`);
  });

  it("refuses a dropped checkpoint (a gap in the sequence)", async () => {
    const r = await cli(["checkpoint", "verify", files[0]!, files[2]!, "--jwks", pinned]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${files[2]}: document.seq: is 3, expected 2: a checkpoint is missing`);
  });

  it("refuses a swapped key (re-signed by a key the JWKS does not list)", async () => {
    const swapped = chain(1, other)[0]!;
    const bad = write("swapped.json", formatSignedCheckpoint(swapped));
    const r = await cli(["checkpoint", "verify", bad, "--jwks", pinned]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: signature.kid: key ${other.jwk.kid} is not in the JWKS`);
    // Its own key named in the file, but a foreign signature value: refused too.
    const mixed = structuredClone(good[0]!);
    mixed.signature.value = swapped.signature.value;
    const bad2 = write("mixed.json", formatSignedCheckpoint(mixed));
    const r2 = await cli(["checkpoint", "verify", bad2, "--jwks", pinned]);
    expect(r2.stderr).toContain(`${bad2}: signature.value`);
  });

  it("refuses an expired key (the snapshot's time is past the key's window)", async () => {
    const expired = jwks([{ k: key, nbf: T, exp: T + 2 * 3600 }]);
    const r = await cli(["checkpoint", "verify", ...files, "--jwks", expired]);
    expect(r.code).toBe(1);
    // Checkpoints 1 (T + 1 h) is inside the window; 2 (T + 2 h) is not.
    expect(r.stderr).toContain(`${files[1]}: signature.kid: key ${key.jwk.kid} expired at`);
    const early = jwks([{ k: key, nbf: T + 10 * 3600 }]);
    const r2 = await cli(["checkpoint", "verify", files[0]!, "--jwks", early]);
    expect(r2.stderr).toContain(`${files[0]}: signature.kid: key ${key.jwk.kid} is valid from`);
  });

  it("a version 1 checkpoint followed by version 2 ones verifies as one chain; a v2 flag dropped and re-signed is refused", async () => {
    const mixed = chain(3, key, 2);
    expect(mixed.map((c) => c.document.version)).toEqual([1, 2, 2]);
    expect(mixed[2]!.document.flags!.map((f) => [f.type, f.asset, f.inflows[0]!.txid, f.outflows[0]!.txid])).toEqual([["window_dressing", "BTC", "in", "out"]]);
    const names = mixed.map((c, i) => write(`mixed-${i + 1}.json`, formatSignedCheckpoint(c)));
    const r = await cli(["checkpoint", "verify", ...names, "--jwks", pinned]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
    expect(r.stdout).toContain(`checkpoint 3 covered, ${mixed[2]!.digest}, signed by ${key.jwk.kid}; FLAGGED window_dressing BTC\n`);
    // The signer's own key, but the flag removed: the figures say window dressing, the flags do not.
    const hidden = structuredClone(mixed[2]!.document);
    hidden.flags = [];
    const bad = write("hidden-flag.json", formatSignedCheckpoint(signCheckpoint(hidden, key)));
    const r2 = await cli(["checkpoint", "verify", bad, "--jwks", pinned]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`${bad}: document.assets[0].window: window dressing is not listed in flags`);
  });

  it("names an unreadable file", async () => {
    const r = await cli(["checkpoint", "verify", join(dir, "missing.json")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing.json: (file): cannot be read (ENOENT)");
  });
});
