import { isBackstopError } from "./errors.js";
import { recordRpcRequest } from "./metrics.js";
import { RpcAuthError, RpcTimeoutError, RpcTransportError } from "./rpc-errors.js";

/** One JSON-RPC endpoint: the URL without credentials, its host (the only part errors name), optional basic auth. */
export type RpcEndpoint = { url: string; host: string; auth?: string };

/** A JSON-RPC response body. */
export type RpcBody<T> = { result?: T; error?: { code: number; message: string } | null };

/**
 * POSTs one JSON-RPC request with a timeout and returns the HTTP status and the parsed body.
 * Transport failures become typed errors naming method and host only (never the URL, where
 * keys live); what a status or an error code means is left to each chain's client.
 * Every request is counted in the metrics (backstop_rpc_*: by chain, provider host and method).
 * @throws RpcTimeoutError, RpcAuthError (401/403), RpcTransportError (network, cut-off body, invalid JSON)
 */
export async function postJsonRpc<T>(p: PostJsonRpcParameters): Promise<{ status: number; body: RpcBody<T> }> {
  const started = performance.now();
  let errorCode: string | undefined;
  try {
    const out = await sendJsonRpc<T>(p);
    // A JSON-RPC error or a non-2xx answer is an error for the metrics, whatever the chain client makes of it.
    if (out.body && typeof out.body === "object" && out.body.error) errorCode = "json_rpc_error";
    else if (out.status < 200 || out.status > 299) errorCode = "http_status";
    return out;
  } catch (err) {
    errorCode = isBackstopError(err) ? err.code : "RPC__TRANSPORT";
    throw err;
  } finally {
    recordRpcRequest({ chain: p.chain, provider: p.endpoint.host, method: p.method, seconds: (performance.now() - started) / 1000, errorCode });
  }
}

/** What postJsonRpc sends, where, and how long it waits. */
export type PostJsonRpcParameters = {
  chain: string;
  endpoint: RpcEndpoint;
  method: string;
  params: unknown[];
  id: number;
  version: "1.0" | "2.0";
  timeoutMs: number;
  /** A JSON-RPC batch (an array of requests) sent instead of the one request; the body is then the array of answers. */
  batch?: ReadonlyArray<{ jsonrpc: string; id: number; method: string; params: unknown[] }>;
  /** Body parser; default JSON.parse. Solana passes one that keeps u64 integers exact. */
  parse?: (text: string) => unknown;
};

async function sendJsonRpc<T>(p: PostJsonRpcParameters): Promise<{ status: number; body: RpcBody<T> }> {
  const { chain, method, endpoint: e } = p;
  let res: Response;
  try {
    res = await fetch(e.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(e.auth ? { authorization: `Basic ${e.auth}` } : {}) },
      body: JSON.stringify(p.batch ?? { jsonrpc: p.version, id: p.id, method, params: p.params }),
      signal: AbortSignal.timeout(p.timeoutMs),
    });
  } catch (cause) {
    if ((cause as Error).name === "TimeoutError") throw new RpcTimeoutError({ chain, method, host: e.host, timeoutMs: p.timeoutMs, cause });
    throw new RpcTransportError({ chain, method, host: e.host, problem: "connection failed", cause });
  }
  if (res.status === 401 || res.status === 403) throw new RpcAuthError({ chain, host: e.host, status: res.status });
  let text: string;
  try {
    text = await res.text();
  } catch (cause) {
    throw new RpcTransportError({ chain, method, host: e.host, status: res.status, problem: "response body cut off", cause });
  }
  try {
    return { status: res.status, body: (p.parse ?? JSON.parse)(text) as RpcBody<T> };
  } catch (cause) {
    throw new RpcTransportError({ chain, method, host: e.host, status: res.status, problem: `invalid JSON (HTTP ${res.status})`, cause });
  }
}
