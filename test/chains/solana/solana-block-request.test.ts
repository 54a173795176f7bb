import { Connection, SystemProgram, type VersionedAccountsModeBlockResponse } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeSlotChanges } from "../../../src/chains/solana/compute-slot-changes.js";
import { createSolanaRpc, type RpcBlock } from "../../../src/chains/solana/create-solana-rpc.js";
import { parseRpcJson } from "../../../src/chains/solana/parse-rpc-json.js";
import { createMainnetSlotWorkload } from "../../../src/devnet/solana/create-mainnet-slot-workload.js";
import { buildVoteInstruction, createValidator, send, startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";

const VOTE = "Vote111111111111111111111111111111111111111";

/** The request the indexer made before (transactionDetails "full"), over HTTP. */
async function fetchFull(url: string, slot: number): Promise<{ text: string; block: RpcBlock }> {
  const params = [slot, { commitment: "finalized", encoding: "json", transactionDetails: "full", maxSupportedTransactionVersion: 0, rewards: false }];
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBlock", params }) });
  const text = await res.text();
  return { text, block: (parseRpcJson(text) as { result: RpcBlock }).result };
}

describe("getBlock with transactionDetails \"accounts\" on mainnet-shaped slots", () => {
  let net: SolanaDevnet;
  let w: ReturnType<typeof createMainnetSlotWorkload>;
  const slots: number[] = [];
  let crafted = "";

  beforeAll(async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 1 });
    w = createMainnetSlotWorkload(net.chain, { validators: 40, others: 24, custodians: 6, custodyShare: 0.5, seed: 3 });
    const extra = createValidator(net.chain, { payer: w.payer });
    for (let i = 0; i < 2; i++) {
      w.fillSlot();
      if (i === 1) {
        // A vote that also pays a custody wallet: a vote program instruction does not make it skippable.
        const r = send(net.chain, extra.identity, [buildVoteInstruction(net.chain, extra), SystemProgram.transfer({ fromPubkey: extra.identity.publicKey, toPubkey: w.custody[0]!.publicKey, lamports: 4_242 })], [], { skipPreflight: true });
        expect(r.err).toBeNull();
        crafted = r.signature;
      }
      slots.push(net.chain.tick().slot);
    }
    net.chain.tick();
    net.chain.tick();
  }, 120_000);
  afterAll(async () => {
    await net?.stop();
  });

  it("derives the same changes and legs as the full request, parsing only the custody transactions, in fewer bytes", async () => {
    const owners = new Map(w.custody.map((k, i) => [k.publicKey.toBase58(), i + 1]));
    const mints = new Map(w.tokens.map((t, i) => [t.mint.toBase58(), i === 0 ? "USDC" : "PYUSD"]));
    const rpc = createSolanaRpc({ chain: "sol", urls: [net.url], timeoutMs: 10_000, watched: () => owners });
    let legs = 0;
    for (const slot of slots) {
      const full = await fetchFull(net.url, slot);
      const block = (await rpc.getBlock(slot))!;
      const derive = (b: RpcBlock) => computeSlotChanges({ chain: "sol", block: b, owners, nativeAsset: "SOL", mints });
      expect(derive(block)).toEqual(derive(full.block));
      legs += derive(block).transfers.length;
      // Parsed: exactly the transactions whose keys or token owners include a custody wallet.
      const names = (t: NonNullable<RpcBlock["transactions"]>[number]) => [...JSON.stringify(t).matchAll(/"([1-9A-HJ-NP-Za-km-z]{32,44})"/g)].some((m) => owners.has(m[1]!));
      const custodyTxs = full.block.transactions!.filter(names);
      expect(block.transactions!.map((t) => t.transaction.signatures[0])).toEqual(custodyTxs.map((t) => t.transaction.signatures[0]));
      expect(block.transactions!.map((t) => t.index)).toEqual(custodyTxs.map((t) => full.block.transactions!.indexOf(t)));
      expect(block.skippedTransactions).toBe(full.block.transactions!.length - custodyTxs.length);
      const votes = full.block.transactions!.filter((t) => "message" in t.transaction && t.transaction.message.accountKeys.includes(VOTE));
      expect(votes.length).toBeGreaterThanOrEqual(40);
      expect(block.transactions!.filter((t) => "accountKeys" in t.transaction && t.transaction.accountKeys.some((k) => k.pubkey === VOTE)).map((t) => t.transaction.signatures[0])).toEqual(slot === slots[1] ? [crafted] : []);
      // The accounts form is the smaller answer (the benchmark measures how much on 1,000 + 300 transactions).
      const accounts = await (await fetch(net.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBlock", params: [slot, { commitment: "finalized", encoding: "json", transactionDetails: "accounts", maxSupportedTransactionVersion: 0, rewards: false }] }) })).text();
      expect(Buffer.byteLength(accounts)).toBeLessThan(Buffer.byteLength(full.text) * 0.8);
    }
    expect(legs).toBeGreaterThan(10);
  });

  it("serves the accounts form as agave does (flags, sources, simple meta), and web3.js parses it", async () => {
    const conn = new Connection(net.url, { commitment: "finalized" });
    const block = (await conn.getBlock(slots[1]!, { transactionDetails: "accounts", maxSupportedTransactionVersion: 0, rewards: false })) as VersionedAccountsModeBlockResponse | null;
    const vote = block!.transactions.find((t) => t.transaction.accountKeys.some((k) => k.pubkey.toBase58() === VOTE) && t.transaction.signatures[0] !== crafted)!;
    expect(vote.transaction.accountKeys.map((k) => [k.signer, k.writable, k.source])).toEqual([[true, true, "transaction"], [false, true, "transaction"], [false, false, "transaction"]]);
    expect(vote.version).toBe("legacy");
    const raw = (await (await fetch(net.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBlock", params: [slots[1], { transactionDetails: "accounts", maxSupportedTransactionVersion: 0 }] }) })).json()) as { result: { transactions: { meta: Record<string, unknown>; transaction: { accountKeys: { pubkey: string; writable: boolean }[] } }[] } };
    const tx = raw.result.transactions.find((t) => t.transaction.accountKeys.some((k) => k.pubkey === "ComputeBudget111111111111111111111111111111"))!;
    // With rewards (the default) the meta carries them; it never carries logs, instructions or loaded addresses.
    expect(Object.keys(tx.meta).sort()).toEqual(["err", "fee", "postBalances", "postTokenBalances", "preBalances", "preTokenBalances", "rewards", "status"]);
    // Reserved program ids are never write-locked, whatever the header says.
    expect(tx.transaction.accountKeys.find((k) => k.pubkey === "ComputeBudget111111111111111111111111111111")!.writable).toBe(false);
  });
});
