// Solana indexer benchmark (not a test). Two parts, in one run:
// 1. Request size: bytes and parse time per mainnet-shaped slot (~1,000 real votes + ~300 others) of
//    the old getBlock request ("full") and the new one ("accounts", non-custody transactions skipped
//    before parsing), side by side, with the derived balances asserted equal (measure-request-size.ts).
// 2. Following: 1,000 custody wallets with a busy workload on the LiteSVM chain at 400 ms slots. The
//    indexer runs as its own process (`backstop index`), talks JSON-RPC over HTTP, and writes SQLite:
//    catch-up rate (slots/s) and RPC calls per slot while catching up from the wallets' birthday,
//    finalized lag in slots while following (target <= 2), and RPC calls per slot while following.
// RPC calls are counted in the server. Usage:
//   node --import tsx bench/solana/index.ts [--wallets 1000] [--txs 60] [--backlog 300] [--follow 60] [--poll 200]
//     [--size-slots 8] [--validators 1000] [--others 300] [--size-only]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { Keypair, PublicKey } from "@solana/web3.js";
import { createAta, createMint, createRandom, mintTo, transferSol, transferToken } from "../../src/devnet/solana/chain-actions.js";
import { SolanaChainTxError, TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from "../../src/devnet/solana/create-solana-chain.js";
import { startSolanaDevnet } from "../../src/devnet/solana/start-solana-devnet.js";
import { measureRequestSize } from "./measure-request-size.js";

const { values: args } = parseArgs({
  options: {
    wallets: { type: "string", default: "1000" },
    txs: { type: "string", default: "60" },
    poll: { type: "string", default: "200" },
    backlog: { type: "string", default: "300" },
    follow: { type: "string", default: "60" },
    "size-slots": { type: "string", default: "8" },
    validators: { type: "string", default: "1000" },
    others: { type: "string", default: "300" },
    "size-only": { type: "boolean", default: false },
  },
});

// --- part 1: request size ------------------------------------------------------------------------
const sizeLines = await measureRequestSize({ slots: Number(args["size-slots"]), validators: Number(args.validators), others: Number(args.others), custodians: 200, repeats: 5 });
process.stdout.write(`${sizeLines.join("\n")}\n`);
if (args["size-only"]) process.exit(0); // litesvm: exit explicitly (see the end)

// --- part 2: following ---------------------------------------------------------------------------
const WALLETS = Number(args.wallets);
const TXS_PER_SLOT = Number(args.txs);
const BACKLOG_SLOTS = Number(args.backlog);
const FOLLOW_S = Number(args.follow);
const SLOT_MS = 400;
const POLL_MS = Number(args.poll);
const SOL = 1_000_000_000n;
const NO_PREFLIGHT = { skipPreflight: true };

const dir = mkdtempSync(join(tmpdir(), "backstop-bench-sol-"));
const net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 2, slotMs: SLOT_MS });
const { chain } = net;
const random = createRandom(400);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

// --- setup: wallets, mints, token accounts ------------------------------------------------
const t0 = performance.now();
const payer = Keypair.generate();
const authority = Keypair.generate();
chain.airdrop(payer.publicKey, 1_000_000n * SOL);
chain.tick();
const programs = [new PublicKey(TOKEN_PROGRAM), new PublicKey(TOKEN_2022_PROGRAM)];
const mints = programs.map((programId) => ({ programId, mint: createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId }) }));
const custody = Array.from({ length: WALLETS }, () => Keypair.generate());
const outsiders = Array.from({ length: 20 }, () => Keypair.generate());
const ata = new Map<string, PublicKey[]>(); // owner -> [usdc, pyusd]
for (const [i, k] of [...outsiders, ...custody].entries()) {
  chain.airdrop(k.publicKey, 100n * SOL);
  ata.set(k.publicKey.toBase58(), mints.map((m) => createAta(chain, { payer, owner: k.publicKey, mint: m.mint, programId: m.programId })));
  if (i < outsiders.length) mints.forEach((m, j) => mintTo(chain, { payer, authority, mint: m.mint, to: ata.get(k.publicKey.toBase58())![j]!, amount: 10n ** 15n, programId: m.programId }));
  if (i % 200 === 199) chain.tick();
}
chain.tick();
const setupMs = performance.now() - t0;

/**
 * One slot of busy custody traffic: deposits, withdrawals, custody-to-custody, SOL and tokens.
 * Yields to the event loop every few transactions, so the RPC server answers while the slot is
 * being filled, as a validator's RPC does while it produces blocks.
 */
async function busySlot(): Promise<number> {
  let landed = 0;
  for (let i = 0; i < TXS_PER_SLOT; i++) {
    if (i % 5 === 4) await new Promise((r) => setImmediate(r));
    const c = pick(custody);
    const o = pick(outsiders);
    const kind = Math.floor(random() * 5);
    try {
      // No preflight (as bots and exchanges send): half the runtime work, failures land and pay fees.
      if (kind === 0) transferSol(chain, { from: o, to: c.publicKey, lamports: 1_000_000n + BigInt(Math.floor(random() * 1e8)) }, NO_PREFLIGHT);
      else if (kind === 1) transferSol(chain, { from: c, to: pick(custody).publicKey, lamports: 1_000_000n + BigInt(Math.floor(random() * 1e7)), payer }, NO_PREFLIGHT);
      else {
        const j = Math.floor(random() * 2);
        const m = mints[j]!;
        const [from, owner, to] = kind === 2 ? [ata.get(o.publicKey.toBase58())![j]!, o, ata.get(c.publicKey.toBase58())![j]!] : kind === 3 ? [ata.get(c.publicKey.toBase58())![j]!, c, ata.get(o.publicKey.toBase58())![j]!] : [ata.get(c.publicKey.toBase58())![j]!, c, ata.get(pick(custody).publicKey.toBase58())![j]!];
        transferToken(chain, { payer, owner, mint: m.mint, from, to, amount: 1n + BigInt(Math.floor(random() * 1e6)), decimals: 6, programId: m.programId }, NO_PREFLIGHT);
      }
      landed++;
    } catch (e) {
      if (!(e instanceof SolanaChainTxError)) throw e;
    }
  }
  return landed;
}

// --- backlog: busy slots produced ahead of the indexer --------------------------------------
const t1 = performance.now();
let backlogTxs = 0;
for (let s = 0; s < BACKLOG_SLOTS; s++) {
  backlogTxs += await busySlot();
  chain.tick({ skip: random() < 0.05 ? 1 : 0 });
}
const backlogMs = performance.now() - t1;
const workloadMsPerSlot = backlogMs / BACKLOG_SLOTS;

// --- the indexer, as its own process -----------------------------------------------------------
const sqlitePath = join(dir, "bench.db");
const cfgPath = join(dir, "bench.config.json");
writeFileSync(
  cfgPath,
  JSON.stringify({
    store: { sqlitePath },
    chains: { sol: { chain: "solana-local", rpc: [net.url], pollIntervalMs: POLL_MS, birthdaySlot: 0 } },
    assets: {
      SOL: { chain: "sol", decimals: 9, native: true },
      USDC: { chain: "sol", decimals: 6, address: mints[0]!.mint.toBase58(), tokenProgram: "spl-token" },
      PYUSD: { chain: "sol", decimals: 6, address: mints[1]!.mint.toBase58(), tokenProgram: "token-2022" },
    },
    wallets: custody.map((k, i) => ({ label: `custody-${String(i).padStart(4, "0")}`, chain: "sol", address: k.publicKey.toBase58() })),
  }),
);
const callsBy = () => new Map(net.rpc.calls);
const diff = (a: Map<string, number>, b: Map<string, number>) => {
  const out: Record<string, number> = {};
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) > 0) out[k] = v - (a.get(k) ?? 0);
  return out;
};
const sum = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0);

const before = callsBy();
const targetSlot = chain.slotOf("finalized");
const child = spawn("node", [resolve("bin/backstop.js"), "index", "--chain", "sol", "--config", cfgPath, "--log-format", "json"], { stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
child.stderr.on("data", (d) => (stderr += String(d)));
let db: Database.Database | undefined;
const cursor = (): number | null => {
  try {
    db ??= new Database(sqlitePath, { readonly: true, fileMustExist: true });
    const row = db.prepare("SELECT height FROM chain_cursors WHERE chain = 'sol'").get() as { height: number } | undefined;
    return row ? Number(row.height) : null;
  } catch {
    return null;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Catch-up: from the birthday to the finalized slot of the backlog.
const tStart = performance.now();
let tFirst: number | undefined;
for (;;) {
  const c = cursor();
  if (c !== null && tFirst === undefined) tFirst = performance.now();
  if (c !== null && c >= chain.blockAtOrBelow(targetSlot)) break;
  if (child.exitCode !== null) throw new Error(`indexer exited (${child.exitCode}):\n${stderr}`);
  await sleep(20);
}
const catchUpS = (performance.now() - (tFirst ?? tStart)) / 1000;
const startupS = ((tFirst ?? tStart) - tStart) / 1000;
const afterCatchUp = callsBy();
const catchUpCalls = diff(before, afterCatchUp);
// Wait for the balance check after catching up (its reads are reported on their own).
while (!stderr.includes("balances match the chain")) {
  if (child.exitCode !== null) throw new Error(`indexer exited (${child.exitCode}):\n${stderr}`);
  await sleep(50);
}
const afterVerify = callsBy();
const verifyCalls = diff(afterCatchUp, afterVerify);

// Follow: busy slots every 400 ms; sample the lag behind finalized.
const lags: number[] = [];
const followStartSlot = chain.slotOf("finalized");
const followCallsStart = callsBy();
let followTxs = 0;
let slowTicks = 0;
const endAt = performance.now() + FOLLOW_S * 1000;
let nextTick = performance.now();
while (performance.now() < endAt) {
  const t = performance.now();
  followTxs += await busySlot();
  chain.tick({ skip: random() < 0.05 ? 1 : 0 });
  if (performance.now() - t > SLOT_MS) slowTicks++;
  nextTick += SLOT_MS;
  await sleep(Math.max(0, nextTick - performance.now() - 150));
  // Lag sampled just before the next slot: finalized block minus indexed block, in slots.
  const c = cursor();
  if (c !== null) lags.push(Math.max(0, chain.blockAtOrBelow(chain.slotOf("finalized")) - c));
  await sleep(Math.max(0, nextTick - performance.now()));
}
const followSlots = chain.slotOf("finalized") - followStartSlot;
const followCalls = diff(followCallsStart, callsBy());
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
db?.close();
await net.stop();
rmSync(dir, { recursive: true, force: true });

const sorted = [...lags].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const caughtUpSlots = chain.blockAtOrBelow(targetSlot);
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : String(n));
const lines = [
  `Solana indexer benchmark: ${WALLETS} custody wallets (SOL + SPL USDC + Token-2022 PYUSD), ${TXS_PER_SLOT} tx/slot, ${SLOT_MS} ms slots, indexer polls every ${POLL_MS} ms; load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} cores`,
  `  setup ${fmt(setupMs / 1000)} s; backlog ${BACKLOG_SLOTS} slots / ${backlogTxs} txs produced in ${fmt(backlogMs / 1000)} s (${fmt(workloadMsPerSlot)} ms/slot of runtime work)`,
  `catch-up (from the wallets' birthday, slot 0 to ${caughtUpSlots}): ${fmt(caughtUpSlots / catchUpS)} slots/s (${fmt(catchUpS)} s after a ${fmt(startupS)} s process start)`,
  `  RPC calls: ${sum(catchUpCalls)} = ${fmt(sum(catchUpCalls) / caughtUpSlots)} per slot ${JSON.stringify(catchUpCalls)}`,
  `  balance check after catching up: ${sum(verifyCalls)} calls ${JSON.stringify(verifyCalls)}`,
  `  (per-account polling instead, getSignaturesForAddress on every owner and token account: ${WALLETS * 3} calls per poll before any getTransaction)`,
  `follow (${FOLLOW_S} s, ${followSlots} slots, ${followTxs} txs): finalized lag in slots p50 ${pct(50)}, p95 ${pct(95)}, max ${sorted.at(-1)} (target <= 2) over ${lags.length} samples`,
  `  RPC calls: ${sum(followCalls)} = ${fmt(sum(followCalls) / Math.max(1, followSlots))} per slot ${JSON.stringify(followCalls)}`,
  `  workload ticks slower than a slot: ${slowTicks}`,
];
process.stdout.write(`${lines.join("\n")}\n`);
process.exit(0); // litesvm: exit explicitly (its native heap teardown at natural exit is not needed)
