import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createIndexer } from "../chains/create-indexer.js";
import type { Indexer } from "../chains/indexer.js";
import { sleep } from "../lib/sleep.js";
import { formatBalanceTable, loadBalanceLines, type BalanceLine } from "../cli/balances-command.js";
import { loadAppConfig, openConfigStore } from "../cli/context.js";
import type { ConfigInput } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";
import type { Store } from "../store/index.js";
import { createApiKey } from "../serve/api-keys.js";
import { fetchAnchorBalances } from "../chains/evm/fetch-anchor-balances.js";
import { formatCheckpoint } from "../cli/checkpoint-command.js";
import { runCheckpointRound } from "../reconcile/follow-checkpoints.js";
import { createSigningKey } from "../reconcile/signing-key.js";
import { verifyCheckpoints } from "../reconcile/verify-checkpoints.js";
import { buildJwks } from "../reconcile/build-jwks.js";
import { scaleAmount } from "../reconcile/scale-amount.js";
import { buildDemoCliCommand, resolveDemoFiles } from "./demo-files.js";
import { computeDemoTotals, createDemoSnapshot } from "./liabilities.js";
import { saveDemoConfig } from "./save-demo-config.js";
import { startDemoServer, type DemoServer } from "./serve.js";
import { startDemoAlerts, type DemoAlerts } from "./alerts.js";
import { startAlertService, type AlertService } from "../alerts/start-alert-service.js";
import { DEMO_PARTS } from "./parts.js";
import { feedDemoMovements } from "./movements.js";
import { startMovementMatching } from "../reconcile/movements/start-movement-matching.js";
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
  const { dir } = resolveDemoFiles(p.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // it holds the demo's env file (secrets)
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const parts: DemoPart[] = [];
  let store: Store | undefined;
  let indexers: Array<{ chainKey: string; indexer: Indexer }> = [];
  let api: DemoServer | undefined;
  let demoAlerts: DemoAlerts | undefined;
  let alerting: AlertService | undefined;
  // The demo's API key: made at each start; only its hash goes into the config (the key is printed once).
  const demoKey = createApiKey();
  // The demo's checkpoint signing key: made at each start, in the env file only; its public key is published in the config.
  const signingKey = createSigningKey();
  const announcedProvisional = new Set<string>();
  let announcedCheckpoint = false;
  try {
    for (const start of DEMO_PARTS) {
      const part = await start({ dir, logger: p.logger });
      parts.push(part);
      out(`started local ${part.name} chain(s): ${Object.keys(part.chains).join(", ")}`);
    }
    // The whole config the demo runs with, written to the demo's directory so that every CLI command
    // can read the demo's store. Sections other issues add (checkpoint signing keys, alert sinks, API
    // keys...) go into `input` too, each secret as env("BACKSTOP_DEMO_...") with its value in `secrets`.
    // Alerts go to a local webhook receiver that verifies each signature (printed after each round).
    demoAlerts = await startDemoAlerts();
    const secrets: Record<string, string> = { ...Object.assign({}, ...parts.map((x) => x.secrets ?? {}), demoAlerts.secrets), BACKSTOP_DEMO_CHECKPOINT_KEY: signingKey.text };
    const input: ConfigInput = {
      store: { sqlitePath: join(dir, "backstop.db") },
      serve: { apiKeys: [{ name: "demo", hash: demoKey.hash, scopes: ["read", "metrics"] as ("read" | "metrics")[] }] },
      chains: Object.assign({}, ...parts.map((x) => x.chains)),
      assets: Object.assign({}, ...parts.map((x) => x.assets)),
      // Liabilities are owed in these; each chain asset says which one it backs (ETH and USDD on two chains).
      liabilityAssets: Object.assign({}, ...parts.map((x) => x.liabilityAssets)),
      checkpoints: {
        signingKey: { env: "BACKSTOP_DEMO_CHECKPOINT_KEY" },
        keys: [{ x: signingKey.jwk.x, notBefore: new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000).toISOString().replace(".000Z", "Z") }],
      },
      wallets: parts.flatMap((x) => x.wallets),
      alerts: demoAlerts.alerts,
      // Short on purpose: the demo's rounds are seconds apart (production defaults: 10 min grace, 1 h SLA).
      // Only the parts that keep a ledger (Bitcoin) are reconciled: the other chains' demo activity has no
      // records, and every movement of theirs would be flagged.
      movements: { graceSeconds: 5, slaSeconds: 8, chains: parts.filter((x) => x.movementRecords).flatMap((x) => Object.keys(x.chains)) },
    };
    const files = saveDemoConfig({ dir, input, secrets });
    // Read back exactly as the CLI reads it: what the demo runs with is what the printed command uses.
    const config = await loadAppConfig({ config: files.config, envFile: files.env });
    store = await openConfigStore(config);
    alerting = startAlertService({ config, store, logger: p.logger });
    const observer = alerting.observer;
    startMovementMatching({ store, config, logger: p.logger }, { tickMs: 0 });
    const flagged = new Set<string>();
    indexers = Object.keys(config.chains).map((chainKey) => ({ chainKey, indexer: createIndexer({ config, chainKey, store: store!, logger: p.logger, observer }) }));

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
      if (step > 0) {
        // What `backstop start` does beside the indexers: checkpoint each snapshot once final past it, live coverage.
        const round = await runCheckpointRound({ store, config, logger: p.logger, fetchAnchorBalances: (q) => fetchAnchorBalances(config, q) }, { checkpoints: true });
        for (const c of round.created) {
          out([`\ncheckpoint ${c.stored.seq} CREATED (status ${c.signed.document.status}) and SIGNED by the checkpoint loop (as in \`backstop start\`):`, ...formatCheckpoint(c.signed)].join("\n"));
          // The verifier of `backstop checkpoint verify`, on the stored signed bytes, keys pinned to the published JWKS.
          let verdict: string;
          try {
            const v = verifyCheckpoints([{ name: `checkpoint ${c.stored.seq}`, text: c.stored.signed }], { jwks: buildJwks(config.checkpoints.keys) });
            verdict = v.checked.length === 1 && v.keysPinned ? `VERIFIED: ${v.checked[0]!.digest}, signed by ${v.checked[0]!.kid} (digest, Ed25519 signature, published key)` : "NOT VERIFIED";
          } catch (err) {
            verdict = `NOT VERIFIED: ${(err as Error).message}`;
          }
          out(`checkpoint ${c.stored.seq} ${verdict}`);
          out([
            "  see it with the CLI:",
            `    ${buildDemoCliCommand({ dir, command: "checkpoint list" })}`,
            `    ${buildDemoCliCommand({ dir, command: `checkpoint show ${c.stored.seq}` })}`,
            `    ${buildDemoCliCommand({ dir, command: `checkpoint show ${c.stored.seq} --json` })} > cp.json`,
            `    ${buildDemoCliCommand({ dir, command: "checkpoint jwks" })} > keys.json`,
            `    ${buildDemoCliCommand({ dir, command: "checkpoint verify cp.json --jwks keys.json" })}`,
          ].join("\n"));
          if (api) out(`  or in your browser: ${api.server.url}/ (the transparency page: "Verify checkpoints")`);
          announcedCheckpoint = true;
        }
        if (!announcedCheckpoint && round.waiting.length) p.logger.info({ msg: "checkpoint waiting for finality", snapshots: round.waiting });
        for (const x of round.provisional) {
          if (announcedCheckpoint || announcedProvisional.has(x.snapshotId)) continue;
          announcedProvisional.add(x.snapshotId);
          out(`\ncheckpoint of snapshot ${x.snapshotId} PROVISIONAL (not signed, not published): waiting until the window after each anchor is final: ${x.chains.map((c) => `${c.chain} anchor ${c.anchorHeight}, window to ${c.windowEnd}, finalized ${c.finalized}`).join("; ")}`);
        }
      }
      const lines = await printBalances(step === 0 ? "custody balances after the opening activity:" : `custody balances, round ${step}:`);
      // What this round's blocks raised, as the receiver got it (the worker also runs on its own; this pass just does not wait for its poll).
      const showAlerts = async () => {
        for (let i = 0; i < 60 && (await store!.raw("SELECT 1 FROM alert_outbox WHERE status = 'pending' LIMIT 1")).length; i++) {
          await alerting!.worker.drainOnce();
          await sleep(50);
        }
        const received = demoAlerts!.takeLines();
        if (received.length) {
          out("");
          for (const l of received) out(l);
        }
      };
      await showAlerts();
      for (const l of await feedDemoMovements({ store, config, logger: p.logger, parts, flagged })) out(l);
      // The movement outcomes just flagged go through the alert pipeline too (critical for an unexplained outflow).
      await alerting.evaluateNow();
      await showAlerts();
      if (step === 0) {
        // Liabilities: a generated snapshot of user balances owing 90% of each asset's custody
        // balance (coverage 111%), imported with its Merkle-sum root and one proof checked.
        // Summed per liability asset (ETH on ethereum and base together), scaled exactly to its decimals.
        const reserves: Record<string, bigint> = {};
        for (const l of lines) {
          const a = config.assets[l.asset];
          const backs = a?.backs ? config.liabilityAssets[a.backs] : undefined;
          if (!l.counted || l.amount === null || !a || !backs) continue;
          reserves[backs.id] = (reserves[backs.id] ?? 0n) + scaleAmount(BigInt(l.amount), a.decimals, backs.decimals).scaled;
        }
        const snap = await createDemoSnapshot({ store, dir, assets: config.liabilityAssets, totals: computeDemoTotals({ reserves, fractionBps: 9000 }), logger: p.logger });
        out("");
        for (const l of snap.lines) out(l);
        api = await startDemoServer({ config, logger: p.logger, key: demoKey, chain: Object.keys(config.chains).includes("sol") ? "sol" : Object.keys(config.chains)[0]! });
        out("");
        for (const l of api.lines) out(l);
        out([
          "",
          `store:  ${config.store.sqlitePath}`,
          `config: ${files.config} (its secrets are in ${files.env}, mode 0600)`,
          "every command works against the demo's store, while it runs and after it stops, e.g.:",
          `  ${buildDemoCliCommand({ dir, command: "balances" })}`,
          "  (or status, liabilities list, checkpoint list, ...)",
          "checkpoints: each round tries to checkpoint the snapshot, as `backstop start` does; one is created once every",
          "  chain has finalized a block after the snapshot's time. The next round mines past it on every chain until final",
          "  (the local chains' blocks follow the wall clock); the checkpoint is then created, signed and verified here.",
          "following the local chains; Ctrl-C to stop",
        ].join("\n"));
      }
    }
  } finally {
    // Indexers first (EVM: Ponder), so nothing is left polling a node that is already gone.
    for (const { indexer } of indexers) await indexer.close?.().catch(() => undefined);
    await api?.close();
    await alerting?.stop();
    await demoAlerts?.stop();
    await store?.close();
    for (const part of parts.reverse()) await part.stop().catch(() => undefined);
  }
}
