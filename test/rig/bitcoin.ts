// The Bitcoin regtest rig lives in src/devnet (the npm start demo uses it too).
export * from "../../src/devnet/bitcoin/regtest-rig.js";
