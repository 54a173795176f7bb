// Request size (issue 8 item 6): bytes and parse time per slot of the old getBlock request
// (transactionDetails "full") against the new one ("accounts", transactions that name no custody
// address skipped before parsing), on mainnet-shaped slots of the LiteSVM chain. Both forms of every
// slot are fetched over HTTP from the test chain's JSON-RPC server; the derived balance changes and
// transfer legs must be equal, or the run fails.
import { deepStrictEqual } from "node:assert";
import { loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import { computeSlotChanges } from "../../src/chains/solana/compute-slot-changes.js";
import type { RpcBlock } from "../../src/chains/solana/create-solana-rpc.js";
import { parseBlockJson } from "../../src/chains/solana/parse-block-json.js";
import { parseRpcJson } from "../../src/chains/solana/parse-rpc-json.js";
import { createMainnetSlotWorkload } from "../../src/devnet/solana/create-mainnet-slot-workload.js";
import { startSolanaDevnet } from "../../src/devnet/solana/start-solana-devnet.js";

/** Slots measured, the workload's shape per slot, and timing repeats per slot (median taken). */
export type MeasureRequestSizeParameters = { slots: number; validators: number; others: number; custodians: number; repeats: number };

const VOTE_PROGRAM = "Vote111111111111111111111111111111111111111";

/** The getBlock parameters of the indexer before (full) and after (accounts) this change. */
function getBlockParams(slot: number, transactionDetails: "full" | "accounts") {
  return [slot, { commitment: "finalized", encoding: "json", transactionDetails, maxSupportedTransactionVersion: 0, rewards: false }];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Runs the measurement and returns the lines to print. @throws AssertionError when the two requests derive different changes or legs. */
export async function measureRequestSize(p: MeasureRequestSizeParameters): Promise<string[]> {
  const loadBefore = loadavg()[0]!;
  const net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1 });
  const { chain } = net;
  const t0 = performance.now();
  const w = createMainnetSlotWorkload(chain, { validators: p.validators, others: p.others, custodians: p.custodians, seed: 8 });
  const setupS = (performance.now() - t0) / 1000;
  const produced: { slot: number; votes: number; others: number; custody: number; failed: number }[] = [];
  const t1 = performance.now();
  for (let i = 0; i < p.slots; i++) {
    const stats = w.fillSlot();
    produced.push({ slot: chain.tick().slot, ...stats });
  }
  const fillMs = (performance.now() - t1) / p.slots;
  chain.tick();
  chain.tick();

  const owners = new Map(w.custody.map((k, i) => [k.publicKey.toBase58(), i + 1]));
  const mints = new Map(w.tokens.map((t, i) => [t.mint.toBase58(), i === 0 ? "USDC" : "PYUSD"]));
  const derive = (block: RpcBlock) => computeSlotChanges({ chain: "sol", block, owners, nativeAsset: "SOL", mints });
  const fetchText = async (slot: number, details: "full" | "accounts") => {
    const res = await fetch(net.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBlock", params: getBlockParams(slot, details) }) });
    return res.text();
  };
  const rows = { full: { bytes: [] as number[], gzip: [] as number[], parseMs: [] as number[] }, accounts: { bytes: [] as number[], gzip: [] as number[], parseMs: [] as number[] }, filtered: { parseMs: [] as number[], parsed: [] as number[] } };
  let voteBytes = { full: 0, accounts: 0 };
  let changes = 0;
  let legs = 0;
  // Both answers of every slot first: the parse timings below would otherwise idle the connection
  // past the server's keep-alive timeout on a busy machine (ECONNRESET on reuse).
  const texts: { full: string; accounts: string }[] = [];
  for (const s of produced) texts.push({ full: await fetchText(s.slot, "full"), accounts: await fetchText(s.slot, "accounts") });
  await net.stop();
  for (const { full, accounts } of texts) {
    const time = (f: () => unknown) => {
      const ms: number[] = [];
      for (let r = 0; r < p.repeats; r++) {
        const t = performance.now();
        f();
        ms.push(performance.now() - t);
      }
      return median(ms);
    };
    const old = derive((parseRpcJson(full) as { result: RpcBlock }).result);
    const unfiltered = derive((parseRpcJson(accounts) as { result: RpcBlock }).result);
    const filteredBlock = (parseBlockJson(accounts, { watched: owners }) as { result: RpcBlock }).result;
    const next = derive(filteredBlock);
    // The point of the exercise: the same balances and legs from the smaller request.
    deepStrictEqual(unfiltered, old);
    deepStrictEqual(next, old);
    changes += old.changes.length;
    legs += old.transfers.length;
    rows.full.bytes.push(Buffer.byteLength(full));
    rows.accounts.bytes.push(Buffer.byteLength(accounts));
    rows.full.gzip.push(gzipSync(full).length);
    rows.accounts.gzip.push(gzipSync(accounts).length);
    rows.full.parseMs.push(time(() => derive((parseRpcJson(full) as { result: RpcBlock }).result)));
    rows.accounts.parseMs.push(time(() => derive((parseRpcJson(accounts) as { result: RpcBlock }).result)));
    rows.filtered.parseMs.push(time(() => derive((parseBlockJson(accounts, { watched: owners }) as { result: RpcBlock }).result)));
    rows.filtered.parsed.push(filteredBlock.transactions!.length);
    for (const [form, text] of [["full", full], ["accounts", accounts]] as const) {
      for (const tx of (JSON.parse(text) as { result: { transactions: unknown[] } }).result.transactions) {
        const json = JSON.stringify(tx);
        if (json.includes(VOTE_PROGRAM)) voteBytes = { ...voteBytes, [form]: voteBytes[form] + Buffer.byteLength(json) };
      }
    }
  }
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const n = produced.length;
  const txs = mean(produced.map((s) => s.votes + s.others));
  const fb = mean(rows.full.bytes);
  const ab = mean(rows.accounts.bytes);
  const loadAfter = loadavg()[0]!;
  const table = [
    ["", "old: \"full\"", "new: \"accounts\"", "new + skip before parsing", "old / new"],
    ["bytes per slot (JSON as the node sends it)", kb(fb), kb(ab), kb(ab), `${(fb / ab).toFixed(2)}×`],
    ["bytes per slot if the provider gzips", kb(mean(rows.full.gzip)), kb(mean(rows.accounts.gzip)), kb(mean(rows.accounts.gzip)), `${(mean(rows.full.gzip) / mean(rows.accounts.gzip)).toFixed(2)}×`],
    ["of which votes (uncompressed)", kb(voteBytes.full / n), kb(voteBytes.accounts / n), kb(voteBytes.accounts / n), `${(voteBytes.full / voteBytes.accounts).toFixed(2)}×`],
    ["parse + derive per slot (median of " + p.repeats + ")", ms(mean(rows.full.parseMs)), ms(mean(rows.accounts.parseMs)), ms(mean(rows.filtered.parseMs)), `${(mean(rows.full.parseMs) / mean(rows.filtered.parseMs)).toFixed(1)}×`],
    ["transactions parsed per slot", txs.toFixed(0), txs.toFixed(0), mean(rows.filtered.parsed).toFixed(1), ""],
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return [
    `Request size: ${n} mainnet-shaped slots (${mean(produced.map((s) => s.votes)).toFixed(0)} TowerSync votes + ${mean(produced.map((s) => s.others)).toFixed(0)} others per slot, of which ${mean(produced.map((s) => s.custody)).toFixed(1)} touch the ${p.custodians} custody wallets and ${mean(produced.map((s) => s.failed)).toFixed(1)} fail); load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} (shared 2-core machine: times are noisy, bytes are exact)`,
    `  setup ${setupS.toFixed(1)} s, ${fillMs.toFixed(0)} ms of runtime work per slot; same derived balances from both requests: ${changes} balance changes and ${legs} transfer legs over ${n} slots, equal`,
    ...table.map((r) => "  " + r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join("  ")),
  ];
}
