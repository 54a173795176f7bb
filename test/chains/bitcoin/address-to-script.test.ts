import { address, networks, payments } from "bitcoinjs-lib";
import { describe, expect, it } from "vitest";
import { addressToScript } from "../../../src/chains/bitcoin/address-to-script.js";
import {
  AddressChecksumError,
  AddressUnknownFormError,
  AddressWrongNetworkError,
  InvalidAddressError,
} from "../../../src/chains/bitcoin/wallet-errors.js";

// hash160 of the generator point G (private key 1, compressed): a public, much-used vector.
const G_HASH160 = "751e76e8199196d454941c45d1b3a323f1433bd6";
const G_XONLY = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const H32 = "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262";

/** Flips one character of an address to another of the same alphabet (a typo). */
function typo(address: string, at: number): string {
  const c = address[at]!;
  const next = c === "q" ? "p" : c === "p" ? "q" : c === "1" ? "2" : c === "2" ? "3" : c === "x" ? "y" : "x";
  return address.slice(0, at) + next + address.slice(at + 1);
}

describe("addressToScript", () => {
  it("decodes the published BIP-173/BIP-350 and base58 vectors", () => {
    // BIP-173: P2WPKH of G (uppercase form is valid), and a testnet P2WSH.
    expect(addressToScript("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "mainnet")).toMatchObject({
      type: "p2wpkh",
      scriptHex: `0014${G_HASH160}`,
    });
    expect(addressToScript("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "testnet")).toMatchObject({
      type: "p2wsh",
      scriptHex: `0020${H32}`,
    });
    // BIP-350: P2TR with G's x coordinate as the output key.
    expect(addressToScript("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "mainnet")).toMatchObject({
      type: "p2tr",
      scriptHex: `5120${G_XONLY}`,
    });
    // The "private key = 1" P2PKH address.
    expect(addressToScript("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "mainnet")).toMatchObject({
      type: "p2pkh",
      scriptHex: `76a914${G_HASH160}88ac`,
    });
  });

  it.each([
    ["mainnet", networks.bitcoin],
    ["testnet", networks.testnet],
    ["signet", networks.testnet],
    ["regtest", networks.regtest],
  ] as const)("round-trips every form on %s", (name, network) => {
    const hash20 = Buffer.from(G_HASH160, "hex");
    const hash32 = Buffer.from(H32, "hex");
    const forms = [
      ["p2pkh", payments.p2pkh({ hash: hash20, network })],
      ["p2sh", payments.p2sh({ hash: hash20, network })],
      ["p2wpkh", payments.p2wpkh({ hash: hash20, network })],
      ["p2wsh", payments.p2wsh({ hash: hash32, network })],
    ] as const;
    for (const [type, p] of forms) {
      expect(addressToScript(p.address!, name)).toEqual({ type, script: p.output, scriptHex: p.output!.toString("hex") });
    }
    const p2tr = address.toBech32(Buffer.from(G_XONLY, "hex"), 1, network.bech32);
    expect(addressToScript(p2tr, name)).toMatchObject({ type: "p2tr", scriptHex: `5120${G_XONLY}` });
  });

  it("names the network when the address belongs to another one", () => {
    const mainP2wpkh = payments.p2wpkh({ hash: Buffer.from(G_HASH160, "hex") }).address!;
    const regtestP2wpkh = payments.p2wpkh({ hash: Buffer.from(G_HASH160, "hex"), network: networks.regtest }).address!;
    const testP2pkh = payments.p2pkh({ hash: Buffer.from(G_HASH160, "hex"), network: networks.testnet }).address!;
    expect(() => addressToScript(mainP2wpkh, "regtest")).toThrow(AddressWrongNetworkError);
    expect(() => addressToScript(regtestP2wpkh, "testnet")).toThrow(AddressWrongNetworkError);
    expect(() => addressToScript(testP2pkh, "mainnet")).toThrow(AddressWrongNetworkError);
    // Regtest shares testnet's base58 versions: a testnet P2PKH is a regtest P2PKH.
    expect(addressToScript(testP2pkh, "regtest").type).toBe("p2pkh");
    try {
      addressToScript(mainP2wpkh, "regtest");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidAddressError);
      expect((error as AddressWrongNetworkError).code).toBe("BITCOIN__ADDRESS_WRONG_NETWORK");
      expect((error as AddressWrongNetworkError).shortMessage).toMatchInlineSnapshot(
        `"Address bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 is a mainnet address, not a regtest one."`,
      );
    }
  });

  it("reports a typo as a bad checksum, for each encoding", () => {
    const cases = [
      ["1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "mainnet", "base58check"],
      ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mainnet", "bech32"],
      ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "mainnet", "bech32m"],
    ] as const;
    for (const [text, network, encoding] of cases) {
      for (const at of [5, 12, text.length - 2]) {
        const bad = typo(text, at);
        expect(() => addressToScript(bad, network), `${bad}`).toThrow(AddressChecksumError);
        expect(() => addressToScript(bad, network)).toThrow(`bad ${encoding} checksum`);
      }
    }
    // A v1 program encoded with the bech32 (not bech32m) constant fails BIP-350's check.
    const v1WithBech32 = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd";
    expect(() => addressToScript(v1WithBech32, "mainnet")).toThrow(AddressChecksumError);
  });

  it("rejects what is not one of the five forms", () => {
    const xpub =
      "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";
    const unknown = [
      "",
      " bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
      "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", // mixed case
      "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", // another coin's hrp
      "0x52908400098527886E0F7030069857D2E4169EE7", // an EVM address
      xpub,
      address.toBase58Check(Buffer.from(G_HASH160, "hex"), 0x30), // Litecoin P2PKH version byte
    ];
    for (const text of unknown) {
      expect(() => addressToScript(text, "mainnet"), text).toThrow(AddressUnknownFormError);
    }
    // A future segwit version (v2) is valid bech32m but not a form Backstop watches.
    expect(() => addressToScript("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "mainnet")).toThrow(AddressUnknownFormError);
    expect(() => addressToScript("", "mainnet")).toThrow(/not a P2PKH, P2SH, P2WPKH, P2WSH or P2TR address: empty string/);
  });
});
