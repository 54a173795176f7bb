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
});
