import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalizeJson } from "../../src/reconcile/canonicalize-json.js";

// RFC 8785's published test data (github.com/cyberphone/json-canonicalization, testdata/input and
// testdata/output at 19d51d7f, Apache-2.0), committed under test/fixtures/jcs.
const DIR = join(import.meta.dirname, "../fixtures/jcs");

describe("canonicalizeJson (RFC 8785)", () => {
  const names = readdirSync(join(DIR, "input")).filter((f) => f.endsWith(".json"));
  it("has the six published vectors", () => expect(names.sort()).toEqual(["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]));
  for (const name of names) {
    it(`matches ${name} byte for byte`, () => {
      const input = JSON.parse(readFileSync(join(DIR, "input", name), "utf8"));
      const expected = readFileSync(join(DIR, "output", name));
      expect(Buffer.from(canonicalizeJson(input), "utf8").equals(expected)).toBe(true);
    });
  }
  it("refuses values JSON cannot hold", () => {
    expect(() => canonicalizeJson({ a: Number.NaN })).toThrow(/CHECKPOINT__NON_CANONICAL|\$\.a/);
    expect(() => canonicalizeJson({ a: 1n })).toThrow(/bigint/);
    expect(() => canonicalizeJson({ a: undefined })).toThrow(/undefined/);
    expect(() => canonicalizeJson([Infinity])).toThrow(/\$\[0\]/);
  });
  it("orders members by UTF-16 code units, not by locale or code point", () => {
    // U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16 order, after it by code point.
    expect(canonicalizeJson({ "\uFB01": 1, "\u{1F600}": 2, a: 3, B: 4 })).toBe('{"B":4,"a":3,"\u{1F600}":2,"\uFB01":1}');
  });
});
