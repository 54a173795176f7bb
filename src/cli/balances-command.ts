import type { Command } from "commander";
import { formatUnits } from "../lib/amounts.js";
import { loadBalanceLines, type BalanceLine } from "../store/index.js";
import { loadAppConfig, openConfigStore, requireChain, type GlobalOptions } from "./context.js";
import { parseHeight } from "./index-command.js";

// The balance read model lives in the store, shared with the API (src/serve/); re-exported here for the CLI's callers.
export { loadBalanceLines, NotIndexedError, UnknownWalletError, type BalanceLine } from "../store/index.js";

/** `backstop balances --chain <key> [--at <height>] [--wallet <address-or-label>] [--json]`. */
export function registerBalancesCommand(program: Command) {
  program
    .command("balances")
    .description("custody balances of a chain's wallets at a height (default: the indexed tip)")
    .option("--chain <key>", "chain key from the config (default: every chain)")
    .option("--at <height>", "balances as of this height", (v) => parseHeight(v, "--at"))
    .option("--wallet <address-or-label>", "only this wallet")
    .option("--json", "print JSON lines (amounts as base-unit strings)")
    .action(async (o: { chain?: string; at?: number; wallet?: string; json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadAppConfig(g);
      const chains = o.chain ? [requireChain(config, o.chain)] : Object.keys(config.chains);
      const store = await openConfigStore(config);
      try {
        // One snapshot for every chain: an indexer committing meanwhile (the demo, `start`) never
        // mixes two of its commits into one answer.
        const lines = await store.read(async (s) => {
          const out: BalanceLine[] = [];
          for (const chain of chains) out.push(...(await loadBalanceLines(s, config, { chain, at: o.at, wallet: o.wallet })));
          return out;
        });
        if (o.json) process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
        else process.stdout.write(formatBalanceTable(lines));
      } finally {
        await store.close();
      }
    });
}

/** Renders balance lines as an aligned text table (display units). */
export function formatBalanceTable(lines: readonly BalanceLine[]): string {
  if (!lines.length) return "(nothing indexed yet)\n";
  const rows = lines.map((l) => [
    l.chain,
    l.wallet,
    l.asset,
    l.amount === null ? "?" : formatUnits(BigInt(l.amount), l.decimals),
    String(l.height),
    l.finalized ? "final" : "unfinalized",
    l.blockHash ? `${l.blockHash.slice(0, 16)}…` : "(pruned)",
    l.counted ? "counted" : `NOT COUNTED (${l.state}): ${l.reason ?? ""}`,
  ]);
  const head = ["chain", "wallet", "asset", "amount", "height", "status", "block", "reserves"];
  // The reserves column only when some balance does not count (pending, removed, before a baseline).
  if (lines.every((l) => l.counted)) {
    head.pop();
    for (const r of rows) r.pop();
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return `${[fmt(head), ...rows.map(fmt)].join("\n")}\n`;
}
