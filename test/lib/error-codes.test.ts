import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/lib/error-codes.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("the error-code registry", () => {
  const registry = readFileSync("src/lib/error-codes.ts", "utf8");

  it("lists every code raised in src/, each once, in DOMAIN__DESCRIPTION form", () => {
    const used = new Set<string>();
    for (const f of sources("src")) {
      if (f.endsWith("error-codes.ts")) continue;
      for (const m of readFileSync(f, "utf8").matchAll(/"([A-Z][A-Z0-9]*__[A-Z0-9_]+)"/g)) used.add(m[1]!);
    }
    const missing = [...used].filter((c) => !(c in ERROR_CODES));
    expect(missing).toEqual([]);
    const listed = [...registry.matchAll(/^\s+([A-Z][A-Z0-9]*__[A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(listed.length).toBe(new Set(listed).size);
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^[A-Z][A-Z0-9]*__[A-Z0-9_]+$/);
    for (const meaning of Object.values(ERROR_CODES)) expect(meaning.length).toBeGreaterThan(10);
  });

  it("keeps retired codes listed, pointing at their replacement, and raises none of them in src/", () => {
    const retired = Object.entries(ERROR_CODES).filter(([, meaning]) => meaning.startsWith("Retired"));
    expect(retired.map(([code]) => code)).toEqual(expect.arrayContaining(["EVM__DEEP_REORG", "SOLANA__FINALIZED_REORG", "BITCOIN__WRONG_NETWORK", "EVM__WRONG_CHAIN", "SOLANA__WRONG_GENESIS", "BITCOIN__NODE_SYNCING"]));
    for (const [code, meaning] of retired) {
      const replacement = /^Retired \(use ([A-Z0-9_]+)\)/.exec(meaning)?.[1];
      expect(replacement && replacement in ERROR_CODES, `${code} names a registered replacement`).toBe(true);
      expect(ERROR_CODES[replacement as keyof typeof ERROR_CODES].startsWith("Retired"), `${code}'s replacement is live`).toBe(false);
    }
    const raised = sources("src").filter((f) => !f.endsWith("error-codes.ts")).flatMap((f) => retired.filter(([code]) => readFileSync(f, "utf8").includes(`"${code}"`)).map(([code]) => `${f}: ${code}`));
    expect(raised).toEqual([]);
  });
});
