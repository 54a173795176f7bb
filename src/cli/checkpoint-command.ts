import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fetchAnchorBalances } from "../chains/evm/fetch-anchor-balances.js";
import { formatUnits } from "../lib/amounts.js";
import { buildJwks } from "../reconcile/build-jwks.js";
import type { SignedCheckpoint } from "../reconcile/checkpoint-document.js";
import { createCheckpoint, loadPendingCheckpoints, type PendingCheckpoint } from "../reconcile/create-checkpoint.js";
import { CheckpointNotFoundError, CheckpointVerifyError } from "../reconcile/errors.js";
import { parseJwks, verifyCheckpoints, type CheckpointFile, type Jwks } from "../reconcile/verify-checkpoints.js";
import { loadCheckpoint, loadCheckpoints } from "../store/index.js";
import { loadAppConfig, openConfigStore, type GlobalOptions } from "./context.js";

/** One snapshot not checkpointed yet, as `checkpoint list` and `status` print it: its state and the heights it waits for. */
export function formatPendingCheckpoint(p: PendingCheckpoint): string {
  const detail =
    p.state === "unavailable" ? p.problem
    : p.state === "provisional" ? p.chains.map((c) => `${c.chain}@${c.anchorHeight} window to ${c.windowEnd}, finalized ${c.finalized}`).join("; ")
    : p.state === "waiting" ? p.chains.map((c) => `${c.chain} finalized ${c.finalized ?? "nothing"}, no final block after the snapshot's time`).join("; ")
    : "the next `checkpoint create` or `start` round signs it";
  return `${p.state.padEnd(12)} snapshot ${p.snapshotId}  ${detail}`;
}

/**
 * `backstop checkpoint create|list|show|verify|jwks`. `verify` reads only the files it is given (no
 * config, no store, no network).
 */
export function registerCheckpointCommands(program: Command) {
  const cp = program.command("checkpoint").description("signed solvency checkpoints: reserves at block anchors against a liabilities snapshot");

  cp.command("create")
    .description("create (or show the standing) checkpoint of a snapshot; waits until every chain finalized past its time")
    .option("--snapshot <id>", "snapshot id (default: the latest)")
    .option("--no-wait", "fail instead of waiting for finality")
    .option("--json", "print the signed checkpoint")
    .action(async (o: { snapshot?: string; wait: boolean; json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadAppConfig(g);
      const store = await openConfigStore(config);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      try {
        const r = await createCheckpoint(
          { store, config, signal: abort.signal, fetchAnchorBalances: (p) => fetchAnchorBalances(config, p) },
          { snapshotId: o.snapshot, wait: o.wait },
        );
        if (o.json) process.stdout.write(r.stored.signed);
        else process.stdout.write(`${[`${r.created ? "created" : "already stands:"} checkpoint ${r.stored.seq}`, ...formatCheckpoint(r.signed)].join("\n")}\n`);
      } finally {
        process.off("SIGINT", onSignal);
        await store.close();
      }
    });

  cp.command("list")
    .description("every checkpoint: seq, status, snapshot, anchors; then each snapshot not checkpointed yet (waiting or provisional, with the heights it waits for)")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const config = await loadAppConfig(cmd.optsWithGlobals<GlobalOptions>());
      const store = await openConfigStore(config);
      try {
        const list = await loadCheckpoints(store);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        if (!list.length) process.stdout.write("no checkpoints yet\n");
        for (const c of list) {
          const flags = [c.invalidates !== null ? `invalidates ${c.invalidates}` : "", c.supersededBy !== null ? `superseded by ${c.supersededBy}` : ""].filter(Boolean).join(", ");
          process.stdout.write(`${String(c.seq).padStart(4)}  ${c.status.padEnd(12)} snapshot ${c.snapshotId}  ${c.anchors.map((a) => `${a.chain}@${a.height}`).join(" ")}${flags ? `  (${flags})` : ""}\n`);
        }
        // Snapshots without a standing checkpoint: nothing is signed for them yet; say what each waits for.
        for (const p of await loadPendingCheckpoints({ store, config })) process.stdout.write(`   -  ${formatPendingCheckpoint(p)}\n`);
      } finally {
        await store.close();
      }
    });

  cp.command("show")
    .description("print one checkpoint (--json: the signed document, byte-exact)")
    .argument("<seq>", "sequence number")
    .option("--json", "print the signed document exactly as published")
    .action(async (seqText: string, o: { json?: boolean }, cmd: Command) => {
      const config = await loadAppConfig(cmd.optsWithGlobals<GlobalOptions>());
      const seq = /^[1-9][0-9]{0,15}$/.test(seqText) ? Number(seqText) : NaN;
      if (!Number.isSafeInteger(seq)) throw new CheckpointNotFoundError({ seq: seqText });
      const store = await openConfigStore(config);
      try {
        const c = await loadCheckpoint(store, { seq });
        if (!c) throw new CheckpointNotFoundError({ seq });
        if (o.json) process.stdout.write(c.signed);
        else process.stdout.write(`${[`checkpoint ${c.seq}${c.supersededBy !== null ? ` (superseded by ${c.supersededBy})` : ""}`, ...formatCheckpoint(JSON.parse(c.signed) as SignedCheckpoint)].join("\n")}\n`);
      } finally {
        await store.close();
      }
    });

  cp.command("verify")
    .description("verify signed checkpoint files (digest, signature, chain of previous digests) with no store and no network")
    .argument("<file...>", "checkpoint files, in sequence order")
    .option("--jwks <file>", "the published JWKS: pins the keys and their validity windows")
    .action((names: string[], o: { jwks?: string }) => {
      const read = (name: string): string => {
        try {
          return readFileSync(name, "utf8");
        } catch (cause) {
          throw new CheckpointVerifyError({ file: name, field: "(file)", problem: `cannot be read (${(cause as NodeJS.ErrnoException).code ?? "error"})` });
        }
      };
      const jwks: Jwks | undefined = o.jwks === undefined ? undefined : parseJwks(o.jwks, read(o.jwks));
      const files: CheckpointFile[] = names.map((name) => ({ name, text: read(name) }));
      const r = verifyCheckpoints(files, { jwks });
      for (const c of r.checked) process.stdout.write(`ok ${c.name}: checkpoint ${c.seq} ${c.status}, ${c.digest}, signed by ${c.kid}${c.flags.length ? `; FLAGGED ${c.flags.join(", ")}` : ""}\n`);
      if (!r.keysPinned) process.stderr.write("note: no --jwks given: signatures were checked against the key each file names, not against the published keys\n");
    });

  cp.command("jwks")
    .description("print the published checkpoint keys (checkpoints.keys) as a JWKS")
    .action(async (_o: unknown, cmd: Command) => {
      const config = await loadAppConfig(cmd.optsWithGlobals<GlobalOptions>());
      process.stdout.write(`${JSON.stringify(buildJwks(config.checkpoints.keys), null, 2)}\n`);
    });
}

/** Printable lines of a signed checkpoint (display units). */
export function formatCheckpoint(c: SignedCheckpoint): string[] {
  const d = c.document;
  return [
    `  status ${d.status}; snapshot ${d.snapshot.id} as of ${d.snapshot.asOf}; ${d.assurance}`,
    `  digest ${c.digest}${d.previousDigest ? `, previous ${d.previousDigest}` : ""}; signed by ${c.signature.kid}`,
    ...d.anchors.map((a) => `  anchor ${a.chain} (${a.caip2}) block ${a.height} ${a.hash}, ${a.rule} ${new Date(a.ruleTime * 1000).toISOString()} (${a.skewSeconds}s before; max ${a.maxSkewSeconds}s)${a.anchored ? "" : " NOT ANCHORED"}${a.window ? `; window ${a.window.fromHeight}..${a.window.toHeight} (±${a.window.blocks})` : ""}`),
    ...d.assets.map((a) => {
      const fmt = (v: string | null) => (v === null ? "-" : formatUnits(BigInt(v), a.decimals));
      const cov = a.coverageBps === null ? "n/a" : `${formatUnits(BigInt(a.coverageBps), 2)}%`;
      const win = a.window ? `  window min ${fmt(a.window.minReserves)}, ${a.window.windowDressing ? "WINDOW DRESSING" : "no window dressing"}` : "";
      return `  ${a.asset.padEnd(8)} reserves ${fmt(a.reserves)}  liabilities ${fmt(a.liabilities)}  coverage ${cov}  ${a.status}${win}`;
    }),
    ...(d.flags ?? []).flatMap((f) => {
      const asset = d.assets.find((a) => a.asset === f.asset);
      const fmt = (v: string) => (asset ? formatUnits(BigInt(v), asset.decimals) : v);
      const move = (m: (typeof f.inflows)[number]) => {
        const decimals = asset?.backing.find((b) => b.chain === m.chain && b.chainAsset === m.chainAsset)?.decimals;
        return `${m.chain} ${m.wallet} ${decimals === undefined ? m.amount : formatUnits(BigInt(m.amount), decimals)} ${m.chainAsset} at ${m.height}${m.txid ? ` tx ${m.txid}` : ""}`;
      };
      return [
        `  FLAG ${f.type} ${f.asset}: reserves rose ${fmt(f.riseBefore)} before the anchors and fell ${fmt(f.dropAfter)} after them (threshold ${formatUnits(BigInt(f.thresholdBps), 2)}% of ${fmt(f.reserves)})`,
        ...f.inflows.map((m) => `    in  ${move(m)}`),
        ...f.outflows.map((m) => `    out ${move(m)}`),
      ];
    }),
    ...(d.unbacked.liabilityAssets.length ? [`  owed without any backing asset: ${d.unbacked.liabilityAssets.join(", ")}`] : []),
    ...(d.unbacked.chainAssets.length ? [`  chain assets backing nothing: ${d.unbacked.chainAssets.join(", ")}`] : []),
    ...d.excluded.map((e) => `  not counted: ${e.chain} ${e.wallet}: ${e.reason}`),
    ...d.discrepancies.map((x) => `  discrepancy: ${x.chain} ${x.wallet} ${x.asset} at ${x.height}: store ${x.store}, node ${x.node}`),
  ];
}
