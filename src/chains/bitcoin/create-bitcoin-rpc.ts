import { postJsonRpc } from "../../lib/post-json-rpc.js";
import { RpcMethodError, RpcTransportError } from "../../lib/rpc-errors.js";
import { createRpcFailover } from "../../lib/rpc-failover.js";

export type BitcoinRpc = {
  call<T>(method: string, params?: unknown[]): Promise<T>;
  /** Height of the node's best block. */
  getBlockCount(): Promise<number>;
  getBlockHash(height: number): Promise<string>;
  /** Raw block bytes (`getblock <hash> false`). */
  getRawBlock(hash: string): Promise<Buffer>;
  /** The block's 80-byte header (`getblockheader <hash> false`). */
  getRawBlockHeader(hash: string): Promise<Buffer>;
  getBlockchainInfo(): Promise<{ chain: string; blocks: number; headers: number; bestblockhash: string; initialblockdownload?: boolean }>;
};

export type CreateBitcoinRpcParameters = {
  /** Chain key, for messages. */
  chain: string;
  /** Endpoints, tried in order; `http://user:pass@host:port/` carries basic auth. */
  urls: readonly string[];
  /** Per-request timeout, ms. */
  timeoutMs: number;
  /** Attempts per call across all endpoints before RpcUnavailableError. Default 5. */
  attempts?: number;
  /** First backoff, ms (doubles each attempt, capped at 10 s). Default 250. */
  backoffMs?: number;
};

type Endpoint = { url: string; host: string; auth: string | undefined };

/**
 * A Bitcoin Core JSON-RPC client (the dialect bcoin also speaks) with a
 * per-request timeout, failover across endpoints and exponential backoff.
 * Only retryable failures are retried; credentials never appear in errors.
 */
export function createBitcoinRpc(p: CreateBitcoinRpcParameters): BitcoinRpc {
  const endpoints: Endpoint[] = p.urls.map((raw) => {
    const u = new URL(raw);
    const auth = u.username || u.password ? Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64") : undefined;
    u.username = "";
    u.password = "";
    return { url: u.toString(), host: u.host, auth };
  });
  const failover = createRpcFailover({ chain: p.chain, endpoints, attempts: p.attempts ?? 5, backoffMs: p.backoffMs ?? 250 });
  let id = 0;

  async function once<T>(e: Endpoint, method: string, params: unknown[]): Promise<T> {
    // Bitcoin Core answers RPC errors with HTTP 500 and a JSON body: read the body before the status.
    const { status, body } = await postJsonRpc<T>({ chain: p.chain, endpoint: e, method, params, id: ++id, version: "1.0", timeoutMs: p.timeoutMs });
    if (body.error) {
      // -28: still warming up (loading block index): come back later.
      throw new RpcMethodError({ chain: p.chain, method, host: e.host, rpcCode: body.error.code, message: body.error.message, retryable: body.error.code === -28 });
    }
    if (status >= 500 || status === 429) {
      throw new RpcTransportError({ chain: p.chain, method, host: e.host, status, problem: `HTTP ${status}` });
    }
    if (body.result === undefined || body.result === null) {
      // A null block for a hash that exists is never "no activity": retry (Ponder's retryNullBlockRequest).
      throw new RpcTransportError({ chain: p.chain, method, host: e.host, problem: "empty result" });
    }
    return body.result;
  }

  function call<T>(method: string, params: unknown[] = []): Promise<T> {
    return failover.run(method, (e) => once<T>(e, method, params));
  }

  return {
    call,
    getBlockCount: () => call<number>("getblockcount"),
    getBlockHash: (height) => call<string>("getblockhash", [height]),
    // Boolean verbosity: bcoin 1.0.2 needs it, Bitcoin Core accepts it.
    getRawBlock: async (hash) => Buffer.from(await call<string>("getblock", [hash, false]), "hex"),
    getRawBlockHeader: async (hash) => Buffer.from(await call<string>("getblockheader", [hash, false]), "hex"),
    getBlockchainInfo: () => call("getblockchaininfo"),
  };
}

