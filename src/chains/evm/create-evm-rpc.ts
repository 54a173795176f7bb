import { postJsonRpc } from "../../lib/post-json-rpc.js";
import { RpcMethodError, RpcTransportError } from "../../lib/rpc-errors.js";
import { createRpcFailover } from "../../lib/rpc-failover.js";

/** A minimal EVM JSON-RPC client: hex in, hex out. */
export type EvmRpc = {
  request<T>(method: string, params?: unknown[]): Promise<T>;
  /** Head block number. */
  fetchBlockNumber(): Promise<number>;
  /** Block hash and parent at a height; null when the node has no such block. */
  fetchBlockHeader(height: number): Promise<{ hash: string; parentHash: string; time: number } | null>;
};

export type CreateEvmRpcParameters = {
  /** Chain key, for messages. */
  chain: string;
  /** Endpoints, tried in order. */
  urls: readonly string[];
  /** Per-request timeout, ms. */
  timeoutMs: number;
  /** Attempts per call across endpoints before RpcUnavailableError. Default 4. */
  attempts?: number;
};

/**
 * EVM JSON-RPC over fetch with a per-request timeout and failover across endpoints with backoff.
 * Errors name the host only (URLs carry API keys). @throws RpcUnavailableError, RpcMethodError
 */
export function createEvmRpc(p: CreateEvmRpcParameters): EvmRpc {
  const endpoints = p.urls.map((url) => ({ url, host: new URL(url).host }));
  const failover = createRpcFailover({ chain: p.chain, endpoints, attempts: p.attempts ?? 4, backoffMs: 200 });
  let id = 0;

  async function once<T>(e: { url: string; host: string }, method: string, params: unknown[]): Promise<T> {
    const { status, body } = await postJsonRpc<T>({ chain: p.chain, endpoint: e, method, params, id: ++id, version: "2.0", timeoutMs: p.timeoutMs });
    if (status < 200 || status >= 300) throw new RpcTransportError({ chain: p.chain, method, host: e.host, problem: `HTTP ${status}`, status });
    if (body.error) throw new RpcMethodError({ chain: p.chain, method, host: e.host, rpcCode: body.error.code, message: body.error.message });
    return body.result as T;
  }

  function request<T>(method: string, params: unknown[] = []): Promise<T> {
    return failover.run(method, (e) => once<T>(e, method, params));
  }

  return {
    request,
    async fetchBlockNumber() {
      return Number(BigInt(await request<string>("eth_blockNumber")));
    },
    async fetchBlockHeader(height: number) {
      const b = await request<{ hash: string; parentHash: string; timestamp: string } | null>("eth_getBlockByNumber", [`0x${height.toString(16)}`, false]);
      return b ? { hash: b.hash, parentHash: b.parentHash, time: Number(BigInt(b.timestamp)) } : null;
    },
  };
}
