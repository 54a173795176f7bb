import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { createIndexer } from "../chains/create-indexer.js";
import { validateChainConfig } from "../chains/validate-chain-config.js";
import { sleep } from "../lib/sleep.js";
import { formatBalanceTable, loadBalanceLines, type BalanceLine } from "../cli/balances-command.js";
import { resolveConfig } from "../lib/config.js";
import { ConfigError } from "../lib/errors.js";
import type { Logger } from "../lib/logger.js";
import { openStore, type Store } from "../store/index.js";
import { createApiKey } from "../serve/api-keys.js";
import { computeDemoTotals, createDemoSnapshot } from "./liabilities.js";
import { startDemoServer, type DemoServer } from "./serve.js";
import { DEMO_PARTS } from "./parts.js";
import type { DemoPart } from "./types.js";

/** Seconds between demo rounds while following. */
const ROUND_MS = 5000;

/**
 * The self-contained local demo behind `npm start` without a config: starts
 * local chains, creates custody wallets, generates activity (including a
 * reorg), indexes it into a fresh SQLite store under `.backstop/demo/`,
 * prints balances, then keeps following until interrupted (or `rounds`).
 */
export async function runDemo(p: { logger: Logger; signal: AbortSignal; rounds?: number; dir?: string }): Promise<void> {
  const dir = resolve(p.dir ?? ".backstop/demo");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const parts: DemoPart[] = [];
  let store: Store | undefined;
  let api: DemoServer | undefined;
  // The demo's API key: made at each start; only its hash goes into the (in-memory) config.
  const demoKey = createApiKey();
  try {
    for (const start of DEMO_PARTS) {
      const part = await start({ dir, logger: p.logger });
      parts.push(part);
      out(`started local ${part.name} chain(s): ${Object.keys(part.chains).join(", ")}`);
    }
    const input = {
      store: { sqlitePath: join(dir, "backstop.db") },
      serve: { apiKeys: [{ name: "demo", hash: demoKey.hash, scopes: ["read", "metrics"] as ("read" | "metrics")[] }] },
      chains: Object.assign({}, ...parts.map((x) => x.chains)),
      assets: Object.assign({}, ...parts.map((x) => x.assets)),
      wallets: parts.flatMap((x) => x.wallets),
    };
    const config = resolveConfig({ input, path: "(demo config)", env: {} });
    const problems = validateChainConfig(config);
    if (problems.length) throw new ConfigError({ path: "(demo config)", problems });
    store = await openStore({ sqlitePath: config.store.sqlitePath });
    const indexers = Object.keys(config.chains).map((chainKey) => ({ chainKey, indexer: createIndexer({ config, chainKey, store: store!, logger: p.logger }) }));

    const printBalances = async (title: string) => {
      const lines: BalanceLine[] = [];
      for (const { chainKey } of indexers) lines.push(...(await loadBalanceLines(store!, config, { chain: chainKey })));
      out(`\n${title}`);
      out(formatBalanceTable(lines).trimEnd());
      return lines;
    };

    for (let step = 0; !p.signal.aborted && (p.rounds === undefined || step < p.rounds); step++) {
      if (step > 0) await sleep(ROUND_MS, p.signal);
      if (p.signal.aborted) break;
      for (const part of parts) for (const line of await part.activity({ step })) out(`  ${part.name}: ${line}`);
      for (const { indexer } of indexers) await indexer.run({ once: true, signal: p.signal });
      const lines = await printBalances(step === 0 ? "custody balances after the opening activity:" : `custody balances, round ${step}:`);
      if (step === 0) {
        // Liabilities: a generated snapshot of user balances owing 90% of each asset's custody
        // balance (coverage 111%), imported with its Merkle-sum root and one proof checked.
        const reserves: Record<string, bigint> = {};
        for (const l of lines) reserves[l.asset] = (reserves[l.asset] ?? 0n) + BigInt(l.amount);
        const snap = await createDemoSnapshot({ store, dir, assets: config.assets, totals: computeDemoTotals({ reserves, fractionBps: 9000 }), logger: p.logger });
        out("");
        for (const l of snap.lines) out(l);
        api = await startDemoServer({ config, logger: p.logger, key: demoKey, chain: Object.keys(config.chains).includes("sol") ? "sol" : Object.keys(config.chains)[0]! });
        out("");
        for (const l of api.lines) out(l);
        out(`\nstore: ${config.store.sqlitePath}\nfollowing the local chains; Ctrl-C to stop`);
      }
    }
  } finally {
    await api?.close();
    await store?.close();
    for (const part of parts.reverse()) await part.stop().catch(() => undefined);
  }
}
