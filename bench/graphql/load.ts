// The load generator (its own process): autocannon against one GraphQL query shape, a random wallet
// (and height) per request. Prints one JSON line: req/s, latency percentiles (ms), errors.
// Usage: node --import tsx bench/graphql/load.ts <url> <key> <scenario> <wallets> <maxHeight> <seconds> <connections>
import autocannon from "autocannon";

const [url, key, scenario, wallets, maxHeight, seconds, connections] = process.argv.slice(2);
const W = Number(wallets);
const H = Number(maxHeight);
const BALANCES = `query B($w: String!, $h: Int!) { balances(chain: "bench", wallet: $w, asset: "TOK", atHeight: $h) { nodes { wallet amount { value decimals display } block { height hash finalized } } } }`;
const HISTORY = `query H($w: String!) { balanceHistory(chain: "bench", wallet: $w, asset: "TOK", first: 100) { nodes { txid delta { value } balanceAfter { value } block { height hash } } pageInfo { endCursor hasNextPage } } }`;
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);

const result = await autocannon({
  url: `${url}/graphql`,
  connections: Number(connections),
  duration: Number(seconds),
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
  requests: [
    {
      setupRequest: (req: Record<string, unknown>) => {
        const w = `w${String(Math.floor(rand() * W)).padStart(6, "0")}`;
        const variables = scenario === "balances" ? { w, h: 1 + Math.floor(rand() * H) } : { w };
        return { ...req, body: JSON.stringify({ query: scenario === "balances" ? BALANCES : HISTORY, variables }) };
      },
    },
  ],
});
process.stdout.write(`${JSON.stringify({
  reqPerSec: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  total: result.requests.total,
})}\n`);
