// Test rig for the LiteSVM-backed Solana chain: the devnet and its workload helpers.
export * from "../../src/devnet/solana/create-solana-chain.js";
export * from "../../src/devnet/solana/start-solana-rpc-server.js";
export * from "../../src/devnet/solana/start-solana-devnet.js";
export * from "../../src/devnet/solana/chain-actions.js";
