// Alert rules on a real Bitcoin node (bcoin regtest), followed by the real follower, delivered by the real
// outbox worker to a real HTTP receiver on loopback, every signature checked by the standardwebhooks library.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAlerts } from "../../src/alerts/load-alerts.js";
import { startAlertService, type AlertService } from "../../src/alerts/start-alert-service.js";
import { createIndexer } from "../../src/chains/create-indexer.js";
import { startAlertReceiver, type AlertReceiver, type ReceivedRequest } from "../../src/devnet/alerts/start-alert-receiver.js";
import { resolveConfig, type ResolvedConfig } from "../../src/lib/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { loadCursor, openStore, type Store } from "../../src/store/index.js";
import { createOwner, createRandom, createRigRpc, createRigWallet, startBcoin, type BcoinNode, type RigOwner, type RigRpc, type RigWallet } from "../rig/bitcoin.js";
import { createSinkSecrets } from "./alert-fixtures.js";

const BTC = 100_000_000n;
const keys = createSinkSecrets();
type Body = { type: string; data: { id: string; rule: string; severity: string; finality: string; state: string; txids: string[]; height: number; block_hash: string; values: Record<string, unknown> } };

describe("alerts on a real Bitcoin regtest node, delivered to a real receiver", () => {
  const random = createRandom(1111);
  let node: BcoinNode;
  let rpc: RigRpc;
  let wallet: RigWallet;
  let hot: RigOwner;
  let exchange: RigOwner;
  let stranger: RigOwner;
  let rx: AlertReceiver;
  let dir: string;
  let store: Store;
  let config: ResolvedConfig;
  let service: AlertService;
  const abort = new AbortController();
  let following: Promise<void>;
  const stored = new Map<number, number>(); // height -> when the follower reported it stored (ms)

  const bodies = () => rx.received.filter((r) => r.path === "/hook").map((r) => ({ r, body: JSON.parse(r.body) as Body }));
  const waitIndexed = async (height: number) => {
    const until = Date.now() + 20_000;
    while (((await loadCursor(store, "btc"))?.height ?? -1) < height) {
      if (Date.now() > until) throw new Error(`not indexed to ${height}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const waitFor = async (pred: () => boolean | Promise<boolean>, ms = 10_000) => {
    const until = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > until) throw new Error("condition not reached");
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "backstop-alerts-btc-"));
    node = await startBcoin();
    rpc = createRigRpc({ url: node.rpcUrl, user: node.user, pass: node.pass });
    wallet = createRigWallet(rpc, { random });
    hot = createOwner("p2wpkh", { random });
    exchange = createOwner("p2wpkh", { random });
    stranger = createOwner("p2wpkh", { random });
    for (const o of [hot, exchange, stranger]) wallet.track(o);
    await wallet.fund(10);
    rx = await startAlertReceiver();
    config = resolveConfig({
      path: "test",
      env: { HOOK_SECRET: keys.secret },
      input: {
        store: { sqlitePath: join(dir, "backstop.db") },
        chains: { btc: { chain: "bitcoin-regtest", rpc: [node.authUrl], finalityDepth: 6, pollIntervalMs: 100, startHeight: (await rpc.call<number>("getblockcount")) + 1 } },
        assets: { BTC: { chain: "btc", decimals: 8, native: true } },
        wallets: [{ label: "hot", chain: "btc", address: hot.address }],
        alerts: {
          rules: [
            { name: "hot-outflow", type: "outflow", severity: "critical", asset: "BTC", above: "1", wallets: ["hot"], runbook: "https://runbooks.example.com/outflow" },
            { name: "stranger", type: "unknown_counterparty", severity: "critical", allowList: [exchange.address] },
            { name: "reorgs", type: "reorg", severity: "warning" },
          ],
          sinks: { hook: { type: "webhook", url: `${rx.url}/hook`, secret: { env: "HOOK_SECRET" } } },
          delivery: { allowInsecureLoopback: true, retryScheduleMs: [0, ...Array.from({ length: 49 }, () => 500)], timeoutMs: 1000 },
        },
      },
    });
    store = await openStore({ sqlitePath: config.store.sqlitePath });
    const logger = createLogger({ level: "warn", format: "json" });
    service = startAlertService({ config, store, logger });
    const observer = {
      ...service.observer,
      onBlocksIndexed(e: { chain: string; count: number; height: number; tip: number }) {
        for (let h = e.height - e.count + 1; h <= e.height; h++) stored.set(h, Date.now());
        service.observer.onBlocksIndexed?.(e);
      },
    };
    following = createIndexer({ config, chainKey: "btc", store, logger, observer }).run({ signal: abort.signal });
  }, 120_000);

  afterAll(async () => {
    abort.abort();
    await following?.catch(() => undefined);
    await service?.stop();
    await store?.close();
    await rx?.close();
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("no alert for the same kind of movements under the thresholds or to allow-listed counterparties", async () => {
    await wallet.send({ from: [wallet.funder], to: [{ script: hot.script, value: 10n * BTC }] });
    await wallet.mine(1);
    await wallet.send({ from: [hot], to: [{ script: exchange.script, value: BTC / 2n }], change: hot });
    await wallet.mine(1);
    await waitIndexed(await rpc.call<number>("getblockcount"));
    await new Promise((r) => setTimeout(r, 500));
    expect(await loadAlerts(store)).toEqual([]);
    expect(rx.received).toEqual([]);
  });

  it("a 2 BTC withdrawal to an unknown address raises outflow and unknown_counterparty, delivered signed within 5 s of the block being stored", async () => {
    const tx = await wallet.send({ from: [hot], to: [{ script: stranger.script, value: 2n * BTC }], change: hot });
    await wallet.mine(1);
    const height = await rpc.call<number>("getblockcount");
    await waitFor(() => bodies().length >= 2);
    const got = bodies();
    expect(got.map((b) => b.body.data.rule).sort()).toEqual(["hot-outflow", "stranger"]);
    for (const { r, body } of got) {
      expect(() => new Webhook(keys.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
      expect(body).toMatchObject({ type: "alert.firing", data: { severity: "info", finality: "unfinalized", state: "active", txids: [tx.txid], height } });
      expect(r.atMs - stored.get(height)!).toBeLessThan(5000);
    }
    const stranged = got.find((b) => b.body.data.rule === "stranger")!.body.data;
    expect(stranged.values).toMatchObject({ amount: String(2n * BTC), counterparty: stranger.address });
    const outflow = got.find((b) => b.body.data.rule === "hot-outflow")!.body.data;
    expect(BigInt(outflow.values.net_outflow as string)).toBeGreaterThan(2n * BTC);
    console.log(`block stored → 2xx: ${got.map(({ r }) => r.atMs - stored.get(height)!).join(", ")} ms`);
  });

  it("a reorg removing the block of an undelivered alert withdraws it: its firing message is never delivered, the receiver is told, and it never becomes final", async () => {
    const ok = new Set<string>();
    rx.answer((r: ReceivedRequest) => ((JSON.parse(r.body) as Body).type === "alert.firing" && (JSON.parse(r.body) as Body).data.rule === "stranger" ? { status: 503 } : (ok.add(r.headers["webhook-id"] as string), { status: 204 })));
    const before = rx.received.length;
    const tx = await wallet.send({ from: [hot], to: [{ script: stranger.script, value: BTC / 10n }], change: hot });
    await wallet.mine(1);
    const doomedHeight = await rpc.call<number>("getblockcount");
    await waitFor(async () => (await loadAlerts(store)).some((a) => a.txids.includes(tx.txid) && a.rule === "stranger" && a.deliveries.some((d) => d.attempts > 0)));
    const doomed = (await loadAlerts(store)).find((a) => a.txids.includes(tx.txid) && a.rule === "stranger")!;
    // The receiver refused it (503): pending. Now the block goes away.
    await wallet.reorg({ depth: 1, extra: 2 });
    rx.answer(undefined);
    await waitFor(() => bodies().some((b) => b.body.type === "alert.withdrawn" && b.body.data.id === doomed.id));
    await waitFor(() => bodies().some((b) => b.body.data.rule === "reorgs"));
    const after = (await loadAlerts(store, { limit: 1000 })).find((a) => a.id === doomed.id)!;
    expect(after.state).toBe("withdrawn");
    expect(after.deliveries.find((d) => d.event === "alert.firing")).toMatchObject({ status: "cancelled" });
    const withdrawn = bodies().find((b) => b.body.type === "alert.withdrawn" && b.body.data.id === doomed.id)!;
    expect(withdrawn.body.data.values.withdrawn_reason).toMatch(new RegExp(`block ${doomedHeight} .* removed by a reorg`));
    const reorg = bodies().find((b) => b.body.data.rule === "reorgs")!.body.data;
    expect(reorg.values).toMatchObject({ depth: 1, from_height: doomedHeight, to_height: doomedHeight - 1 });
    // Its firing message was never answered 2xx.
    const firingIds = rx.received.slice(before).filter((r) => (JSON.parse(r.body) as Body).type === "alert.firing" && (JSON.parse(r.body) as Body).data.id === doomed.id).map((r) => r.headers["webhook-id"] as string);
    expect(firingIds.length).toBeGreaterThan(0);
    for (const id of firingIds) expect(ok.has(id)).toBe(false);
    // Six more blocks: the earlier (kept) alerts are final and upgraded; the withdrawn one never is.
    await wallet.mine(7);
    await waitFor(() => bodies().filter((b) => b.body.type === "alert.finalized").length >= 2, 20_000);
    const finals = bodies().filter((b) => b.body.type === "alert.finalized").map((b) => b.body.data);
    expect(finals.map((f) => f.severity)).toEqual(["critical", "critical"]);
    expect(finals.some((f) => f.id === doomed.id)).toBe(false);
    expect((await loadAlerts(store, { limit: 1000 })).find((a) => a.id === doomed.id)!.finality).toBe("unfinalized");
  });
});
