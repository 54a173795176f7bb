// The Bitcoin indexer's proof-of-work check and transfer legs, against a real bcoin regtest node,
// on SQLite and on Postgres.
//
// Legs: a workload (deposits, a withdrawal with change, a batched withdrawal to 50 users, a
// custody-to-custody move, a consolidation inside one wallet, a sweep of two wallets into a third,
// a deposit spent in its own block) is indexed; the stored legs must equal what this test derives
// from the node's own blocks (parsed with bitcoinjs-lib, the custody outputs tracked here). A reorg
// then drops a block with legs: they go with it.
//
// Proof of work: a JSON-RPC proxy in front of the real node substitutes a made-up branch on top of
// the indexed tip (blocks with valid merkle roots and a fake custody deposit, but no work, or bits
// that are not regtest's): the indexer refuses it with a typed error naming the height, and the
// store is exactly as before. The honest node then indexes on.
import { address as bitcoinAddress, Block, networks, script as bscript, Transaction } from "bitcoinjs-lib";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { ensureEccLib } from "../../../src/chains/bitcoin/ensure-ecc-lib.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { createLogger } from "../../../src/lib/logger.js";
import { loadBalances, loadCursor, loadHeaders, loadTransfers, loadWalletAddresses, type Store, type StoredTransfer } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS, type StoreKind } from "../../helpers/stores.js";
import {
  createHdAccount,
  createOwner,
  createRandom,
  createRigRpc,
  createRigWallet,
  outputsTo,
  startBcoin,
  type BcoinNode,
  type RigHdAccount,
  type RigOwner,
  type RigRpc,
  type RigWallet,
} from "../../rig/bitcoin.js";

const CHAIN = "btc";
const logger = createLogger({ level: "silent" });
const SEED = Number(process.env.BACKSTOP_TEST_SEED ?? 8008);

describe(`bitcoin indexer validity against bcoin regtest (seed ${SEED})`, () => {
  const random = createRandom(SEED);
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  let startHeight = 0;
  const hot = createOwner("p2wpkh", { random });
  const hot2 = createOwner("p2pkh", { random });
  let cold: RigHdAccount;
  let deposits: RigHdAccount;
  // Scripts of each custody wallet, as this test knows them (independent of the store).
  const custody = new Map<string, string>(); // script hex -> label
  const stores: Array<{ kind: StoreKind; store: Store; dispose: () => Promise<void> }> = [];

  beforeAll(async () => {
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    cold = createHdAccount("wsh-sortedmulti", { random });
    deposits = createHdAccount("wpkh", { random });
    await wallet.fund(8);
    startHeight = (await rpc.call<number>("getblockcount")) + 1;
    custody.set(hot.scriptHex, "hot");
    custody.set(hot2.scriptHex, "hot2");
    for (const b of [0, 1]) for (let i = 0; i < 10; i++) {
      custody.set(cold.owner(b, i).scriptHex, "cold");
      custody.set(deposits.owner(b, i).scriptHex, "deposits");
    }
    for (const kind of STORE_KINDS) stores.push({ kind, ...(await openTestStore(kind)) });
  }, 240_000);

  afterAll(async () => {
    for (const s of stores) await s.dispose();
    await node?.stop();
  });

  function indexerFor(store: Store, rpcUrl: string) {
    const config = resolveConfig({
      path: "validity.config",
      env: {},
      input: {
        chains: { [CHAIN]: { chain: "bitcoin-regtest", rpc: [rpcUrl], finalityDepth: 6, startHeight, pollIntervalMs: 50, rpcTimeoutMs: 10_000 } },
        assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
        wallets: [
          { label: "hot", chain: CHAIN, address: hot.address },
          { label: "hot2", chain: CHAIN, address: hot2.address },
          { label: "cold", chain: CHAIN, descriptor: cold.descriptor, gapLimit: 5 },
          { label: "deposits", chain: CHAIN, descriptor: deposits.descriptor, gapLimit: 5 },
        ],
      },
    });
    return createIndexer({ config, chainKey: CHAIN, store, logger });
  }

  const mined = async () => (await wallet.mine(1))[0]!;
  const external = () => createOwner("p2wpkh", { random });

  // ------------------------------------------------------------------ the oracle

  type ExpectedLeg = { txid: string; label: string; direction: "in" | "out" | "fee"; amount: bigint; counterparty: string | null; counterpartyLabel: string | null };

  /**
   * Legs derived from the node's blocks: custody outputs tracked from startHeight. Deposits are
   * one `in` leg per custody output; a transaction spent by one custody wallet has an `out` leg per
   * output not paying that wallet (and the `in` leg of a receiving custody wallet), and a `fee` leg
   * when all its inputs are custody. A transaction spent by several custody wallets is checked by
   * its sums (see multiPayer).
   */
  async function deriveLegs(): Promise<{ legs: ExpectedLeg[]; multiPayer: Array<{ txid: string; delta: Map<string, bigint>; fee: bigint | null; outputs: Set<string> }>; hashes: string[] }> {
    const tip = await rpc.call<number>("getblockcount");
    const hashes = await rpc.batch<string>(Array.from({ length: tip - startHeight + 1 }, (_, i) => ["getblockhash", [startHeight + i]]));
    const utxos = new Map<string, { label: string; value: bigint; script: Buffer }>();
    const legs: ExpectedLeg[] = [];
    const multiPayer: Array<{ txid: string; delta: Map<string, bigint>; fee: bigint | null; outputs: Set<string> }> = [];
    const addr = (script: Buffer) => {
      try {
        return bitcoinAddress.fromOutputScript(script, networks.regtest);
      } catch {
        return `script:${script.toString("hex")}`;
      }
    };
    for (const hash of hashes) {
      const block = Block.fromHex(await rpc.call<string>("getblock", [hash, false]));
      for (const tx of block.transactions!) {
        const txid = tx.getId();
        const spent = tx.isCoinbase() ? [] : tx.ins.map((i) => utxos.get(`${Buffer.from(i.hash).reverse().toString("hex")}:${i.index}`)).filter((u) => u !== undefined);
        for (const i of tx.ins) utxos.delete(`${Buffer.from(i.hash).reverse().toString("hex")}:${i.index}`);
        const outs = tx.outs.map((o, vout) => ({ vout, value: BigInt(o.value), script: o.script, label: custody.get(o.script.toString("hex")) ?? null }));
        for (const o of outs) if (o.label) utxos.set(`${txid}:${o.vout}`, { label: o.label, value: o.value, script: o.script });
        const payers = new Set(spent.map((s) => s!.label));
        if (payers.size === 0) {
          for (const o of outs) if (o.label && o.value > 0n) legs.push({ txid, label: o.label, direction: "in", amount: o.value, counterparty: null, counterpartyLabel: null });
          continue;
        }
        const allCustody = spent.length === tx.ins.length;
        const totalIn = spent.reduce((s, u) => s + u!.value, 0n);
        const totalOut = outs.reduce((s, o) => s + o.value, 0n);
        if (payers.size > 1) {
          const delta = new Map<string, bigint>();
          for (const s of spent) delta.set(s!.label, (delta.get(s!.label) ?? 0n) - s!.value);
          for (const o of outs) if (o.label) delta.set(o.label, (delta.get(o.label) ?? 0n) + o.value);
          multiPayer.push({ txid, delta, fee: allCustody ? totalIn - totalOut : null, outputs: new Set(outs.map((o) => addr(o.script))) });
          continue;
        }
        const [payer] = payers as Set<string>;
        const payerAddress = addr(spent[0]!.script);
        for (const o of outs) {
          if (o.value === 0n || o.label === payer) continue;
          legs.push({ txid, label: payer!, direction: "out", amount: o.value, counterparty: addr(o.script), counterpartyLabel: o.label });
          if (o.label) legs.push({ txid, label: o.label, direction: "in", amount: o.value, counterparty: payerAddress, counterpartyLabel: payer! });
        }
        if (allCustody && totalIn > totalOut) legs.push({ txid, label: payer!, direction: "fee", amount: totalIn - totalOut, counterparty: null, counterpartyLabel: null });
      }
    }
    return { legs, multiPayer, hashes };
  }

  async function expectLegsMatchNode(store: Store, step: string) {
    const { legs, multiPayer, hashes } = await deriveLegs();
    const labelOf = new Map<number, string>();
    for (const a of await loadWalletAddresses(store, { chain: CHAIN })) {
      const label = custody.get(a.script!);
      if (label) labelOf.set(a.walletId, label);
    }
    const stored = await loadTransfers(store, { chain: CHAIN });
    // Every stored leg belongs to a block on the node's chain (a reorg takes its legs with it).
    for (const l of stored) expect(hashes[l.height - startHeight], `${step}: leg of a block no longer on the chain`).toBe(l.blockHash);
    const view = (l: StoredTransfer) => ({ txid: l.txid!, label: labelOf.get(l.walletId)!, direction: l.direction, amount: l.amount, counterparty: l.counterparty, counterpartyLabel: l.counterpartyWalletId ? labelOf.get(l.counterpartyWalletId)! : null });
    const multi = new Set(multiPayer.map((m) => m.txid));
    const key = (l: ExpectedLeg) => JSON.stringify(l, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    expect(stored.filter((l) => !multi.has(l.txid!)).map(view).map(key).sort(), step).toEqual(legs.map(key).sort());
    for (const m of multiPayer) {
      const mine = stored.filter((l) => l.txid === m.txid).map(view);
      for (const [label, delta] of m.delta) {
        const sum = mine.filter((l) => l.label === label).reduce((s, l) => s + (l.direction === "in" ? l.amount : -l.amount), 0n);
        expect(sum, `${step}: ${m.txid} ${label}`).toBe(delta);
      }
      expect(mine.filter((l) => l.direction === "fee").reduce((s, l) => s + l.amount, 0n)).toBe(m.fee ?? 0n);
      expect(mine.filter((l) => l.direction === "fee").length).toBe(1);
      for (const l of mine) if (l.direction === "out") expect(m.outputs.has(l.counterparty!)).toBe(true);
    }
    return { stored: stored.length, expected: legs.length, multiPayer: multiPayer.length };
  }

  // ------------------------------------------------------------------ the tests

  it("stores the legs of a custody workload exactly as the node's blocks show them, on SQLite and Postgres; a reorg deletes them with their block", async () => {
    const t0 = performance.now();
    // Deposits: one transaction paying five custody addresses of four wallets (and change to the funder).
    await wallet.send({
      from: [wallet.funder],
      to: [
        { script: hot.script, value: 300_000_000n },
        { script: hot2.script, value: 200_000_000n },
        { script: cold.owner(0, 0).script, value: 100_000_000n },
        ...[0, 1, 2].map((i) => ({ script: deposits.owner(0, i).script, value: BigInt(10_000_000 * (i + 3)) })),
      ],
    });
    await mined();
    // A withdrawal with change, and a batched withdrawal to 50 users with change.
    await wallet.send({ from: [hot], to: [{ script: external().script, value: 70_000_000n }], change: hot });
    await mined();
    const batch = await wallet.send({ from: [hot], to: Array.from({ length: 50 }, (_, i) => ({ script: external().script, value: BigInt(100_000 + i * 1_000) })), change: hot });
    await mined();
    // Custody to custody, and a consolidation inside one wallet (its change branch).
    await wallet.send({ from: [hot2], to: [{ script: cold.owner(0, 1).script, value: 100_000_000n }], change: hot2 });
    await wallet.send({ from: [0, 1, 2].map((i) => deposits.owner(0, i)), to: [], change: deposits.owner(1, 0), all: true });
    await mined();
    // A sweep of two wallets into a third, and a deposit spent in its own block.
    await wallet.send({ from: [hot, hot2], to: [], change: cold.owner(0, 2), all: true });
    const dep = await wallet.send({ from: [wallet.funder], to: [{ script: hot.script, value: 50_000_000n }] });
    await wallet.send({ from: [hot], coins: outputsTo(dep.tx, hot), to: [{ script: external().script, value: 20_000_000n }], change: hot });
    await mined();
    const batchTx = batch.txid;
    const timings: Record<string, number> = { workload: Math.round(performance.now() - t0) };

    for (const { kind, store } of stores) {
      const t1 = performance.now();
      await indexerFor(store, node.authUrl).run({ once: true });
      const r = await expectLegsMatchNode(store, `${kind} workload`);
      timings[`${kind} index+check`] = Math.round(performance.now() - t1);
      const batchLegs = await loadTransfers(store, { chain: CHAIN, txid: batchTx });
      expect(batchLegs.filter((l) => l.direction === "out").length, kind).toBe(50);
      expect(batchLegs.filter((l) => l.direction === "fee").length, kind).toBe(1);
      expect(r.multiPayer).toBe(1);
      expect(r.expected).toBeGreaterThan(60);
    }

    // A reorg that drops a block with a withdrawal: its legs go with it, the new branch's come in.
    await wallet.send({ from: [cold.owner(0, 0)], to: [{ script: external().script, value: 10_000_000n }], change: cold.owner(1, 0) });
    const dropped = await mined();
    for (const { kind, store } of stores) {
      await indexerFor(store, node.authUrl).run({ once: true });
      expect((await loadTransfers(store, { chain: CHAIN })).some((l) => l.blockHash === dropped), kind).toBe(true);
    }
    await wallet.reorg({ depth: 1, extra: 1, between: async () => {
      await wallet.send({ from: [wallet.funder], to: [{ script: deposits.owner(0, 3).script, value: 1_234_567n }] });
    } });
    for (const { kind, store } of stores) {
      await indexerFor(store, node.authUrl).run({ once: true });
      expect((await loadTransfers(store, { chain: CHAIN })).some((l) => l.blockHash === dropped), kind).toBe(false);
      await expectLegsMatchNode(store, `${kind} after the reorg`);
    }
    console.log("legs timings ms", timings);
  }, 300_000);

  it("refuses a made-up branch without proof of work, or with bits that are not regtest's, naming the height; stores nothing from it (SQLite and Postgres)", async () => {
    const tip = await rpc.call<number>("getblockcount");
    const tipHash = await rpc.call<string>("getblockhash", [tip]);
    const tipTime = (await rpc.call<{ time: number }>("getblockheader", [tipHash, true])).time;
    for (const variant of ["no work", "wrong bits"] as const) {
      // Two linked blocks on the real tip, each a coinbase paying `hot` a fake 50 BTC: merkle roots
      // right, hashes linked, only the work is missing (or under another target than regtest's).
      const fake = makeBranch({ parent: tipHash, height: tip + 1, time: tipTime + 1, count: 2, payTo: hot.script, variant });
      const proxy = await startBranchProxy(node, { fromHeight: tip + 1, blocks: fake });
      try {
        for (const { kind, store } of stores) {
          const before = await snapshot(store);
          const err = await indexerFor(store, `http://x:${node.pass}@127.0.0.1:${proxy.port}/`).run({ once: true }).catch((e: unknown) => e);
          expect(proxy.served(), `${kind} ${variant}: the proxy served the branch`).toBeGreaterThan(0);
          const code = variant === "no work" ? "BITCOIN__HASH_ABOVE_TARGET" : "BITCOIN__UNEXPECTED_BITS";
          expect((err as { code?: string }).code, `${kind} ${variant}: ${String(err)}`).toBe(code);
          expect((err as Error).message).toContain(`Block ${tip + 1} (${fake[0]!.hash})`);
          expect((err as { retryable?: boolean }).retryable).toBe(false);
          if (variant === "wrong bits") expect((err as Error).message).toMatch(/requires 0x207fffff \(regtest's fixed target\)/);
          expect(await snapshot(store), `${kind} ${variant}: store changed`).toEqual(before);
          console.log(`${kind} ${variant} -> ${(err as Error).message.split("\n")[0]}`);
        }
      } finally {
        await new Promise((r) => proxy.server.close(r));
      }
    }
    // The honest node: the chain goes on from the same tip.
    await wallet.send({ from: [wallet.funder], to: [{ script: hot.script, value: 7_000_000n }] });
    await mined();
    for (const { kind, store } of stores) {
      await indexerFor(store, node.authUrl).run({ once: true });
      expect((await loadCursor(store, CHAIN))!.height, kind).toBe(tip + 1);
      await expectLegsMatchNode(store, `${kind} after the lying branch`);
    }
  }, 240_000);
});

/** What "nothing was written" compares: cursor, headers, balances and legs. */
async function snapshot(store: Store) {
  return {
    cursor: await loadCursor(store, CHAIN),
    headers: await loadHeaders(store, { chain: CHAIN, limit: 100_000 }),
    balances: await loadBalances(store, { chain: CHAIN }),
    transfers: await loadTransfers(store, { chain: CHAIN }),
  };
}

type FakeBlock = { hash: string; hex: string };

/**
 * A branch of `count` linked blocks (coinbase only, paying `payTo`), with a correct merkle root.
 * "no work": bits are regtest's, the nonce is ground until the hash is ABOVE the target.
 * "wrong bits": bits 0x1f00ffff (a harder target than regtest's fixed one), ground until the hash meets it.
 */
function makeBranch(p: { parent: string; height: number; time: number; count: number; payTo: Buffer; variant: "no work" | "wrong bits" }): FakeBlock[] {
  ensureEccLib();
  const out: FakeBlock[] = [];
  let prev = p.parent;
  for (let i = 0; i < p.count; i++) {
    const cb = new Transaction();
    cb.version = 2;
    cb.addInput(Buffer.alloc(32), 0xffffffff, 0xffffffff, bscript.compile([bscript.number.encode(p.height + i), Buffer.from("fake branch")]));
    cb.addOutput(p.payTo, 5_000_000_000);
    const b = new Block();
    b.version = 0x20000000;
    b.prevHash = Buffer.from(prev, "hex").reverse();
    b.transactions = [cb];
    b.merkleRoot = Block.calculateMerkleRoot([cb]);
    b.timestamp = p.time + i;
    b.bits = p.variant === "no work" ? 0x207fffff : 0x1f00ffff;
    const target = BigInt(`0x${(b.bits & 0xffffff).toString(16)}`) << BigInt(8 * ((b.bits >>> 24) - 3));
    for (b.nonce = 0; ; b.nonce++) {
      const h = BigInt(`0x${b.getId()}`);
      if (p.variant === "no work" ? h > target : h <= target) break;
    }
    out.push({ hash: b.getId(), hex: b.toHex() });
    prev = b.getId();
  }
  // The hashes really are what the proxy claims (double SHA-256 of the header).
  for (const f of out) expect(Buffer.from(createHash("sha256").update(createHash("sha256").update(Buffer.from(f.hex.slice(0, 160), "hex")).digest()).digest()).reverse().toString("hex")).toBe(f.hash);
  return out;
}

/**
 * A JSON-RPC proxy in front of the real node that substitutes `blocks` from `fromHeight` on: the
 * chain tip, heights, headers and raw blocks all tell the same made-up story; everything else is
 * the node's own answer.
 */
async function startBranchProxy(node: BcoinNode, p: { fromHeight: number; blocks: FakeBlock[] }): Promise<{ server: Server; port: number; served: () => number }> {
  let served = 0;
  const top = p.fromHeight + p.blocks.length - 1;
  const byHash = new Map(p.blocks.map((b) => [b.hash, b]));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const request = JSON.parse(body) as { id: unknown; method: string; params?: unknown[] };
    const answer = (result: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: request.id, result, error: null }));
    };
    const params = request.params ?? [];
    if (request.method === "getblockcount") return answer(top);
    if (request.method === "getblockhash" && typeof params[0] === "number" && params[0] >= p.fromHeight && params[0] <= top) return answer(p.blocks[params[0] - p.fromHeight]!.hash);
    if (request.method === "getblock" && byHash.has(params[0] as string)) {
      served++;
      return answer(byHash.get(params[0] as string)!.hex);
    }
    if (request.method === "getblockheader" && byHash.has(params[0] as string) && params[1] === false) return answer(byHash.get(params[0] as string)!.hex.slice(0, 160));
    const upstream = await fetch(node.rpcUrl, { method: "POST", headers: { "content-type": "application/json", authorization: req.headers.authorization ?? "" }, body });
    let text = await upstream.text();
    if (request.method === "getblockchaininfo") {
      const info = JSON.parse(text) as { result: { blocks: number; headers: number } };
      info.result.blocks = top;
      info.result.headers = top;
      text = JSON.stringify(info);
    }
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port, served: () => served };
}
