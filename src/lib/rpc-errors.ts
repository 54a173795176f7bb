import { BackstopError } from "./errors.js";

/** An RPC request got no answer within its timeout. */
export class RpcTimeoutError extends BackstopError {
  override name = "RpcTimeoutError";
  constructor(p: { chain: string; method: string; host: string; timeoutMs: number; cause?: unknown }) {
    super("RPC__TIMEOUT", `${p.method} timed out on ${p.chain} (${p.host}, ${p.timeoutMs} ms).`, { cause: p.cause, retryable: true });
  }
}

/** The transport failed or the provider answered with an HTTP error or invalid JSON. */
export class RpcTransportError extends BackstopError {
  override name = "RpcTransportError";
  constructor(p: { chain: string; method: string; host: string; problem: string; status?: number; retryable?: boolean; cause?: unknown }) {
    super("RPC__TRANSPORT", `${p.method} failed on ${p.chain} (${p.host}): ${p.problem}.`, { cause: p.cause, retryable: p.retryable ?? true });
  }
}

/** The provider rejected our credentials. */
export class RpcAuthError extends BackstopError {
  override name = "RpcAuthError";
  constructor(p: { chain: string; host: string; status: number }) {
    super("RPC__UNAUTHORIZED", `The ${p.chain} node at ${p.host} refused the credentials (HTTP ${p.status}).`);
  }
}

/** The node answered the call with a JSON-RPC error. */
export class RpcMethodError extends BackstopError {
  override name = "RpcMethodError";
  readonly rpcCode: number;
  constructor(p: { chain: string; method: string; host: string; rpcCode: number; message: string; retryable?: boolean }) {
    super("RPC__METHOD_ERROR", `${p.method} on ${p.chain} (${p.host}) returned error ${p.rpcCode}: ${p.message.slice(0, 200)}.`, { retryable: p.retryable ?? false });
    this.rpcCode = p.rpcCode;
  }
}

/** Every provider failed after retries; the indexer pauses without skipping anything. */
export class RpcUnavailableError extends BackstopError {
  override name = "RpcUnavailableError";
  constructor(p: { chain: string; method: string; attempts: number; cause?: unknown }) {
    super("RPC__UNAVAILABLE", `No ${p.chain} provider answered ${p.method} after ${p.attempts} attempts.`, {
      cause: p.cause,
      meta: p.cause instanceof BackstopError ? [`  last error: ${p.cause.shortMessage}`] : [],
      retryable: true,
    });
  }
}
