import { BackstopError } from "./errors.js";
import { RpcUnavailableError } from "./rpc-errors.js";

/** Failover across a chain's RPC endpoints, shared by every chain client. */
export type RpcFailover<E> = {
  /**
   * Runs `request` against the preferred endpoint, then the next ones, up to
   * `attempts` times in all, backing off exponentially (capped at 10 s) between
   * attempts. Only errors marked `retryable` are retried; the endpoint that
   * answered becomes the preferred one.
   * @throws the first non-retryable error, or RpcUnavailableError
   */
  run<T>(method: string, request: (endpoint: E) => Promise<T>): Promise<T>;
  /** The endpoint tried first (for messages). */
  preferred(): E;
};

/** Creates the failover state for one client. */
export function createRpcFailover<E>(p: { chain: string; endpoints: readonly E[]; attempts: number; backoffMs: number }): RpcFailover<E> {
  let preferred = 0;
  return {
    async run<T>(method: string, request: (endpoint: E) => Promise<T>): Promise<T> {
      let last: unknown;
      for (let attempt = 0; attempt < p.attempts; attempt++) {
        const index = (preferred + attempt) % p.endpoints.length;
        try {
          const out = await request(p.endpoints[index]!);
          preferred = index;
          return out;
        } catch (err) {
          last = err;
          if (!(err instanceof BackstopError) || !err.retryable) throw err;
          if (attempt + 1 < p.attempts) await new Promise((r) => setTimeout(r, Math.min(p.backoffMs * 2 ** attempt, 10_000)));
        }
      }
      throw new RpcUnavailableError({ chain: p.chain, method, attempts: p.attempts, cause: last });
    },
    preferred: () => p.endpoints[preferred]!,
  };
}
