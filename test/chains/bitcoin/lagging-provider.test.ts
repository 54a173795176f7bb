// A lagging provider is not a reorg (issue 8 item 3), against two real bcoin regtest nodes, SQLite and
// Postgres. The lagging provider is a second real node fed the first one's own blocks (submitblock) up to a
// height 10 blocks below the store's tip, more than the finality depth (6): it answers exactly as a real
// node that is behind does (getblockcount lower, getblockhash -8 above its tip, same hashes below), which a
// proxy hiding heights could only imitate. Before the follower, walking back against it rolled the store
// back, or halted with a deep-reorg error. Now: the follower moves to the other provider, or waits; it never
// rolls back, and logs `lagging` once. A third provider that lies about a finalized block's hash is recorded
// as a disagreement in provider health.
import { createServer, type Server } from "node:http";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../../src/chains/create-indexer.js";
import { resolveConfig } from "../../../src/lib/config.js";
import { loadBalances, loadChainHealth, loadCursor, loadHeaders, type Store } from "../../../src/store/index.js";
import { openTestStore, STORE_KINDS } from "../../helpers/stores.js";
import { computeTruth, createOwner, createRandom, createRigRpc, createRigWallet, startBcoin, type BcoinNode, type RigRpc, type RigWallet } from "../../rig/bitcoin.js";

const CHAIN = "btc";
const FINALITY = 6;

describe("a lagging provider is not a reorg (two real bcoin nodes)", () => {
  const random = createRandom(707);
  let good: BcoinNode;
  let behind: BcoinNode;
  let rpc: RigRpc;
  let behindRpc: RigRpc;
  let wallet: RigWallet;
  let liar: { server: Server; url: string };
  const custody = createOwner("p2pkh", { random });

  /** Feeds the lagging node the good node's blocks up to `height` (the same chain, only shorter). */
  async function feedBehind(height: number) {
    for (let h = (await behindRpc.call<number>("getblockcount")) + 1; h <= height; h++) {
      const raw = await rpc.call<string>("getblock", [await rpc.call<string>("getblockhash", [h]), false]);
      const r = await behindRpc.call<string | null>("submitblock", [raw]);
      if (r !== null) throw new Error(`submitblock ${h}: ${r}`);
    }
  }

  beforeAll(async () => {
    good = await startBcoin();
    rpc = createRigRpc({ url: good.rpcUrl, user: good.user, pass: good.pass });
    wallet = createRigWallet(rpc, { random });
    for (let i = 0; i < 6; i++) {
      await wallet.mine(7);
      await wallet.mine(1, custody);
    }
    liar = await startLiar(good);
  }, 240_000);
  afterAll(async () => {
    await good?.stop();
    await new Promise((r) => liar?.server.close(r));
  });

  function run(store: Store, urls: string[], p: { once?: boolean; signal?: AbortSignal; lines?: string[] } = {}) {
    const lines = p.lines ?? [];
    const logger = pino({ level: "debug", base: undefined }, { write: (l: string) => void lines.push(l) });
    const config = resolveConfig({
      path: "test",
      env: {},
      input: {
        chains: { [CHAIN]: { chain: "bitcoin-regtest", rpc: urls, finalityDepth: FINALITY, pollIntervalMs: 100, rpcTimeoutMs: 3000 } },
        assets: { BTC: { chain: CHAIN, decimals: 8, native: true } },
        wallets: [{ label: "custody", chain: CHAIN, address: custody.address }],
      },
    });
    return { lines, done: createIndexer({ config, chainKey: CHAIN, store, logger }).run({ once: p.once ?? true, signal: p.signal }) };
  }

  const snapshot = async (store: Store) => ({
    cursor: await loadCursor(store, CHAIN),
    headers: await loadHeaders(store, { chain: CHAIN, limit: 10_000 }),
    rows: await loadBalances(store, { chain: CHAIN }),
  });
  const count = (lines: string[], msg: string) => lines.filter((l) => JSON.parse(l).msg === msg).length;

  async function expectExact(store: Store) {
    const truth = await computeTruth(rpc, { custody: [custody.scriptHex] });
    const cursor = (await loadCursor(store, CHAIN))!;
    expect(cursor.hash).toBe(truth.hashes[cursor.height]);
    for (let h = 0; h <= cursor.height; h++) {
      const got = (await loadBalances(store, { chain: CHAIN, atHeight: h }))[0]?.amount ?? 0n;
      expect(got, `custody at ${h}`).toBe(truth.balances.custody![h]!);
    }
  }

  it.each(STORE_KINDS)("moves to the other provider or waits; never rolls back; logs lagging once (%s)", async (kind) => {
    // A fresh lagging node per store kind: the good node's chain has grown since the last one was fed.
    behind = await startBcoin();
    behindRpc = createRigRpc({ url: behind.rpcUrl, user: behind.user, pass: behind.pass });
    const s = await openTestStore(kind);
    try {
      const goodUrl = good.authUrl;
      const behindUrl = behind.authUrl;
      await run(s.store, [goodUrl]).done;
      const tip = (await loadCursor(s.store, CHAIN))!.height;
      await feedBehind(tip - 10);
      await wallet.mine(2);
      await wallet.mine(1, custody);

      // The lagging provider first: the follower moves to the good one and catches up; no rollback.
      const moved = await run(s.store, [behindUrl, goodUrl]);
      await moved.done;
      expect((await loadCursor(s.store, CHAIN))!.height).toBe(await rpc.call<number>("getblockcount"));
      expect(count(moved.lines, "lagging")).toBe(1);
      expect(count(moved.lines, "reorg")).toBe(0);
      expect(moved.lines.find((l) => JSON.parse(l).msg === "lagging")).toContain('"code":"CHAIN__PROVIDER_LAGGING"');
      await expectExact(s.store);
      const [health] = await loadChainHealth(s.store, { chain: CHAIN });
      expect(health!.provider).toBe(`127.0.0.1:${good.httpPort}`);
      expect(health!.providers.find((x) => x.host === `127.0.0.1:${behind.httpPort}`)).toMatchObject({ lastTip: tip - 10, laggingForMs: expect.any(Number) });

      // Only the lagging provider, --once: a clear error, the store untouched (before: a rollback or CHAIN__DEEP_REORG).
      const before = await snapshot(s.store);
      const alone = await run(s.store, [behindUrl]).done.catch((e: unknown) => e);
      expect(alone).toMatchObject({ code: "CHAIN__PROVIDER_LAGGING", retryable: true });
      expect(await snapshot(s.store)).toEqual(before);

      // Following with only the lagging provider: it waits (state lagging), logs it once, then goes on
      // when the provider catches up.
      const ac = new AbortController();
      const follow = run(s.store, [behindUrl], { once: false, signal: ac.signal });
      const state = async () => (await loadChainHealth(s.store, { chain: CHAIN }))[0]?.state;
      for (let i = 0; i < 200 && (await state()) !== "lagging"; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await state()).toBe("lagging");
      await new Promise((r) => setTimeout(r, 1000)); // several polls while lagging
      expect(await snapshot(s.store)).toEqual(before);
      await wallet.mine(1, custody);
      await feedBehind(await rpc.call<number>("getblockcount"));
      const goal = await rpc.call<number>("getblockcount");
      for (let i = 0; i < 400 && (await loadCursor(s.store, CHAIN))!.height < goal; i++) await new Promise((r) => setTimeout(r, 50));
      ac.abort();
      await follow.done;
      expect((await loadCursor(s.store, CHAIN))!.height).toBe(goal);
      expect(count(follow.lines, "lagging")).toBe(1);
      expect(count(follow.lines, "reorg")).toBe(0);
      expect(count(follow.lines, "provider caught up")).toBe(1);
      await expectExact(s.store);

      // A provider that gives another hash for a finalized block: recorded as a disagreement.
      await run(s.store, [goodUrl, liar.url]).done;
      const [h2] = await loadChainHealth(s.store, { chain: CHAIN });
      const d = h2!.providers.find((x) => x.host === new URL(liar.url).host)!.disagreement!;
      const cursor = (await loadCursor(s.store, CHAIN))!;
      expect(d).toMatchObject({ height: cursor.finalizedHeight, hash: FAKE_HASH, expected: await rpc.call<string>("getblockhash", [cursor.finalizedHeight]) });
    } finally {
      await s.dispose();
      await behind.stop();
    }
  }, 240_000);
});

const FAKE_HASH = "ab".repeat(32);

/** A provider in front of the good node that answers a made-up hash for every block above genesis. */
async function startLiar(node: BcoinNode): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const upstream = await fetch(node.rpcUrl, { method: "POST", headers: { "content-type": "application/json", authorization: req.headers.authorization ?? "" }, body });
    let text = await upstream.text();
    const request = JSON.parse(body) as { method?: string; params?: unknown[] };
    if (request.method === "getblockhash" && Number(request.params?.[0]) > 0) text = JSON.stringify({ ...JSON.parse(text), result: FAKE_HASH });
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://x:${node.pass}@127.0.0.1:${(server.address() as { port: number }).port}/` };
}
