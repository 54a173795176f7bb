import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSolanaRpc } from "../../../src/chains/solana/create-solana-rpc.js";
import { startSolanaDevnet, type SolanaDevnet } from "../../rig/solana.js";

describe("createSolanaRpc", () => {
  let net: SolanaDevnet;
  let faulty: Server;
  let faultyUrl = "";
  let script: Array<(res: import("node:http").ServerResponse) => void> = [];

  beforeAll(async () => {
    net = await startSolanaDevnet();
    net.chain.tick({ skip: 1 });
    for (let i = 0; i < 4; i++) net.chain.tick();
    // Fault injection in front of nothing: answers from a script, one entry per request.
    faulty = createServer((req, res) => {
      req.resume();
      req.on("end", () => (script.shift() ?? ((r) => r.writeHead(500).end()))(res));
    });
    await new Promise<void>((r) => faulty.listen(0, "127.0.0.1", r));
    faultyUrl = `http://127.0.0.1:${(faulty.address() as AddressInfo).port}/v1/secret-api-key-123?token=abc`;
  });
  afterAll(async () => {
    await net.stop();
    faulty.closeAllConnections();
    await new Promise((r) => faulty.close(r));
  });

  it("reads a skipped slot (-32007) as null and a produced one as a block", async () => {
    const rpc = createSolanaRpc({ chain: "sol", urls: [net.url], timeoutMs: 5000 });
    expect(await rpc.getBlock(2)).toBeNull();
    const b = await rpc.getBlock(3);
    expect(b).toMatchObject({ parentSlot: 1, previousBlockhash: net.chain.blocks.get(1)!.blockhash });
  });

  it("retries 429, invalid JSON and -32004 (then fails over to the next provider), never leaking the URL's key", async () => {
    script = [
      (r) => r.writeHead(429).end(),
      (r) => r.writeHead(200, { "content-type": "application/json" }).end("{not json"),
      (r) => r.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32004, message: "Block not available for slot 9" } })),
    ];
    const rpc = createSolanaRpc({ chain: "sol", urls: [faultyUrl, faultyUrl, faultyUrl, net.url], timeoutMs: 2000, backoffMs: 1 });
    expect(await rpc.getGenesisHash()).toBe(net.chain.genesisHash);
    script = [];
    const only = createSolanaRpc({ chain: "sol", urls: [faultyUrl], timeoutMs: 2000, attempts: 2, backoffMs: 1 });
    const err = (await only.getSlot("finalized").catch((e: unknown) => e)) as Error & { code: string; retryable: boolean };
    expect(err).toMatchObject({ code: "RPC__UNAVAILABLE", retryable: true });
    expect(String(err.message) + String((err.cause as Error)?.message)).not.toMatch(/secret-api-key-123|abc/);
  });

  it("does not retry a non-retryable method error", async () => {
    script = [(r) => r.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Invalid param" } }))];
    const rpc = createSolanaRpc({ chain: "sol", urls: [faultyUrl, net.url], timeoutMs: 2000, backoffMs: 1 });
    await expect(rpc.getSlot("finalized")).rejects.toMatchObject({ code: "RPC__METHOD_ERROR", rpcCode: -32602, retryable: false });
  });
});
