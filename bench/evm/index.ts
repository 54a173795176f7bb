// EVM benchmark (not a test): 1,000 custody wallets × (ETH + 5 tokens) on anvil with a busy random
// workload, indexed by Backstop's EVM indexer (Ponder child + mirror into SQLite) through a counting
// JSON-RPC proxy. Prints, side by side: the previous design (traces + receipts + 100-block snapshots; run
// from a checkout of it given as BENCH_OLD_DIR, same seeded workload), this design (native balances read
// every block, no traces or receipts) and the naive baseline (one getBalance/balanceOf per wallet per asset
// per block, on a sample of blocks): RPC calls per block by method, backfill blocks/s, following blocks/s.
// Targets for this design: ≤ 2 calls per block at 1,000 wallets (eth_getLogs amortised, printed
// separately), ≥ 100 blocks/s backfill, no debug_*/trace_*/receipt calls.
// Run: node --import tsx bench/evm/index.ts [wallets] [blocks]   (BENCH_OLD_DIR=/path/to/old/checkout)
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeDeployData, encodeFunctionData, numberToHex, type Address, type Hex } from "viem";
import { erc20Abi } from "../../abis/erc20.js";
import { buildPonderPlan } from "../../src/chains/evm/build-ponder-plan.js";
import { createEvmIndexer } from "../../src/chains/evm/create-evm-adapter.js";
import { computePonderSchema } from "../../src/chains/evm/create-ponder-supervisor.js";
import { compileDevnetContracts } from "../../src/devnet/evm/contracts.js";
import { deployMulticall3 } from "../../src/devnet/evm/deploy-multicall3.js";
import { startAnvil } from "../../src/devnet/evm/start-anvil.js";
import { resolveConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { loadCursor, openStore } from "../../src/store/index.js";

const WALLETS = Number(process.argv[2] ?? 1000);
const BLOCKS = Number(process.argv[3] ?? 1000);
const TOKENS = 5;
const TX_PER_BLOCK = 12;
const SNAPSHOT = 100;
/** Blocks mined while the indexer follows (measures following throughput). */
const FOLLOW_BLOCKS = Number(process.env.BENCH_FOLLOW_BLOCKS ?? 100);

/** Runs the previous design's bench (its own checkout) on the same seeded workload; resolves with its output. */
function runOldBench(dir: string): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ["--import", "tsx", path.join(dir, "bench/evm/index.ts"), String(WALLETS), String(BLOCKS)], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", () => undefined);
    c.on("exit", () => resolve(out));
  });
}

const perBlock = (byMethod: Map<string, number>, blocks: number, skip: (m: string) => boolean = () => false) =>
  [...byMethod.entries()].filter(([m]) => !skip(m)).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${(n / blocks).toFixed(2)}`).join(", ");

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

type Counter = { calls: number; byMethod: Map<string, number> };
/** A JSON-RPC proxy that counts every call (each entry of a batch counts as one). */
async function startCountingProxy(target: string): Promise<{ url: string; counter: Counter; reset(): void; server: Server }> {
  const counter: Counter = { calls: 0, byMethod: new Map() };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    try {
      const j = JSON.parse(body) as { method: string } | Array<{ method: string }>;
      for (const m of Array.isArray(j) ? j : [j]) {
        counter.calls++;
        counter.byMethod.set(m.method, (counter.byMethod.get(m.method) ?? 0) + 1);
      }
    } catch {
      // forwarded as is
    }
    const r = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(r.status, { "content-type": "application/json" });
    res.end(await r.text());
  });
  // Keep idle connections open longer than any client's keep-alive: otherwise the server closes a socket
  // as a client reuses it ("other side closed"), and the client's retries inflate the count.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, counter, server, reset: () => ((counter.calls = 0), counter.byMethod.clear()) };
}

async function main() {
  // The previous design first (its own anvil and Ponder), so the two never share the two cores.
  // BENCH_OLD_OUT=<file>: reuse a saved output of the previous design's bench (it takes minutes).
  const oldDir = process.env.BENCH_OLD_DIR;
  const oldFile = process.env.BENCH_OLD_OUT;
  let oldOut = oldFile && existsSync(oldFile) ? readFileSync(oldFile, "utf8") : "";
  if (!oldOut && oldDir) {
    oldOut = await runOldBench(oldDir);
    if (oldFile) writeFileSync(oldFile, oldOut);
  }
  if (oldOut) console.log(`previous design's bench output:\n${oldOut.trim().split("\n").map((l) => `  | ${l}`).join("\n")}\n`);
  const anvil = await startAnvil({ chainId: 31337 });
  const rpc = async <T>(method: string, params: unknown[] = []) => {
    const r = (await (await fetch(anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) })).json()) as { result: T; error?: { message: string } };
    if (r.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
  };
  const dir = mkdtempSync(path.join(tmpdir(), "backstop-bench-evm-"));
  try {
    await deployMulticall3(anvil.rpcUrl);
    await rpc("anvil_mine", ["0x1"]);
    const [funder, ext] = (await rpc<Address[]>("eth_accounts")).slice(0, 2) as [Address, Address];
    const c = compileDevnetContracts().TestToken;
    const tokens: Address[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const data = encodeDeployData({ abi: c.abi, bytecode: c.bytecode, args: [`T${i}`, 6] });
      const hash = await rpc<Hex>("eth_sendTransaction", [{ from: funder, data }]);
      let receipt: { contractAddress: Address } | null = null;
      while (!(receipt = await rpc<{ contractAddress: Address } | null>("eth_getTransactionReceipt", [hash]))) await new Promise((r) => setTimeout(r, 50));
      tokens.push(receipt.contractAddress);
      await rpc("eth_sendTransaction", [{ from: funder, to: tokens[i], data: encodeFunctionData({ abi: [{ type: "function", name: "mint", inputs: [{ type: "address" }, { type: "uint256" }], outputs: [], stateMutability: "nonpayable" }], args: [funder, 10n ** 30n] }) }]);
    }
    const wallets: Address[] = Array.from({ length: WALLETS }, (_, i) => `0x${(0x100000n + BigInt(i)).toString(16).padStart(40, "b")}` as Address);
    await rpc("anvil_autoImpersonateAccount", [true]);
    await rpc("evm_setAutomine", [false]);
    const t0 = performance.now();
    for (let b = 0; b < BLOCKS; b++) {
      for (let i = 0; i < TX_PER_BLOCK; i++) {
        const w = pick(wallets);
        const token = pick(tokens);
        const r = rand();
        if (r < 0.45) await (rpc("eth_sendTransaction", [{ from: funder, to: token, data: encodeFunctionData({ abi: c.abi, functionName: "transfer", args: [w, BigInt(1 + Math.floor(rand() * 1e6))] }) }]));
        else if (r < 0.75) await (rpc("eth_sendTransaction", [{ from: funder, to: w, value: numberToHex(10n ** 16n) }]));
        else await rpc("eth_sendTransaction", [{ from: w, to: ext, value: "0x1" }]).catch(() => undefined); // withdrawal + gas (fails while unfunded)
      }
      await rpc("evm_mine", []);
    }
    const head = Number(BigInt(await rpc<string>("eth_blockNumber")));
    console.log(`workload: ${BLOCKS} blocks × ${TX_PER_BLOCK} txs in ${((performance.now() - t0) / 1000).toFixed(1)} s (head ${head}), ${WALLETS} wallets, ${TOKENS} tokens`);

    const proxy = await startCountingProxy(anvil.rpcUrl);
    const sqlitePath = path.join(dir, "backstop.db");
    // BENCH_PG=postgres://…: the store and Ponder on Postgres (fresh schemas, dropped afterwards).
    const pgUrl = process.env.BENCH_PG;
    const pgSchema = `bench_${process.pid}`;
    const config = resolveConfig({
      path: "bench",
      env: pgUrl ? { DATABASE_URL: pgUrl, BACKSTOP_PG_SCHEMA: pgSchema } : {},
      input: {
        store: { sqlitePath },
        chains: { eth: { chain: "anvil", rpc: [proxy.url], startHeight: 1, pollIntervalMs: 1000, snapshotInterval: SNAPSHOT, maxRequestsPerSecond: Number(process.env.BENCH_RPS ?? 1000) } },
        assets: {
          ETH: { chain: "eth", decimals: 18, native: true },
          ...Object.fromEntries(tokens.map((t, i) => [`T${i}`, { chain: "eth", decimals: 6, address: t }])),
        },
        wallets: wallets.map((a, i) => ({ label: `w${i}`, chain: "eth", address: a })),
      },
    });
    const store = await openStore(pgUrl ? { databaseUrl: pgUrl, pgSchema } : { sqlitePath });
    const logger = createLogger({ level: "warn", format: "json" });
    let sup: { stop(): Promise<void> } | undefined;
    let firstAt = 0;
    let firstHeight = 0;
    const tStart = performance.now();
    // BENCH_CPU_PROF=<dir>: Ponder runs with --cpu-prof (a .cpuprofile written there when it stops).
    const prof = process.env.BENCH_CPU_PROF;
    const indexer = createEvmIndexer(
      { config, chainKey: "eth", store, logger },
      { ponderDir: path.join(dir, "ponder"), onSupervisor: (s) => (sup = s), ...(prof ? { ponderNodeArgs: ["--cpu-prof", `--cpu-prof-dir=${path.resolve(prof)}`] } : {}) },
    );
    // Progress trace: Ponder's indexed block (its /status) next to Backstop's cursor, every 2 s.
    const trace = setInterval(async () => {
      const st = await fetch(`${(sup as { baseUrl?: () => string } | undefined)?.baseUrl?.() ?? "http://127.0.0.1:1"}/status`).then((r) => r.json() as Promise<Record<string, { block: { number: number } }>>).catch(() => null);
      const cur = await loadCursor(store, "eth");
      if (process.env.BENCH_TRACE) console.log(`  t=${((performance.now() - tStart) / 1000).toFixed(0)}s ponder=${st?.eth?.block.number ?? "-"} cursor=${cur?.height ?? "-"} rpc=${proxy.counter.calls}`);
    }, 2000);
    await indexer.run({
      once: true,
      onProgress: ({ height }) => {
        if (!firstAt) ((firstAt = performance.now()), (firstHeight = height));
      },
    });
    const tEnd = performance.now();
    clearInterval(trace);
    const cursor = await loadCursor(store, "eth");
    const blocks = cursor!.height;
    const backfillCalls = new Map(proxy.counter.byMethod);
    const backfillTotal = proxy.counter.calls;
    const logs = backfillCalls.get("eth_getLogs") ?? 0;
    const refused = [...backfillCalls.keys()].filter((m) => /^(debug_|trace_)|Receipt/.test(m));
    const backfillRate = (blocks - firstHeight) / ((tEnd - firstAt) / 1000);
    console.log(`\nThis design: Backstop EVM indexer (Ponder 0.16.10 on ${pgUrl ? "Postgres" : "PGlite"} + mirror into ${pgUrl ? "Postgres" : "SQLite"}), ${blocks} blocks:`);
    console.log(`  backfill RPC calls: ${((backfillTotal - logs) / blocks).toFixed(2)} per block without eth_getLogs (target ≤ 2), + eth_getLogs ${(logs / blocks).toFixed(3)} per block (${logs} range calls)`);
    console.log(`    by method, per block: ${perBlock(backfillCalls, blocks)}`);
    console.log(`    debug_*/trace_*/receipt calls: ${refused.length ? refused.join(", ") : "none"}`);
    console.log(`  backfill: ${(blocks / ((tEnd - tStart) / 1000)).toFixed(0)} blocks/s including Ponder's start (${((tEnd - tStart) / 1000).toFixed(1)} s)`);
    console.log(`            ${backfillRate.toFixed(0)} blocks/s from the first mirrored block (target ≥ 100)`);
    // Where Ponder spent its time (its Prometheus metrics, summed): printed with BENCH_METRICS=1.
    if (process.env.BENCH_METRICS && sup) {
      const text = await fetch(`${(sup as unknown as { baseUrl(): string }).baseUrl()}/metrics`).then((r) => r.text()).catch(() => "");
      const sums = new Map<string, number>();
      for (const line of text.split("\n")) {
        const m = /^(ponder_(?:historical_[a-z_]+_duration|indexing_function_duration|indexing_cache_query_duration|indexing_rpc_action_duration|database_method_duration|rpc_request_duration)_sum)(\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
        if (m) {
          const label = `${m[1]}${(m[2] ?? "").replace(/,?(chain|network)="[^"]*"/g, "")}`;
          sums.set(label, (sums.get(label) ?? 0) + Number(m[3]));
        }
      }
      for (const [k, v] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${k}: ${(v / 1000).toFixed(1)} s`);
    }
    // Following: the indexer runs on; FOLLOW_BLOCKS more blocks of the same workload arrive as fast as anvil
    // mines them; measured from the first new block to the cursor reaching the last one.
    proxy.reset();
    const ac = new AbortController();
    // The same indexer runs on: its Ponder (kept running by the `once` run) follows the head. A new indexer
    // would kill it and wait out Ponder's 25 s schema lock, measured as "following" before.
    const following = indexer.run({ signal: ac.signal }).catch((e: unknown) => e);
    const tf = performance.now();
    for (let b = 0; b < FOLLOW_BLOCKS; b++) {
      for (let i = 0; i < TX_PER_BLOCK; i++) {
        const w = pick(wallets);
        if (rand() < 0.5) await rpc("eth_sendTransaction", [{ from: funder, to: pick(tokens), data: encodeFunctionData({ abi: c.abi, functionName: "transfer", args: [w, 1n] }) }]);
        else await rpc("eth_sendTransaction", [{ from: funder, to: w, value: numberToHex(10n ** 15n) }]);
      }
      await rpc("evm_mine", []);
    }
    const followHead = Number(BigInt(await rpc<string>("eth_blockNumber")));
    while (((await loadCursor(store, "eth"))?.height ?? 0) < followHead && performance.now() - tf < 600_000) await new Promise((r) => setTimeout(r, 100));
    const followS = (performance.now() - tf) / 1000;
    ac.abort();
    await following;
    const followLogs = proxy.counter.byMethod.get("eth_getLogs") ?? 0;
    console.log(`  following: ${FOLLOW_BLOCKS} blocks mined and indexed in ${followS.toFixed(1)} s = ${(FOLLOW_BLOCKS / followS).toFixed(1)} blocks/s (includes the workload's own mining; Ponder polls every ${Math.min(config.chains.eth!.pollIntervalMs, 1000)} ms)`);
    console.log(`    RPC calls: ${((proxy.counter.calls - followLogs) / FOLLOW_BLOCKS).toFixed(2)} per block without eth_getLogs, + eth_getLogs ${(followLogs / FOLLOW_BLOCKS).toFixed(2)}; by method: ${perBlock(proxy.counter.byMethod, FOLLOW_BLOCKS)}`);
    await sup?.stop();
    await store.close();
    if (pgUrl) {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      // Our store schema, our Ponder schema and Ponder's sync cache (only Ponder apps use ponder_sync).
      const ponderSchema = computePonderSchema(buildPonderPlan(config, "eth", { namespace: pgSchema }));
      for (const name of [pgSchema, ponderSchema, "ponder_sync"]) await client.query(`drop schema if exists "${name}" cascade`);
      await client.end();
    }

    // Naive baseline: one eth_getBalance / balanceOf per wallet per asset per block, on a sample of blocks.
    proxy.reset();
    const SAMPLE = 3;
    const tn = performance.now();
    for (let b = head - SAMPLE + 1; b <= head; b++) {
      const tag = numberToHex(b);
      const calls: Promise<unknown>[] = [];
      for (const w of wallets) {
        calls.push(fetch(proxy.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBalance", params: [w, tag] }) }).then((r) => r.text()));
        for (const t of tokens) calls.push(fetch(proxy.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to: t, data: encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [w] }) }, tag] }) }).then((r) => r.text()));
        if (calls.length >= 64) await Promise.all(calls.splice(0));
      }
      await Promise.all(calls);
    }
    const naiveS = (performance.now() - tn) / 1000;
    console.log(`\nnaive baseline (per block: getBalance + balanceOf for every wallet and token), ${SAMPLE} sample blocks:`);
    console.log(`  RPC calls: ${(proxy.counter.calls / SAMPLE).toFixed(0)} per block (${perBlock(proxy.counter.byMethod, SAMPLE)}); ${(SAMPLE / naiveS).toFixed(2)} blocks/s (backfill and following alike)`);
    const naiveCalls = proxy.counter.calls / SAMPLE;

    // Side by side (the previous design's output may have been written meanwhile by a run in parallel).
    if (oldFile && existsSync(oldFile)) oldOut = readFileSync(oldFile, "utf8");
    const grab = (re: RegExp) => re.exec(oldOut)?.[1] ?? "n/a";
    const rows: Array<[string, string, string, string]> = [
      ["", "previous design", "this design", "naive baseline"],
      ["RPC calls per block", oldOut ? grab(/= ([0-9.]+) per block/) : "(BENCH_OLD_DIR unset)", `${((backfillTotal - logs) / blocks).toFixed(2)} + eth_getLogs ${(logs / blocks).toFixed(3)}`, naiveCalls.toFixed(0)],
      ["  by method", oldOut ? grab(/by method: (.*)/) + " (totals)" : "", perBlock(backfillCalls, blocks), perBlock(proxy.counter.byMethod, SAMPLE)],
      ["backfill blocks/s", oldOut ? grab(/([0-9]+) blocks\/s from the first mirrored block/) : "", backfillRate.toFixed(0), (SAMPLE / naiveS).toFixed(2)],
      ["following blocks/s", "not measured by its bench", (FOLLOW_BLOCKS / followS).toFixed(1), (SAMPLE / naiveS).toFixed(2)],
      ["debug/trace/receipt calls", oldOut ? (/debug_traceBlockByNumber|Receipt/.test(oldOut) ? "yes" : "?") : "", refused.length ? "yes" : "none", "none"],
    ];
    console.log(`\nSide by side (${WALLETS} wallets × ETH + ${TOKENS} tokens, ${BLOCKS} blocks × ${TX_PER_BLOCK} txs):`);
    for (const r of rows) console.log(`  ${r[0].padEnd(26)} | ${r[1].padEnd(30).slice(0, 200)} | ${r[2].padEnd(30)} | ${r[3]}`);
    proxy.server.close();
  } finally {
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
