import { BIP32Factory, type BIP32Interface } from "bip32";
import { payments, type Payment } from "bitcoinjs-lib";
import { buildMultisigScript, MAX_MULTISIG_KEYS } from "./build-multisig-script.js";
import { decodeBase58Check } from "./decode-base58-check.js";
import { ensureEccLib, toBitcoinjsNetwork } from "./ensure-ecc-lib.js";
import {
  DescriptorChecksumError,
  DescriptorInvalidError,
  DescriptorPrivateKeyError,
  DescriptorUnsupportedError,
  DescriptorWrongNetworkError,
  type BitcoinNetworkName,
} from "./wallet-errors.js";

/**
 * Descriptor forms Backstop watches. `wsh-multi`, `sh-wsh-multi` and `sh-multi` carry `sorted`
 * (sortedmulti vs multi).
 */
export type DescriptorType = "pkh" | "sh-wpkh" | "wpkh" | "tr" | "wsh-multi" | "sh-wsh-multi" | "sh-multi";

/** One key of a descriptor: an extended public key with its derivation steps, or a fixed public key. */
export type DescriptorKey = {
  /** Key origin `[fingerprint/path]` as written (informational; derivation does not need it). */
  origin?: { fingerprint: string; path: string };
  /** The xpub/tpub as written; undefined for a fixed (hex) public key. */
  extendedKey?: string;
  /** A fixed public key (33 bytes compressed, 65 uncompressed, 32 x-only), hex; undefined for an xpub. */
  publicKey?: string;
  /**
   * Unhardened steps after the extended key, before the final `*`: a number is one fixed step, an
   * array is the BIP-389 multipath tuple `<a;b;…>` (the step taken on branch i is its i-th value).
   */
  steps: Array<number | number[]>;
  /** True when the key ends in `/*` (one child per index). */
  ranged: boolean;
};

export type ParsedDescriptor = {
  type: DescriptorType;
  network: BitcoinNetworkName;
  keys: DescriptorKey[];
  /** Signatures required (multisig forms only). */
  threshold?: number;
  /** sortedmulti (true) or multi (false); multisig forms only. */
  sorted?: boolean;
  /**
   * Number of branches: 1, or the length of the `<a;b;…>` multipath tuples (2 for receive/change).
   * Keys without a tuple take the same path on every branch (BIP-389).
   */
  branchCount: number;
  /** True when a key ends in `/*`; a fixed descriptor has one script per branch (index 0). */
  ranged: boolean;
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

/** What a BIP-380 key expression is, as written (before Backstop's own restrictions). */
export type KeyExpression = {
  origin?: { fingerprint: string; path: string };
  /**
   * `hex`: a public key in hex (33-byte compressed, 65-byte uncompressed, 32-byte x-only);
   * `wif`: a WIF private key; `xpub`/`xprv`: an extended public/private key (any version).
   */
  kind: "hex" | "wif" | "xpub" | "xprv";
  /** The key itself, without origin and path. */
  key: string;
  /** Steps after an extended key, each a value list (one value, or a multipath tuple) and its hardened flags. */
  steps: Array<{ values: number[]; hardened: boolean[] }>;
  /** `*` (unhardened), `*'`/`*h` (hardened), or none. */
  wildcard: "none" | "unhardened" | "hardened";
  /** Only for `hex`: the decoded key bytes. */
  bytes?: Buffer;
  /** Only for `wif`: whether it encodes a compressed key. */
  compressed?: boolean;
  /** Extended keys and WIF: the network kind its version says (SLIP-132 versions included). */
  version?: { prefix: string; kind: "public" | "private" | "slip132"; mainnet: boolean };
};

// BIP-380: the checksum covers these 95 characters, in three groups of 32.
const INPUT_CHARSET =
  "0123456789()[],'/*abcdefgh@:$%{}" + "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" + "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
const CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];
const HARDENED = 0x80000000;
// Consensus limit of a P2SH redeem script (MAX_SCRIPT_ELEMENT_SIZE): caps sh(multi) near 15 keys.
const MAX_P2SH_SCRIPT = 520;
const WATCHED_FORMS = "pkh, wpkh, sh(wpkh), tr(KEY), wsh(multi|sortedmulti), sh(wsh(multi|sortedmulti)) or sh(multi|sortedmulti)";

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
 * Parses one BIP-380 key expression (`[fingerprint/origin]KEY/path/*`, with an optional BIP-389
 * `<a;b;…>` step) and says what it is. It accepts everything BIP-380 accepts, private keys and
 * hardened steps included; `parseDescriptor` then applies Backstop's own restrictions.
 * @throws DescriptorInvalidError anything BIP-380 refuses (origin, fingerprint, step syntax, range,
 *   a key that does not decode, derivation after a non-extended key, a misplaced or repeated multipath)
 */
export function parseKeyExpression(text: string): KeyExpression {
  let rest = text;
  let origin: KeyExpression["origin"];
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) throw new DescriptorInvalidError({ reason: `key origin ${JSON.stringify(text.slice(0, 40))} has no closing "]"` });
    const [fingerprint, ...steps] = rest.slice(1, close).split("/");
    if (!fingerprint || !/^[0-9a-fA-F]{8}$/.test(fingerprint)) {
      throw new DescriptorInvalidError({ reason: `key origin fingerprint ${JSON.stringify(fingerprint)} is not 8 hex digits` });
    }
    for (const step of steps) parseStep(step, "key origin");
    origin = { fingerprint: fingerprint.toLowerCase(), path: steps.join("/") };
    rest = rest.slice(close + 1);
  }
  if (rest.includes("[") || rest.includes("]")) throw new DescriptorInvalidError({ reason: `key ${JSON.stringify(text.slice(0, 40))} has a misplaced or repeated key origin` });
  const [key, ...path] = rest.split("/");
  if (!key) throw new DescriptorInvalidError({ reason: `key expression ${JSON.stringify(text.slice(0, 40))} has no key` });

  const out: KeyExpression = { origin, kind: "hex", key, steps: [], wildcard: "none" };
  if (/^[0-9a-fA-F]+$/.test(key) && (key.length === 66 || key.length === 130 || key.length === 64)) {
    out.kind = "hex";
    out.bytes = Buffer.from(key, "hex");
    const ok = key.length === 64 ? ensureEccLib().isXOnlyPoint(out.bytes) : ensureEccLib().isPoint(out.bytes) && (key.length === 66 ? /^0[23]/.test(key) : key.startsWith("04"));
    if (!ok) throw new DescriptorInvalidError({ reason: `public key ${shortKey(key)} is not a valid point` });
  } else {
    const decoded = decodeBase58Check(key);
    if (!decoded.ok) {
      throw new DescriptorInvalidError({
        reason: decoded.reason === "checksum" ? `key ${shortKey(key)} has a bad base58 checksum` : `key ${shortKey(key)} is neither a hex public key, a WIF key nor an extended key`,
      });
    }
    const payload = decoded.payload;
    if (payload.length === 78) {
      const version = KEY_VERSIONS[payload.readUInt32BE(0)];
      if (!version) throw new DescriptorInvalidError({ reason: `key ${shortKey(key)} has an unknown version` });
      out.kind = version.kind === "private" ? "xprv" : "xpub";
      out.version = version;
    } else if ((payload.length === 33 || (payload.length === 34 && payload[33] === 1)) && (payload[0] === 0x80 || payload[0] === 0xef)) {
      out.kind = "wif";
      out.compressed = payload.length === 34;
      out.version = { prefix: "WIF", kind: "private", mainnet: payload[0] === 0x80 };
    } else {
      throw new DescriptorInvalidError({ reason: `key ${shortKey(key)} is neither a hex public key, a WIF key nor an extended key` });
    }
  }
  if (path.length > 0 && out.kind !== "xpub" && out.kind !== "xprv") {
    throw new DescriptorInvalidError({ reason: `key ${shortKey(key)} is not an extended key: it cannot have derivation steps` });
  }
  path.forEach((step, i) => {
    if (step === "*" || step === "*'" || step === "*h") {
      if (i !== path.length - 1) throw new DescriptorInvalidError({ reason: "the wildcard * must be the last step" });
      out.wildcard = step === "*" ? "unhardened" : "hardened";
      return;
    }
    const multipath = /^<(.*)>$/.exec(step);
    if (multipath) {
      if (out.steps.some((s) => s.values.length > 1)) throw new DescriptorInvalidError({ reason: "only one <a;b;…> step per key (BIP-389)" });
      const parts = multipath[1]!.split(";").map((x) => parseStep(x, "multipath"));
      if (parts.length < 2) throw new DescriptorInvalidError({ reason: "a <a;b;…> step needs at least two values (BIP-389)" });
      if (new Set(parts.map((x) => x.value)).size !== parts.length) throw new DescriptorInvalidError({ reason: "repeated value in <a;b;…> (BIP-389)" });
      out.steps.push({ values: parts.map((x) => x.value), hardened: parts.map((x) => x.hardened) });
      return;
    }
    const one = parseStep(step, "derivation");
    out.steps.push({ values: [one.value], hardened: [one.hardened] });
  });
  return out;
}

/**
 * Parses an output descriptor Backstop can watch: `pkh(K)`, `wpkh(K)`, `sh(wpkh(K))`, `tr(K)`,
 * `wsh(multi|sortedmulti(m,K1,…))`, `sh(wsh(multi|sortedmulti(…)))`, `sh(multi|sortedmulti(…))`.
 * K is an xpub/tpub with unhardened steps, a BIP-389 `<a;b;…>` tuple and an optional final `*`
 * (ranged), or a fixed hex public key. The `#checksum` is optional; when present it must match.
 * Everything valid but outside these forms (pk, combo, raw, addr, rawtr, bare multi, tr script
 * trees, miniscript) is refused with DescriptorUnsupportedError naming the form.
 * @throws DescriptorChecksumError wrong checksum
 * @throws DescriptorWrongNetworkError xpub on a test network, tpub on mainnet
 * @throws DescriptorPrivateKeyError a private key (xprv/tprv, WIF): Backstop is watch-only
 * @throws DescriptorUnsupportedError a valid form Backstop does not watch
 * @throws DescriptorInvalidError anything else (syntax, keys, hardened steps after an xpub, limits)
 */
export function parseDescriptor(text: string, network: BitcoinNetworkName): ParsedDescriptor {
  const hash = text.indexOf("#");
  if (hash >= 0 && text.indexOf("#", hash + 1) >= 0) throw new DescriptorInvalidError({ reason: "more than one '#'" });
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
  const single = (form: string, call: { name: string; args: string[] }, ctx: KeyContext): DescriptorKey[] => {
    if (call.args.length !== 1) {
      if (call.name === "tr") throw new DescriptorUnsupportedError({ form: "tr() with a script tree", hint: "Backstop watches the BIP-86 key path tr(KEY)" });
      throw new DescriptorInvalidError({ reason: `${form} takes one key, got ${call.args.length} arguments` });
    }
    if (isCall(call.args[0]!)) throw new DescriptorInvalidError({ reason: `${form} takes a key expression, not ${JSON.stringify(call.args[0]!.slice(0, 30))}` });
    return [toKey(call.args[0]!, network, ctx, form)];
  };

  switch (outer.name) {
    case "pkh":
      return finish({ type: "pkh", network, keys: single("pkh()", outer, "legacy"), body, checksum });
    case "wpkh":
      return finish({ type: "wpkh", network, keys: single("wpkh()", outer, "segwit"), body, checksum });
    case "tr":
      return finish({ type: "tr", network, keys: single("tr()", outer, "taproot"), body, checksum });
    case "sh": {
      const inner = onlyScript("sh()", outer);
      if (inner.name === "wpkh") return finish({ type: "sh-wpkh", network, keys: single("wpkh()", inner, "segwit"), body, checksum });
      if (inner.name === "wsh") {
        const multi = onlyScript("wsh()", inner);
        if (multi.name === "multi" || multi.name === "sortedmulti") return finishMulti("sh-wsh-multi", multi, network, body, checksum);
        throw misplacedOrUnsupported(multi.name, "sh(wsh(…))");
      }
      if (inner.name === "multi" || inner.name === "sortedmulti") return finishMulti("sh-multi", inner, network, body, checksum);
      throw misplacedOrUnsupported(inner.name, "sh(…)");
    }
    case "wsh": {
      const multi = onlyScript("wsh()", outer);
      if (multi.name === "multi" || multi.name === "sortedmulti") return finishMulti("wsh-multi", multi, network, body, checksum);
      throw misplacedOrUnsupported(multi.name, "wsh(…)");
    }
    default:
      throw misplacedOrUnsupported(outer.name, "");
  }
}

/**
 * Derives `count` outputs of one branch starting at `fromIndex` (branch = position in the `<a;b>`
 * tuple: 0 receive, 1 change; always 0 without a tuple). A fixed (non-ranged) descriptor has one
 * output per branch, at index 0: indexes above 0 derive nothing. Pure.
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
  const last = descriptor.ranged ? fromIndex + count : Math.min(fromIndex + count, 1);
  const network = toBitcoinjsNetwork(descriptor.network);
  const factory = getBip32();
  // The branch node of each extended key, derived once per call: a child per index is then one step.
  const branchNodes = descriptor.keys.map((key) => {
    if (key.extendedKey === undefined) return undefined;
    let node = loadNode(factory, key.extendedKey, descriptor.network);
    for (const step of key.steps) node = node.derive(typeof step === "number" ? step : step[branch]!);
    return node;
  });
  if (descriptor.type === "tr") ensureEccLib();
  const out: DerivedScript[] = [];
  for (let index = fromIndex; index < last; index++) {
    const pubkeys = descriptor.keys.map((key, k) => {
      const node = branchNodes[k];
      if (node === undefined) return Buffer.from(key.publicKey!, "hex");
      return Buffer.from(key.ranged ? node.derive(index).publicKey : node.publicKey);
    });
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
        payment = payments.p2tr({ internalPubkey: pubkeys[0]!.length === 32 ? pubkeys[0]! : pubkeys[0]!.subarray(1, 33), network });
        break;
      case "wsh-multi":
      case "sh-wsh-multi":
      case "sh-multi": {
        // sortedmulti: BIP-67 order, lexicographic over the serialised keys.
        const ordered = descriptor.sorted ? [...pubkeys].sort(Buffer.compare) : pubkeys;
        // Not bitcoinjs-lib's p2ms: it writes a count above 16 as OP_1 + (n - 1), a different script.
        const redeem = { output: buildMultisigScript(descriptor.threshold!, ordered), network };
        if (descriptor.type === "sh-multi") payment = payments.p2sh({ redeem, network });
        else {
          const wsh = payments.p2wsh({ redeem, network });
          payment = descriptor.type === "wsh-multi" ? wsh : payments.p2sh({ redeem: wsh, network });
        }
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

/** Where a key appears: legacy (pkh, sh(multi)) allows uncompressed keys, segwit v0 does not, taproot allows x-only ones. */
type KeyContext = "legacy" | "segwit" | "taproot";

function finish(p: Omit<ParsedDescriptor, "branchCount" | "ranged">): ParsedDescriptor {
  // BIP-389: every tuple has the same length; keys without one take the same path on every branch.
  const lengths = new Set(p.keys.flatMap((k) => k.steps.filter((s): s is number[] => Array.isArray(s)).map((s) => s.length)));
  if (lengths.size > 1) {
    throw new DescriptorInvalidError({ reason: `the keys' <a;b;…> multipath steps have different lengths (${[...lengths].join(", ")}); BIP-389 requires one length` });
  }
  return { ...p, branchCount: [...lengths][0] ?? 1, ranged: p.keys.some((k) => k.ranged) };
}

function finishMulti(type: "wsh-multi" | "sh-wsh-multi" | "sh-multi", multi: { name: string; args: string[] }, network: BitcoinNetworkName, body: string, checksum: string): ParsedDescriptor {
  const [m, ...keyTexts] = multi.args;
  if (m === undefined || !/^\d+$/.test(m)) throw new DescriptorInvalidError({ reason: `multisig threshold ${JSON.stringify(m ?? "")} is not a number` });
  const threshold = Number(m);
  if (threshold < 1) throw new DescriptorInvalidError({ reason: "multisig threshold must be at least 1" });
  if (keyTexts.length === 0 || keyTexts.length > MAX_MULTISIG_KEYS) {
    throw new DescriptorInvalidError({ reason: `multisig needs 1 to ${MAX_MULTISIG_KEYS} keys, got ${keyTexts.length}` });
  }
  if (threshold > keyTexts.length) {
    throw new DescriptorInvalidError({ reason: `threshold ${threshold} is larger than the ${keyTexts.length} keys` });
  }
  const form = `${type === "wsh-multi" ? "wsh" : type === "sh-multi" ? "sh" : "sh(wsh"}(${multi.name}())`;
  const keys = keyTexts.map((k) => {
    if (isCall(k)) throw new DescriptorInvalidError({ reason: `${multi.name}() takes key expressions, not ${JSON.stringify(k.slice(0, 30))}` });
    return toKey(k, network, type === "sh-multi" ? "legacy" : "segwit", form);
  });
  if (type === "sh-multi") {
    // The redeem script must fit one push (520 bytes): about 15 compressed keys.
    const size = 3 + keys.reduce((sum, k) => sum + 1 + (k.publicKey ? k.publicKey.length / 2 : 33), 0) + (keyTexts.length > 16 ? 1 : 0) + (threshold > 16 ? 1 : 0);
    if (size > MAX_P2SH_SCRIPT) throw new DescriptorInvalidError({ reason: `P2SH script is too large: ${size} bytes is larger than ${MAX_P2SH_SCRIPT} (use wsh() for more keys)` });
  }
  return finish({ type, network, keys, threshold, sorted: multi.name === "sortedmulti", body, checksum });
}

/** A key expression as Backstop accepts it in `form`, checked against the network and the key context. */
function toKey(text: string, network: BitcoinNetworkName, ctx: KeyContext, form: string): DescriptorKey {
  const k = parseKeyExpression(text);
  if (k.kind === "xprv" || k.kind === "wif") throw new DescriptorPrivateKeyError({ key: shortKey(k.key), kind: k.kind === "wif" ? "a WIF private key" : `an ${k.version!.prefix}`, give: k.kind === "wif" ? "its public key" : k.version!.mainnet ? "the xpub" : "the tpub" });
  if (k.kind === "xpub") {
    const version = k.version!;
    if (version.kind === "slip132") {
      throw new DescriptorInvalidError({
        reason: `${version.prefix} keys are not descriptor keys; write the same key as ${version.mainnet ? "xpub" : "tpub"} (the script type comes from the descriptor)`,
      });
    }
    if (version.mainnet !== (network === "mainnet")) throw new DescriptorWrongNetworkError({ keyPrefix: version.prefix, network });
    // Valid descriptors, but a public key cannot derive them: give the xpub below the hardened steps.
    for (const step of k.steps) {
      if (step.hardened.some(Boolean)) {
        throw new DescriptorUnsupportedError({ form: `a hardened step (${step.values.length > 1 ? "in <a;b;…>" : `${step.values[0]}h`}) after an extended public key`, hint: "it needs the private key; give the xpub of the hardened path instead" });
      }
    }
    if (k.wildcard === "hardened") throw new DescriptorUnsupportedError({ form: "a hardened wildcard /*'", hint: "it cannot be derived from a public key" });
    return {
      origin: k.origin,
      extendedKey: k.key,
      steps: k.steps.map((s) => (s.values.length > 1 ? s.values : s.values[0]!)),
      ranged: k.wildcard === "unhardened",
    };
  }
  const len = k.bytes!.length;
  if (len === 32 && ctx !== "taproot") throw new DescriptorInvalidError({ reason: `x-only key ${shortKey(k.key)} is only valid in tr()` });
  if (len === 65 && ctx !== "legacy") throw new DescriptorInvalidError({ reason: `uncompressed key ${shortKey(k.key)} is not allowed in ${form}` });
  return { origin: k.origin, publicKey: k.key.toLowerCase(), steps: [], ranged: false };
}

/** One derivation step: digits, optionally hardened (`'` or `h`), below 2^31. */
function parseStep(step: string, where: string): { value: number; hardened: boolean } {
  const m = /^(\d+)(['h]?)$/.exec(step);
  if (!m) throw new DescriptorInvalidError({ reason: `${where} step ${JSON.stringify(step)} is not a derivation step` });
  const value = Number(m[1]);
  if (value >= HARDENED) throw new DescriptorInvalidError({ reason: `${where} step ${step} is out of range (at most 2^31 - 1)` });
  return { value, hardened: m[2] !== "" };
}

/** A script expression (`name(…)`, miniscript included) rather than a key. */
function isCall(text: string): boolean {
  return text.includes("(");
}

/** `NAME(args)`: args split on top-level commas (parentheses and `{}` nest). */
function splitCall(text: string): { name: string; args: string[] } {
  const m = /^([a-z_:]+)\((.*)\)$/s.exec(text);
  if (!m) throw new DescriptorInvalidError({ reason: `expected NAME(…), got ${JSON.stringify(text.slice(0, 40))}` });
  const args: string[] = [];
  let depth = 0;
  let from = 0;
  const inner = m[2]!;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === "(" || c === "{") depth++;
    else if (c === ")" || c === "}") {
      if (--depth < 0) throw new DescriptorInvalidError({ reason: "unbalanced parentheses" });
    } else if (c === "," && depth === 0) {
      args.push(inner.slice(from, i));
      from = i + 1;
    }
  }
  if (depth !== 0) throw new DescriptorInvalidError({ reason: "unbalanced parentheses" });
  args.push(inner.slice(from));
  return { name: m[1]!, args };
}

/** The single script expression inside sh()/wsh(). */
function onlyScript(form: string, call: { name: string; args: string[] }): { name: string; args: string[] } {
  if (call.args.length !== 1) throw new DescriptorInvalidError({ reason: `${form} takes one script, got ${call.args.length} arguments` });
  if (!isCall(call.args[0]!)) throw new DescriptorInvalidError({ reason: `${form} needs a script expression inside, not a key` });
  return splitCall(call.args[0]!);
}

/** The error for `name(…)` found inside `within` (or at the top level): misplaced per the BIPs, or a valid form Backstop does not watch. */
function misplacedOrUnsupported(name: string, within: string): Error {
  const where = within ? ` inside ${within}` : "";
  if (name === "sh" && within) return new DescriptorInvalidError({ reason: "sh() can only be at the top level" });
  // Inside sh() a wsh() is handled before this: here it is nested in wsh().
  if (name === "wsh" && within) return new DescriptorInvalidError({ reason: "wsh() can only be at the top level or inside sh()" });
  if (name === "wpkh" && within) return new DescriptorInvalidError({ reason: "wpkh() can only be at the top level or inside sh()" });
  if ((name === "tr" || name === "combo" || name === "rawtr" || name === "addr" || name === "raw") && within) {
    return new DescriptorInvalidError({ reason: `${name}() can only be at the top level` });
  }
  const known: Record<string, string> = { multi: "bare multi()", sortedmulti: "bare sortedmulti()", pk: "pk()", pkh: "pkh()", combo: "combo()", raw: "raw()", addr: "addr()", rawtr: "rawtr()", multi_a: "multi_a()", sortedmulti_a: "sortedmulti_a()" };
  const form = within ? `${name}()${where}` : (known[name] ?? `${name}() (miniscript or unknown)`);
  return new DescriptorUnsupportedError({ form, hint: `Backstop watches ${WATCHED_FORMS}` });
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
