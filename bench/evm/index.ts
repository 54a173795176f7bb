// EVM benchmark (not a test): 1,000 custody wallets × (ETH + 5 tokens) on anvil with a busy random
// workload, indexed by Backstop's EVM indexer (Ponder child + mirror into SQLite) through a counting
// JSON-RPC proxy. Prints RPC calls per block (target ≤ 4 on average, independent of the wallet count),
// backfill blocks/s (target ≥ 100), and a naive baseline (one getBalance/balanceOf per wallet per asset
// per block) measured on a sample of blocks. Run: node --import tsx bench/evm/index.ts [wallets] [blocks]
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
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
    let base = "";
    const indexer = createEvmIndexer({ config, chainKey: "eth", store, logger }, { ponderDir: path.join(dir, "ponder"), onSupervisor: (s) => ((sup = s), (base = s.baseUrl())) });
    // Progress trace: Ponder's indexed block (its /status) next to Backstop's cursor, every 2 s.
    const trace = setInterval(async () => {
      const st = await fetch(`${base || "http://127.0.0.1:1"}/status`).then((r) => r.json() as Promise<Record<string, { block: { number: number } }>>).catch(() => null);
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
    const methods = [...proxy.counter.byMethod.entries()].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(", ");
    console.log(`\nBackstop EVM indexer (Ponder 0.16.10 on ${pgUrl ? "Postgres" : "PGlite"} + mirror into ${pgUrl ? "Postgres" : "SQLite"}), ${blocks} blocks:`);
    console.log(`  RPC calls: ${proxy.counter.calls} total = ${(proxy.counter.calls / blocks).toFixed(2)} per block (target ≤ 4)`);
    console.log(`    by method: ${methods}`);
    console.log(`  backfill: ${(blocks / ((tEnd - tStart) / 1000)).toFixed(0)} blocks/s including Ponder's start (${((tEnd - tStart) / 1000).toFixed(1)} s)`);
    console.log(`            ${((blocks - firstHeight) / ((tEnd - firstAt) / 1000)).toFixed(0)} blocks/s from the first mirrored block (target ≥ 100)`);
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
    console.log(`  RPC calls: ${(proxy.counter.calls / SAMPLE).toFixed(0)} per block; ${(SAMPLE / naiveS).toFixed(2)} blocks/s`);
    proxy.server.close();
  } finally {
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
