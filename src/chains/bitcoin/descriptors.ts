import { BIP32Factory, type BIP32Interface } from "bip32";
import { payments, type Payment } from "bitcoinjs-lib";
import { decodeBase58Check } from "./decode-base58-check.js";
import { ensureEccLib, toBitcoinjsNetwork } from "./ensure-ecc-lib.js";
import {
  DescriptorChecksumError,
  DescriptorInvalidError,
  DescriptorWrongNetworkError,
  type BitcoinNetworkName,
} from "./wallet-errors.js";

/** Descriptor forms Backstop watches. `wsh-multi`/`sh-wsh-multi` carry `sorted` (sortedmulti vs multi). */
export type DescriptorType = "pkh" | "sh-wpkh" | "wpkh" | "tr" | "wsh-multi" | "sh-wsh-multi";

/** One extended public key of a descriptor, with its derivation steps. */
export type DescriptorKey = {
  /** Key origin `[fingerprint/path]` as written (informational; derivation does not need it). */
  origin?: { fingerprint: string; path: string };
  /** The xpub/tpub as written. */
  extendedKey: string;
  /** Unhardened steps before the branch step (usually none). */
  prefix: number[];
  /** Branch step value per branch: `[0]` for `/0/*`, `[0, 1]` for `/<0;1>/*`. */
  branchSteps: number[];
  /** Unhardened steps between the branch step and the final `*` (usually none). */
  suffix: number[];
};

export type ParsedDescriptor = {
  type: DescriptorType;
  network: BitcoinNetworkName;
  keys: DescriptorKey[];
  /** Signatures required (multisig forms only). */
  threshold?: number;
  /** sortedmulti (true) or multi (false); multisig forms only. */
  sorted?: boolean;
  /** Number of branches: 1, or the length of the `<a;b;…>` multipath tuple (2 for receive/change). */
  branchCount: number;
  /** The descriptor without its checksum, as written. */
  body: string;
  /** The BIP-380 checksum of `body` (computed; equals the given one when one was given). */
  checksum: string;
};

/** One derived output of a descriptor. */
export type DerivedScript = {
  branch: number;
  index: number;
  /** scriptPubKey, lowercase hex. */
  scriptHex: string;
  /** The address in the descriptor network's standard encoding. */
  address: string;
};

// BIP-380: the checksum covers these 95 characters, in three groups of 32.
const INPUT_CHARSET =
  "0123456789()[],'/*abcdefgh@:$%{}" + "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" + "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
const CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];
const HARDENED = 0x80000000;
// Branch step of `xpub…/*` (no branch step at all): deriveScripts skips it.
const NO_STEP = -1;
// Bitcoin Core's limit for multi()/sortedmulti() inside wsh().
const MAX_MULTISIG_KEYS = 20;

const KEY_VERSIONS: Record<number, { prefix: string; kind: "public" | "private" | "slip132"; mainnet: boolean }> = {
  0x0488b21e: { prefix: "xpub", kind: "public", mainnet: true },
  0x043587cf: { prefix: "tpub", kind: "public", mainnet: false },
  0x0488ade4: { prefix: "xprv", kind: "private", mainnet: true },
  0x04358394: { prefix: "tprv", kind: "private", mainnet: false },
  0x049d7cb2: { prefix: "ypub", kind: "slip132", mainnet: true },
  0x04b24746: { prefix: "zpub", kind: "slip132", mainnet: true },
  0x0295b43f: { prefix: "Ypub", kind: "slip132", mainnet: true },
  0x02aa7ed3: { prefix: "Zpub", kind: "slip132", mainnet: true },
  0x044a5262: { prefix: "upub", kind: "slip132", mainnet: false },
  0x045f1cf6: { prefix: "vpub", kind: "slip132", mainnet: false },
  0x024289ef: { prefix: "Upub", kind: "slip132", mainnet: false },
  0x02575483: { prefix: "Vpub", kind: "slip132", mainnet: false },
};

let bip32: ReturnType<typeof BIP32Factory> | undefined;
const nodeCache = new Map<string, BIP32Interface>();

/**
 * BIP-380 descriptor checksum of `body` (8 characters).
 * @throws DescriptorInvalidError a character outside the descriptor character set
 */
export function computeDescriptorChecksum(body: string): string {
  const symbols: bigint[] = [];
  const groups: number[] = [];
  for (const c of body) {
    const v = INPUT_CHARSET.indexOf(c);
    if (v < 0) throw new DescriptorInvalidError({ reason: `character ${JSON.stringify(c)} is not allowed` });
    symbols.push(BigInt(v & 31));
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push(BigInt(groups[0]! * 9 + groups[1]! * 3 + groups[2]!));
      groups.length = 0;
    }
  }
  if (groups.length === 1) symbols.push(BigInt(groups[0]!));
  else if (groups.length === 2) symbols.push(BigInt(groups[0]! * 3 + groups[1]!));
  for (let i = 0; i < 8; i++) symbols.push(0n);
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ value;
    for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) chk ^= GENERATOR[i]!;
  }
  chk ^= 1n;
  let out = "";
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((chk >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

/**
 * Parses an output descriptor over xpub/tpub keys: `pkh(K)`, `sh(wpkh(K))`, `wpkh(K)`, `tr(K)`,
 * `wsh(sortedmulti(m,K1,…))` (also `multi`, and both inside `sh(…)`), K = `[fp/path]xpub…/0/*` or `/<0;1>/*`.
 * The `#checksum` is optional; when present it must match.
 * @throws DescriptorChecksumError wrong checksum
 * @throws DescriptorWrongNetworkError xpub on a test network, tpub on mainnet
 * @throws DescriptorInvalidError anything else (syntax, private keys, hardened steps, unsupported forms)
 */
export function parseDescriptor(text: string, network: BitcoinNetworkName): ParsedDescriptor {
  const hash = text.lastIndexOf("#");
  const body = hash >= 0 ? text.slice(0, hash) : text;
  const checksum = computeDescriptorChecksum(body);
  if (hash >= 0) {
    const given = text.slice(hash + 1);
    if (given.length !== 8) {
      throw new DescriptorInvalidError({ reason: `checksum must be 8 characters, got ${given.length}` });
    }
    if (given !== checksum) throw new DescriptorChecksumError({ expected: checksum, actual: given });
  }
  if (body.trim() !== body) throw new DescriptorInvalidError({ reason: "leading or trailing whitespace" });

  const outer = splitCall(body);
  let type: DescriptorType;
  let inner: string;
  if (outer.name === "sh") {
    const mid = splitCall(outer.args);
    if (mid.name === "wpkh") {
      type = "sh-wpkh";
      inner = mid.args;
    } else if (mid.name === "wsh") {
      type = "sh-wsh-multi";
      inner = mid.args;
    } else {
      throw new DescriptorInvalidError({ reason: `sh(${mid.name}(…)) is not supported; use sh(wpkh(…)) or sh(wsh(…))` });
    }
  } else if (outer.name === "pkh" || outer.name === "wpkh" || outer.name === "tr") {
    type = outer.name === "wpkh" ? "wpkh" : outer.name;
    inner = outer.args;
  } else if (outer.name === "wsh") {
    type = "wsh-multi";
    inner = outer.args;
  } else {
    throw new DescriptorInvalidError({
      reason: `${outer.name}(…) is not supported; use pkh, sh(wpkh), wpkh, tr or wsh(sortedmulti)`,
    });
  }

  if (type === "wsh-multi" || type === "sh-wsh-multi") {
    const multi = splitCall(inner);
    if (multi.name !== "sortedmulti" && multi.name !== "multi") {
      throw new DescriptorInvalidError({ reason: `wsh(${multi.name}(…)) is not supported; use wsh(sortedmulti(…))` });
    }
    const [m, ...keyTexts] = multi.args.split(",");
    if (!m || !/^[1-9]\d*$/.test(m)) throw new DescriptorInvalidError({ reason: `threshold ${JSON.stringify(m)} is not a number` });
    const threshold = Number(m);
    if (keyTexts.length === 0 || keyTexts.length > MAX_MULTISIG_KEYS) {
      throw new DescriptorInvalidError({ reason: `multisig needs 1 to ${MAX_MULTISIG_KEYS} keys, got ${keyTexts.length}` });
    }
    if (threshold > keyTexts.length) {
      throw new DescriptorInvalidError({ reason: `threshold ${threshold} is larger than the ${keyTexts.length} keys` });
    }
    const keys = keyTexts.map((k) => parseKey(k, network));
    return finish({ type, network, keys, threshold, sorted: multi.name === "sortedmulti", body, checksum });
  }
  if (type === "tr" && inner.includes(",")) {
    throw new DescriptorInvalidError({ reason: "tr() with a script tree is not supported; use tr(KEY) (BIP-86)" });
  }
  if (inner.includes("(")) {
    throw new DescriptorInvalidError({ reason: `${outer.name}() takes a key, not ${JSON.stringify(inner)}` });
  }
  return finish({ type, network, keys: [parseKey(inner, network)], body, checksum });
}

/**
 * Derives `count` outputs of one branch starting at `fromIndex` (branch = position in the `<a;b>`
 * tuple: 0 receive, 1 change; always 0 for a single-path descriptor). Pure.
 * @throws DescriptorInvalidError branch or index out of range
 */
export function deriveScripts(
  descriptor: ParsedDescriptor,
  branch: number,
  fromIndex: number,
  count: number,
): DerivedScript[] {
  if (!Number.isInteger(branch) || branch < 0 || branch >= descriptor.branchCount) {
    throw new DescriptorInvalidError({ reason: `branch ${branch} does not exist (descriptor has ${descriptor.branchCount})` });
  }
  if (!Number.isInteger(fromIndex) || !Number.isInteger(count) || fromIndex < 0 || count < 0 || fromIndex + count > HARDENED) {
    throw new DescriptorInvalidError({ reason: `indexes ${fromIndex}..${fromIndex + count} are outside 0..2^31` });
  }
  const network = toBitcoinjsNetwork(descriptor.network);
  const factory = getBip32();
  // The branch node of each key, derived once per call: a child per index is then one step.
  const branchNodes = descriptor.keys.map((key) => {
    let node = loadNode(factory, key.extendedKey, descriptor.network);
    for (const step of [...key.prefix, key.branchSteps[branch]!, ...key.suffix]) {
      if (step !== NO_STEP) node = node.derive(step);
    }
    return node;
  });
  if (descriptor.type === "tr") ensureEccLib();
  const out: DerivedScript[] = [];
  for (let index = fromIndex; index < fromIndex + count; index++) {
    const pubkeys = branchNodes.map((node) => Buffer.from(node.derive(index).publicKey));
    let payment: Payment;
    switch (descriptor.type) {
      case "pkh":
        payment = payments.p2pkh({ pubkey: pubkeys[0]!, network });
        break;
      case "wpkh":
        payment = payments.p2wpkh({ pubkey: pubkeys[0]!, network });
        break;
      case "sh-wpkh":
        payment = payments.p2sh({ redeem: payments.p2wpkh({ pubkey: pubkeys[0]!, network }), network });
        break;
      case "tr":
        // BIP-86: key-path only, output key = internal key tweaked with an empty script tree.
        payment = payments.p2tr({ internalPubkey: pubkeys[0]!.subarray(1, 33), network });
        break;
      case "wsh-multi":
      case "sh-wsh-multi": {
        // sortedmulti: BIP-67 order, lexicographic over the compressed keys.
        const ordered = descriptor.sorted ? [...pubkeys].sort(Buffer.compare) : pubkeys;
        const wsh = payments.p2wsh({
          redeem: payments.p2ms({ m: descriptor.threshold!, pubkeys: ordered, network }),
          network,
        });
        payment = descriptor.type === "wsh-multi" ? wsh : payments.p2sh({ redeem: wsh, network });
        break;
      }
    }
    out.push({ branch, index, scriptHex: payment.output!.toString("hex"), address: payment.address! });
  }
  return out;
}

/**
 * How many addresses of a branch to derive (indexes 0..n-1) so that `gapLimit` unused ones
 * always follow the highest used index. Pure.
 * @throws RangeError gapLimit not a positive integer, or an index not a non-negative integer
 */
export function computeDerivationTarget(usedIndexes: Iterable<number>, gapLimit: number): number {
  if (!Number.isInteger(gapLimit) || gapLimit < 1) throw new RangeError(`gapLimit must be a positive integer, got ${gapLimit}`);
  let highest = -1;
  for (const index of usedIndexes) {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`derivation index must be a non-negative integer, got ${index}`);
    if (index > highest) highest = index;
  }
  return highest + 1 + gapLimit;
}

function finish(p: Omit<ParsedDescriptor, "branchCount">): ParsedDescriptor {
  const counts = new Set(p.keys.map((k) => k.branchSteps.length));
  if (counts.size > 1) {
    throw new DescriptorInvalidError({ reason: "every key's <a;b;…> multipath step must have the same length (BIP-389)" });
  }
  return { ...p, branchCount: [...counts][0]! };
}

/** Splits `name(args)` where the closing parenthesis is the last character and matches the first. */
function splitCall(text: string): { name: string; args: string } {
  const m = /^([a-z]+)\((.*)\)$/s.exec(text);
  if (!m) throw new DescriptorInvalidError({ reason: `expected NAME(…), got ${JSON.stringify(text.slice(0, 40))}` });
  let depth = 0;
  const args = m[2]!;
  for (const c of args) {
    if (c === "(") depth++;
    if (c === ")" && --depth < 0) throw new DescriptorInvalidError({ reason: "unbalanced parentheses" });
  }
  if (depth !== 0) throw new DescriptorInvalidError({ reason: "unbalanced parentheses" });
  return { name: m[1]!, args };
}

function parseKey(text: string, network: BitcoinNetworkName): DescriptorKey {
  const m = /^(?:\[([^\]]*)\])?([1-9A-HJ-NP-Za-km-z]+)((?:\/[^/]+)*)$/.exec(text);
  if (!m) throw new DescriptorInvalidError({ reason: `cannot read key expression ${JSON.stringify(text)}` });
  const [, originText, extendedKey, pathText] = m as unknown as [string, string | undefined, string, string];

  let origin: DescriptorKey["origin"];
  if (originText !== undefined) {
    const [fingerprint, ...steps] = originText.split("/");
    if (!fingerprint || !/^[0-9a-fA-F]{8}$/.test(fingerprint)) {
      throw new DescriptorInvalidError({ reason: `key origin fingerprint ${JSON.stringify(fingerprint)} is not 8 hex digits` });
    }
    for (const step of steps) {
      if (!/^\d+['h]?$/.test(step) || Number.parseInt(step, 10) >= HARDENED) {
        throw new DescriptorInvalidError({ reason: `key origin step ${JSON.stringify(step)} is not a derivation step` });
      }
    }
    origin = { fingerprint: fingerprint.toLowerCase(), path: steps.join("/") };
  }

  checkExtendedKey(extendedKey, network);

  const steps = pathText.split("/").slice(1);
  if (steps.length === 0 || !steps[steps.length - 1]!.startsWith("*")) {
    throw new DescriptorInvalidError({ reason: `key ${shortKey(extendedKey)} must end in /* (a ranged descriptor)` });
  }
  if (steps[steps.length - 1] !== "*") {
    throw new DescriptorInvalidError({ reason: "hardened wildcard /*' cannot be derived from a public key" });
  }
  const prefix: number[] = [];
  const suffix: number[] = [];
  let branchSteps: number[] | undefined;
  for (const step of steps.slice(0, -1)) {
    const multipath = /^<(.*)>$/.exec(step);
    if (multipath) {
      if (branchSteps) throw new DescriptorInvalidError({ reason: "only one <a;b;…> step per key" });
      const values = multipath[1]!.split(";").map(parseStep);
      if (values.length < 2) throw new DescriptorInvalidError({ reason: "a <a;b;…> step needs at least two values" });
      if (new Set(values).size !== values.length) throw new DescriptorInvalidError({ reason: "repeated value in <a;b;…>" });
      branchSteps = values;
    } else if (branchSteps) {
      suffix.push(parseStep(step));
    } else {
      prefix.push(parseStep(step));
    }
  }
  // Without a multipath step, the last fixed step is the branch (/0/* or /1/*); a bare xpub/* has none.
  if (!branchSteps) branchSteps = prefix.length > 0 ? [prefix.pop()!] : [];
  return branchSteps.length === 0
    ? { origin, extendedKey, prefix, branchSteps: [NO_STEP], suffix }
    : { origin, extendedKey, prefix, branchSteps, suffix };
}

function parseStep(step: string): number {
  if (/^\d+['h]$/.test(step)) {
    throw new DescriptorInvalidError({ reason: `hardened step ${step} after an extended public key needs the private key` });
  }
  if (!/^\d+$/.test(step) || Number(step) >= HARDENED) {
    throw new DescriptorInvalidError({ reason: `derivation step ${JSON.stringify(step)} is not a number below 2^31` });
  }
  return Number(step);
}

function checkExtendedKey(key: string, network: BitcoinNetworkName): void {
  const decoded = decodeBase58Check(key);
  if (!decoded.ok) {
    throw new DescriptorInvalidError({
      reason: decoded.reason === "checksum" ? `key ${shortKey(key)} has a bad base58 checksum` : `key ${shortKey(key)} is not an xpub/tpub`,
    });
  }
  if (decoded.payload.length !== 78) throw new DescriptorInvalidError({ reason: `key ${shortKey(key)} is not an extended key` });
  const version = KEY_VERSIONS[decoded.payload.readUInt32BE(0)];
  if (!version) throw new DescriptorInvalidError({ reason: `key ${shortKey(key)} has an unknown version` });
  if (version.kind === "private") {
    // A monitor never holds spending keys; refusing keeps them out of configs, logs and the store.
    throw new DescriptorInvalidError({ reason: `${version.prefix} is a private key; give the ${version.mainnet ? "xpub" : "tpub"} instead` });
  }
  if (version.kind === "slip132") {
    throw new DescriptorInvalidError({
      reason: `${version.prefix} keys are not descriptor keys; write the same key as ${version.mainnet ? "xpub" : "tpub"} (the script type comes from the descriptor)`,
    });
  }
  if (version.mainnet !== (network === "mainnet")) throw new DescriptorWrongNetworkError({ keyPrefix: version.prefix, network });
}

function loadNode(factory: ReturnType<typeof BIP32Factory>, key: string, network: BitcoinNetworkName): BIP32Interface {
  const cacheKey = `${network}:${key}`;
  let node = nodeCache.get(cacheKey);
  if (!node) {
    node = factory.fromBase58(key, toBitcoinjsNetwork(network));
    nodeCache.set(cacheKey, node);
  }
  return node;
}

function getBip32(): ReturnType<typeof BIP32Factory> {
  bip32 ??= BIP32Factory(ensureEccLib());
  return bip32;
}

function shortKey(key: string): string {
  return key.length > 16 ? `${key.slice(0, 8)}…${key.slice(-4)}` : key;
}
