import { defineChain } from "../src/lib/chain.js";

export default defineChain({
  id: "ethereum",
  kind: "evm",
  name: "Ethereum",
  chainId: 1,
  genesisHash: "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3",
  // Sizes the header window only (finality is the node's `finalized` tag below); Ponder's own unfinalized
  // window on chain 1 is also 65 blocks (two epochs ≈ 13 min).
  finalityDepth: 65,
  // Final = the beacon chain's finalized checkpoint (eth_getBlockByNumber("finalized"), ~2 epochs back).
  finalizedTag: true,
  nativeAsset: { symbol: "ETH", decimals: 18 },
});
