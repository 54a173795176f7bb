import { address as bitcoinAddress } from "bitcoinjs-lib";
import { decodeBase58Check } from "./decode-base58-check.js";
import { ensureEccLib, toBitcoinjsNetwork } from "./ensure-ecc-lib.js";
import {
  AddressChecksumError,
  AddressUnknownFormError,
  AddressWrongNetworkError,
  type BitcoinNetworkName,
} from "./wallet-errors.js";

/** The output forms Backstop watches. */
export type BitcoinScriptType = "p2pkh" | "p2sh" | "p2wpkh" | "p2wsh" | "p2tr";

export type AddressToScriptReturnType = {
  type: BitcoinScriptType;
  /** scriptPubKey bytes. */
  script: Buffer;
  /** scriptPubKey, lowercase hex: the key of the watched-script set. */
  scriptHex: string;
};

const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

// Version bytes / human-readable parts per network. Regtest and signet share testnet's
// base58 versions, so a testnet m…/2… address is also a valid regtest address.
const BASE58_VERSIONS: Record<number, { type: "p2pkh" | "p2sh"; networks: BitcoinNetworkName[] }> = {
  0x00: { type: "p2pkh", networks: ["mainnet"] },
  0x05: { type: "p2sh", networks: ["mainnet"] },
  0x6f: { type: "p2pkh", networks: ["testnet", "signet", "regtest"] },
  0xc4: { type: "p2sh", networks: ["testnet", "signet", "regtest"] },
};
const BECH32_HRPS: Record<string, BitcoinNetworkName[]> = {
  bc: ["mainnet"],
  tb: ["testnet", "signet"],
  bcrt: ["regtest"],
};

/**
 * The scriptPubKey an address pays to, checked against the network.
 * @throws AddressWrongNetworkError a valid address of another network
 * @throws AddressChecksumError base58check/bech32/bech32m checksum mismatch
 * @throws AddressUnknownFormError anything that is not P2PKH, P2SH, P2WPKH, P2WSH or P2TR
 */
export function addressToScript(address: string, network: BitcoinNetworkName): AddressToScriptReturnType {
  const type = classifyAddress(address, network);
  if (type === "p2tr") ensureEccLib();
  const script = bitcoinAddress.toOutputScript(address, toBitcoinjsNetwork(network));
  return { type, script, scriptHex: script.toString("hex") };
}

/** Decodes and validates an address without building its script; returns its output type. */
function classifyAddress(address: string, network: BitcoinNetworkName): BitcoinScriptType {
  const fail = (reason: string) => new AddressUnknownFormError({ address, network, reason });
  if (address.length === 0) throw fail("empty string");
  if (address.trim() !== address) throw fail("leading or trailing whitespace");
  if (address.length > 100) throw fail("too long");

  const lower = address.toLowerCase();
  const sep = lower.lastIndexOf("1");
  const hrp = sep > 0 ? lower.slice(0, sep) : "";
  if (hrp in BECH32_HRPS) return classifyBech32(address, network, hrp, fail);
  if ([...address].every((c) => BASE58_ALPHABET.includes(c))) return classifyBase58(address, network, fail);
  throw fail(sep > 0 ? `unknown human-readable part "${hrp}"` : "neither base58check nor bech32");
}

function classifyBech32(
  address: string,
  network: BitcoinNetworkName,
  hrp: string,
  fail: (reason: string) => Error,
): BitcoinScriptType {
  if (address !== address.toLowerCase() && address !== address.toUpperCase()) throw fail("mixed-case bech32");
  if (address.length > 90) throw fail("bech32 longer than 90 characters");
  const dataPart = address.toLowerCase().slice(hrp.length + 1);
  const words: number[] = [];
  for (const c of dataPart) {
    const v = BECH32_CHARSET.indexOf(c);
    if (v < 0) throw fail(`character "${c}" is not in the bech32 alphabet`);
    words.push(v);
  }
  if (words.length < 7) throw fail("bech32 data part too short");
  const residue = bech32Polymod([...hrpExpand(hrp), ...words]);
  const version = words[0]!;
  const expected = version === 0 ? BECH32_CONST : BECH32M_CONST;
  // A v0 program under the bech32m constant (or v1+ under bech32) fails BIP-350's check: a checksum error.
  if (residue !== expected) {
    throw new AddressChecksumError({ address, network, encoding: version === 0 ? "bech32" : "bech32m" });
  }
  const program = convertBits(words.slice(1, -6), 5, 8);
  if (!program) throw fail("invalid bech32 padding");
  let type: BitcoinScriptType;
  if (version === 0 && program.length === 20) type = "p2wpkh";
  else if (version === 0 && program.length === 32) type = "p2wsh";
  else if (version === 1 && program.length === 32) type = "p2tr";
  else if (version > 16) throw fail(`witness version ${version} does not exist`);
  else throw fail(`witness v${version} program of ${program.length} bytes is not a watched form`);
  const addressNetworks = BECH32_HRPS[hrp]!;
  if (!addressNetworks.includes(network)) throw new AddressWrongNetworkError({ address, network, addressNetworks });
  return type;
}

function classifyBase58(
  address: string,
  network: BitcoinNetworkName,
  fail: (reason: string) => Error,
): BitcoinScriptType {
  const decoded = decodeBase58Check(address);
  const length = decoded.ok ? decoded.payload.length + 4 : (decoded.bytes?.length ?? 0);
  // Anything else (an xpub, a WIF key) is not an address, whatever its checksum.
  if (length !== 25) throw fail(`base58 payload of ${length} bytes (an address has 25)`);
  if (!decoded.ok) throw new AddressChecksumError({ address, network, encoding: "base58check" });
  const versionByte = decoded.payload[0]!;
  const version = BASE58_VERSIONS[versionByte];
  if (!version) throw fail(`base58 version byte 0x${versionByte.toString(16).padStart(2, "0")} is not Bitcoin's`);
  if (!version.networks.includes(network)) {
    throw new AddressWrongNetworkError({ address, network, addressNetworks: version.networks });
  }
  return version.type;
}

function hrpExpand(hrp: string): number[] {
  const codes = [...hrp].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >> 5), 0, ...codes.map((c) => c & 31)];
}

function bech32Polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= gen[i]!;
  }
  return chk >>> 0;
}

/** Regroups bits without padding (BIP-173 decoding rules); undefined on non-zero or excess padding. */
function convertBits(data: number[], from: number, to: number): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) return undefined;
  return out;
}
