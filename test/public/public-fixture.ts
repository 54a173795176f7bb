// A store with several signed checkpoints, built the way Backstop builds them: real block headers,
// real liabilities imports (so real inclusion proofs), documents from buildCheckpointDocument, signed
// with signCheckpoint and appended with saveCheckpoint. Shared by the public feed's HTTP, browser and
// bench runs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importSnapshot } from "../../src/liabilities/import-snapshot.js";
import { loadProof } from "../../src/liabilities/load-proof.js";
import { resolveConfig, type ResolvedConfig } from "../../src/lib/config.js";
import { computeReserveWindow } from "../../src/reconcile/compute-reserve-window.js";
import { buildCheckpointDocument } from "../../src/reconcile/build-checkpoint-document.js";
import type { SignedCheckpoint } from "../../src/reconcile/checkpoint-document.js";
import { formatSignedCheckpoint, signCheckpoint } from "../../src/reconcile/sign-checkpoint.js";
import { createSigningKey, parseSigningKey, type SigningKey } from "../../src/reconcile/signing-key.js";
import { saveBlock, saveCheckpoint, openStore, type Store } from "../../src/store/index.js";
import { testBlock } from "../helpers/blocks.js";

/** Reserves per checkpoint as a share of liabilities, in basis points (10000 = 100%); `usdcCoverageBps` with `usdc`. */
/** `windowDressing`: a version 2 document whose BTC reserves came in at the anchor block and left the block after (flagged). */
export type FixtureCheckpoint = { coverageBps: bigint; usdcCoverageBps?: bigint; anchored?: boolean; windowDressing?: boolean };

export type PublicFixture = {
  dir: string;
  configPath: string;
  config: ResolvedConfig;
  store: Store;
  key: SigningKey;
  signed: SignedCheckpoint[];
  /** Each checkpoint's published bytes, by seq - 1. */
  files: string[];
  /** An account's inclusion proof (JSON text) in the latest snapshot, and the account's balance in base units. */
  proof: { text: string; accountId: string; balance: string };
  /** Every account id of every snapshot (none may appear in any public response). */
  accountIds: string[];
  /** Every wallet address of the scope (none may appear in any public response). */
  addresses: string[];
  /** Appends one more checkpoint (a new snapshot now), as a running platform would. */
  append(spec: FixtureCheckpoint): Promise<SignedCheckpoint>;
  close(): Promise<void>;
};

const ACCOUNTS = 40;
const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const ETH_ADDRESS = "0x00000000219ab540356cBB839Cbe05303d7705Fa";
const ADDRESSES = ["bcrt1qcustodyhot0000000000000000000000000000", "bcrt1qcustodycold000000000000000000000000000"];

/**
 * Builds the fixture in a temporary directory: chain `btc` (Bitcoin regtest descriptor) with headers
 * 0..60, one liabilities snapshot per checkpoint (an hour apart, the last `lastAgoS` seconds ago), and a
 * checkpoint for each with the given coverage. `publicSection` goes into the config's `public` section.
 */
export async function createPublicFixture(p: {
  checkpoints: readonly FixtureCheckpoint[];
  lastAgoS?: number;
  publicSection?: Record<string, unknown>;
  /** A second liability asset: USDC (6 decimals) owed, backed by USDC (6 decimals) on an EVM chain `eth`. */
  usdc?: boolean;
  /** Postgres instead of SQLite: its URL and a fresh schema (dropped by the caller). */
  postgres?: { databaseUrl: string; pgSchema: string };
}): Promise<PublicFixture> {
  const dir = mkdtempSync(join(tmpdir(), "backstop-public-"));
  const sqlitePath = join(dir, "backstop.db");
  const keyText = createSigningKey().text;
  const key = parseSigningKey(keyText);
  const input = {
    store: { sqlitePath },
    chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:9"] }, ...(p.usdc ? { eth: { chain: "ethereum", rpc: ["http://127.0.0.1:9"] } } : {}) },
    assets: { "BTC-btc": { chain: "btc", decimals: 8, native: true, backs: "BTC" }, ...(p.usdc ? { "USDC-eth": { chain: "eth", decimals: 6, address: USDC, backs: "USDC" } } : {}) },
    liabilityAssets: { BTC: { decimals: 8 }, ...(p.usdc ? { USDC: { decimals: 6 } } : {}) },
    checkpoints: { keys: [{ x: key.jwk.x, notBefore: "2020-01-01T00:00:00Z" }] },
    wallets: [],
    ...(p.publicSection ? { public: p.publicSection } : {}),
  };
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify(input, null, 2));
  const env = p.postgres ? { DATABASE_URL: p.postgres.databaseUrl, BACKSTOP_PG_SCHEMA: p.postgres.pgSchema } : {};
  const config = resolveConfig({ input, path: configPath, env });
  const store = await openStore(p.postgres ?? { sqlitePath });
  for (let h = 0; h <= 60; h++) await saveBlock(store, { block: testBlock("btc", h), changes: [], finalizedHeight: Math.max(0, h - 6) });
  if (p.usdc) for (let h = 0; h <= 60; h++) await saveBlock(store, { block: testBlock("eth", h, "e"), changes: [], finalizedHeight: Math.max(0, h - 2) });

  const nowS = Math.floor(Date.now() / 1000);
  const lastAt = nowS - (p.lastAgoS ?? 600);
  const signed: SignedCheckpoint[] = [];
  const files: string[] = [];
  const accountIds: string[] = [];
  let previousDigest: string | null = null;
  let last: { snapshotId: string; accountId: string; balance: string } | undefined;
  const append = async (spec: FixtureCheckpoint, i: number, asOfS: number): Promise<void> => {
    const asOf = new Date(asOfS * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const rows = ["account_id,asset,amount"];
    let total = 0n;
    for (let a = 0; a < ACCOUNTS; a++) {
      const id = `acct-${i}-${a}-${(a * 7919) % 1000}`;
      const sats = BigInt(100_000_000 + a * 12_345_678 + i * 1_000_001);
      total += sats;
      accountIds.push(id);
      rows.push(`${id},BTC,${(sats / 100_000_000n).toString()}.${(sats % 100_000_000n).toString().padStart(8, "0")}`);
      if (p.usdc) rows.push(`${id},USDC,${1_000_000 + a * 25_000 + i * 1_000}.${String((a * 37) % 1_000_000).padStart(6, "0")}`);
    }
    const csv = join(dir, `snap-${i}.csv`);
    writeFileSync(csv, `${rows.join("\n")}\n`);
    const snap = await importSnapshot({ store }, { source: csv, format: "csv", asOf, assets: { BTC: { decimals: 8 }, ...(p.usdc ? { USDC: { decimals: 6 } } : {}) } });
    const height = 10 + i * 5;
    const block = testBlock("btc", height);
    const anchored = spec.anchored ?? true;
    const reserves = (total * spec.coverageBps) / 10_000n;
    const usdcTotal = snap.assets.find((a) => a.id === "USDC")?.total ?? 0n;
    const eth = testBlock("eth", 20 + i * 6, "e");
    const document = buildCheckpointDocument({
      seq: i + 1,
      previousDigest,
      invalidates: null,
      snapshot: { id: snap.snapshotId, asOf: snap.asOf, asOfTime: asOfS, fileDigest: snap.contentHash, root: snap.root, proofVersion: snap.proofVersion },
      liabilities: snap.assets.map((a) => ({ asset: a.id, decimals: a.decimals, total: a.total })),
      chainAssets: [{ id: "BTC-btc", chain: "btc", decimals: 8, backs: "BTC" }, ...(p.usdc ? [{ id: "USDC-eth", chain: "eth", decimals: 6, backs: "USDC" }] : [])],
      chains: [{
        anchor: {
          chain: "btc", caip2: "bip122:0f9188f13cb7b2c71f2a335e3a4fc328", height, hash: block.hash, time: block.time, ruleTime: block.time, rule: "block-time",
          finality: "6 confirmations", skewSeconds: anchored ? 120 : 20_000, maxSkewSeconds: 10_800, anchored,
        },
        totals: { "BTC-btc": reserves }, countedWallets: ADDRESSES.length, excluded: [], addressEntries: ADDRESSES, discrepancies: [],
        ...(spec.windowDressing ? { window: { blocks: 3, walletLabels: new Map([[1, "cold"]]), assets: computeReserveWindow({
          anchorHeight: height, windowBlocks: 3, assets: ["BTC-btc"], anchorBalances: new Map([[1, new Map([["BTC-btc", reserves]])]]),
          changes: [{ walletId: 1, asset: "BTC-btc", height, txid: "in".padEnd(64, "0"), delta: reserves / 2n }, { walletId: 1, asset: "BTC-btc", height: height + 1, txid: "out".padEnd(64, "0"), delta: -(reserves / 2n) }],
        }) } } : {}),
      }, ...(p.usdc ? [{
        anchor: {
          chain: "eth", caip2: "eip155:1", height: eth.height, hash: eth.hash, time: eth.time, ruleTime: eth.time, rule: "block-time" as const,
          finality: "finalized tag", skewSeconds: 12, maxSkewSeconds: 600, anchored: true,
        },
        totals: { "USDC-eth": (usdcTotal * (spec.usdcCoverageBps ?? 10_000n)) / 10_000n }, countedWallets: 1, excluded: [], addressEntries: [ETH_ADDRESS], discrepancies: [],
      }] : [])],
      ...(spec.windowDressing ? { windowDressingBps: 1000 } : {}),
    });
    const c = signCheckpoint(document, key);
    await saveCheckpoint(store, {
      seq: document.seq, digest: c.digest, previousDigest, snapshotId: snap.snapshotId, status: document.status, invalidates: null,
      kid: key.jwk.kid, signed: formatSignedCheckpoint(c), anchors: [{ chain: "btc", height, hash: block.hash }, ...(p.usdc ? [{ chain: "eth", height: eth.height, hash: eth.hash }] : [])],
    });
    signed.push(c);
    files.push(formatSignedCheckpoint(c));
    previousDigest = c.digest;
    last = { snapshotId: snap.snapshotId, accountId: `acct-${i}-7-${(7 * 7919) % 1000}`, balance: String(100_000_000 + 7 * 12_345_678 + i * 1_000_001) };
  };
  for (let i = 0; i < p.checkpoints.length; i++) await append(p.checkpoints[i]!, i, lastAt - (p.checkpoints.length - 1 - i) * 3600);
  const proof = last ? JSON.stringify(await loadProof(store, { snapshotId: last.snapshotId, accountId: last.accountId }), null, 2) : "";
  return {
    dir, configPath, config, store, key, signed, files, accountIds, addresses: p.usdc ? [...ADDRESSES, ETH_ADDRESS] : ADDRESSES,
    proof: { text: proof, accountId: last?.accountId ?? "", balance: last?.balance ?? "" },
    async append(spec) {
      await append(spec, signed.length, Math.floor(Date.now() / 1000) - 1);
      return signed[signed.length - 1]!;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
