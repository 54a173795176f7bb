import { BackstopError, type ErrorCode } from "../../lib/errors.js";

/** Bitcoin networks Backstop knows; signet shares testnet's address encodings. */
export type BitcoinNetworkName = "mainnet" | "testnet" | "regtest" | "signet";

/** Base class of every "this is not a usable custody address" error; catch this to catch all three. */
export class InvalidAddressError extends BackstopError {
  override name = "InvalidAddressError";
  readonly address: string;
  readonly network: BitcoinNetworkName;
  constructor(
    code: ErrorCode,
    shortMessage: string,
    p: { address: string; network: BitcoinNetworkName; meta?: string[]; cause?: unknown },
  ) {
    super(code, shortMessage, { meta: p.meta, cause: p.cause });
    this.address = p.address;
    this.network = p.network;
  }
}

/** A well-formed address (checksum right) that belongs to another network. */
export class AddressWrongNetworkError extends InvalidAddressError {
  override name = "AddressWrongNetworkError";
  readonly addressNetworks: string[];
  constructor(p: { address: string; network: BitcoinNetworkName; addressNetworks: string[] }) {
    super(
      "BITCOIN__ADDRESS_WRONG_NETWORK",
      `Address ${p.address} is a ${p.addressNetworks.join("/")} address, not a ${p.network} one.`,
      { address: p.address, network: p.network },
    );
    this.addressNetworks = p.addressNetworks;
  }
}

/** The address has the shape of a base58check or bech32/bech32m address but its checksum is wrong (a typo). */
export class AddressChecksumError extends InvalidAddressError {
  override name = "AddressChecksumError";
  constructor(p: { address: string; network: BitcoinNetworkName; encoding: "base58check" | "bech32" | "bech32m" }) {
    super(
      "BITCOIN__ADDRESS_BAD_CHECKSUM",
      `Address ${p.address} has a bad ${p.encoding} checksum (mistyped or truncated).`,
      { address: p.address, network: p.network },
    );
  }
}

/** Not one of the supported forms (P2PKH, P2SH, P2WPKH, P2WSH, P2TR), or not an address at all. */
export class AddressUnknownFormError extends InvalidAddressError {
  override name = "AddressUnknownFormError";
  constructor(p: { address: string; network: BitcoinNetworkName; reason: string }) {
    super(
      "BITCOIN__ADDRESS_UNKNOWN_FORM",
      `Address ${JSON.stringify(p.address)} is not a P2PKH, P2SH, P2WPKH, P2WSH or P2TR address: ${p.reason}.`,
      { address: p.address, network: p.network },
    );
  }
}

/** An output descriptor that cannot be parsed, or uses a form Backstop does not watch. */
export class DescriptorInvalidError extends BackstopError {
  override name = "DescriptorInvalidError";
  constructor(p: { reason: string; meta?: string[]; cause?: unknown }) {
    super("BITCOIN__DESCRIPTOR_INVALID", `invalid descriptor: ${p.reason}`, { meta: p.meta, cause: p.cause });
  }
}

/** A valid output descriptor (BIP-380…389) of a form Backstop does not watch; `form` names it. */
export class DescriptorUnsupportedError extends BackstopError {
  override name = "DescriptorUnsupportedError";
  readonly form: string;
  constructor(p: { form: string; hint: string }) {
    super("BITCOIN__DESCRIPTOR_UNSUPPORTED", `unsupported descriptor: ${p.form} is not a form Backstop watches (${p.hint})`);
    this.form = p.form;
  }
}

/** The descriptor holds a private key (xprv/tprv or WIF): a monitor never holds spending keys. */
export class DescriptorPrivateKeyError extends BackstopError {
  override name = "DescriptorPrivateKeyError";
  constructor(p: { key: string; kind: string; give: string }) {
    super("BITCOIN__DESCRIPTOR_PRIVATE_KEY", `unsupported descriptor: key ${p.key} is ${p.kind}; Backstop is watch-only, give ${p.give} instead`);
  }
}

/** The descriptor carries a `#checksum` that does not match its text (BIP-380). */
export class DescriptorChecksumError extends BackstopError {
  override name = "DescriptorChecksumError";
  constructor(p: { expected: string; actual: string }) {
    super("BITCOIN__DESCRIPTOR_BAD_CHECKSUM", `invalid checksum: expected #${p.expected}, got #${p.actual}`);
  }
}

/** The descriptor's extended keys are for another network (xpub on a test network, tpub on mainnet). */
export class DescriptorWrongNetworkError extends BackstopError {
  override name = "DescriptorWrongNetworkError";
  constructor(p: { keyPrefix: string; network: BitcoinNetworkName }) {
    super(
      "BITCOIN__DESCRIPTOR_WRONG_NETWORK",
      `invalid descriptor: a ${p.keyPrefix} key cannot be used on ${p.network} (mainnet takes xpub, test networks take tpub)`,
    );
  }
}
