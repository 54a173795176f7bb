// Alert delivery benchmark (not a test). A SQLite store, the alert rules as a block-event sink, the outbox
// worker, and a local webhook receiver, all in this process (the machine is shared and so is the event loop:
// figures are upper bounds of what the pipeline adds).
// 1. Latency: `--alerts` blocks (default 1000), one every `--interval-ms` (default 20), each with one outflow
//    to an unknown address (one alert per block); from saveBlock's commit to the receiver's 2xx: p50, p99, max.
//    The worker is woken after each commit, as `backstop start`'s follower observer does.
// 2. Outage: the receiver is down (connection refused) for `--outage-seconds` (default 60) while `--alerts`
//    alerts are raised, on the default Standard Webhooks schedule (so most messages wait for their 5-minute
//    step); then it comes back. Reports the time from its return to the last delivery, and loss (must be 0).
// Usage: npm run bench:alerts [-- --alerts 1000 --interval-ms 20 --outage-seconds 60]
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAlertBlockSink } from "../../src/alerts/create-alert-block-sink.js";
import { createOutboxWorker } from "../../src/alerts/create-outbox-worker.js";
import { startAlertReceiver, type AlertReceiver } from "../../src/devnet/alerts/start-alert-receiver.js";
import { resolveConfig } from "../../src/lib/config.js";
import { addBlockEventSink, openStore, saveBlock, saveWallets, type Store } from "../../src/store/index.js";

const { values: args } = parseArgs({ options: { alerts: { type: "string", default: "1000" }, "interval-ms": { type: "string", default: "20" }, "outage-seconds": { type: "string", default: "60" } } });
const N = Number(args.alerts);
const INTERVAL = Number(args["interval-ms"]);
const OUTAGE_S = Number(args["outage-seconds"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function setUp(rxUrl: string, name: string) {
  const dir = mkdtempSync(join(tmpdir(), `backstop-bench-alerts-${name}-`));
  const config = resolveConfig({
    path: "bench",
    env: { S: `whsec_${Buffer.alloc(24, 1).toString("base64")}` },
    input: {
      store: { sqlitePath: join(dir, "b.db") },
      chains: { btc: { chain: "bitcoin-regtest", rpc: ["http://127.0.0.1:1"], finalityDepth: 6 } },
      assets: { BTC: { chain: "btc", decimals: 8, native: true } },
      wallets: [{ label: "hot", chain: "btc", address: "bcrt1qdka0zsu3rpec5qd2zul6ne3r5d7aqvan7lhnh0" }],
      alerts: {
        rules: [{ name: "stranger", type: "unknown_counterparty", severity: "critical" }],
        sinks: { hook: { type: "webhook", url: `${rxUrl}/hook`, secret: { env: "S" } } },
        delivery: { allowInsecureLoopback: true, timeoutMs: 2000 },
      },
    },
  });
  const store = await openStore({ sqlitePath: config.store.sqlitePath });
  const [w] = await saveWallets(store, [{ chain: "btc", label: "hot", kind: "address", address: "bcrt1qdka0zsu3rpec5qd2zul6ne3r5d7aqvan7lhnh0" }]);
  addBlockEventSink(store, createAlertBlockSink({ config }));
  const worker = createOutboxWorker({ store, alerts: config.alerts, logger: process.env.BENCH_DEBUG ? (await import("../../src/lib/logger.js")).createLogger({ level: "debug", format: "json" }) : undefined });
  const abort = new AbortController();
  const running = worker.run({ signal: abort.signal });
  let parent = "genesis";
  let height = 0;
  const mine = async () => {
    height++;
    const hash = `b${String(height).padStart(63, "0")}`;
    await saveBlock(store, {
      block: { chain: "btc", height, hash, parentHash: parent, time: 1_700_000_000 + height },
      changes: [{ walletId: w!.id, asset: "BTC", txid: `t${height}`, delta: height === 1 ? 10n ** 15n : -1000n }],
      transfers: height === 1 ? [] : [{ walletId: w!.id, asset: "BTC", txid: `t${height}`, position: 0, direction: "out", amount: 1000n, counterparty: `bcrt1qstranger${height}` }],
      // Final at once: one alert per block (no alert.finalized upgrades later).
      finalizedHeight: height,
    });
    parent = hash;
    worker.wake();
    return height;
  };
  return {
    store, mine,
    async stop() {
      abort.abort();
      await running;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const heightOf = (body: string) => (JSON.parse(body) as { data: { height: number } }).data.height;

async function latency() {
  const rx = await startAlertReceiver();
  const b = await setUp(rx.url, "latency");
  await b.mine(); // opening balance, no alert
  const committed = new Map<number, number>();
  for (let i = 0; i < N; i++) {
    const h = await b.mine();
    committed.set(h, performance.timeOrigin + performance.now());
    await sleep(INTERVAL);
  }
  await rx.waitFor(N, 60_000);
  const ms = rx.received.map((r) => r.atMs - committed.get(heightOf(r.body))!);
  console.log(`latency, block stored → receiver 2xx, ${N} alerts, one block every ${INTERVAL} ms: p50 ${pct(ms, 0.5).toFixed(0)} ms, p99 ${pct(ms, 0.99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms`);
  await b.stop();
  await rx.close();
}

async function outage() {
  const probe = await startAlertReceiver();
  const url = probe.url;
  const port = Number(new URL(url).port);
  await probe.close(); // down: connection refused from now on
  const b = await setUp(url, "outage");
  const downAt = Date.now();
  await b.mine();
  for (let i = 0; i < N; i++) await b.mine();
  const raisedIn = Date.now() - downAt;
  await sleep(Math.max(0, OUTAGE_S * 1000 - raisedIn));
  const rx: AlertReceiver = await startAlertReceiver({ port });
  const upAt = Date.now();
  const got = await rx.waitFor(N, 600_000);
  // Let the last answers land in the outbox.
  while ((await b.store.raw("SELECT count(*) AS n FROM alert_outbox WHERE status = 'delivered'"))[0]!.n !== N) await sleep(20);
  const drained = Math.max(...got.map((r) => r.atMs)) - upAt;
  const distinct = new Set(got.map((r) => r.headers["webhook-id"])).size;
  const [{ n: attempts }] = (await b.store.raw("SELECT sum(attempts) AS n FROM alert_outbox")) as [{ n: number }];
  console.log(`outage: receiver down ${OUTAGE_S} s while ${N} alerts were raised (in ${raisedIn} ms); back up → all delivered in ${(drained / 1000).toFixed(2)} s (${(N / Math.max(drained / 1000, 0.001)).toFixed(0)} msg/s); ${distinct}/${N} distinct ids received, lost ${N - distinct}; ${got.length} requests, ${attempts} counted attempts`);
  await b.stop();
  await rx.close();
}

console.log(`bench:alerts on ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
await latency();
await outage();
