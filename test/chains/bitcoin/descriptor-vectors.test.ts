// The peers' descriptor vectors (BIP-380…389, BIP-49/84/86, Bitcoin Core's descriptor_tests.cpp),
// unchanged in test/fixtures/vectors/descriptor_vectors.json, run through Backstop's parser.
//
// - every valid vector of a form Backstop watches derives exactly the expected scripts, index by index;
// - every valid vector of another form (pk, combo, raw, bare multi, tr script trees, miniscript,
//   private keys, hardened steps after an xpub) is refused as unsupported, naming the form, never
//   as "invalid";
// - every invalid vector is refused; BIP-380 key expressions are read by parseKeyExpression;
// - every BIP-389 multipath descriptor derives, on branch i, what its i-th expansion derives.
import * as ecc from "@bitcoinerlab/secp256k1";
import { payments } from "bitcoinjs-lib";
import { ECPairFactory } from "ecpair";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildMultisigScript } from "../../../src/chains/bitcoin/build-multisig-script.js";
import { computeDescriptorChecksum, deriveScripts, parseDescriptor, parseKeyExpression, type ParsedDescriptor } from "../../../src/chains/bitcoin/descriptors.js";
import {
  DescriptorChecksumError,
  DescriptorInvalidError,
  DescriptorPrivateKeyError,
  DescriptorUnsupportedError,
} from "../../../src/chains/bitcoin/wallet-errors.js";
import { reversion, TPUB_VERSION, XPUB_VERSION } from "./slip132.js";

type Vector = {
  src: string;
  kind: string;
  desc?: string;
  label?: string;
  key?: string;
  scripts?: string[][];
  expansions?: string[];
  slip132?: string;
  xpub?: string;
  template?: string;
  network?: "mainnet" | "testnet";
  index?: number;
  address?: string;
  script?: string;
};

const VECTORS = JSON.parse(readFileSync(new URL("../../fixtures/vectors/descriptor_vectors.json", import.meta.url), "utf8")) as Vector[];
const of = (...kinds: string[]) => VECTORS.filter((v) => kinds.includes(v.kind));
const name = (v: Vector) => `${v.src}: ${v.label ?? v.desc!.slice(0, 60)}`;

/** parseDescriptor's verdict: the parsed descriptor, or the refusal. */
function attempt(desc: string): { ok: true; d: ParsedDescriptor } | { ok: false; err: Error } {
  try {
    return { ok: true, d: parseDescriptor(desc, "mainnet") };
  } catch (err) {
    return { ok: false, err: err as Error };
  }
}

describe("descriptor vectors: published valid descriptors", () => {
  const valid = of("valid");
  const results = valid.map((v) => ({ v, r: attempt(v.desc!) }));

  it("has the published vectors", () => {
    expect(VECTORS.length).toBe(230);
    expect(valid.length).toBe(90);
  });

  it.each(results.filter((x) => x.r.ok).map((x) => [name(x.v), x.v] as const))("in scope, derives the expected scripts: %s", (_n, v) => {
    const d = parseDescriptor(v.desc!, "mainnet");
    expect(v.scripts!.length).toBeGreaterThan(0);
    v.scripts!.forEach((expected, index) => {
      // Each form Backstop watches is one script per index (combo() would be several).
      expect(expected.length).toBe(1);
      expect(deriveScripts(d, 0, index, 1).map((s) => s.scriptHex)).toEqual(expected);
    });
    if (!d.ranged) expect(deriveScripts(d, 0, 1, 1)).toEqual([]);
  });

  it("every other valid vector is refused as unsupported (never as invalid), naming the form", () => {
    const refused = results.filter((x) => !x.r.ok);
    for (const { v, r } of refused) {
      const err = (r as { err: Error }).err;
      expect(err instanceof DescriptorUnsupportedError || err instanceof DescriptorPrivateKeyError, `${name(v)}: ${err.message}`).toBe(true);
      if (err instanceof DescriptorUnsupportedError) {
        // The named form is one the descriptor uses.
        const word = /^(?:bare )?([a-z_]+)\(\)|^a hardened/.exec(err.form);
        expect(word, err.form).not.toBeNull();
        if (word![1]) expect(v.desc!, err.form).toContain(`${word![1]}(`);
        else expect(v.desc!).toMatch(/[\d*]['h]/);
      }
    }
    // What is in scope and what is not, counted (the reasons are printed for the reader).
    const reasons = new Map<string, number>();
    for (const { r } of refused) {
      const err = (r as { err: Error }).err;
      const key = err instanceof DescriptorUnsupportedError ? err.form.replace(/\(\d+h\)/, "") : "a private key";
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    console.log(`descriptor vectors: ${results.length - refused.length} of ${results.length} valid vectors in scope; refused:`, Object.fromEntries(reasons));
    expect(results.length - refused.length).toBeGreaterThanOrEqual(20);
  });

  it("the 17-to-20-key multisig vectors are in scope and derive Core's scripts (counts above 16 are number pushes)", () => {
    const big = results.filter((x) => /multi\((1[7-9]|20),/.test(x.v.desc!));
    expect(big.length).toBeGreaterThanOrEqual(2);
    for (const { v, r } of big) {
      if (!r.ok) {
        // BIP-383 writes its 20-key vectors with WIF keys: refused here, checked through their public keys below.
        expect((r as { err: Error }).err).toBeInstanceOf(DescriptorPrivateKeyError);
        continue;
      }
      expect(deriveScripts(r.d, 0, 0, 1)[0]!.scriptHex, name(v)).toBe(v.scripts![0]![0]);
    }
    expect(big.filter((x) => x.r.ok).length).toBeGreaterThanOrEqual(2);
  });

  it("BIP-383's 20-key WIF vectors: the multisig script built from their public keys gives the published scripts", () => {
    const ECPair = ECPairFactory(ecc);
    const wif = of("valid").filter((v) => v.src === "BIP-383" && /multi\(20,/.test(v.desc!));
    expect(wif.length).toBe(2);
    for (const v of wif) {
      const inner = /multi\(20,([^)]*)\)/.exec(v.desc!)![1]!.split(",");
      const pubkeys = inner.map((k) => Buffer.from(ECPair.fromWIF(k).publicKey));
      const redeem = buildMultisigScript(20, pubkeys);
      // 20 is written `01 14`, not as an opcode.
      expect(redeem.subarray(0, 2).toString("hex")).toBe("0114");
      const wsh = payments.p2wsh({ redeem: { output: redeem } });
      const script = v.desc!.startsWith("sh(") ? payments.p2sh({ redeem: wsh }).output! : wsh.output!;
      expect(script.toString("hex"), v.desc!.slice(0, 12)).toBe(v.scripts![0]![0]);
      // bitcoinjs-lib's own p2ms writes 20 as OP_1 + 19 (0x64, OP_NOTIF): another script, another address.
      const theirs = payments.p2wsh({ redeem: payments.p2ms({ m: 20, pubkeys }) }).output!;
      expect(theirs.toString("hex")).not.toBe(wsh.output!.toString("hex"));
    }
  });
});

describe("descriptor vectors: published invalid descriptors", () => {
  it.each(of("invalid").map((v) => [name(v), v] as const))("refused: %s", (_n, v) => {
    const r = attempt(v.desc!);
    expect(r.ok, "accepted an invalid descriptor").toBe(false);
    const err = (r as { err: Error }).err;
    expect(
      [DescriptorInvalidError, DescriptorChecksumError, DescriptorUnsupportedError, DescriptorPrivateKeyError].some((t) => err instanceof t),
      err.message,
    ).toBe(true);
  });

  it("the invalid vectors of forms Backstop watches are refused for their own defect, not as unsupported", () => {
    // Key origins, fingerprints, paths, thresholds, checksums, nesting and P2SH size: BIP rules the parser implements.
    const mine = of("invalid").filter((v) => /^(pkh|wpkh|sh\(wpkh|sh\(multi|wsh\(multi|sh\(sh|wsh\(wsh|wsh\(wpkh|sh\(wsh\(wsh)/.test(v.desc!) && !/[5KL][1-9A-HJ-NP-Za-km-z]{50}/.test(v.desc!));
    expect(mine.length).toBeGreaterThanOrEqual(10);
    for (const v of mine) {
      const r = attempt(v.desc!);
      const err = (r as { err: Error }).err;
      expect(err instanceof DescriptorInvalidError || err instanceof DescriptorChecksumError, `${name(v)}: ${err?.message}`).toBe(true);
    }
  });
});

describe("descriptor vectors: BIP-380 checksums and key expressions", () => {
  it.each(of("checksum-valid").map((v) => [name(v), v] as const))("checksum accepted: %s", (_n, v) => {
    const r = attempt(v.desc!);
    // raw() is not a form Backstop watches: the checksum passes, then the form is refused.
    expect((r as { err: Error }).err).toBeInstanceOf(DescriptorUnsupportedError);
    expect((r as { err: Error }).err.message).toMatch(/raw\(\) is not a form Backstop watches/);
    if (v.desc!.includes("#")) expect(computeDescriptorChecksum(v.desc!.split("#")[0]!)).toBe(v.desc!.split("#")[1]);
  });

  it.each(of("checksum-invalid").map((v) => [name(v), v] as const))("checksum refused: %s", (_n, v) => {
    const err = (attempt(v.desc!) as { err: Error }).err;
    expect(err instanceof DescriptorChecksumError || err instanceof DescriptorInvalidError, err.message).toBe(true);
    expect(err.message).toMatch(/checksum|character|'#'/);
  });

  it.each(of("key-valid").map((v) => [name(v), v] as const))("key read: %s", (_n, v) => {
    const k = parseKeyExpression(v.key!);
    expect(["hex", "wif", "xpub", "xprv"]).toContain(k.kind);
  });

  it.each(of("key-invalid").map((v) => [name(v), v] as const))("key refused: %s", (_n, v) => {
    expect(() => parseKeyExpression(v.key!)).toThrow(DescriptorInvalidError);
  });
});

describe("descriptor vectors: BIP-389 multipath", () => {
  it.each(of("multipath-valid").map((v) => [name(v), v] as const))("branch i derives what expansion i derives: %s", (_n, v) => {
    const r = attempt(v.desc!);
    const expansions = v.expansions!.map(attempt);
    if (!r.ok) {
      // Out of scope (pk, bare multi, a private key): each expansion is refused the same way.
      for (const e of expansions) expect(e.ok ? "accepted" : (e as { err: Error }).err.constructor).toBe((r as { err: Error }).err.constructor);
      return;
    }
    expect(r.d.branchCount).toBe(v.expansions!.length);
    expansions.forEach((e, i) => {
      expect(e.ok, v.expansions![i]).toBe(true);
      const single = (e as { d: ParsedDescriptor }).d;
      expect(single.branchCount).toBe(1);
      expect(deriveScripts(r.d, i, 0, 3)).toEqual(deriveScripts(single, 0, 0, 3).map((s) => ({ ...s, branch: i })));
    });
  });

  it("mixes keys with and without a tuple, as BIP-389's own vectors do (sh(multi) with /<1;2;3>/0/*, /0/* and /0/0/<3;4;5>/*)", () => {
    const mixed = of("multipath-valid").find((v) => v.desc!.startsWith("sh(multi("))!;
    const d = parseDescriptor(mixed.desc!, "mainnet");
    expect(d.branchCount).toBe(3);
    expect(d.keys.map((k) => k.steps.map((s) => (Array.isArray(s) ? "tuple" : s)))).toEqual([["tuple", 0], [0], [0, 0, "tuple"]]);
  });
});

describe("descriptor vectors: BIP-49/84/86 account keys", () => {
  it.each(of("account").map((v) => [name(v), v] as const))("%s", (_n, v) => {
    const network = v.network!;
    const key = v.xpub ?? reversion(v.slip132!, network === "mainnet" ? XPUB_VERSION : TPUB_VERSION);
    const d = parseDescriptor(v.template!.replace("KEY", key), network);
    const [s] = deriveScripts(d, 0, v.index!, 1);
    expect(s!.address).toBe(v.address);
    if (v.script) expect(s!.scriptHex).toBe(v.script);
    // The SLIP-132 form itself is refused with the way out.
    if (v.slip132) expect(() => parseDescriptor(v.template!.replace("KEY", v.slip132!), network)).toThrow(/keys are not descriptor keys; write the same key as [xt]pub/);
  });
});
