/** The families of chains Backstop indexes; each has its own indexer. */
export type ChainKind = "bitcoin" | "evm" | "solana";

/** A data-only chain descriptor, one per file in `chains/`. */
export type ChainDescriptor = {
  /** Descriptor id, the file name in chains/ ("bitcoin", "bitcoin-regtest", "ethereum", ...). */
  id: string;
  kind: ChainKind;
  /** Human name. */
  name: string;
  /** Genesis block hash (hex, display order) or Solana genesis hash (base58): the chain's identity. */
  genesisHash: string;
  /**
   * Blocks (slots) after which a block is final where the chain has no finality of its own (Bitcoin, anvil);
   * a reorg this deep stops the indexer. Where the chain reports finality (EVM `finalizedTag`, Solana's
   * `finalized` commitment) it sizes the header window only.
   */
  finalityDepth: number;
  /**
   * EVM: the node answers the `finalized` and `safe` block tags (Ethereum's beacon finality; OP-stack chains
   * such as Base: L2 blocks derived from finalized L1 data; Arbitrum: those whose batch is L1-finalized).
   * Backstop then records as final exactly what the node calls finalized. Absent: `finalityDepth` blocks.
   */
  finalizedTag?: boolean;
  /** The native asset and its decimals (BTC 8, ETH 18, SOL 9). */
  nativeAsset: { symbol: string; decimals: number };
  /** Bitcoin network (address encodings). */
  network?: "mainnet" | "testnet" | "regtest" | "signet";
  /** EVM chain id. */
  chainId?: number;
};

/** Typed identity for chain descriptors in `chains/*.ts`. */
export function defineChain<const C extends ChainDescriptor>(c: C): C {
  return c;
}
