// The load generator (its own process): autocannon GETs one URL. Prints one JSON line: req/s,
// latency percentiles (ms), non-2xx responses, errors, and the bytes of one response.
// Usage: node --import tsx bench/public/load.ts <url> <seconds> <connections>
import autocannon from "autocannon";

const [url, seconds, connections] = process.argv.slice(2);
const result = await autocannon({ url, connections: Number(connections), duration: Number(seconds), method: "GET" });
process.stdout.write(`${JSON.stringify({ reqPerSec: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, total: result.requests.total })}\n`);
