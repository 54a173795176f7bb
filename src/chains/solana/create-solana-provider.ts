import type { ResolvedChain } from "../../lib/config.js";
import type { ChainProvider } from "../chain-adapter.js";
import { WrongNetworkError } from "../errors.js";
import { createSolanaRpc, type SolanaRpc } from "./create-solana-rpc.js";

/** One Solana RPC node as the follower sees it. */
export type SolanaProvider = ChainProvider & { rpc: SolanaRpc };

/**
 * A follower's handle on one Solana RPC node (no failover to other providers). Backstop follows
 * `finalized` slots only, so the head is the finalized slot (tip = finalized): every stored slot is final
 * when stored. A slot above this provider's finalized slot is beyond its tip (it lags); a skipped slot
 * (-32007) is "empty". Identity = the genesis hash.
 */
export function createSolanaProvider(p: { chainKey: string; chain: ResolvedChain; url: string; host: string; attempts?: number }): SolanaProvider {
  const rpc = createSolanaRpc({ chain: p.chainKey, urls: [p.url], timeoutMs: p.chain.rpcTimeoutMs, attempts: p.attempts });
  let finalized = -1;
  return {
    host: p.host,
    rpc,
    async fetchHead() {
      finalized = await rpc.getSlot("finalized");
      return { tip: finalized, finalized };
    },
    async fetchHashAt(slot) {
      if (slot > finalized) finalized = await rpc.getSlot("finalized");
      if (slot > finalized) return { kind: "beyond-tip" };
      const b = await rpc.getBlockHeader(slot);
      return b ? { kind: "block", hash: b.blockhash } : { kind: "empty" };
    },
    async checkIdentity() {
      const genesis = await rpc.getGenesisHash();
      if (genesis !== p.chain.descriptor.genesisHash) {
        throw new WrongNetworkError({ chain: p.chainKey, what: "genesis hash", expected: p.chain.descriptor.genesisHash, actual: genesis, provider: p.host });
      }
    },
  };
}
