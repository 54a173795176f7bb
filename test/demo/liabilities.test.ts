import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeDemoTotals, createDemoSnapshot } from "../../src/demo/liabilities.js";
import type { Store } from "../../src/store/index.js";
import { openTestStore } from "../helpers/stores.js";

describe("npm start demo: liabilities snapshot", () => {
  let store: Store;
  let dispose: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), "backstop-demo-liab-"));
  beforeAll(async () => {
    ({ store, dispose } = await openTestStore("sqlite"));
  });
  afterAll(async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("imports users whose totals are exactly the given fraction of the custody balances, and a proof verifies", async () => {
    const reserves = { BTC: 1_234_567_891n, ETH: 98_765_432_109_876_543_210n, "USDC-eth": 0n };
    const totals = computeDemoTotals({ reserves, fractionBps: 9000 });
    expect(totals).toEqual({ BTC: 1_111_111_101n, ETH: 88_888_888_898_888_888_889n, "USDC-eth": 0n });
    const r = await createDemoSnapshot({ store, dir, assets: { BTC: { decimals: 8 }, ETH: { decimals: 18 }, "USDC-eth": { decimals: 6 } }, totals });
    expect(r.created).toBe(true);
    expect(r.accountCount).toBe(300);
    expect(Object.fromEntries(r.assets.map((a) => [a.id, a.total]))).toEqual(totals);
    expect(r.root).toMatch(/^[0-9a-f]{64}$/);
    expect(r.sample.verified).toBe(true);
    expect(r.lines.join("\n")).toContain(r.root);
    expect(readFileSync(r.file, "utf8").split("\n")[0]).toBe("account_id,asset,amount");
  });
});
