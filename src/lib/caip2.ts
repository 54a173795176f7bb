import type { ChainDescriptor } from "./chain.js";

/**
 * The chain's CAIP-2 id: `bip122:<first 32 hex chars of the genesis hash>`, `eip155:<chain id>`,
 * `solana:<first 32 chars of the base58 genesis hash>` (the CAIP-2 namespaces' own rules).
 */
export function buildCaip2ChainId(d: Pick<ChainDescriptor, "kind" | "genesisHash" | "chainId">): string {
  switch (d.kind) {
    case "bitcoin":
      return `bip122:${d.genesisHash.slice(0, 32).toLowerCase()}`;
    case "evm":
      return `eip155:${d.chainId}`;
    case "solana":
      return `solana:${d.genesisHash.slice(0, 32)}`;
  }
}
