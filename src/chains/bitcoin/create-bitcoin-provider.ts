import type { ResolvedChain } from "../../lib/config.js";
import { RpcMethodError } from "../../lib/rpc-errors.js";
import type { ChainProvider } from "../chain-adapter.js";
import { NodeSyncingError, WrongNetworkError } from "../errors.js";
import { createBitcoinRpc, type BitcoinRpc } from "./create-bitcoin-rpc.js";

/** One Bitcoin node as the follower sees it, plus the node checks the adapter runs through it. */
export type BitcoinProvider = ChainProvider & {
  rpc: BitcoinRpc;
  /** @throws NodeSyncingError while the node is in initial block download or has headers ahead of blocks */
  checkSynced(): Promise<void>;
};

/**
 * A follower's handle on one Bitcoin Core-compatible node (no failover to other providers): head =
 * `getblockcount`, finalized = tip - finalityDepth + 1 (Bitcoin has no finality of its own), identity =
 * the genesis hash.
 */
export function createBitcoinProvider(p: { chainKey: string; chain: ResolvedChain; url: string; host: string; attempts?: number }): BitcoinProvider {
  const rpc = createBitcoinRpc({ chain: p.chainKey, urls: [p.url], timeoutMs: p.chain.rpcTimeoutMs, attempts: p.attempts });
  const descriptor = p.chain.descriptor;
  return {
    host: p.host,
    rpc,
    async fetchHead() {
      const tip = await rpc.getBlockCount();
      return { tip, finalized: tip - p.chain.finalityDepth + 1 };
    },
    async fetchHashAt(height) {
      try {
        return { kind: "block", hash: await rpc.getBlockHash(height) };
      } catch (err) {
        // -8: height out of range: this node's chain is shorter.
        if (err instanceof RpcMethodError && err.rpcCode === -8) return { kind: "beyond-tip" };
        throw err;
      }
    },
    async checkIdentity() {
      const genesis = await rpc.getBlockHash(0);
      if (genesis !== descriptor.genesisHash) {
        const info = await rpc.getBlockchainInfo().catch(() => undefined);
        throw new WrongNetworkError({ chain: p.chainKey, what: "genesis hash", expected: descriptor.genesisHash, actual: genesis, provider: p.host, network: info?.chain });
      }
    },
    async checkSynced() {
      const info = await rpc.getBlockchainInfo();
      // Regtest nodes report initial block download until a fresh block arrives; only headers-ahead-of-blocks means syncing there.
      const ibd = info.initialblockdownload === true && descriptor.network !== "regtest";
      if (ibd || info.headers > info.blocks + 1) throw new NodeSyncingError({ chain: p.chainKey, provider: p.host, blocks: info.blocks, headers: info.headers });
    },
  };
}
