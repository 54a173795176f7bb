import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildProofFromSnapshot, computeSnapshotRoot } from "../../src/liabilities/build-proof.js";
import { createSnapshotBuilder, type BuiltSnapshot } from "../../src/liabilities/build-snapshot.js";
import { CHUNK_LEAVES } from "../../src/liabilities/merkle-sum-tree.js";
import type { SnapshotRow } from "../../src/liabilities/parse-snapshot.js";
import { type LiabilityProof, sha256, verifyProof } from "../../src/liabilities/verify-proof.js";
import { ASSETS } from "./corpus.js";

const META = { snapshotId: "t", asOf: "2026-01-31T23:59:59Z" };
const rootOf = (s: BuiltSnapshot, meta: { snapshotId: string; asOf: string; version?: 1 | 2 } = META) => computeSnapshotRoot(s, meta);
const assetIds = Object.keys(ASSETS) as Array<keyof typeof ASSETS>;

type Account = { id: string; balances: Partial<Record<keyof typeof ASSETS, bigint>> };

function build(accounts: Account[], workers?: number): Promise<BuiltSnapshot> {
  const b = createSnapshotBuilder({ assets: ASSETS });
  let row = 2;
  const rows: SnapshotRow[] = [];
  for (const a of accounts) for (const [asset, amount] of Object.entries(a.balances)) rows.push({ row: row++, accountId: a.id, asset, amount: amount! });
  b.add(rows);
  return b.finish({ workers });
}

const accountsArb = fc.uniqueArray(
  fc.record({
    id: fc.stringMatching(/^[a-z0-9]{1,10}$/),
    balances: fc.record(
      Object.fromEntries(assetIds.map((a) => [a, fc.bigInt({ min: 0n, max: 1n << 100n })])) as Record<keyof typeof ASSETS, fc.Arbitrary<bigint>>,
      { requiredKeys: ["BTC"] },
    ),
  }),
  { minLength: 1, maxLength: 70, selector: (a) => a.id.replace(/^0+(?=\d)/, "") },
);

/**
 * An independent implementation of docs/liabilities-proofs.md (recursive, node:crypto) to pin the encoding:
 * the format-2 root over META's labels by default, the format-1 root with version 1.
 */
function referenceRoot(s: BuiltSnapshot, meta: { snapshotId: string; asOf: string; version?: 1 | 2 } = META): string {
  const H = (...parts: Uint8Array[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
  const u128 = (v: bigint) => Buffer.from(v.toString(16).padStart(32, "0"), "hex");
  const B = s.assets.length;
  type Node = { hash: Buffer; sums: bigint[] };
  let level: Node[] = [];
  for (let i = 0; i < s.accountCount; i++) {
    const a = s.accounts.leafToAccount[i]!;
    const nonce = s.accounts.nonces.subarray(a * 16, a * 16 + 16);
    const sums = Array.from({ length: B }, (_, k) => BigInt(`0x${Buffer.from(s.accounts.balances.subarray((a * B + k) * 16, (a * B + k + 1) * 16)).toString("hex")}`));
    const acct = H(Buffer.from("BSL1/acct"), nonce, Buffer.from(s.accounts.ids[a]!, "utf8"));
    level.push({ hash: H(Buffer.from("BSL1/leaf"), acct, ...sums.map(u128)), sums });
  }
  const pad: Node = { hash: H(Buffer.from("BSL1/pad")), sums: new Array(B).fill(0n) };
  while (level.length > 1) {
    const next: Node[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i]!, r = level[i + 1] ?? pad;
      next.push({ hash: H(Buffer.from("BSL1/node"), l.hash, ...l.sums.map(u128), r.hash, ...r.sums.map(u128)), sums: l.sums.map((x, k) => x + r.sums[k]!) });
    }
    level = next;
  }
  const top = level[0]!;
  const count = Buffer.alloc(8);
  count.writeBigUInt64BE(BigInt(s.accountCount));
  const assets = s.assets.map((a) => Buffer.concat([Buffer.from([Buffer.byteLength(a.id)]), Buffer.from(a.id), Buffer.from([a.decimals])]));
  const body = [count, Buffer.from([B]), ...assets, top.hash, ...top.sums.map(u128)];
  if (meta.version === 1) return H(Buffer.from("BSL1/root"), ...body).toString("hex");
  const label = (t: string) => Buffer.concat([Buffer.from([Buffer.byteLength(t)]), Buffer.from(t, "utf8")]);
  return H(Buffer.from("BSL2/root"), label(meta.snapshotId), label(meta.asOf), ...body).toString("hex");
}

describe("SHA-256 of the standalone verifier", () => {
  it("matches FIPS 180-4 vectors", () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    expect(hex(sha256(new Uint8Array()))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256(Buffer.from("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha256(Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });
  it("equals node:crypto on random input (0..300 bytes, every padding boundary)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      expect(Buffer.from(sha256(b)).toString("hex")).toBe(createHash("sha256").update(b).digest("hex"));
    }), { numRuns: 500 });
  });
});

describe("Merkle-sum tree", () => {
  it("every account's proof verifies; root totals equal the input sums; root equals an independent implementation", async () => {
    await fc.assert(fc.asyncProperty(accountsArb, async (accounts) => {
      const s = await build(accounts);
      const sums = s.assets.map((a) => accounts.reduce((t, x) => t + (x.balances[a.id as keyof typeof ASSETS] ?? 0n), 0n));
      expect(s.totals).toEqual(sums);
      expect(s.tree.totals).toEqual(sums);
      expect(rootOf(s)).toBe(referenceRoot(s));
      expect(rootOf(s, { ...META, version: 1 })).toBe(referenceRoot(s, { ...META, version: 1 }));
      for (let a = 0; a < s.accountCount; a++) {
        const proof = buildProofFromSnapshot(s, a, META);
        expect(proof.version).toBe(2);
        const r = verifyProof(proof, { expectedRoot: rootOf(s) });
        expect(r.ok, r.ok ? "" : r.reason).toBe(true);
        if (r.ok) {
          expect(r).toMatchObject({ version: 2, snapshotId: META.snapshotId, asOf: META.asOf, labelsAuthenticated: true });
          expect(r.totals).toEqual(sums);
          expect(r.balances).toEqual(s.assets.map((x) => accounts[a]!.balances[x.id as keyof typeof ASSETS] ?? 0n));
        }
      }
    }), { numRuns: 60 });
  });

  it("spans several stored chunks (more than CHUNK_LEAVES accounts, odd count) and still agrees with the reference", async () => {
    const n = 2 * CHUNK_LEAVES + 37;
    const accounts = Array.from({ length: n }, (_, i) => ({ id: `u${i}`, balances: { BTC: BigInt(i), ETH: 10n ** 18n * BigInt(i % 7) } }));
    const s = await build(accounts);
    expect(s.tree.height).toBe(12);
    expect(rootOf(s)).toBe(referenceRoot(s));
    for (const a of [0, 1, CHUNK_LEAVES - 1, CHUNK_LEAVES, n - 2, n - 1]) {
      const r = verifyProof(buildProofFromSnapshot(s, a, META), { expectedRoot: rootOf(s) });
      expect(r.ok, r.ok ? "" : r.reason).toBe(true);
    }
  });

  it("hashes large snapshots in worker threads with the same result as in-process (and the reference)", async () => {
    const n = 70 * CHUNK_LEAVES + 5; // >= 64 chunks: the parallel path
    const accounts = Array.from({ length: n }, (_, i) => ({ id: i % 97 === 0 ? `üser-${i}` : `u${i}`, balances: { BTC: BigInt(i), SOL: BigInt(i % 3) } }));
    const s = await build(accounts, 2);
    expect(rootOf(s)).toBe(referenceRoot(s));
    const { buildMerkleSumTree } = await import("../../src/liabilities/merkle-sum-tree.js");
    const ids = Buffer.concat(s.accounts.ids.map((x) => Buffer.from(x, "utf8")));
    const offsets = new Uint32Array(n + 1);
    s.accounts.ids.forEach((x, a) => (offsets[a + 1] = offsets[a]! + Buffer.byteLength(x)));
    const inProcess = await buildMerkleSumTree({
      leafCount: n, assets: s.assets, nonces: s.accounts.nonces, balances: s.accounts.balances, idBytes: ids, idOffsets: offsets,
      leafToAccount: s.accounts.leafToAccount, workers: 1,
    });
    expect(Buffer.from(inProcess.topHash).toString("hex")).toBe(Buffer.from(s.tree.topHash).toString("hex"));
    expect(inProcess.totals).toEqual(s.tree.totals);
    for (const a of [0, n - 1, 12345]) expect(verifyProof(buildProofFromSnapshot(s, a, META), { expectedRoot: rootOf(s) }).ok).toBe(true);
  });

  it("fails on any change to a balance, a sum, a sibling, the nonce, the id, the position, the totals or the root", async () => {
    const tamperings: Array<[string, (p: LiabilityProof, rnd: number) => boolean]> = [
      ["balance +1", (p, r) => { const i = r % p.balances.length; p.balances[i] = String(BigInt(p.balances[i]!) + 1n); return true; }],
      ["balance -1", (p, r) => { const i = r % p.balances.length; if (p.balances[i] === "0") return false; p.balances[i] = String(BigInt(p.balances[i]!) - 1n); return true; }],
      ["sibling sum +1", (p, r) => { if (!p.path.length) return false; const s = p.path[r % p.path.length]!; const i = r % s.sums.length; s.sums[i] = String(BigInt(s.sums[i]!) + 1n); return true; }],
      ["sibling sum moved between assets", (p, r) => {
        if (!p.path.length || p.assets.length < 2) return false;
        const s = p.path[r % p.path.length]!;
        if (s.sums[0] === "0") return false;
        s.sums[0] = String(BigInt(s.sums[0]!) - 1n); s.sums[1] = String(BigInt(s.sums[1]!) + 1n); return true;
      }],
      ["sibling hash bit flip", (p, r) => { if (!p.path.length) return false; const s = p.path[r % p.path.length]!; s.hash = flipHex(s.hash, r); return true; }],
      ["siblings swapped", (p) => { if (p.path.length < 2 || p.path[0]!.hash === p.path[1]!.hash) return false; [p.path[0], p.path[1]] = [p.path[1]!, p.path[0]!]; return true; }],
      ["nonce bit flip", (p, r) => { p.nonce = flipHex(p.nonce, r); return true; }],
      ["account id changed", (p) => { p.accountId += "x"; return true; }],
      ["leaf index changed", (p) => { if (p.leafCount < 2) return false; p.leafIndex ^= 1; if (p.leafIndex >= p.leafCount) return false; return true; }],
      ["total +1", (p, r) => { const i = r % p.totals.length; p.totals[i] = String(BigInt(p.totals[i]!) + 1n); return true; }],
      ["root bit flip", (p, r) => { p.root = flipHex(p.root, r); return true; }],
      ["decimals changed", (p) => { p.assets[0]!.decimals += 1; return true; }],
      ["leaf count changed", (p) => { p.leafCount += 1; return true; }],
      ["path level dropped", (p) => { if (!p.path.length) return false; p.path.pop(); return true; }],
    ];
    await fc.assert(fc.asyncProperty(accountsArb, fc.nat(), fc.nat({ max: tamperings.length - 1 }), async (accounts, rnd, which) => {
      const s = await build(accounts);
      const proof = buildProofFromSnapshot(s, rnd % s.accountCount, META);
      const [name, tamper] = tamperings[which]!;
      const copy = structuredClone(proof);
      if (!tamper(copy, rnd)) return;
      const r = verifyProof(copy, { expectedRoot: rootOf(s) });
      expect(r.ok, `${name} still verified`).toBe(false);
    }), { numRuns: 1500 });
  });

  it("a proof checked against another published root fails, even though it is self-consistent", async () => {
    const s1 = await build([{ id: "a", balances: { BTC: 5n } }, { id: "b", balances: { BTC: 7n } }]);
    const s2 = await build([{ id: "a", balances: { BTC: 5n } }, { id: "b", balances: { BTC: 7n } }]);
    const p = buildProofFromSnapshot(s1, 0, META);
    expect(verifyProof(p).ok).toBe(true);
    expect(verifyProof(p, { expectedRoot: rootOf(s2) })).toEqual({ ok: false, reason: "root does not match the expected (published) root" });
  });

  it("refuses sums beyond 128 bits when building, and in the verifier", async () => {
    const big = 1n << 127n;
    await expect(build([{ id: "a", balances: { BTC: big } }, { id: "b", balances: { BTC: big } }])).rejects.toMatchObject({ code: "LIABILITIES__SUM_OVERFLOW" });
    const s = await build([{ id: "a", balances: { BTC: big - 1n } }, { id: "b", balances: { BTC: big } }]);
    const p = buildProofFromSnapshot(s, 0, META);
    p.path[0]!.sums[0] = String((1n << 128n) - 1n);
    const r = verifyProof(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/overflows 128 bits|exceeds 128 bits/);
  });

  it("never throws on malformed proofs", async () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      expect(verifyProof(v).ok).toBe(false);
    }), { numRuns: 500 });
    const s = await build([{ id: "a", balances: { BTC: 1n } }, { id: "b", balances: { BTC: 2n } }]);
    const p = buildProofFromSnapshot(s, 0, META) as unknown as Record<string, unknown>;
    for (const key of Object.keys(p)) {
      for (const bad of [null, -1, "zz", [], {}, 1.5, "-5"]) {
        // Format 2 commits to every field, the labels included.
        expect(verifyProof({ ...p, [key]: bad }).ok, `${key}=${JSON.stringify(bad)}`).toBe(false);
      }
    }
  });

  const snapshotIdArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
  const asOfArb = fc.tuple(
    fc.date({ min: new Date("2009-01-04T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }),
    fc.constantFrom("Z", "+01:00", "-05:30", "+14:00"), fc.boolean(),
  ).map(([d, offset, frac]) => d.toISOString().replace(/\.\d{3}Z$/, frac ? `.${String(d.getUTCMilliseconds()).padStart(3, "0")}${offset}` : offset));
  // Another valid value of the same label, so the change is caught by the root, not by a format check.
  const relabel: Array<[string, (p: LiabilityProof, r: number) => boolean]> = [
    ["snapshotId", (p, r) => { p.snapshotId = p.snapshotId.length < 128 ? `${p.snapshotId}${"a1._:-"[r % 6]}` : p.snapshotId.slice(0, -1); return true; }],
    ["snapshotId case", (p) => { const up = p.snapshotId.toUpperCase(); if (up === p.snapshotId) return false; p.snapshotId = up; return true; }],
    ["asOf second", (p) => { p.asOf = p.asOf.replace(/:(\d{2})(?=[.Z+-])/, (_m, sec: string) => `:${String((Number(sec) + 1) % 60).padStart(2, "0")}`); return true; }],
    ["asOf offset, same instant", (p) => {
      // The same instant written in another offset: +01:00, or Z when it already says +01:00.
      const [, frac = ""] = /:\d{2}(\.\d{3})?(?:Z|[+-]\d{2}:\d{2})$/.exec(p.asOf)!;
      const [offset, minutes] = p.asOf.endsWith("+01:00") ? ["Z", 0] : ["+01:00", 60];
      const local = new Date(Date.parse(p.asOf) + minutes * 60_000).toISOString().slice(0, 19);
      p.asOf = `${local}${frac}${offset}`; return true;
    }],
    ["asset id", (p, r) => { const a = p.assets[r % p.assets.length]!; a.id = `${a.id}x`; return true; }],
    ["decimals", (p, r) => { const a = p.assets[r % p.assets.length]!; a.decimals = a.decimals === 0 ? 1 : a.decimals - 1; return true; }],
    ["version 2 -> 1", (p) => { p.version = 1; return true; }],
    ["version 2 -> 3", (p) => { (p as { version: number }).version = 3; return true; }],
  ];

  it("format 2: the snapshot id, as-of, asset ids, decimals and version are committed; relabelling any is refused", async () => {
    const applied = new Set<string>();
    await fc.assert(fc.asyncProperty(accountsArb, snapshotIdArb, asOfArb, fc.nat(), fc.nat({ max: relabel.length - 1 }), async (accounts, snapshotId, asOf, rnd, which) => {
      const s = await build(accounts);
      const meta = { snapshotId, asOf };
      const published = rootOf(s, meta);
      expect(published).toBe(referenceRoot(s, meta));
      const proof = buildProofFromSnapshot(s, rnd % s.accountCount, meta);
      const ok = verifyProof(structuredClone(proof), { expectedRoot: published });
      expect(ok).toMatchObject({ ok: true, version: 2, snapshotId, asOf, labelsAuthenticated: true });
      const [name, tamper] = relabel[which]!;
      const copy = structuredClone(proof);
      if (!tamper(copy, rnd)) return;
      applied.add(name);
      // Refused on its own (the root it carries no longer matches) and against the published root.
      expect(verifyProof(copy).ok, `${name} still verified`).toBe(false);
      expect(verifyProof(copy, { expectedRoot: published }).ok, `${name} still verified against the published root`).toBe(false);
    }), { numRuns: 400 });
    // Every kind of relabelling is tried at least once more on a fixed proof, so none can go untried by chance.
    const s = await build([{ id: "a", balances: { BTC: 5n } }, { id: "b", balances: { ETH: 7n } }]);
    const meta = { snapshotId: "liab-2026-01", asOf: "2026-01-31T23:59:59Z" };
    const published = rootOf(s, meta);
    for (const [name, tamper] of relabel) {
      const copy = structuredClone(buildProofFromSnapshot(s, 0, meta));
      expect(tamper(copy, 1), `${name} applies to the fixed proof`).toBe(true);
      applied.add(name);
      expect(verifyProof(copy).ok, `${name} still verified`).toBe(false);
      expect(verifyProof(copy, { expectedRoot: published }).ok, `${name} still verified against the published root`).toBe(false);
    }
    expect([...applied].sort()).toEqual(relabel.map(([n]) => n).sort());
  });

  it("format 2: a proof relabelled AND given the root recomputed over the new labels no longer matches the published root", async () => {
    const s = await build([{ id: "a", balances: { BTC: 5n } }, { id: "b", balances: { BTC: 7n } }, { id: "c", balances: { ETH: 1n } }]);
    const meta = { snapshotId: "liab-2026-01", asOf: "2026-01-31T23:59:59Z" };
    const published = rootOf(s, meta);
    for (const forged of [
      { ...meta, snapshotId: "liab-2026-02" }, { ...meta, asOf: "2026-02-28T23:59:59Z" },
      { ...meta, version: 1 as const }, { ...meta, snapshotId: "liab-2026-02", version: 1 as const },
    ]) {
      const p = buildProofFromSnapshot(s, 1, forged); // what a forger can build: a self-consistent proof
      expect(verifyProof(p).ok).toBe(true);
      expect(verifyProof(p, { expectedRoot: published })).toEqual({ ok: false, reason: "root does not match the expected (published) root" });
    }
  });

  it("format 1 still verifies, and says its snapshot id and as-of are not authenticated", async () => {
    await fc.assert(fc.asyncProperty(accountsArb, fc.nat(), async (accounts, rnd) => {
      const s = await build(accounts);
      const v1 = { ...META, version: 1 as const };
      const published = rootOf(s, v1);
      const proof = buildProofFromSnapshot(s, rnd % s.accountCount, v1);
      expect(proof.version).toBe(1);
      expect(verifyProof(proof, { expectedRoot: published })).toMatchObject({ ok: true, version: 1, snapshotId: "t", labelsAuthenticated: false });
      // The weakness format 2 fixes: v1 labels are outside the root, so editing them changes nothing...
      const relabelled = { ...structuredClone(proof), snapshotId: "someone-else", asOf: "2020-01-01T00:00:00Z" };
      expect(verifyProof(relabelled, { expectedRoot: published })).toMatchObject({ ok: true, snapshotId: "someone-else", labelsAuthenticated: false });
      // ...while the asset list and decimals were always committed.
      const dec = structuredClone(proof);
      dec.assets[0]!.decimals += 1;
      expect(verifyProof(dec, { expectedRoot: published }).ok).toBe(false);
      // And a v1 proof presented as v2 is refused (the v2 root commits to other bytes).
      expect(verifyProof({ ...structuredClone(proof), version: 2 }, { expectedRoot: published }).ok).toBe(false);
    }), { numRuns: 60 });
  });

  it("leaves reveal no account id: sibling hashes differ between two snapshots of the same data (fresh nonces)", async () => {
    const accounts = [{ id: "alice", balances: { BTC: 1n } }, { id: "bob", balances: { BTC: 1n } }];
    const a = buildProofFromSnapshot(await build(accounts), 0, META);
    const b = buildProofFromSnapshot(await build(accounts), 0, META);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.path[0]!.hash).not.toBe(b.path[0]!.hash);
    expect(JSON.stringify(a)).not.toMatch(a.accountId === "alice" ? /bob/ : /alice/);
  });
});

function flipHex(h: string, r: number): string {
  const i = r % h.length;
  const c = (parseInt(h[i]!, 16) ^ (1 << (r % 4))).toString(16);
  return h.slice(0, i) + c + h.slice(i + 1);
}
