import { postJsonRpc } from "../../lib/post-json-rpc.js";
import { RpcMethodError, RpcTransportError } from "../../lib/rpc-errors.js";
import { createRpcFailover } from "../../lib/rpc-failover.js";

/** A minimal EVM JSON-RPC client: hex in, hex out. */
export type EvmRpc = {
  request<T>(method: string, params?: unknown[]): Promise<T>;
  /**
   * One JSON-RPC batch: every call in one HTTP round trip, answers in the order of `calls`.
   * @throws RpcMethodError when any call of the batch fails (the batch is retried whole on a transport error)
   */
  batch<T>(calls: ReadonlyArray<{ method: string; params: unknown[] }>): Promise<T[]>;
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

  async function batchOnce<T>(e: { url: string; host: string }, calls: ReadonlyArray<{ method: string; params: unknown[] }>): Promise<T[]> {
    const reqs = calls.map((c) => ({ jsonrpc: "2.0", id: ++id, method: c.method, params: c.params }));
    const method = `batch:${calls[0]?.method ?? "none"}`;
    const { status, body } = await postJsonRpc<T>({ chain: p.chain, endpoint: e, method, params: [], id: 0, version: "2.0", timeoutMs: p.timeoutMs, batch: reqs });
    if (status < 200 || status >= 300) throw new RpcTransportError({ chain: p.chain, method, host: e.host, problem: `HTTP ${status}`, status });
    const answers = body as unknown as Array<{ id: number; result?: T; error?: { code: number; message: string } | null }>;
    if (!Array.isArray(answers)) {
      const err = (body as { error?: { code: number; message: string } }).error;
      if (err) throw new RpcMethodError({ chain: p.chain, method, host: e.host, rpcCode: err.code, message: err.message });
      throw new RpcTransportError({ chain: p.chain, method, host: e.host, problem: "a batch answered with something other than an array", status });
    }
    const byId = new Map(answers.map((a) => [Number(a.id), a]));
    return reqs.map((r) => {
      const a = byId.get(r.id);
      if (!a) throw new RpcTransportError({ chain: p.chain, method: r.method, host: e.host, problem: "a batch answer is missing", status });
      if (a.error) throw new RpcMethodError({ chain: p.chain, method: r.method, host: e.host, rpcCode: a.error.code, message: a.error.message });
      return a.result as T;
    });
  }

  return {
    request,
    batch<T>(calls: ReadonlyArray<{ method: string; params: unknown[] }>) {
      if (!calls.length) return Promise.resolve([] as T[]);
      return failover.run(`batch:${calls[0]!.method}`, (e) => batchOnce<T>(e, calls));
    },
    async fetchBlockNumber() {
      return Number(BigInt(await request<string>("eth_blockNumber")));
    },
    async fetchBlockHeader(height: number) {
      const b = await request<{ hash: string; parentHash: string; timestamp: string } | null>("eth_getBlockByNumber", [`0x${height.toString(16)}`, false]);
      return b ? { hash: b.hash, parentHash: b.parentHash, time: Number(BigInt(b.timestamp)) } : null;
    },
  };
}
