// Public feed benchmark (not a test): GET /public/v1/checkpoints/latest.json from Backstop's server
// (this process: the router, the per-address rate limiter, the feed's in-memory view, the security
// headers), autocannon in another process (bench/public/load.ts). Baseline in the same run: a bare
// node:http server answering the same bytes with the same headers. Target: >= 10,000 req/s, p99 < 10 ms.
// The store is the public test fixture (10 signed checkpoints on SQLite). The rate limit is raised for
// the run (one client address sends everything). Prints req/s, p50/p99 and the load average.
// Usage: npm run bench:public [-- --seconds 10 --connections 16]
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createLogger } from "../../src/lib/logger.js";
import { startServeServer } from "../../src/serve/create-serve-server.js";
import { createPublicFixture } from "../../test/public/public-fixture.js";

const { values: args } = parseArgs({ options: { seconds: { type: "string", default: "10" }, connections: { type: "string", default: "16" } } });
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
type LoadResult = { reqPerSec: number; p50: number; p99: number; non2xx: number; errors: number; total: number };

function runLoad(url: string, seconds = args.seconds!): Promise<LoadResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", resolve("bench/public/load.ts"), url, seconds, args.connections!], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? done(JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult) : fail(new Error(`load generator exited ${code}`))));
  });
}

const fx = await createPublicFixture({
  checkpoints: Array.from({ length: 10 }, (_, i) => ({ coverageBps: 10_500n + BigInt(i) * 37n })),
  publicSection: { rateLimitPerSecond: 1_000_000_000, rateLimitBurst: 1_000_000_000 },
});
const server = await startServeServer({ store: fx.store, config: fx.config, logger: createLogger({ level: "silent" }) }, { port: 0, host: "127.0.0.1", publicOnly: true });
const latestUrl = `${server.url}/public/v1/checkpoints/latest.json`;
const sample = await fetch(latestUrl);
const bytes = await sample.text();
if (bytes !== fx.files.at(-1)) throw new Error("latest.json is not the latest checkpoint's bytes");
const headers: Record<string, string> = {};
sample.headers.forEach((v, k) => (headers[k] = v));
for (const k of ["date", "connection", "keep-alive", "content-length"]) delete headers[k];

// Warm-up (JIT, the feed's first refresh), then the measured run.
await runLoad(latestUrl, "3").catch(() => undefined);
console.log(`bench:public on ${cpus().length} cores, ${args.connections} connections, ${args.seconds} s per run; latest.json ${Buffer.byteLength(bytes)} bytes; load average ${load()}`);
const backstop = await runLoad(latestUrl);
await server.close();

const bare = createServer((_req, res) => {
  res.writeHead(200, { ...headers, "content-length": Buffer.byteLength(bytes) });
  res.end(bytes);
});
await new Promise<void>((r) => bare.listen(0, "127.0.0.1", r));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
await runLoad(bareUrl, "3").catch(() => undefined);
const baseline = await runLoad(bareUrl);
await new Promise((r) => bare.close(r));
await fx.close();

const row = (name: string, r: LoadResult) => `${name.padEnd(34)} ${Math.round(r.reqPerSec).toString().padStart(7)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(3)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;
console.log(row("backstop serve: latest.json", backstop));
console.log(row("baseline: bare node:http, same bytes", baseline));
console.log(`backstop / baseline: ${(backstop.reqPerSec / baseline.reqPerSec).toFixed(2)}; load average after ${load()}`);
const met = backstop.reqPerSec >= 10_000 && backstop.p99 < 10 && backstop.non2xx === 0 && backstop.errors === 0;
console.log(`target (>= 10,000 req/s, p99 < 10 ms, no errors): ${met ? "met" : "NOT met"}`);
