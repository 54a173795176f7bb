import type { Command } from "commander";
import type { ResolvedConfig } from "../lib/config.js";
import { BackstopError } from "../lib/errors.js";
import { formatUnits } from "../lib/amounts.js";
import { loadBalances, loadCursor, loadHeaders, loadWalletAddresses, type Store } from "../store/index.js";
import { loadAppConfig, openConfigStore, requireChain, type GlobalOptions } from "./context.js";
import { parseHeight } from "./index-command.js";

/** One line of `backstop balances --json`. Amounts are base-unit decimal strings. */
export type BalanceLine = {
  chain: string;
  wallet: string;
  address: string;
  asset: string;
  decimals: number;
  amount: string;
  height: number;
  blockHash: string;
  finalized: boolean;
};

/** Computes every (wallet, asset) balance of a chain as of a height (default: the indexed tip); zero balances included. @throws BackstopError */
export async function loadBalanceLines(store: Store, config: ResolvedConfig, p: { chain: string; at?: number; wallet?: string }): Promise<BalanceLine[]> {
  const cursor = await loadCursor(store, p.chain);
  if (!cursor) return [];
  const at = p.at ?? cursor.height;
  if (at > cursor.height) throw new NotIndexedError({ chain: p.chain, height: at, indexed: cursor.height });
  const [header] = await loadHeaders(store, { chain: p.chain, toHeight: at, limit: 1 });
  if (!header || header.height !== at) throw new NotIndexedError({ chain: p.chain, height: at, indexed: cursor.height });
  const rows = await store.db.select().from(store.t.wallets);
  let wallets = rows.filter((w) => w.chain === p.chain && config.wallets.some((c) => c.chain === p.chain && c.label === w.label));
  if (p.wallet) {
    const addresses = await loadWalletAddresses(store, { chain: p.chain });
    const owner = addresses.find((a) => a.address === p.wallet)?.walletId;
    wallets = wallets.filter((w) => w.label === p.wallet || w.address === p.wallet || Number(w.id) === owner);
    if (!wallets.length) throw new UnknownWalletError({ chain: p.chain, wallet: p.wallet });
  }
  const balances = await loadBalances(store, { chain: p.chain, atHeight: at });
  const assets = Object.values(config.assets).filter((a) => a.chain === p.chain);
  const lines: BalanceLine[] = [];
  for (const w of wallets) {
    for (const a of assets) {
      const b = balances.find((x) => x.walletId === Number(w.id) && x.asset === a.id);
      lines.push({
        chain: p.chain,
        wallet: w.label,
        address: w.address ?? w.descriptor ?? "",
        asset: a.id,
        decimals: a.decimals,
        amount: (b?.amount ?? 0n).toString(),
        height: at,
        blockHash: header.hash,
        finalized: cursor.finalizedHeight !== null && at <= cursor.finalizedHeight,
      });
    }
  }
  return lines;
}

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
  const rows = lines.map((l) => [l.chain, l.wallet, l.asset, formatUnits(BigInt(l.amount), l.decimals), String(l.height), l.finalized ? "final" : "unfinalized", `${l.blockHash.slice(0, 16)}…`]);
  const head = ["chain", "wallet", "asset", "amount", "height", "status", "block"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return `${[fmt(head), ...rows.map(fmt)].join("\n")}\n`;
}

/** The requested height is above the indexed tip (or below the first indexed block). */
export class NotIndexedError extends BackstopError {
  override name = "NotIndexedError";
  constructor(p: { chain: string; height: number; indexed: number }) {
    super("CLI__NOT_INDEXED", `Height ${p.height} of ${p.chain} is not indexed (indexed tip: ${p.indexed}).`);
  }
}

/** --wallet names no wallet of the chain. */
export class UnknownWalletError extends BackstopError {
  override name = "UnknownWalletError";
  constructor(p: { chain: string; wallet: string }) {
    super("CLI__UNKNOWN_WALLET", `No wallet "${p.wallet}" on ${p.chain}.`);
  }
}
