import * as ecc from "@bitcoinerlab/secp256k1";
import { initEccLib, networks, type Network } from "bitcoinjs-lib";
import type { BitcoinNetworkName } from "./wallet-errors.js";

let eccReady = false;

/** Registers @bitcoinerlab/secp256k1 with bitcoinjs-lib (needed for P2TR) on first use, never at import. */
export function ensureEccLib(): typeof ecc {
  if (!eccReady) {
    initEccLib(ecc);
    eccReady = true;
  }
  return ecc;
}

/** bitcoinjs-lib network parameters for a Backstop network name (signet uses testnet's encodings). */
export function toBitcoinjsNetwork(network: BitcoinNetworkName): Network {
  switch (network) {
    case "mainnet":
      return networks.bitcoin;
    case "testnet":
    case "signet":
      return networks.testnet;
    case "regtest":
      return networks.regtest;
  }
}
