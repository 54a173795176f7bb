import type { ResolvedChain } from "../../lib/config.js";
import type { ChainHead, ChainProvider } from "../chain-adapter.js";
import { InconsistentHeadError, WrongNetworkError } from "../errors.js";
import { createEvmRpc, type EvmRpc } from "./create-evm-rpc.js";

/** One EVM node as the follower sees it. */
export type EvmProvider = ChainProvider & { rpc: EvmRpc };

/**
 * A follower's handle on one EVM JSON-RPC node (no failover to other providers). Finality is the chain's
 * own where its descriptor says so (`finalizedTag`: the node's `finalized` block; `safe` reported too),
 * else `finalityDepth` blocks below `latest` (anvil). Identity = chain id and genesis hash.
 */
export function createEvmProvider(p: { chainKey: string; chain: ResolvedChain; url: string; host: string; attempts?: number }): EvmProvider {
  const rpc = createEvmRpc({ chain: p.chainKey, urls: [p.url], timeoutMs: p.chain.rpcTimeoutMs, attempts: p.attempts });
  const d = p.chain.descriptor;
  const tagged = async (tag: "finalized" | "safe") => {
    const b = await rpc.request<{ number: string } | null>("eth_getBlockByNumber", [tag, false]);
    // A chain still before its first finalized block answers null: nothing is final yet.
    return b ? Number(BigInt(b.number)) : -1;
  };
  return {
    host: p.host,
    rpc,
    async fetchHead(): Promise<ChainHead> {
      if (!d.finalizedTag) {
        const tip = await rpc.fetchBlockNumber();
        return { tip, finalized: tip - p.chain.finalityDepth + 1 };
      }
      // Tags first, latest last: `latest` only grows between the reads, so finalized > latest is the node's own contradiction.
      const finalized = await tagged("finalized");
      const safe = await tagged("safe");
      const tip = await rpc.fetchBlockNumber();
      if (finalized > tip) throw new InconsistentHeadError({ chain: p.chainKey, provider: p.host, latest: tip, tag: "finalized", tagged: finalized });
      if (safe > tip) throw new InconsistentHeadError({ chain: p.chainKey, provider: p.host, latest: tip, tag: "safe", tagged: safe });
      return { tip, finalized, safe };
    },
    async fetchHashAt(height) {
      const b = await rpc.fetchBlockHeader(height);
      return b ? { kind: "block", hash: b.hash } : { kind: "beyond-tip" };
    },
    async checkIdentity() {
      const id = Number(BigInt(await rpc.request<string>("eth_chainId")));
      if (id !== d.chainId) throw new WrongNetworkError({ chain: p.chainKey, what: "chain id", expected: String(d.chainId), actual: String(id), provider: p.host });
      const genesis = await rpc.fetchBlockHeader(0);
      if (genesis?.hash.toLowerCase() !== d.genesisHash.toLowerCase()) {
        throw new WrongNetworkError({ chain: p.chainKey, what: "genesis hash", expected: d.genesisHash, actual: genesis?.hash ?? "(none)", provider: p.host });
      }
    },
  };
}
