import type { ResolvedConfig } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import type { NewApiKey } from "../serve/api-keys.js";
import { startServeServer, type ServeServer } from "../serve/create-serve-server.js";
import { openStore, type Store } from "../store/index.js";

/** The demo's API server: its own reader connection to the demo store, the demo key, printable lines. */
export type DemoServer = { server: ServeServer; lines: string[]; close(): Promise<void> };

/**
 * Starts the API server for the demo on 127.0.0.1:8787 (a free port if that one is taken), on a
 * separate SQLite connection (a reader), and returns lines showing the transparency page's URL, the
 * API's URL, the demo key (created at this start, valid for this run only) and one example query.
 */
export async function startDemoServer(p: { config: ResolvedConfig; logger: Logger; key: NewApiKey; chain: string }): Promise<DemoServer> {
  const store: Store = await openStore({ sqlitePath: p.config.store.sqlitePath });
  let server: ServeServer;
  try {
    server = await startServeServer({ store, config: p.config, logger: p.logger }).catch((err: NodeJS.ErrnoException) => {
      if (err?.code !== "EADDRINUSE") throw err;
      return startServeServer({ store, config: p.config, logger: p.logger }, { port: 0 });
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const query = `{ balances(chain: "${p.chain}", finalized: false) { nodes { wallet asset { id } amount { value decimals display } block { height hash finalized } } } }`;
  const lines = [
    `transparency page: ${server.url}/  (public feed: ${server.url}/public/v1/checkpoints/latest.json, keys: ${server.url}/.well-known/backstop-keys.json)`,
    `GraphQL API: ${server.url}/graphql  (metrics: ${server.url}/metrics, health: ${server.url}/healthz)`,
    `demo API key (scopes read, metrics; made at this start, valid for this run only): ${p.key.key}`,
    "example query:",
    `  curl -s ${server.url}/graphql -H 'Authorization: Bearer ${p.key.key}' -H 'Content-Type: application/json' \\`,
    `    -d '${JSON.stringify({ query })}'`,
  ];
  // The example, asked once over HTTP like a client would: the demo shows it answers.
  const res = await fetch(`${server.url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${p.key.key}`, "content-type": "application/json" }, body: JSON.stringify({ query }) });
  const answer = (await res.json()) as { data?: { balances?: { nodes: unknown[] } } };
  lines.push(`  → HTTP ${res.status}, ${answer.data?.balances?.nodes.length ?? 0} balances of ${p.chain} (amounts as base-unit strings with decimals and display)`);
  // The public status, asked once like the page does.
  const pub = await fetch(`${server.url}/public/v1/status.json`);
  const status = (await pub.json()) as { feed?: { headline?: { label: string; reasons: string[] } } };
  lines.splice(1, 0, `  → HTTP ${pub.status}, public status ${status.feed?.headline?.label ?? "?"}: ${status.feed?.headline?.reasons.join("; ") ?? ""}`);
  return {
    server,
    lines,
    async close() {
      await server.close();
      await store.close();
    },
  };
}
